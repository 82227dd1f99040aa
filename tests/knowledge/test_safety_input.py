"""Parsing safety-check requests, and the ``safety`` and ``triage`` commands."""

from __future__ import annotations

import copy
import io
import json
from typing import Any

import pytest

from dhanvantri.cli import main
from dhanvantri.knowledge.safety import SafetyInputError, parse_safety_request
from dhanvantri.knowledge.safety_input import parse_dose

GOOD: dict[str, Any] = {
    "patient": {"age_years": 30, "sex": "female", "weight_kg": 55.5, "pregnant": False,
                "allergies": ["penicillin"], "current_medications": ["Thyronorm",
                                                                      {"name": "metformin"}]},
    "medications": [
        {"name": "Dolo 650", "dose": "650 mg", "frequency": "TDS", "duration_days": 3},
        {"name": "vitamin D3", "dose": "60,000 IU", "frequency": "weekly"},
    ],
}


def test_parse_good_request() -> None:
    patient, orders = parse_safety_request(GOOD)
    assert patient.age_years == 30 and patient.sex == "female" and patient.weight_kg == 55.5
    assert patient.current_medications == ("Thyronorm", "metformin")
    assert orders[0].dose_amount == 650 and orders[0].dose_unit == "mg"
    assert orders[0].times_per_day == 3 and orders[0].duration_days == 3
    assert orders[1].dose_amount == 60000 and orders[1].frequency == "WEEKLY"


def test_parse_indian_slot_frequency() -> None:
    _, orders = parse_safety_request(_with("medications.0.frequency", "1-0-1"))
    assert orders[0].frequency == "1-0-1" and orders[0].times_per_day == 2


@pytest.mark.parametrize(
    ("text", "expected"),
    [("500 mg", (500, "mg")), ("1g", (1, "g")), ("0.5 MG", (0.5, "mg")), ("2 puffs", (2, "puff")),
     ("1 Tab", (1, "tablet")), ("100 mcg", (100, "mcg")), ("5 ml", (5, "ml"))],
)
def test_parse_dose(text: str, expected: tuple) -> None:
    assert parse_dose(text) == expected


def _with(path: str, value: Any) -> dict:
    request = copy.deepcopy(GOOD)
    target = request
    keys = path.split(".")
    for key in keys[:-1]:
        target = target[int(key)] if key.isdigit() else target[key]
    last: Any = int(keys[-1]) if keys[-1].isdigit() else keys[-1]
    if value is _DELETE:
        del target[last]
    else:
        target[last] = value
    return request


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "field", "phrase"),
    [
        ("patient", _DELETE, "patient", "expected an object"),
        ("patient.age_years", _DELETE, "patient.age_years", "is required"),
        ("patient.age_years", "thirty", "patient.age_years", "expected a number"),
        ("patient.age_years", 200, "patient.age_years", "between"),
        ("patient.sex", "f?", "patient.sex", "expected one of"),
        ("patient.weight_kg", True, "patient.weight_kg", "expected a number"),
        ("patient.pregnant", "yes", "patient.pregnant", "true or false"),
        ("patient.allergies", "penicillin", "patient.allergies", "list"),
        ("patient.current_medications", [""], "patient.current_medications[0]", "non-empty"),
        ("medications", [], "medications", "non-empty list"),
        ("medications.1", "Dolo", "medications[1]", "expected an object"),
        ("medications.1.name", " ", "medications[1].name", "medicine name"),
        ("medications.1.dose", "500", "medications[1].dose", 'expected "<number> <unit>"'),
        ("medications.1.dose", "five mg", "medications[1].dose", 'expected "<number> <unit>"'),
        ("medications.1.dose", 500, "medications[1].dose", 'expected "<number> <unit>"'),
        ("medications.1.dose", "500 furlongs", "medications[1].dose", 'unknown unit "furlongs"'),
        ("medications.1.dose", "0 mg", "medications[1].dose", "greater than zero"),
        ("medications.0.frequency", "thrice", "medications[0].frequency", "expected one of"),
        ("medications.0.frequency", "0-0-0", "medications[0].frequency", "expected one of"),
        ("medications.0.frequency", "2-0-2", "medications[0].frequency", "expected one of"),
        ("medications.0.duration_days", 0, "medications[0].duration_days", "whole number"),
        ("medications.0.duration_days", 2.5, "medications[0].duration_days", "whole number"),
    ],
)
def test_malformed_requests_name_the_field(path: str, value: Any, field: str, phrase: str) -> None:
    with pytest.raises(SafetyInputError) as caught:
        parse_safety_request(_with(path, value))
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ") and phrase in str(caught.value)
    assert isinstance(caught.value, ValueError)


def test_request_must_be_an_object() -> None:
    with pytest.raises(SafetyInputError, match="request: expected a JSON object"):
        parse_safety_request([GOOD])


def _run(monkeypatch, capsys, argv: list[str], stdin: str = "") -> tuple[int, str, str]:
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_cli_safety_check_prints_the_verdict(monkeypatch, capsys) -> None:
    request = {"patient": {"age_years": 40, "allergies": ["sulfa"]},
               "medications": [{"name": "Septran DS", "dose": "960 mg", "frequency": "BD"}]}
    code, out, err = _run(monkeypatch, capsys, ["safety", "check"], json.dumps(request))
    assert code == 0 and err == ""
    body = json.loads(out)
    assert body["verdict"] == "block"
    assert [i["code"] for i in body["issues"]] == ["ALLERGY"]


def test_cli_safety_check_reads_a_file(monkeypatch, capsys, tmp_path) -> None:
    path = tmp_path / "rx.json"
    path.write_text(json.dumps(GOOD), encoding="utf-8")
    code, out, _ = _run(monkeypatch, capsys, ["safety", "check", "--input", str(path), "--json"])
    assert code == 0 and json.loads(out)["verdict"] in {"ok", "warn"}


@pytest.mark.parametrize(
    ("stdin", "phrase"),
    [
        ("{not json", "request: not valid JSON"),
        (json.dumps(_with("medications.1.dose", "500")), "medications[1].dose: expected"),
    ],
)
def test_cli_safety_check_bad_input_exits_2(monkeypatch, capsys, stdin: str, phrase: str) -> None:
    code, out, err = _run(monkeypatch, capsys, ["safety", "check"], stdin)
    assert code == 2 and out == "" and phrase in err


def test_cli_safety_lookup(monkeypatch, capsys) -> None:
    code, out, _ = _run(monkeypatch, capsys, ["safety", "lookup", "Glycomet"])
    assert code == 0 and json.loads(out)["generic"] == "metformin"
    code, out, err = _run(monkeypatch, capsys, ["safety", "lookup", "xyzzol"])
    assert code == 1 and out == "" and "not in the medicine table" in err


def test_cli_triage_json(monkeypatch, capsys) -> None:
    code, out, _ = _run(monkeypatch, capsys, ["triage", "crushing chest pain and sweating",
                                              "--json"])
    body = json.loads(out)
    assert code == 0 and body["emergency"] is True and body["red_flags"] == ["chest_pain"]
    assert set(body) == {"emergency", "red_flags", "advice", "escalation_reason"}
    code, out, _ = _run(monkeypatch, capsys, ["triage", "mild headache", "--json"])
    assert json.loads(out) == {"emergency": False, "red_flags": [], "advice": "",
                               "escalation_reason": ""}


def test_cli_triage_text_and_stdin(monkeypatch, capsys) -> None:
    code, out, _ = _run(monkeypatch, capsys, ["triage", "-"], "snake bite on my leg")
    assert code == 0 and out.startswith("EMERGENCY (envenomation)") and "112" in out
    code, out, err = _run(monkeypatch, capsys, ["triage", "  "])
    assert code == 2 and "empty" in err
