"""``dhanvantri redact``: PHI redaction as a filter over JSON lines.

Reads ``{"text": ...}`` per line on stdin and writes ``{"text", "redacted", "entities"}`` per
line on stdout. A bad line gets a message on stderr (naming the line, never echoing its content)
and the command exits 2 at the end; the other lines are still processed.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from dhanvantri.privacy.detector import PhiDetector


def register(subparsers: Any) -> None:
    """Add the ``redact`` subcommand."""
    parser = subparsers.add_parser(
        "redact",
        help="redact PHI from JSON lines on stdin",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    parser.add_argument(
        "--consultation",
        default="cli",
        help="consultation id: lines share one token vault, so a value keeps its token",
    )
    parser.add_argument(
        "--threshold", type=float, default=0.45, help="minimum detection score (default 0.45)"
    )
    parser.set_defaults(handler=run_redact)


def run_redact(args: argparse.Namespace) -> int:
    """Handler of ``dhanvantri redact``."""
    return redact_stream(sys.stdin, sys.stdout, sys.stderr, args.consultation, args.threshold)


def redact_stream(
    source: TextIO,
    sink: TextIO,
    errors: TextIO,
    consultation: str = "cli",
    threshold: float = 0.45,
    detector: PhiDetector | None = None,
) -> int:
    """Redact each JSON line of ``source`` into ``sink``; 0 if all lines were good, else 2."""
    import os

    from dhanvantri.privacy.detector import PhiDetector
    from dhanvantri.privacy.vault import TokenVault

    detector = detector or PhiDetector(score_threshold=threshold)
    # One vault per run, with a throw-away key: a value keeps its token across lines.
    vault = TokenVault(consultation, os.urandom(32), detector)
    bad = 0
    for number, line in enumerate(source, start=1):
        if not line.strip():
            continue
        text, problem = _parse(line)
        if problem:
            bad += 1
            print(f"dhanvantri redact: line {number}: {problem}", file=errors)
            continue
        redaction = vault.tokenize(text)
        record = {
            "text": text,
            "redacted": redaction.text,
            "entities": [
                {"type": e.type, "start": e.start, "end": e.end, "token": e.token, "score": e.score}
                for e in redaction.entities
            ],
        }
        sink.write(json.dumps(record, ensure_ascii=False) + "\n")
        sink.flush()
    return 2 if bad else 0


def _parse(line: str) -> tuple[str, str | None]:
    """(text, None) or ("", what is wrong with the line)."""
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        return "", f"not valid JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(data, dict):
        return "", f'expected a JSON object with a "text" field, got {type(data).__name__}'
    if "text" not in data:
        return "", 'missing field "text"'
    if not isinstance(data["text"], str):
        return "", f'field "text" must be a string, got {type(data["text"]).__name__}'
    return data["text"], None
