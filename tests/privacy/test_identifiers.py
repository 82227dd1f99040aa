"""The fast recognisers: ids, phones, e-mails, PIN codes, in typed and spoken form."""

from __future__ import annotations

import pytest
from stdnum import verhoeff

from dhanvantri.privacy.identifiers import find_identifiers, is_mobile
from dhanvantri.privacy.spoken import digit_runs


def _aadhaar(body: str = "23456789012") -> str:
    return body + verhoeff.calc_check_digit(body)


def kinds(text: str) -> list[tuple[str, str]]:
    from dhanvantri.privacy.entities import resolve_overlaps

    return [(e.type, text[e.start : e.end]) for e in resolve_overlaps(find_identifiers(text))]


def test_aadhaar_needs_a_valid_check_digit() -> None:
    good = _aadhaar()
    bad = good[:-1] + str((int(good[-1]) + 1) % 10)
    assert kinds(f"id {good[:4]} {good[4:8]} {good[8:]}") == [
        ("AADHAAR", f"{good[:4]} {good[4:8]} {good[8:]}")
    ]
    assert kinds(f"id {good[:4]}-{good[4:8]}-{good[8:]}")[0][0] == "AADHAAR"
    assert not any(k == "AADHAAR" for k, _ in kinds(f"id {bad[:4]} {bad[4:8]} {bad[8:]}"))


def test_spoken_aadhaar_is_found_and_spans_the_words() -> None:
    number = _aadhaar("98765432101")
    words = " ".join(
        "zero one two three four five six seven eight nine".split()[int(d)] for d in number
    )
    text = f"my aadhaar number is {words} thank you"
    assert kinds(text) == [("AADHAAR", words)]


@pytest.mark.parametrize(
    "said",
    [
        "+91 98765 43210",
        "+91-9876543210",
        "09876543210",
        "98765-43210",
        "987 654 3210",
        "9876543210",
        "nine eight seven six five four three two one zero",
        "nine eight seven six five, four three two one zero",
        "ninety eight seven six five four three two one zero",
        "nine eight seven six five 43210",
        "9-8-7-6-5-4-3-2-1-0",
        "98 76 54 32 10",
    ],
)
def test_indian_mobile_formats(said: str) -> None:
    found = kinds(f"you can call me on {said} after lunch")
    assert found == [("PHONE", said)], found


def test_double_and_triple_digits() -> None:
    runs = digit_runs("nine double eight seven triple six one two three")
    assert runs[0].digits == "9887666123"


def test_phonenumbers_decides_mobile() -> None:
    assert is_mobile("9876543210")
    assert not is_mobile("5876543210")  # not a mobile series
    assert not is_mobile("98765")


def test_pan_typed_and_spelled() -> None:
    assert kinds("PAN ABCPE1234F") == [("PAN", "ABCPE1234F")]
    assert kinds("my pan is a b c p e 1 2 3 4 f ok")[0][0] == "PAN"
    assert kinds("code ABCZE1234F") == []  # fourth letter is not a holder type


def test_abha_number_and_address() -> None:
    assert kinds("ABHA 12-3456-7890-1234") == [("ABHA_NUMBER", "12-3456-7890-1234")]
    assert kinds("abha 12345678901234")[0][0] == "ABHA_NUMBER"
    assert kinds("write to rajesh.kumar@abdm today") == [("ABHA_ADDRESS", "rajesh.kumar@abdm")]
    assert kinds("it is rajesh123 at the rate abdm")[0] == (
        "ABHA_ADDRESS",
        "rajesh123 at the rate abdm",
    )


def test_email_typed_and_spoken() -> None:
    assert kinds("mail rajesh.k@gmail.com please") == [("EMAIL", "rajesh.k@gmail.com")]
    said = "rajesh dot kumar at the rate gmail dot com"
    assert kinds(f"email is {said}") == [("EMAIL", said)]
    assert kinds("sneha at yahoo dot co dot in")[0][0] == "EMAIL"


def test_pin_code_needs_context() -> None:
    assert kinds("pin code 560038") == [("PIN_CODE", "560038")]
    assert kinds("pincode five six zero zero three eight")[0][0] == "PIN_CODE"
    assert kinds("platelets 150000") == []


@pytest.mark.parametrize(
    "text",
    [
        "readings 120 130 140 150 160",
        "bp 140 90 pulse 72 spo2 98",
        "dolo 650 1-0-1 for 5 days",
        "sugar 180, 240, 310",
        "platelets one lakh fifty thousand",
        "weight 72 kg height 165 cm",
    ],
)
def test_clinical_numbers_are_not_ids(text: str) -> None:
    assert kinds(text) == []


def test_misheard_number_is_still_redacted() -> None:
    # "nine eight seven six ..." transcribed as garbage: no format fits, context says phone.
    assert kinds("my number is I-887265432110") == [("PHONE", "I-887265432110")]
    assert kinds("reference 887265432110")[0][0] == "ID_NUMBER"
    assert kinds("policy number 123456789012345")[0][0] == "ID_NUMBER"


@pytest.mark.parametrize(
    ("heard", "kind"),
    [
        # What Whisper base wrote for spoken numbers in our espeak-ng runs.
        ("My number is I-8765-43210.", "PHONE"),
        ("my number is i876543210", "PHONE"),
        ("My number is 6-I-3-1-I-2-5-4-9.", "PHONE"),
        ("Her father's number is 652-170034.", "PHONE"),
    ],
)
def test_whisper_manglings_are_still_redacted(heard: str, kind: str) -> None:
    found = kinds(heard)
    assert [k for k, _ in found] == [kind], found
    assert not any(c.isdigit() for c in heard.replace(found[0][1], ""))


def test_date_after_an_id_word_stays_a_date() -> None:
    assert kinds("Aadhaar no. 983715120415, DOB: 16-10-2004") == [("AADHAAR", "983715120415")]


def test_phone_next_to_another_number_is_split() -> None:
    assert kinds("call 9876543210 2 times")[0] == ("PHONE", "9876543210")
