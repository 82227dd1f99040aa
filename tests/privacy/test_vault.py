"""TokenVault: stable tokens, round trips, mangled tokens, encryption at rest."""

from __future__ import annotations

import os
import re
import stat

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dhanvantri.privacy import PhiDetector, Redaction, TokenVault, VaultError


@pytest.fixture()
def vault(detector: PhiDetector, key: bytes) -> TokenVault:
    return TokenVault("c-1", key, detector=detector)


def test_tokens_are_typed_and_stable(vault: TokenVault) -> None:
    first = vault.tokenize("this is rajesh kumar calling, my number is 98765 43210")
    assert first.text == "this is <PERSON_1> calling, my number is <PHONE_1>"
    # The same values later in the consultation, said differently, get the same tokens.
    second = vault.tokenize(
        "Rajesh Kumar again, number nine eight seven six five four three two one zero"
    )
    assert second.text == "<PERSON_1> again, number <PHONE_1>"
    third = vault.tokenize("my wife sunita sharma, her number is 9123456780")
    assert "<PERSON_2>" in third.text and "<PHONE_2>" in third.text
    assert [e.token for e in third.entities] == ["<PERSON_2>", "<PHONE_2>"]


def test_reidentify_restores_values(vault: TokenVault) -> None:
    red = vault.tokenize("this is rajesh kumar, phone +91 98765 43210")
    reply = "Namaste <PERSON_1>, we will call you on <PHONE_1>."
    assert vault.reidentify(reply) == "Namaste Rajesh Kumar, we will call you on +91 98765 43210."
    assert "rajesh" not in red.text


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("Hello PERSON_1, rest well.", "Hello Rajesh Kumar, rest well."),
        ("Hello < PERSON_1 >, rest well.", "Hello Rajesh Kumar, rest well."),
        ("Hello [person 1], rest well.", "Hello Rajesh Kumar, rest well."),
        ("Hello <PERSON>, rest well.", "Hello Rajesh Kumar, rest well."),  # one person: unambiguous
        ("Hello <PERSON_7>, rest well.", "Hello Rajesh Kumar, rest well."),
        ("We will call <PHONE_3>.", "We will call 9876543210."),
        ("Take restPERSON_1.", "Take restRajesh Kumar."),  # glued, still never raw syntax
        ("Your Aadhaar <AADHAAR_1> is noted.", "Your Aadhaar your Aadhaar number is noted."),
        (
            "The person should rest; bring your PAN card.",
            "The person should rest; bring your PAN card.",
        ),
    ],
)
def test_mangled_and_invented_tokens(vault: TokenVault, reply: str, expected: str) -> None:
    vault.tokenize("this is rajesh kumar, call 9876543210")
    assert vault.reidentify(reply) == expected


def test_ambiguous_tokens_become_neutral_words(vault: TokenVault) -> None:
    vault.tokenize("this is rajesh kumar and my wife sunita sharma, 9876543210 or 9123456780")
    out = vault.reidentify("Hello <PERSON_7>, we will call <PHONE_9> and PERSON_5.")
    assert "<" not in out and "PERSON" not in out and "PHONE" not in out
    assert out == "Hello, we will call your phone number and."


_NAMES = ["rajesh kumar", "Sunita Sharma", "anil", "Priya Nair", "kavya reddy", "Imran Khan"]
_PHONES = [
    "9876543210",
    "+91 91234 56780",
    "098450 12345",
    "nine eight seven six five four three two one zero",
]
_FILLER = ["fever of 101 degrees", "sugar 180", "paracetamol 650 mg", "for 3 days", "HbA1c 7.8"]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    name=st.sampled_from(_NAMES),
    phone=st.sampled_from(_PHONES),
    fillers=st.lists(st.sampled_from(_FILLER), min_size=1, max_size=3),
    order=st.booleans(),
)
def test_round_trip(
    detector: PhiDetector, name: str, phone: str, fillers: list[str], order: bool
) -> None:
    vault = TokenVault("c-rt", os.urandom(32), detector=detector)
    parts = [f"my name is {name}", f"call me on {phone}", *fillers]
    text = ", ".join(parts if order else reversed(parts))
    red = vault.tokenize(text)
    assert name.lower() not in red.text.lower()
    assert all(f in red.text for f in fillers)  # clinical words untouched
    assert vault.reidentify(red.text).lower() == text.lower()


def test_save_and_load_encrypted(
    vault: TokenVault, key: bytes, tmp_path, detector: PhiDetector
) -> None:
    vault.tokenize("this is rajesh kumar, aadhaar 2345 6789 0124, mail rajesh.k@gmail.com")
    path = tmp_path / "c-1.vault"
    vault.save(path)
    blob = path.read_bytes()
    for secret in (b"rajesh", b"2345", b"gmail", b"PERSON"):
        assert secret not in blob
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    loaded = TokenVault.load(path, key, detector)
    assert loaded.consultation_id == "c-1"
    assert loaded.reidentify("Hi <PERSON_1>") == "Hi Rajesh Kumar"
    # New values continue the numbering instead of reusing a token.
    assert loaded.tokenize("and sunita sharma").text == "and <PERSON_2>"


def test_wrong_key_or_tampering_fails(vault: TokenVault, tmp_path) -> None:
    vault.tokenize("this is rajesh kumar")
    path = tmp_path / "v"
    vault.save(path)
    with pytest.raises(VaultError):
        TokenVault.load(path, os.urandom(32))
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 1
    path.write_bytes(bytes(blob))
    with pytest.raises(VaultError):
        TokenVault.load(path, os.urandom(32))
    path.write_bytes(b"not a vault")
    with pytest.raises(VaultError):
        TokenVault.load(path, os.urandom(32))


def test_vault_bound_to_its_consultation(vault: TokenVault, key: bytes, tmp_path) -> None:
    vault.tokenize("this is rajesh kumar")
    path = tmp_path / "v"
    vault.save(path)
    blob = path.read_bytes()
    forged = blob[:6] + b"c-2" + blob[9:]  # same length id, another consultation
    path.write_bytes(forged)
    with pytest.raises(VaultError):
        TokenVault.load(path, key)


def test_reprs_hide_phi(vault: TokenVault) -> None:
    red = vault.tokenize("this is rajesh kumar, 9876543210")
    assert isinstance(red, Redaction)
    for shown in (repr(red), str(red), repr(red.entities), repr(vault)):
        assert "rajesh" not in shown and "9876543210" not in shown


def test_key_must_be_32_bytes(detector: PhiDetector) -> None:
    with pytest.raises(ValueError):
        TokenVault("c", b"short", detector)


_FRAGMENTS = st.sampled_from(
    [
        "<PERSON_1>",
        "<PERSON_2>",
        "PERSON_3",
        "< PHONE_1 >",
        "[email 2]",
        "<ADDRESS>",
        "<DATE_OF_BIRTH_9>",
        "{PAN_1}",
        "<AADHAAR_1",
        "ABHA_NUMBER",
        "Hello",
        ",",
        ".",
        " ",
        "take rest",
        "the person",
        "your PAN card",
        "call us",
        "<",
        ">",
        "_1",
    ]
)


@settings(max_examples=200, deadline=None)
@given(parts=st.lists(_FRAGMENTS, max_size=12))
def test_reidentified_text_never_shows_token_syntax(parts: list[str]) -> None:
    vault = TokenVault("c-p", b"k" * 32)
    vault.token_for("PERSON", "Rajesh Kumar")
    vault.token_for("PHONE", "9876543210")
    out = vault.reidentify(" ".join(parts))
    kinds = "PERSON|PHONE|EMAIL|ADDRESS|AADHAAR|PAN|ABHA|DATE"
    assert re.search(rf"(?i)[<\[{{]\s*({kinds})|({kinds})_", out) is None, out
    # "PERSON 3", "PHONE1" (not "PAN": the neutral phrase "your PAN" may precede a number)
    assert re.search(r"(PERSON|PHONE|EMAIL|ADDRESS|AADHAAR|ABHA|DATE) ?\d", out) is None, out
