"""Intake state: what it records and which question it asks next."""

from __future__ import annotations

import re

import pytest

from dhanvantri.knowledge.conditions import load_conditions
from dhanvantri.knowledge.intake import MAX_PROBES, IntakeState

GENERICS = {m.generic.split()[0] for c in load_conditions() for m in c.medicines}
TITLES = {c.title.lower() for c in load_conditions()}


def run(state: IntakeState, kb, answers: list[str]) -> list:
    steps = []
    for answer in answers:
        steps.append(state.next_step(kb))
        state.update(answer)
    steps.append(state.next_step(kb))
    return steps


def assert_safe(question: str) -> None:
    text = question.lower()
    assert not re.search(r"\d+\s*(mg|mcg|ml)\b", text)
    assert not any(re.search(rf"\b{re.escape(g)}\b", text) for g in GENERICS), question
    assert not any(t in text for t in TITLES), question


def test_starts_with_the_complaint_then_history(fake_kb) -> None:
    state = IntakeState()
    first = state.next_step(fake_kb)
    assert (first.kind, first.topic) == ("ask", "complaint")
    state.update("i have fever and body ache")
    assert state.next_step(fake_kb).topic == "duration"
    state.update("since 3 days")
    assert state.duration_days == 3
    assert state.next_step(fake_kb).topic == "severity"


def test_facts_already_given_are_not_asked_again(fake_kb) -> None:
    state = IntakeState()
    state.update("i am 40, severe burning while passing urine since yesterday")
    step = state.next_step(fake_kb)
    assert step.topic == "associated"
    assert state.age_years == 40 and state.severity == "severe" and state.duration_days == 1


def test_probes_come_from_the_leading_condition(fake_kb) -> None:
    state = IntakeState()
    state.update("burning while passing urine for 2 days, mild")
    state.next_step(fake_kb)  # associated
    state.update("nothing else")
    step = state.next_step(fake_kb)
    assert step.topic.startswith("probe:uti.")
    uti = next(c for c in load_conditions() if c.id == "uti")
    assert step.question in {q.text for q in uti.key_questions}


def test_a_yes_no_answer_to_a_probe_records_the_symptom(fake_kb) -> None:
    state = IntakeState()
    state.update("fever and pain behind the eyes since 2 days, severe")
    state.next_step(fake_kb)
    state.update("nothing else")
    step = state.next_step(fake_kb)
    sid = step.topic.split(":")[2]
    state.update("no")
    assert state.symptoms[sid] is False
    step = state.next_step(fake_kb)
    sid = step.topic.split(":")[2]
    state.update("yes")
    assert state.symptoms[sid] is True


def test_probes_are_capped_and_history_follows(fake_kb) -> None:
    state = IntakeState()
    state.update("fever for 3 days, moderate")
    topics = [s.topic for s in run(state, fake_kb, ["no"] * 12)]
    assert sum(t.startswith("probe:") for t in topics) <= MAX_PROBES
    assert "age" in topics and "allergies" in topics


def test_male_patients_are_not_asked_about_pregnancy(fake_kb) -> None:
    state = IntakeState()
    answers = ["i am a 30 year old man with cough for 4 days", "mild", "no", "no", "no", "no",
               "no", "no allergies", "no medicines", "no other illness"]
    topics = [s.topic for s in run(state, fake_kb, answers)]
    assert "pregnancy" not in topics and "sex" not in topics


def test_an_unanswered_question_is_asked_at_most_twice(fake_kb) -> None:
    state = IntakeState()
    topics = [s.topic for s in run(state, fake_kb, ["umm"] * 30)]
    assert topics[-1] == "done"
    asked = [t for t in topics if t != "done"]
    assert max(asked.count(t) for t in set(asked)) <= 2


def test_full_intake_ends_with_a_summary_then_done(fake_kb) -> None:
    state = IntakeState()
    answers = ["hello doctor, i have high fever and body pain", "since three days", "severe",
               "headache too, no vomiting", "no", "yes", "no", "no", "i am 28", "female", "no",
               "allergic to penicillin", "not taking any medicines", "no other illness"]
    steps = run(state, fake_kb, answers)
    for step in steps:
        assert_safe(step.question)
    while steps[-1].kind == "ask":  # answer any remaining probe with "no"
        state.update("no")
        steps.append(state.next_step(fake_kb))
    summary = steps[-1]
    assert summary.kind == "summarise"
    assert "fever" in summary.question and "penicillin" in summary.question
    assert_safe(summary.question)
    state.update("yes that is right")
    assert state.next_step(fake_kb).kind == "done"
    assert state.allergies == ["penicillin"] and state.no_medications
    assert state.pregnant is False and state.age_years == 28


def test_saying_the_summary_is_wrong_asks_what_to_correct(fake_kb) -> None:
    state = IntakeState(complaint="cough", duration_days=2, severity="mild", age_years=50,
                        sex="male", no_allergies=True, no_medications=True, no_conditions=True,
                        associated_asked=True, symptoms={"cough": True}, probes=["x"] * 4)
    assert state.next_step(fake_kb).kind == "summarise"
    state.update("no, it is for two weeks")
    assert state.next_step(fake_kb).topic == "correction"


def test_history_answers_do_not_become_symptoms(fake_kb) -> None:
    state = IntakeState()
    state.update("cough for 2 days")
    state.pending = "conditions"
    state.update("i have diabetes")
    assert "high_sugar" not in state.symptoms
    assert state.conditions == ["diabetes"]


def test_missing_for_draft_lists_what_is_unknown() -> None:
    state = IntakeState()
    assert set(state.missing_for_draft()) >= {"complaint", "duration", "age", "allergies",
                                              "medications", "symptoms"}
    state.update("i am a 45 year old man, cough for 3 days, no allergies, no medicines")
    assert state.missing_for_draft() == []


def test_symptom_ranking_without_embeddings(fake_kb) -> None:
    state = IntakeState()
    state.update("itching worse at night, whole family itching too, rash between fingers")
    ranked = state.candidate_conditions(fake_kb, k=3)
    assert ranked[0][0].id == "scabies"
    assert ranked[0][1] > ranked[1][1]


def test_a_bare_yes_to_other_symptoms_asks_which(fake_kb) -> None:
    state = IntakeState()
    state.update("fever for 2 days, mild")
    assert state.next_step(fake_kb).topic == "associated"
    state.update("yes")
    step = state.next_step(fake_kb)
    assert step.topic == "associated" and "Which" in step.question
    state.update("vomiting and headache")
    assert state.symptoms["vomiting"] and state.associated_asked


def test_weight_vitals_character_and_onset_are_recorded(fake_kb) -> None:
    state = IntakeState()
    state.update("dry cough and a throbbing headache since 2 days, it came on suddenly")
    state.update("my temperature was 101 and BP 150/95, I weigh 72 kg")
    state.update("now the temperature is 38.5")  # a later reading replaces the earlier one
    record = state.as_record()
    assert record["weight_kg"] == 72 and record["onset"] == "sudden"
    assert record["vitals"] == {"temperature_f": 101.3, "bp_systolic": 150, "bp_diastolic": 95}
    by_key = {s["key"]: s for s in record["symptoms"]}
    assert by_key["cough"]["character"] == "dry"
    assert by_key["headache"]["character"] == "throbbing"
    summary = state.summary()
    assert "temperature 101.3 degrees Fahrenheit" in summary and "weight 72 kilograms" in summary
    assert_safe(summary)


def test_unknown_facts_are_none_in_the_record() -> None:
    state = IntakeState()
    state.update("i have fever and loose motions")
    record = state.as_record()
    assert record["weight_kg"] is None and record["vitals"] == {} and record["onset"] is None
    assert all(s["character"] is None for s in record["symptoms"])
    assert "temperature" not in state.summary() and "weight" not in state.summary()


def test_the_pain_named_later_is_the_only_pain_known() -> None:
    state = IntakeState()
    state.update("stomach pain and vomiting since yesterday")
    state.update("the pain is cramping")
    assert state.character == {"abdominal_pain": "cramping"}
    state.update("headache too")
    state.update("the pain is sharp")  # two pains now: whose is not clear, so neither
    assert state.character == {"abdominal_pain": "cramping"}
    state.update("and a cough since today")
    state.update("it is dry")  # only the cough can be dry
    assert state.character == {"abdominal_pain": "cramping", "cough": "dry"}


def answer_for(topic: str) -> str:
    return {"allergies": "no allergies", "medications": "no medicines", "weight": "22",
            "conditions": "no other illness"}.get(topic, "no")


def test_a_child_is_asked_the_weight_before_medicines(fake_kb) -> None:
    state = IntakeState()
    state.update("my son is 8 years old, fever and cough for 2 days, mild")
    topics = []
    while (step := state.next_step(fake_kb)).kind == "ask":
        topics.append(step.topic)
        state.update(answer_for(step.topic))
    assert topics.count("weight") == 1
    assert topics.index("allergies") < topics.index("weight") < topics.index("medications")
    assert state.weight_kg == 22 and state.age_years == 8
    assert "weight" not in state.as_record()["unanswered"]


def test_an_adult_is_not_asked_the_weight(fake_kb) -> None:
    state = IntakeState()
    state.update("i am 30, fever and cough for 2 days, mild")
    topics = []
    while (step := state.next_step(fake_kb)).kind == "ask":
        topics.append(step.topic)
        state.update(answer_for(step.topic))
    assert "weight" not in topics and "medications" in topics


def test_a_childs_stated_weight_reaches_the_safety_gate(fake_kb) -> None:
    from dhanvantri.knowledge.draft import build_draft

    def weight_issues(state: IntakeState) -> list[str]:
        safety = build_draft(state, fake_kb).safety
        return [i["message"] for i in safety["issues"] if "kg" in i["message"]]

    state = IntakeState()
    state.update("my son is 8 years old, fever and body ache for 2 days, mild")
    state.update("no allergies, not taking any medicines")
    assert any("weight is needed" in m for m in weight_issues(state))
    state.update("he weighs 22 kg")
    issues = weight_issues(state)
    assert not any("weight is needed" in m for m in issues)
    assert any("for 22 kg" in m for m in issues)  # the protocol's adult dose is too much for him


def test_it_is_the_symptom_just_named() -> None:
    state = IntakeState()
    state.update("i have a headache since yesterday")
    state.update("now stomach pain also, it is cramping")
    assert state.character == {"abdominal_pain": "cramping"}


# --- answers in everyday words (issue 17): each is taken the first time it is said ---------

HEARD = {"complaint": "cough", "duration_days": 2, "severity": "mild", "associated_asked": True,
         "symptoms": {"cough": True}, "probes": ["x"] * MAX_PROBES}


def asking(kb, topic: str, **known) -> IntakeState:
    """A real intake whose next question is ``topic``, asked."""
    state = IntakeState(**{**HEARD, **known})
    assert state.next_step(kb).topic == topic
    return state


@pytest.mark.parametrize(("answer", "medicines"), [
    ("She takes amlodipine", ["amlodipine"]),
    ("I take amlodipine for blood pressure", ["amlodipine"]),
    ("Only some warm salt water gargles", ["warm salt water gargles"]),
    ("I use a salbutamol inhaler", ["salbutamol inhaler"]),
    ("I took paracetamol yesterday", ["paracetamol"]),
    ("I take metformin, amlodipine and atorvastatin", ["metformin", "amlodipine", "atorvastatin"]),
    ("I gave him nothing yet", []),
])
def test_the_medicines_answer_is_taken_the_first_time(fake_kb, answer, medicines) -> None:
    state = asking(fake_kb, "medications", age_years=70, sex="female", no_allergies=True)
    state.update(answer)
    assert state.medications == medicines and state.no_medications == (not medicines)
    assert state.next_step(fake_kb).topic != "medications"


def test_a_second_clause_is_its_own_fact(fake_kb) -> None:
    state = asking(fake_kb, "medications", age_years=70, sex="female", no_allergies=True)
    state.update("I take metformin and I am allergic to sulfa")
    assert state.medications == ["metformin"] and state.allergies == ["sulfa"]


@pytest.mark.parametrize("question", ["Can I take paracetamol 650 for it?",
                                      "should i take paracetamol for it",
                                      "Which antibiotic should I take?"])
def test_asking_about_a_medicine_is_not_taking_it(fake_kb, question) -> None:
    state = IntakeState()
    state.update("I have a bad headache since yesterday")
    state.update(question)
    assert state.medications == [] and not state.no_medications
    state = asking(fake_kb, "medications", age_years=70, sex="female", no_allergies=True)
    state.update(question)
    assert state.medications == []


@pytest.mark.parametrize(("answer", "conditions"), [
    ("I have blood pressure", ["hypertension"]), ("Blood pressure", ["hypertension"]),
    ("I have diabetes and blood pressure", ["diabetes", "hypertension"]),
    ("Sugar", ["diabetes"]), ("I have thyroid", ["thyroid disease"]),
])
def test_an_illness_in_indian_english_is_taken(fake_kb, answer, conditions) -> None:
    state = asking(fake_kb, "conditions", age_years=70, sex="male", no_allergies=True,
                   no_medications=True)
    state.update(answer)
    assert state.conditions == conditions and "high_bp" not in state.symptoms
    assert state.next_step(fake_kb).kind == "summarise"


def test_a_reading_or_a_low_pressure_is_not_high_blood_pressure(fake_kb) -> None:
    state = IntakeState()
    state.update("I have a headache since morning, my bp was 160/100")
    assert state.conditions == [] and state.vitals["bp_systolic"] == 160
    state = asking(fake_kb, "conditions", age_years=70, sex="male", no_allergies=True,
                   no_medications=True)
    state.update("I have low blood pressure")
    assert state.conditions == []


def test_nothing_else_is_no_illness_only_when_illnesses_were_asked(fake_kb) -> None:
    state = asking(fake_kb, "associated", associated_asked=False)
    state.update("No, nothing else")
    assert state.associated_asked and not state.no_conditions
    state = asking(fake_kb, "conditions", age_years=70, sex="male", no_allergies=True,
                   no_medications=True)
    state.update("No, nothing else")
    assert state.no_conditions and state.next_step(fake_kb).kind == "summarise"


def test_a_duration_from_a_point_in_time_reads_back_as_said(fake_kb) -> None:
    state = asking(fake_kb, "duration", duration_days=None)
    state.update("for since yesterday")
    assert state.duration_days == 1
    summary = state.summary()
    assert "since yesterday" in summary and "for since" not in summary


@pytest.mark.parametrize(("said", "key"), [
    ("It burns when I pass urine", "burning_urine"), ("I have lost my appetite", "appetite_loss"),
    ("I pass urine very often", "frequent_urine"), ("She is not eating well", "appetite_loss"),
])
def test_a_symptom_in_everyday_words_is_heard(fake_kb, said, key) -> None:
    state = asking(fake_kb, "associated", associated_asked=False)
    state.update(said)
    assert state.symptoms[key] is True and state.associated_asked


def test_age_and_pregnancy_in_one_answer(fake_kb) -> None:
    state = asking(fake_kb, "age")
    state.update("31 years old and pregnant")
    assert (state.age_years, state.pregnant, state.sex) == (31, True, "female")
    assert state.next_step(fake_kb).topic == "allergies"
