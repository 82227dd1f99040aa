"""``TokenVault``: reversible, per-consultation tokenisation of PHI.

Each detected value is replaced by a typed token (``<PERSON_1>``, ``<PHONE_1>``); the same value
gets the same token for the whole consultation, however it was said ("98765 43210" and "nine
eight seven six five four three two one zero" are one phone). The mapping lives in memory and is
written to disk only encrypted (AES-256-GCM, the consultation id bound as associated data).
``reidentify`` puts the values back into text meant for the patient and never lets raw token
syntax through, whatever the language model did to the tokens.
"""

from __future__ import annotations

import json
import os
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from dhanvantri.privacy import entities as E
from dhanvantri.privacy.spoken import digit_runs
from dhanvantri.privacy.tokens import find_tokens, make_token

if TYPE_CHECKING:
    from dhanvantri.privacy.detector import PhiDetector

_MAGIC = b"DHV1"
_DIGIT_TYPES = {E.PHONE, E.AADHAAR, E.ABHA_NUMBER, E.PIN_CODE, E.ID_NUMBER, E.CREDIT_CARD}
_CODE_TYPES = {E.PAN, E.PASSPORT, E.VOTER_ID}
_HANDLE_TYPES = {E.EMAIL, E.ABHA_ADDRESS}

# Said in place of a token the vault cannot resolve. A name is dropped: "Hello <PERSON_7>," reads
# "Hello," rather than naming someone wrongly.
NEUTRAL = {
    E.PERSON: "",
    E.PHONE: "your phone number",
    E.AADHAAR: "your Aadhaar number",
    E.PAN: "your PAN",
    E.ABHA_NUMBER: "your ABHA number",
    E.ABHA_ADDRESS: "your ABHA address",
    E.EMAIL: "your email address",
    E.ADDRESS: "your address",
    E.PIN_CODE: "your PIN code",
    E.DATE_OF_BIRTH: "your date of birth",
    E.DATE: "that date",
    E.ID_NUMBER: "that number",
    E.PASSPORT: "your passport number",
    E.VOTER_ID: "your voter ID",
    E.CREDIT_CARD: "your card number",
}


class VaultError(Exception):
    """The vault file cannot be read: wrong key, another consultation's file, or corrupted."""


@dataclass(frozen=True, slots=True)
class TokenizedEntity:
    """One replaced entity. ``start``/``end`` are offsets in the original text.

    The original value is not kept here, so a ``Redaction`` can be logged or stored safely.
    """

    type: str
    start: int
    end: int
    score: float
    token: str


@dataclass(frozen=True, slots=True)
class Redaction:
    """Text with its PHI replaced by tokens.

    Attributes:
        text: The redacted text, safe for the language model, the index, logs and metrics.
        entities: What was replaced, in order.
    """

    text: str
    entities: tuple[TokenizedEntity, ...]

    def __repr__(self) -> str:
        kinds = ", ".join(e.token for e in self.entities)
        return f"Redaction(chars={len(self.text)}, entities=[{kinds}])"

    __str__ = __repr__


def normalise(kind: str, value: str) -> str:
    """The form of a value that decides whether two mentions are the same value."""
    if kind in _DIGIT_TYPES:
        digits = "".join(r.digits for r in digit_runs(value))
        return digits[-10:] if kind == E.PHONE else digits
    low = value.lower()
    if kind in _CODE_TYPES:
        return re.sub(r"[^a-z0-9]", "", low)
    if kind in _HANDLE_TYPES:
        low = re.sub(r"\s+at\s+the\s+rate(?:\s+of)?\s+|\s+at\s+", "@", low)
        low = re.sub(r"\s+dot\s+", ".", low)
        return re.sub(r"\s+underscore\s+", "_", low).replace(" ", "")
    return " ".join(re.findall(r"[a-z0-9]+", low))


class TokenVault:
    """The token mapping of one consultation.

    Args:
        consultation_id: Binds the encrypted file to this consultation.
        key: 32-byte AES-GCM key (see ``vault_key_from_settings``).
        detector: The shared ``PhiDetector``; needed by ``tokenize``.
    """

    def __init__(
        self, consultation_id: str, key: bytes, detector: PhiDetector | None = None
    ) -> None:
        if len(key) != 32:
            raise ValueError("vault key must be 32 bytes")
        self.consultation_id = consultation_id
        self._aead = AESGCM(key)
        self._detector = detector
        self._tokens: dict[tuple[str, str], str] = {}  # (type, normalised value) -> token
        self._values: dict[str, str] = {}  # token -> value as first said
        self._counts: dict[str, int] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"TokenVault(consultation_id={self.consultation_id!r}, tokens={len(self._values)})"

    def __len__(self) -> int:
        return len(self._values)

    def token_for(self, kind: str, value: str) -> str:
        """The token for ``value``, issuing a new one the first time it is seen."""
        key = (kind, normalise(kind, value) or value)
        with self._lock:
            token = self._tokens.get(key)
            if token is None:
                self._counts[kind] = self._counts.get(kind, 0) + 1
                token = make_token(kind, self._counts[kind])
                self._tokens[key] = token
                self._values[token] = value
            return token

    def tokenize(self, text: str) -> Redaction:
        """Replace every PHI entity in ``text`` with its token."""
        if self._detector is None:
            raise RuntimeError("TokenVault.tokenize needs a PhiDetector")
        pieces: list[str] = []
        done: list[TokenizedEntity] = []
        cursor = 0
        for ent in self._detector.detect(text):
            token = self.token_for(ent.type, text[ent.start : ent.end])
            pieces += [text[cursor : ent.start], token]
            cursor = ent.end
            done.append(TokenizedEntity(ent.type, ent.start, ent.end, ent.score, token))
        pieces.append(text[cursor:])
        return Redaction("".join(pieces), tuple(done))

    def reidentify(self, text: str) -> str:
        """Restore tokens in ``text`` meant for the patient.

        Known tokens get their value back. A mangled token is restored when it can mean only one
        value (``PERSON_1``, ``< PHONE_1 >``, or ``<PERSON>`` when the consultation has one
        person); otherwise it becomes a neutral phrase ("your phone number"), so the patient
        never hears token syntax or someone else's details.
        """
        out: list[str] = []
        cursor = 0
        dropped = False
        for found in find_tokens(text):
            value = self._resolve(found.kind, found.canonical)
            if value is None:
                value = NEUTRAL.get(found.kind, "")
                dropped = dropped or not value
            out += [text[cursor : found.start], value]
            cursor = found.end
        out.append(text[cursor:])
        result = "".join(out)
        if dropped:
            result = re.sub(r"[ \t]+([,.!?;:])", r"\1", re.sub(r"[ \t]{2,}", " ", result))
            result = re.sub(r"([,;:])(?=[,.!?;:])", "", result).strip()
        return result

    def _resolve(self, kind: str, canonical: str | None) -> str | None:
        with self._lock:
            if canonical is not None and canonical in self._values:
                return _spoken_form(kind, self._values[canonical])
            same_kind = [t for t in self._values if t.startswith(f"<{kind}_")]
            if len(same_kind) == 1:
                return _spoken_form(kind, self._values[same_kind[0]])
        return None

    def save(self, path: str | Path) -> None:
        """Write the mapping encrypted (AES-256-GCM) to ``path`` with 0600 permissions."""
        with self._lock:
            payload = {
                "entries": [
                    {"kind": k, "norm": n, "token": t, "value": self._values[t]}
                    for (k, n), t in self._tokens.items()
                ],
                "counts": self._counts,
            }
        cid = self.consultation_id.encode("utf-8")
        header = _MAGIC + len(cid).to_bytes(2, "big") + cid
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, json.dumps(payload).encode("utf-8"), header)
        path = Path(path)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(header + nonce + sealed)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path, key: bytes, detector: PhiDetector | None = None) -> TokenVault:
        """Read a vault written by :meth:`save`.

        Raises:
            VaultError: Wrong key, not a vault file, or the file was altered.
        """
        blob = Path(path).read_bytes()
        if blob[:4] != _MAGIC or len(blob) < 6:
            raise VaultError("not a Dhanvantri vault file")
        size = int.from_bytes(blob[4:6], "big")
        header = blob[: 6 + size]
        nonce, sealed = blob[6 + size : 18 + size], blob[18 + size :]
        vault = cls(header[6:].decode("utf-8"), key, detector)
        try:
            payload = json.loads(vault._aead.decrypt(nonce, sealed, header))
        except InvalidTag:
            raise VaultError("vault cannot be decrypted: wrong key or altered file") from None
        for entry in payload["entries"]:
            vault._tokens[(entry["kind"], entry["norm"])] = entry["token"]
            vault._values[entry["token"]] = entry["value"]
        vault._counts = {k: int(v) for k, v in payload["counts"].items()}
        return vault


def _spoken_form(kind: str, value: str) -> str:
    """A value as it should be said back: names in lowercase transcripts get capitals."""
    if kind == E.PERSON and value.islower():
        return value.title()
    return value
