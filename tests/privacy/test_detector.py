"""PhiDetector on typed text and lowercase transcripts, and what it must leave alone."""

from __future__ import annotations

import pytest

from dhanvantri.privacy import PhiDetector


def found(detector: PhiDetector, text: str) -> list[tuple[str, str]]:
    return [(e.type, text[e.start : e.end]) for e in detector.detect(text)]


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("this is rajesh kumar calling", "rajesh kumar"),
        ("hello doctor my name is sunita sharma i have fever", "sunita sharma"),
        ("myself kothandaraman i have headache", "kothandaraman"),
        ("my son aarav has fever since 3 days", "aarav"),
        ("i am tenzin reddy and i have cough", "tenzin reddy"),
        ("oviya das speaking", "oviya das"),
        ("My name is Tanvir Hasan.", "Tanvir Hasan"),
        ("Dr. Mehta told me to take metformin", "Mehta"),
    ],
)
def test_names_in_typed_text_and_transcripts(detector: PhiDetector, text: str, name: str) -> None:
    assert ("PERSON", name) in found(detector, text)


@pytest.mark.parametrize(
    ("text", "name"),
    [
        ("my son rahul weighs 18 kg", "rahul"),
        ("My daughter Priya weighed 20 kilos last week.", "Priya"),
        ("mera beta aarav, wajan 16 kilo", "aarav"),
    ],
)
def test_a_name_ends_before_the_weight(detector: PhiDetector, text: str, name: str) -> None:
    # "weighs" taken as a surname would carry the intake's weight away into a token.
    assert found(detector, text) == [("PERSON", name)]


@pytest.mark.parametrize(
    "text",
    [
        "paracetamol 650 mg",
        "sugar 180",
        "fever of 101 degrees",
        "fever for 3 days",
        "HbA1c 7.8",
        "i am diabetic and my sugar is 180 fasting",
        "bp 140 over 90 pulse 72 spo2 96 percent",
        "Take Dolo 650 1-0-1 for 5 days after food.",
        "metformin 500 mg twice daily and glimepiride 2 mg before breakfast",
        "post meal sugar 240 and heart block on ecg",
        "platelets 150000, creatinine 1.2, tsh 6.5",
        "cough for two weeks and loose motions since yesterday",
        "i am worried about my sugar",
        "SpO2 96% and temperature 102 F",
        "readings 120 130 140 150 160",
        "hello doctor sahab, doctor ji my stomach is paining",
        "I am Hindu and fasting on Mondays.",
        "Can I take Pan 40 with Dolo 650?",
        "Yesterday I went to Apollo Hospital for an ECG.",
        "my bp was 150 by 100 in the morning",
        "i am pregnant seven months",
        "my temperature was 101 and BP 150/95, I weigh 72 kg",
        "I had 101 degrees this morning and my temperature was 38.5 at night",
        "oxygen saturation 93 percent, pulse 110, sugar was 250",
        "I weigh 160 pounds",
    ],
)
def test_clinical_text_passes_untouched(detector: PhiDetector, text: str) -> None:
    assert found(detector, text) == []


def test_durations_are_not_dates_but_birth_dates_are(detector: PhiDetector) -> None:
    assert found(detector, "fever for 3 days and cough since 2 weeks") == []
    assert found(detector, "I was born on 12/03/1985") == [("DATE_OF_BIRTH", "12/03/1985")]
    said = "twelfth of march nineteen eighty five"
    assert found(detector, f"my date of birth is {said}") == [("DATE_OF_BIRTH", said)]


def test_a_typed_consultation_message(detector: PhiDetector) -> None:
    text = (
        "Hi, I am Rajesh Kumar, mobile +91 98765 43210, email rajesh.k@gmail.com. "
        "Aadhaar 2345 6789 0124 is not needed. Fever of 101 degrees for 3 days."
    )
    kinds = {kind for kind, _ in found(detector, text)}
    assert {"PERSON", "PHONE", "EMAIL"} <= kinds
    assert "101 degrees" in text and all("101" not in span for _, span in found(detector, text))


def test_a_transcript_with_spoken_numbers(detector: PhiDetector) -> None:
    text = (
        "hello doctor this is rajesh kumar calling my number is nine eight seven six five "
        "four three two one zero and i have fever of 101 degrees for 3 days sugar 180"
    )
    assert found(detector, text) == [
        ("PERSON", "rajesh kumar"),
        ("PHONE", "nine eight seven six five four three two one zero"),
    ]


def test_address_with_pin(detector: PhiDetector) -> None:
    text = "I live at Flat 302, Sai Krupa Apartments, 4th Cross, Indiranagar, Bangalore 560038."
    assert found(detector, text) == [
        ("ADDRESS", "Flat 302, Sai Krupa Apartments, 4th Cross, Indiranagar, Bangalore 560038")
    ]
    assert found(detector, "i stay at h no 12 gandhi nagar lucknow")[0][0] == "ADDRESS"


def test_indian_mobile_is_never_uk_nhs(detector: PhiDetector) -> None:
    kinds = {e.type for e in detector.detect("call 9876543210 or 943 476 5919")}
    assert kinds <= {"PHONE", "ID_NUMBER"} and "PHONE" in kinds


def test_entity_repr_hides_the_value(detector: PhiDetector) -> None:
    ents = detector.detect("this is rajesh kumar, 9876543210")
    shown = repr(ents) + str(ents[0])
    assert "rajesh" not in shown and "9876543210" not in shown
    assert ents[0].text == "rajesh kumar"


def test_empty_and_blank_text(detector: PhiDetector) -> None:
    assert detector.detect("") == []
    assert detector.detect("   ") == []


def test_detect_is_thread_safe(detector: PhiDetector) -> None:
    from concurrent.futures import ThreadPoolExecutor

    texts = [f"My name is Tanvir Hasan, call 98765 4321{i}" for i in range(10)]
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(detector.detect, texts * 3))
    assert all([e.type for e in r][:1] == ["PERSON"] for r in results)
