"""PhiLogFilter and PhiText: PHI never reaches log output, reprs or tracebacks."""

from __future__ import annotations

import io
import logging

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from dhanvantri.privacy import PhiDetector, PhiLogFilter, PhiText, install_log_filter, mask_phi


@pytest.fixture()
def capture():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger = logging.getLogger("test.privacy.logfilter")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    handler.addFilter(PhiLogFilter())
    yield logger, stream
    logger.handlers = []


def test_ids_in_message_and_args_are_masked(capture) -> None:
    logger, stream = capture
    logger.info("callback to %s for %s", "+91 98765 43210", "rajesh.k@gmail.com")
    logger.warning("aadhaar 2345 6789 0124 pan ABCPE1234F abha 12-3456-7890-1234 in %d ms", 12)
    out = stream.getvalue()
    for secret in ("98765", "gmail", "2345 6789", "ABCPE1234F", "3456-7890"):
        assert secret not in out
    assert "[PHONE]" in out and "[EMAIL]" in out and "[AADHAAR]" in out and "in 12 ms" in out


def test_spoken_numbers_and_dates_are_masked(capture) -> None:
    logger, stream = capture
    logger.info("heard: %s", "my number is nine eight seven six five four three two one zero")
    logger.info("dob 12/03/1985, sugar 180 for 3 days")
    out = stream.getvalue()
    assert "nine eight seven" not in out and "1985" not in out
    assert "sugar 180 for 3 days" in out  # clinical facts and durations stay readable


def test_tracebacks_are_masked(capture) -> None:
    logger, stream = capture
    try:
        raise ValueError("bad phone 9876543210")
    except ValueError:
        logger.exception("lookup failed")
    out = stream.getvalue()
    assert "ValueError" in out and "9876543210" not in out and "[PHONE]" in out


def test_unformattable_record_does_not_leak(capture) -> None:
    logger, stream = capture
    logger.info("one arg %s %s", "9876543210")
    assert "9876543210" not in stream.getvalue()


def test_with_detector_masks_names(detector: PhiDetector) -> None:
    assert mask_phi("this is rajesh kumar calling", detector) == "this is [PERSON] calling"
    assert mask_phi("this is rajesh kumar calling") == "this is rajesh kumar calling"


def test_install_on_root_handlers() -> None:
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    try:
        install_log_filter()
        install_log_filter()  # idempotent
        assert sum(isinstance(f, PhiLogFilter) for f in handler.filters) == 1
        logging.getLogger("some.child").error("call 9876543210")
        assert "9876543210" not in stream.getvalue()
    finally:
        root.removeHandler(handler)


def test_phi_text_never_shows_itself() -> None:
    said = PhiText("this is rajesh kumar, 9876543210")
    shown_forms = [repr(said), str(said), f"{said}", "%s" % said, repr([said])]  # noqa: UP031
    for shown in shown_forms:
        assert "rajesh" not in shown
    assert said.reveal().startswith("this is")
    assert len(said) == 32 and said == PhiText(said.reveal())


_WORDS = "zero one two three four five six seven eight nine".split()


@st.composite
def _said_ids(draw) -> tuple[str, str]:
    """A valid Aadhaar or Indian mobile, written or said in one of the usual ways."""
    import phonenumbers
    from stdnum import verhoeff

    if draw(st.booleans()):
        body = draw(st.from_regex(r"[2-9][0-9]{10}", fullmatch=True))
        digits = body + verhoeff.calc_check_digit(body)
        assume(digits != digits[::-1])
        forms = [
            digits,
            f"{digits[:4]} {digits[4:8]} {digits[8:]}",
            f"{digits[:4]}-{digits[4:8]}-{digits[8:]}",
        ]
    else:
        digits = draw(st.from_regex(r"[6-9][0-9]{9}", fullmatch=True))
        number = phonenumbers.parse("+91" + digits)
        assume(phonenumbers.number_type(number) == phonenumbers.PhoneNumberType.MOBILE)
        forms = [
            digits,
            f"+91 {digits[:5]} {digits[5:]}",
            f"0{digits}",
            f"{digits[:5]}-{digits[5:]}",
        ]
    forms.append(" ".join(_WORDS[int(d)] for d in digits))
    return digits, draw(st.sampled_from(forms))


@settings(max_examples=150, deadline=None)
@given(said=_said_ids(), before=st.sampled_from(["id", "call", "patient said", "", "sugar 180,"]))
def test_masked_text_never_keeps_an_id(said: tuple[str, str], before: str) -> None:
    digits, form = said
    masked = mask_phi(f"{before} {form} for 3 days")
    assert digits not in masked.replace(" ", "").replace("-", "")
    assert form not in masked
    assert masked.endswith("for 3 days")
