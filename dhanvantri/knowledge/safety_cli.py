"""``dhanvantri safety check``, ``dhanvantri safety lookup`` and ``dhanvantri triage``.

``safety check`` reads one JSON object on stdin (or ``--input FILE``)::

    {"patient": {"age_years", "sex", "weight_kg", "pregnant", "breastfeeding",
                 "renal_impairment", "hepatic_impairment", "allergies", "current_medications"},
     "medications": [{"name", "dose": "500 mg", "frequency": "OD|BD|TDS|QID|HS|SOS|1-0-1",
                      "duration_days"}],
     "consultation": {"first": true|false, "mode": "video|audio|text|in_person"}}

and prints ``{"verdict": "ok"|"warn"|"block", "issues": [...]}``; ``consultation`` is optional
and, when given, applies the Telemedicine Practice Guidelines lists. A malformed request exits 2
with a message naming the field. ``triage "TEXT" --json`` prints
``{"emergency", "red_flags", "advice", "escalation_reason"}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``safety`` (``check``, ``lookup``) and ``triage`` subcommands."""
    safety = subparsers.add_parser(
        "safety", help="prescription safety gate", description="Prescription safety gate."
    )
    actions = safety.add_subparsers(dest="safety_command", required=True)
    check = actions.add_parser(
        "check", help="check a draft prescription (JSON on stdin)",
        description="Check a draft prescription read as one JSON object on stdin.",
    )
    check.add_argument("--input", help="read the request from this file instead of stdin")
    check.add_argument("--json", action="store_true", help="accepted for symmetry: output is JSON")
    check.set_defaults(handler=run_check)
    lookup = actions.add_parser(
        "lookup", help="show a medicine by generic or brand name",
        description="Resolve a generic or brand name and print the medicine's table entry.",
    )
    lookup.add_argument("name", help='generic or brand name, e.g. "Dolo 650"')
    lookup.set_defaults(handler=run_lookup)

    triage = subparsers.add_parser(
        "triage", help="detect red flags in a patient's words",
        description="Detect emergency red flags in what a patient said.",
    )
    triage.add_argument("text", help='what the patient said ("-" reads stdin)')
    triage.add_argument("--json", action="store_true", help="print the result as JSON")
    triage.set_defaults(handler=run_triage)


def run_check(args: argparse.Namespace) -> int:
    """Handler of ``dhanvantri safety check``."""
    from dhanvantri.cli import UsageError
    from dhanvantri.knowledge.safety import (
        SafetyInputError,
        check_prescription,
        parse_safety_request,
    )

    raw = _read(args.input)
    try:
        request = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise UsageError(f"request: not valid JSON ({exc.msg} at line {exc.lineno})") from None
    try:
        patient, orders = parse_safety_request(request)
    except SafetyInputError as exc:
        raise UsageError(str(exc)) from None
    result = check_prescription(patient, orders)
    print(json.dumps(result.to_dict(), ensure_ascii=False))
    return 0


def run_lookup(args: argparse.Namespace) -> int:
    """Handler of ``dhanvantri safety lookup``: 0 when found, 1 when the name is unknown."""
    from dhanvantri.knowledge.medicines import load_medicines

    table = load_medicines()
    med = table.lookup(args.name)
    if med is None:
        close = table.suggest(args.name)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        print(f"dhanvantri safety lookup: {args.name!r} is not in the medicine table{hint}",
              file=sys.stderr)
        return 1
    record = {
        "generic": med.generic, "classes": list(med.classes), "schedule": med.schedule,
        "tpg_list": med.tpg_list, "controlled": med.controlled,
        "allergy_groups": list(med.allergy_groups),
        "components": [name for name, _ in med.components],
        "doses": [{"route": f.route, "unit": f.unit, "single": [f.single_min, f.single_max],
                   "max_daily": f.max_daily} for f in med.doses],
        "pregnancy": med.pregnancy_risk, "lactation": med.lactation_risk,
        "renal": med.renal.note if med.renal else None,
        "hepatic": med.hepatic.note if med.hepatic else None,
        "contraindications": list(med.contraindications), "atc": list(med.atc),
        "forms": list(med.forms), "nlem": med.nlem, "brands": list(med.brands),
        "sources": list(med.sources),
    }
    print(json.dumps(record, ensure_ascii=False))
    return 0


def run_triage(args: argparse.Namespace) -> int:
    """Handler of ``dhanvantri triage``."""
    from dhanvantri.cli import UsageError
    from dhanvantri.knowledge.triage import triage

    text = sys.stdin.read() if args.text == "-" else args.text
    if not text.strip():
        raise UsageError("triage: text is empty")
    result = triage(text)
    if args.json:
        print(json.dumps(result.to_dict(), ensure_ascii=False))
    elif result.emergency:
        print(f"EMERGENCY ({', '.join(result.red_flags)}): {result.advice}")
    else:
        print("No red flags found.")
    return 0


def _read(path: str | None) -> str:
    from dhanvantri.cli import UsageError

    if path is None:
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise UsageError(f"--input: cannot read {path} ({exc.strerror})") from None
