"""Second line of defence: mask PHI in log records, metric labels and exception text.

Code must not log patient text in the first place; this filter catches what slips through. By
default it uses the fast recognisers only (ids, phones, e-mails, ABHA addresses, PAN, dates:
regular expressions and checksums, microseconds per record). Give it a ``PhiDetector`` to mask
names and addresses too, at the detector's cost per record.
"""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING

from dhanvantri.privacy.dates import find_dates
from dhanvantri.privacy.entities import resolve_overlaps
from dhanvantri.privacy.identifiers import find_identifiers

if TYPE_CHECKING:
    from dhanvantri.privacy.detector import PhiDetector
    from dhanvantri.privacy.entities import Entity

# Generated ids (request ids, UUIDs, gateway ids like ``order_5c1015855961c7``): random hex
# whose digit runs look like phone or ABHA numbers to the recognisers. A whole token of hex
# with a letter in it is no number a person has, so PHI found inside one is left alone.
_IDS = re.compile(
    r"(?<![A-Za-z0-9])(?:"
    r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}"  # a UUID
    r"|(?=[0-9]*[a-fA-F])[0-9a-fA-F]{16,}"  # a hex id (uuid4().hex, token_hex(8+))
    r"|[A-Za-z]{2,8}_(?=[0-9]*[a-fA-F])[0-9a-fA-F]{12,}"  # a prefixed gateway id
    r")(?![A-Za-z0-9])")


def mask_phi(text: str, detector: PhiDetector | None = None) -> str:
    """``text`` with each PHI entity replaced by ``[TYPE]``.

    Args:
        text: Any string bound for a log, a metric label or an error message.
        detector: Use the full detector (names, addresses) instead of the fast recognisers.
    """
    if not text:
        return text
    if detector is not None:
        found = detector.detect(text)
    else:
        found = resolve_overlaps(find_identifiers(text) + find_dates(text))
    for ent in reversed(_outside_ids(text, found)):
        text = f"{text[: ent.start]}[{ent.type}]{text[ent.end :]}"
    return text


def _outside_ids(text: str, found: list[Entity]) -> list[Entity]:
    """``found`` less the entities that lie wholly inside a generated id."""
    ids = [m.span() for m in _IDS.finditer(text)]
    if not ids:
        return found
    return [e for e in found if not any(start <= e.start and e.end <= end for start, end in ids)]


class PhiLogFilter(logging.Filter):
    """A ``logging.Filter`` that masks PHI in the message, its arguments and any traceback.

    Attach it to handlers (a filter on a logger does not see records propagated from its
    children): ``install_log_filter()`` does that for the root logger's handlers.
    """

    def __init__(self, detector: PhiDetector | None = None) -> None:
        super().__init__()
        self._detector = detector
        self._formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not leak its arguments raw
            message = f"{record.msg} (unformattable log arguments)"
        record.msg = mask_phi(message, self._detector)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_phi(record.exc_text, self._detector)
        if record.stack_info:
            record.stack_info = mask_phi(record.stack_info, self._detector)
        return True


def install_log_filter(
    logger: logging.Logger | None = None, detector: PhiDetector | None = None
) -> PhiLogFilter:
    """Add one ``PhiLogFilter`` to every handler of ``logger`` (default: the root logger)."""
    target = logger or logging.getLogger()
    phi_filter = PhiLogFilter(detector)
    for handler in target.handlers:
        if not any(isinstance(f, PhiLogFilter) for f in handler.filters):
            handler.addFilter(phi_filter)
    return phi_filter
