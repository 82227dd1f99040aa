"""Shared fixtures: one detector per test session (loading spaCy takes seconds)."""

from __future__ import annotations

import os

import pytest

from dhanvantri.privacy import PhiDetector


@pytest.fixture(scope="session")
def detector() -> PhiDetector:
    return PhiDetector()


@pytest.fixture()
def key() -> bytes:
    return os.urandom(32)
