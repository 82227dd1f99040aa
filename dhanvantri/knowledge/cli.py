"""``dhanvantri kb query "TEXT" [--k 3] [--json]``, ``kb ingest`` and ``kb intake``.

``query`` prints the closest condition passages; with ``--json`` stdout is exactly a JSON list
of ``{"id", "title", "score", "text", "source"}``. ``ingest`` rebuilds the persistent index under
``<data_dir>/kb`` with a progress bar on stderr. ``intake`` replays a consultation: it reads one
(redacted) patient utterance per line on stdin, prints each ``{"kind", "topic", "question"}``
step as a JSON line, and at the end one ``{"draft": ...}`` line, or ``{"draft": null,
"missing": [...]}`` when the intake is incomplete. Nothing heavy is imported until a handler runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    """Add ``kb`` with its ``query`` and ``ingest`` subcommands."""
    kb = subparsers.add_parser("kb", help="knowledge base of conditions",
                               description="Knowledge base of common primary-care conditions.")
    actions = kb.add_subparsers(dest="kb_command", required=True)
    query = actions.add_parser("query", help="search the knowledge base",
                               description="Search the knowledge base by meaning.")
    query.add_argument("text", help="what to search for, e.g. a patient's words")
    query.add_argument("--k", type=int, default=None, help="how many passages (default: "
                       "settings.kb_top_k)")
    query.add_argument("--json", action="store_true", help="print JSON on stdout")
    query.set_defaults(handler=run_query)
    ingest = actions.add_parser("ingest", help="(re)build the vector index",
                                description="Embed every condition and rebuild the index.")
    ingest.set_defaults(handler=run_ingest)
    intake = actions.add_parser("intake", help="replay an intake from patient lines on stdin",
                                description="Replay an intake: one patient utterance per line.")
    intake.set_defaults(handler=run_intake)


def run_query(args: argparse.Namespace) -> int:
    """Handler of ``dhanvantri kb query``."""
    from dhanvantri.cli import UsageError

    if not args.text.strip():
        raise UsageError("kb query: TEXT must not be empty")
    from dhanvantri.settings import get_settings

    settings = get_settings()
    k = settings.kb_top_k if args.k is None else args.k
    if not 1 <= k <= 50:
        raise UsageError("kb query: --k must be between 1 and 50")
    from dhanvantri.knowledge.retrieval import KnowledgeBase

    passages = KnowledgeBase.open(settings, progress=_stderr_progress()).search(args.text, k=k)
    if args.json:
        print(json.dumps([p.to_dict() for p in passages], ensure_ascii=False))
        return 0
    for p in passages:
        print(f"{p.score:6.3f}  {p.id:<26} {p.title}")
        print(f"        {p.source}")
    return 0


def run_ingest(args: argparse.Namespace) -> int:
    """Handler of ``dhanvantri kb ingest``: rebuild the index with a progress bar."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from dhanvantri.knowledge import index
    from dhanvantri.knowledge.embedder import MiniLMEmbedder
    from dhanvantri.settings import get_settings

    console = Console(stderr=True)
    path = index.kb_dir(get_settings())
    with Progress(TextColumn("embedding conditions"), BarColumn(), MofNCompleteColumn(),
                  console=console) as bar:
        task = bar.add_task("ingest", total=None)
        collection = index.build(path, MiniLMEmbedder(),
                                 lambda done, total: bar.update(task, completed=done, total=total))
    console.print(f"indexed {collection.count()} conditions in {path}")
    return 0


def run_intake(args: argparse.Namespace) -> int:
    """Handler of ``dhanvantri kb intake``: JSON lines out, one per step, then the draft."""
    from dhanvantri.knowledge.draft import DraftNotReady, build_draft
    from dhanvantri.knowledge.intake import IntakeState
    from dhanvantri.knowledge.retrieval import KnowledgeBase
    from dhanvantri.settings import get_settings

    kb = KnowledgeBase.open(get_settings(), progress=_stderr_progress())
    state = IntakeState()
    step = state.next_step(kb)
    print(json.dumps({"kind": step.kind, "topic": step.topic, "question": step.question}))
    for line in sys.stdin:
        if step.kind == "done":
            break
        if not line.strip():
            continue
        state.update(line)
        step = state.next_step(kb)
        print(json.dumps({"kind": step.kind, "topic": step.topic, "question": step.question}))
    try:
        print(json.dumps({"draft": build_draft(state, kb).to_dict()}, ensure_ascii=False))
    except DraftNotReady as exc:
        print(json.dumps({"draft": None, "missing": exc.missing}))
        return 1
    return 0


def _stderr_progress() -> Any:
    def report(done: int, total: int) -> None:
        print(f"building knowledge index: {done}/{total}", file=sys.stderr)

    return report
