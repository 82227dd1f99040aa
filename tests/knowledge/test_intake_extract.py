"""Deterministic extraction from patient text: symptoms with negation, and intake facts."""

from __future__ import annotations

import pytest

from dhanvantri.knowledge import character, extract, readings
from dhanvantri.knowledge.lexicon import answer_polarity, find_symptoms, normalise


def found(text: str) -> dict[str, bool]:
    return {f.symptom: f.present for f in find_symptoms(text)}


@pytest.mark.parametrize(("text", "expected"), [
    ("i have fever and body ache since 3 days, no vomiting",
     {"fever": True, "body_ache": True, "vomiting": False}),
    ("bukhar nahi hai but khansi hai", {"fever": False, "cough": True}),
    ("I don't have any cough", {"cough": False}),
    ("my name is <PERSON_1>, loose motions and ulti since yesterday",
     {"diarrhoea": True, "vomiting": True}),
    ("burning while passing urine and going to the toilet again and again",
     {"burning_urine": True, "frequent_urine": True}),
    ("it burns when i pass urine and i pass urine very often",
     {"burning_urine": True, "frequent_urine": True}),
    ("i have lost my appetite", {"appetite_loss": True}),
    ("no fever and headache is there", {"fever": False, "headache": True}),
    ("SAR DARD and Pain Behind My Eyes", {"headache": True, "eye_pain": True}),
])
def test_symptoms_with_negation(text: str, expected: dict[str, bool]) -> None:
    got = found(text)
    for sid, present in expected.items():
        assert got.get(sid) is present, (sid, got)


def test_words_inside_other_words_do_not_match() -> None:
    assert "cough" not in found("i have a coughdrop brand question")
    assert found("") == {}


@pytest.mark.parametrize(("text", "days"), [
    ("fever for 3 days", 3), ("since yesterday", 1), ("two weeks", 14),
    ("teen din se bukhar", 3), ("for a couple of days", 2), ("since 2 months", 60),
    ("since this morning", 0.5), ("kal se", 1),
])
def test_duration(text: str, days: float) -> None:
    assert extract.duration(normalise(text))[0] == pytest.approx(days)


@pytest.mark.parametrize("text", ["i am 34", "34 years old", "i am 5 months pregnant", "hello"])
def test_age_is_not_a_duration(text: str) -> None:
    assert extract.duration(normalise(text)) is None


@pytest.mark.parametrize(("text", "age"), [
    ("i am 34", 34), ("34 years old", 34), ("my age is 61", 61), ("aged 19", 19),
    ("i'm 45 and diabetic", 45), ("i am 5 months pregnant", None), ("fever for 3 days", None),
])
def test_age(text: str, age: float | None) -> None:
    assert extract.age(normalise(text)) == age


def test_bare_number_is_an_age_only_when_asked() -> None:
    assert extract.age("34") is None
    assert extract.age("34", expecting=True) == 34


@pytest.mark.parametrize(("text", "band", "score"), [
    ("pain is 8/10", "severe", 8), ("about 5 out of 10", "moderate", 5),
    ("it is very bad", "severe", None), ("mild only", "mild", None),
    ("thoda sa", "mild", None),
])
def test_severity(text: str, band: str, score: int | None) -> None:
    assert extract.severity(normalise(text)) == (band, score)


def test_allergies() -> None:
    assert extract.allergies("i am allergic to penicillin and sulfa drugs") == (
        ["penicillin", "sulfa drugs"], False)
    assert extract.allergies("sulfa allergy") == (["sulfa"], False)
    assert extract.allergies("no allergies") == ([], True)
    assert extract.allergies("i am not allergic to anything") == ([], True)


def test_medications_and_conditions() -> None:
    assert extract.medications("i take metformin 500 twice daily") == (["metformin"], False)
    assert extract.medications("i am taking amlodipine tablets") == (["amlodipine"], False)
    assert extract.medications("not taking any medicines") == ([], True)
    assert extract.known_conditions("i have diabetes and high bp") == (
        ["diabetes", "hypertension"], False)
    assert extract.known_conditions("no other health problems") == ([], True)
    assert extract.known_conditions("no other problems", expecting=True) == ([], True)


def test_pregnancy_and_sex() -> None:
    assert extract.pregnancy("i am pregnant") is True
    assert extract.pregnancy("i am 3 months pregnant") is True
    assert extract.pregnancy("not pregnant") is False
    assert extract.pregnancy("fever") is None
    assert extract.sex("i am a 30 year old woman") == "female"
    assert extract.sex("i am male") == "male"


@pytest.mark.parametrize(("text", "polarity"), [
    ("yes", True), ("haan", True), ("yes a little", True), ("no", False), ("nahi", False),
    ("not really", False), ("i think maybe", None),
])
def test_answer_polarity(text: str, polarity: bool | None) -> None:
    assert answer_polarity(text) is polarity


@pytest.mark.parametrize(("text", "kg"), [
    ("I weigh 72 kilos", 72), ("my weight is 72 kg", 72), ("weight around 65.5 kgs", 65.5),
    ("he weighs 12 kg", 12), ("i am 80 kg", 80), ("I weigh 160 pounds", 72.6),
    ("mera wajan 55 kilo hai", 55), ("I weigh 72", 72), ("Weight: 68 kg.", 68),
])
def test_weight(text: str, kg: float) -> None:
    assert readings.weight(normalise(text)) == pytest.approx(kg)


@pytest.mark.parametrize("text", [
    "i lost 5 kg weight", "weight loss of 5 kg", "5 kg weight kam ho gaya", "i am 34",
    "lifted a 20 kg bag and hurt my back", "have you lost weight without trying? yes 4 kg",
    "weight 72 kg loss", "my weight has gone down", "i weigh 900 kg",
    "i have lost weight, about 5 kg",
])
def test_weight_is_not_a_change_a_load_or_an_age(text: str) -> None:
    assert readings.weight(normalise(text)) is None


def test_a_bare_number_is_a_weight_only_when_asked() -> None:
    assert readings.weight("24") is None
    assert readings.weight("24", expecting=True) == 24
    assert readings.weight("about 24 kilos", expecting=True) == 24
    assert readings.weight("he is 3 years old", expecting=True) is None


@pytest.mark.parametrize(("text", "expected"), [
    ("I had 101 degrees this morning", {"temperature_f": 101.0}),
    ("my temperature was 38.5", {"temperature_f": 101.3}),
    ("fever of 102 F", {"temperature_f": 102.0}),
    ("temperature 37 celsius", {"temperature_f": 98.6}),
    ("the thermometer showed 39.2", {"temperature_f": 102.6}),
    ("bukhar 102 hai", {"temperature_f": 102.0}),
    ("i had 101 fever yesterday", {"temperature_f": 101.0}),
    ("BP was 150 by 95", {"bp_systolic": 150.0, "bp_diastolic": 95.0}),
    ("it was 150 over 95", {"bp_systolic": 150.0, "bp_diastolic": 95.0}),
    ("upper bp 150 lower 95", {"bp_systolic": 150.0, "bp_diastolic": 95.0}),
    ("pulse 110", {"pulse_bpm": 110.0}),
    ("heart rate was 96 bpm", {"pulse_bpm": 96.0}),
    ("oxygen 93 percent", {"spo2_pct": 93.0}),
    ("spo2 of 93%", {"spo2_pct": 93.0}),
    ("93 percent saturation", {"spo2_pct": 93.0}),
    ("sugar was 250", {"sugar_mg_dl": 250.0}),
    ("Temperature:101, BP:130/85", {"temperature_f": 101.0, "bp_systolic": 130.0,
                                     "bp_diastolic": 85.0}),
    ("fasting sugar 7.5 mmol", {"sugar_mg_dl": 135.0}),
    ("blood pressure 120/80, pulse 72 and temperature 98.6",
     {"bp_systolic": 120.0, "bp_diastolic": 80.0, "pulse_bpm": 72.0, "temperature_f": 98.6}),
])
def test_vitals(text: str, expected: dict[str, float]) -> None:
    assert readings.vitals(normalise(text)) == expected


@pytest.mark.parametrize("text", [
    "fever, i am 38", "i am 38 and have fever", "fever for 3 days", "fever 2 times a day",
    "it was 42 degrees outside in the sun", "my number is 9876543210", "pain is 8/10",
    "since 12/10/2024", "it hurts 24/7", "i have sugar for 10 years", "took 2 tablets of 500",
    "fever since 101 days", "temperature of 120", "pulse 400", "oxygen 2 litres",
    "bp 95/150", "i am 45, sugar patient", "pulse checked at 10:30 pm", "fever 1,500 rupees",
])
def test_no_vitals_from_ages_durations_counts_or_ids(text: str) -> None:
    assert readings.vitals(normalise(text)) == {}


@pytest.mark.parametrize(("text", "key", "said"), [
    ("dry cough since 2 days", "cough", "dry"),
    ("cough with yellow sputum", "cough", "with yellow phlegm"),
    ("cough with phlegm", "cough", "with phlegm"),
    ("throbbing headache", "headache", "throbbing"),
    ("sharp pain in my chest", "chest_pain", "sharp"),
    ("dull stomach ache", "abdominal_pain", "dull"),
    ("burning pain in my stomach", "abdominal_pain", "burning"),
    ("stabbing back pain", "back_pain", "stabbing"),
    ("cramping stomach pain", "abdominal_pain", "cramping"),
    ("watery stools since morning", "diarrhoea", "watery"),
    ("loose motions with blood", "diarrhoea", "with blood"),
    ("dry cough and throbbing headache", "cough", "dry"),
    ("dry cough and throbbing headache", "headache", "throbbing"),
    ("not sharp, a dull pain in the stomach", "abdominal_pain", "dull"),
    ("the pain is throbbing", "headache", "throbbing"),  # no symptom named: "pain" stands in
    ("it is a dull ache", "back_pain", "dull"),
    ("it is dry, no phlegm", "cough", "dry"),
    ("the stools are watery", "diarrhoea", "watery"),
])
def test_character(text: str, key: str, said: str) -> None:
    assert character.character(normalise(text), key) == said


@pytest.mark.parametrize(("text", "key"), [
    ("stomach pain and burning while passing urine", "abdominal_pain"),  # the urine's burning
    ("chest pain, my blood pressure is high", "chest_pain"),
    ("my headache is not sharp", "headache"),
    ("dry cough", "headache"),
    ("stomach pain is sharp", "headache"),  # that pain is the stomach's
    ("throbbing headache", "fatigue"),  # no character table for it
])
def test_no_character(text: str, key: str) -> None:
    assert character.character(normalise(text), key) is None


@pytest.mark.parametrize(("text", "onset"), [
    ("the pain came on suddenly", "sudden"), ("all of a sudden my chest started hurting", "sudden"),
    ("achanak dard hua", "sudden"), ("it started gradually", "gradual"),
    ("slowly getting worse over days", "gradual"), ("not sudden, it was gradual", "gradual"),
    ("i walk slowly these days", None), ("fever for 3 days", None),
])
def test_onset(text: str, onset: str | None) -> None:
    assert character.onset(normalise(text)) == onset


@pytest.mark.parametrize(("text", "expecting", "medicines"), [
    ("she takes amlodipine", False, ["amlodipine"]),
    ("i take metformin and i am allergic to sulfa", False, ["metformin"]),
    ("i take amlodipine 2.5 mg daily", False, ["amlodipine"]),
    ("i have diabetes and i take metformin 500 twice a day. no allergies.", False, ["metformin"]),
    ("can i take paracetamol 650 for it?", False, []),
    ("can i take paracetamol 650 for it", True, []),  # speech to text drops the question mark
    ("i stopped taking metformin", False, []),
    ("i am on insulin", False, []),  # "on" names a medicine only when medicines were asked
    ("i am on insulin", True, ["insulin"]),
    ("yes, dolo 650 sometimes", True, ["dolo"]),
    ("i have a headache", True, []),  # a sentence, not a medicine's name
    ("i am not sure", True, []),
])
def test_medicines_named_and_not_asked_about(text: str, expecting: bool,
                                             medicines: list[str]) -> None:
    assert extract.medications(text, expecting=expecting) == (medicines, False)


@pytest.mark.parametrize("text", ["i gave him nothing yet", "nothing so far",
                                  "i haven't taken anything"])
def test_no_medicines_in_other_words(text: str) -> None:
    assert extract.medications(text, expecting=True) == ([], True)


@pytest.mark.parametrize(("text", "expecting", "conditions"), [
    ("i have blood pressure", False, ["hypertension"]),
    ("i take amlodipine for blood pressure", False, ["hypertension"]),
    ("some pills for sugar, i take metformin", False, ["diabetes"]),
    ("blood pressure", True, ["hypertension"]),
    ("blood pressure", False, []),  # an illness only when illnesses were asked
    ("my bp was 160/100", True, []), ("my sugar was 250", True, []),
    ("i have low blood pressure", True, []), ("blood pressure is normal", True, []),
])
def test_conditions_in_indian_english(text: str, expecting: bool, conditions: list[str]) -> None:
    assert extract.known_conditions(text, expecting=expecting)[0] == conditions


def test_nothing_else_says_no_illness_only_when_asked() -> None:
    assert extract.known_conditions("no, nothing else") == ([], False)
    assert extract.known_conditions("no, nothing else", expecting=True) == ([], True)


@pytest.mark.parametrize(("text", "pregnant"), [
    ("i am 31 years old and pregnant", True), ("i am also pregnant", True),
    ("i am not sure if i am pregnant", None), ("could i be pregnant?", None),
    ("i am 31 years old and not pregnant", False),
])
def test_pregnancy_said_with_other_facts(text: str, pregnant: bool | None) -> None:
    assert extract.pregnancy(text) is pregnant


@pytest.mark.parametrize(("text", "days"), [
    ("for since yesterday", 1), ("since the day before yesterday", 2), ("parso se", 2),
    ("since last 2 days", 2),
])
def test_duration_from_a_point_in_time(text: str, days: float) -> None:
    assert extract.duration(normalise(text))[0] == pytest.approx(days)
