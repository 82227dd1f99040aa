"""Prescription drafts: never before the intake is complete, built from the protocol, gated."""

from __future__ import annotations

import json

import pytest

from dhanvantri.knowledge.draft import DraftNotReady, build_draft
from dhanvantri.knowledge.intake import IntakeState


def finished(text: str, **facts) -> IntakeState:
    state = IntakeState()
    state.update(text)
    defaults = {"age_years": 30.0, "sex": "male", "no_allergies": True, "no_medications": True,
                "no_conditions": True, "summary_confirmed": True}
    for key, value in {**defaults, **facts}.items():
        setattr(state, key, value)
    return state


@pytest.mark.parametrize("missing", ["duration", "age", "allergies", "medications",
                                     "pregnancy"])
def test_no_draft_before_enough_information(fake_kb, missing) -> None:
    state = finished("fever and body ache for 3 days", sex="female")
    state.pregnant = False
    if missing == "duration":
        state.duration_days = None
    elif missing == "age":
        state.age_years = None
    elif missing == "allergies":
        state.no_allergies = False
    elif missing == "medications":
        state.no_medications = False
    else:
        state.pregnant = None
    with pytest.raises(DraftNotReady) as err:
        build_draft(state, fake_kb)
    assert missing in err.value.missing


def test_no_draft_for_an_empty_intake(fake_kb) -> None:
    with pytest.raises(DraftNotReady):
        build_draft(IntakeState(), fake_kb)


def test_draft_follows_the_leading_protocol(fake_kb) -> None:
    state = finished("burning while passing urine and frequent urination for 2 days",
                     sex="female", pregnant=False)
    draft = build_draft(state, fake_kb)
    assert draft.condition_id == "uti"
    assert 0 < draft.confidence <= 1 and draft.confidence_label in {"low", "moderate", "high"}
    names = [m.generic for m in draft.medicines]
    assert "nitrofurantoin" in names
    for med in draft.medicines:
        assert med.dose and med.frequency and med.duration_days >= 1
    assert draft.lab_tests and draft.advice and draft.red_flags and draft.follow_up_days >= 1
    assert any("ICMR" in s for s in draft.sources)
    assert any("Protocol from" in line for line in draft.reasoning)
    assert draft.requires_physician_signature is True
    body = json.loads(json.dumps(draft.to_dict()))
    assert body["condition_id"] == "uti" and body["differentials"]


def test_pregnancy_withholds_lines_the_protocol_excludes(fake_kb) -> None:
    text = "fever for 6 days with headache and a black scab like a burn on my waist"
    not_pregnant = build_draft(finished(text, sex="female", pregnant=False), fake_kb)
    assert not_pregnant.condition_id == "scrub_typhus"
    assert "doxycycline" in [m.generic for m in not_pregnant.medicines]
    pregnant = build_draft(finished(text, sex="female", pregnant=True), fake_kb)
    assert "doxycycline" not in [m.generic for m in pregnant.medicines]
    assert {"generic": "doxycycline", "reason": "protocol: not in pregnancy"} in pregnant.withheld
    assert "azithromycin" in [m.generic for m in pregnant.medicines]


def test_conditional_and_alternative_lines_are_marked(fake_kb) -> None:
    draft = build_draft(finished("sore throat with fever, painful to swallow, 2 days"), fake_kb)
    assert draft.condition_id == "pharyngitis"
    roles = {m.generic: m.role for m in draft.medicines}
    assert roles["paracetamol"] == "first_line"
    assert roles["amoxicillin"] == "conditional"
    assert roles["azithromycin"] == "alternative"


def test_safety_gate_flags_a_reported_allergy(fake_kb) -> None:
    pytest.importorskip("dhanvantri.knowledge.safety")
    state = finished("sore throat with fever, painful to swallow, 2 days",
                     no_allergies=False, allergies=["penicillin"])
    draft = build_draft(state, fake_kb)
    assert draft.safety is not None
    allergy = [i for i in draft.safety["issues"] if i["code"] == "ALLERGY"]
    assert any(i["medication"] == "amoxicillin" for i in allergy)
    assert draft.safety["verdict"] in {"warn", "block"}


def test_safety_gate_sees_current_medicines(fake_kb) -> None:
    pytest.importorskip("dhanvantri.knowledge.safety")
    state = finished("lower back pain after lifting for 2 days", no_medications=False,
                     medications=["warfarin"])
    draft = build_draft(state, fake_kb)
    assert draft.condition_id == "low_back_pain"
    codes = {i["code"] for i in draft.safety["issues"] if i["medication"].startswith("ibuprofen")}
    assert "INTERACTION" in codes


def test_language_model_narrative_never_changes_the_structure(fake_kb) -> None:
    state = finished("burning while passing urine for 2 days", sex="female", pregnant=False)
    plain = build_draft(state, fake_kb)
    prompts = []

    def explain(prompt: str) -> str:
        prompts.append(prompt)
        return "Take 10 tablets of something. Probably cancer."

    helped = build_draft(state, fake_kb, explain=explain)
    assert helped.narrative and helped.to_dict()["narrative_source"] == "language model"
    assert helped.medicines == plain.medicines and helped.diagnosis == plain.diagnosis
    assert "Do not add medicines" in prompts[0]


@pytest.mark.models
def test_end_to_end_with_the_real_knowledge_base(kb) -> None:
    state = IntakeState()
    answers = iter(["i have high fever and severe body pain with pain behind my eyes",
                    "since three days", "headache too", "yes", "yes", "no", "no", "i am 28",
                    "female", "no", "no allergies", "not taking any medicines", "nothing",
                    "yes that's right"])
    step = state.next_step(kb)
    while step.kind != "done":
        with pytest.raises(DraftNotReady) if state.missing_for_draft() else _nothing():
            build_draft(state, kb)
        state.update(next(answers, "no"))
        step = state.next_step(kb)
    draft = build_draft(state, kb)
    assert draft.condition_id == "dengue"
    assert next(m.generic for m in draft.medicines) == "paracetamol"
    assert not any(m.generic in {"ibuprofen", "aspirin", "diclofenac"} for m in draft.medicines)


class _nothing:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.mark.models
def test_cli_intake_replays_a_consultation(kb, kb_settings, monkeypatch, capsys) -> None:
    import io

    from dhanvantri import settings as settings_module
    from dhanvantri.cli import main

    monkeypatch.setattr(settings_module, "get_settings", lambda: kb_settings)
    lines = ["my throat is very painful and i have fever", "since 2 days", "nothing else",
             "no", "no", "no", "no", "i am 35", "male", "no allergies", "no medicines", "no",
             "yes", "yes", "yes"]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(lines) + "\n"))
    assert main(["kb", "intake"]) == 0
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert out[0]["topic"] == "complaint"
    assert out[-2]["kind"] == "done"
    assert out[-1]["draft"]["condition_id"] == "pharyngitis"


@pytest.mark.models
def test_cli_intake_reports_missing_facts(kb, kb_settings, monkeypatch, capsys) -> None:
    import io

    from dhanvantri import settings as settings_module
    from dhanvantri.cli import main

    monkeypatch.setattr(settings_module, "get_settings", lambda: kb_settings)
    monkeypatch.setattr("sys.stdin", io.StringIO("i have a cough\n"))
    assert main(["kb", "intake"]) == 1
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert last["draft"] is None and "duration" in last["missing"]


def test_alternatives_are_checked_on_their_own(fake_kb) -> None:
    pytest.importorskip("dhanvantri.knowledge.safety")
    state = finished("very painful cramps in lower belly during my periods since today",
                     sex="female", pregnant=False, age_years=22.0)
    draft = build_draft(state, fake_kb)
    assert draft.condition_id == "dysmenorrhoea"
    assert "DUPLICATE_THERAPY" not in {i["code"] for i in draft.safety["issues"]}
    assert draft.safety["alternatives"]["ibuprofen"]["verdict"] == "ok"


def test_protocol_doses_pass_the_gate_for_a_healthy_adult(fake_kb) -> None:
    pytest.importorskip("dhanvantri.knowledge.safety")
    from dhanvantri.knowledge.conditions import load_conditions
    from dhanvantri.knowledge.draft import _safety, _select_medicines

    state = finished("cough", age_years=30.0)
    for condition in load_conditions():
        chosen, _ = _select_medicines(condition, state)
        result = _safety(state, chosen)
        assert "DOSE_RANGE" not in {i["code"] for i in result["issues"]}, condition.id
        assert result["verdict"] != "block", condition.id


def test_a_medicine_already_taken_is_a_refill(fake_kb) -> None:
    pytest.importorskip("dhanvantri.knowledge.safety")
    state = finished("need my bp medicine refill, readings 150 by 95, since 2 years",
                     age_years=58.0, no_medications=False, medications=["amlodipine"])
    draft = build_draft(state, fake_kb)
    assert draft.condition_id == "hypertension"
    roles = {m.generic: m.role for m in draft.medicines}
    assert roles["amlodipine"] == "continue"
    assert "DUPLICATE_THERAPY" not in {i["code"] for i in draft.safety["issues"]}
