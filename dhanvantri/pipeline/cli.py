"""``dhanvantri bench voice`` (imports nothing heavy until it runs)."""

from __future__ import annotations

import argparse
from pathlib import Path


def _bench_voice(args: argparse.Namespace) -> int:
    from dhanvantri.pipeline.bench import run

    return run(args)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``dhanvantri bench voice``."""
    bench = subparsers.add_parser("bench", help="latency benchmarks")
    kinds = bench.add_subparsers(dest="bench", required=True)
    voice = kinds.add_parser("voice", help="voice-to-voice latency of the in-process pipeline")
    voice.add_argument(
        "--audio",
        action="append",
        required=True,
        help="16 kHz mono WAV of patient speech (repeatable)",
    )
    voice.add_argument("--runs", type=int, default=1, help="times to replay every file")
    voice.add_argument("--json", action="store_true", help="print one JSON object on stdout")
    voice.add_argument("--save-audio", type=Path, help="folder for the reply audio of each turn")
    voice.set_defaults(handler=_bench_voice)
