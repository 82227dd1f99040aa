"""Knowledge fixtures: the real index built once per session in a temporary data directory,
and a model-free stand-in that ranks by symptom match only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.support.knowledge import SymptomOnlyKB

HERE = Path(__file__).parent


@pytest.fixture(scope="session")
def kb_settings(tmp_path_factory: pytest.TempPathFactory) -> Any:
    from dhanvantri.settings import Settings

    return Settings(data_dir=tmp_path_factory.mktemp("kbdata"))


@pytest.fixture(scope="session")
def embedder() -> Any:
    from dhanvantri.knowledge.embedder import MiniLMEmbedder

    return MiniLMEmbedder()


@pytest.fixture(scope="session")
def kb(kb_settings: Any, embedder: Any) -> Any:
    """The real knowledge base (MiniLM + chroma + llama-index), built once."""
    from dhanvantri.knowledge import KnowledgeBase

    return KnowledgeBase.open(kb_settings, embedder=embedder)


@pytest.fixture
def fake_kb() -> SymptomOnlyKB:
    return SymptomOnlyKB()


def load_queries(name: str) -> list[dict[str, Any]]:
    return json.loads((HERE / name).read_text())
