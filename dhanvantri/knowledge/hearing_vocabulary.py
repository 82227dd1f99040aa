"""The clinical words the consultation must hear, and the prompt that tells Whisper to expect them.

The vocabulary is drawn from the knowledge base itself (symptom lexicon, medicine table,
condition protocols, long-standing conditions) plus common allergens and a few answer phrases,
so a word added to the knowledge base is listened for without a second list to keep in step
(the Hindi words of the symptom lexicon are the one list kept here by hand).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from dhanvantri.knowledge.conditions import load_conditions, load_symptoms
from dhanvantri.knowledge.extract import KNOWN_CONDITIONS
from dhanvantri.knowledge.intake import QUESTIONS
from dhanvantri.knowledge.medicines import load_medicines

SYMPTOM, MEDICINE, BRAND, CONDITION, ALLERGEN, PHRASE, CUE = (
    "symptom", "medicine", "brand", "condition", "allergen", "phrase", "cue")
_ORDER = (CONDITION, ALLERGEN, SYMPTOM, MEDICINE, BRAND, PHRASE, CUE)  # which kind names a term

# What patients are allergic to besides the medicine table's names.
ALLERGENS = ("penicillin", "sulfa", "sulpha", "aspirin", "ibuprofen", "peanuts", "peanut", "nuts",
             "eggs", "egg", "seafood", "shellfish", "prawns", "fish", "milk", "wheat", "soy",
             "latex", "dust", "dust mites", "pollen", "bee stings", "perfume", "painkillers",
             "antibiotics")
# Answers that carry meaning the knowledge base spells across words ("dry" + "cough").
PHRASES = ("dry cough", "not allergic", "no allergies", "blood pressure", "sugar", "thyroid")
# Words the intake reads answers by ("allergic to ...") that name nothing to confirm.
CUES = ("allergic", "allergy", "allergies")
# Hindi words of the symptom lexicon. Whisper, decoding English, writes them as English words,
# so they are listened for (and read back when unsure) but no heard word is turned into one:
# that turned "city" into "seeti" (wheeze) and "started" into "sardard" (headache) here.
HINGLISH = frozenset("""
    aa aadha aana aankh aankhon adhasisi badan balgam bawaseer behna bhook bukhaar bukhar
    chakkar chheenk chhink chhoti daad daane dakar dama dard dast dhadkan dhundhla gala gale
    gayi ghabrahat ghutne ghutno hafte hai ho jakdan jalan jhunjhuni ji jodo jodon kaan kaat
    kabj kabz kam kamar kami kamzori kapkapi kata ke keede khaansi khaj khana khansi kharab
    kharish khasi khatti khoon khujli ki kutta kutte laal lag lagna lene loo machalna machhar
    madhumeh mahine marod masik mata mein moch muhanse muhase naak nahi ne pani peeche peeliya
    peshab pet phoda phoolna phunsi piliya pyaas qabz raha rahi saans safed sar sardard se
    seene seeti sheetpitti takleef teen thakan thand ulti ultee wajan zyada""".split())
NEGATIONS = frozenset({"no", "not", "never", "none", "nothing", "nope", "don't", "dont",
                       "didn't", "doesn't", "haven't", "hasn't", "isn't", "aren't", "wasn't",
                       "without", "nahi", "nahin", "na"})

# Topics whose question is prompt enough. Words added after it were heard in answers that
# never had them: the severity example came back whole for "Eight out of ten." (3 of 4
# accents), "Male. Female." turned "Female." into "Male.", "I am 45 years old." turned "Sixty
# eight." into "I am a 6 year old.", a probe's symptom words turned other speech into a yes;
# the questions already ask for numbers ("how many days", "out of 10", "in kilograms").
_ANSWERS_WITHOUT_TERMS = frozenset({"duration", "severity", "age", "sex", "pregnancy", "weight"})
_QUESTION_ONLY = _ANSWERS_WITHOUT_TERMS | {"conditions", "associated", "correction"}
_COMMON_SYMPTOMS = ("fever", "cough", "headache", "body_ache", "sore_throat", "runny_nose",
                    "vomiting", "diarrhoea", "abdominal_pain", "nausea", "dizziness", "fatigue",
                    "breathlessness", "rash")
_COMMON_MEDICINES = ("paracetamol", "Dolo", "metformin", "amlodipine", "telmisartan",
                     "pantoprazole", "atorvastatin", "thyroxine", "Crocin", "cetirizine",
                     "azithromycin")
_COMMON_ALLERGENS = ("penicillin", "sulfa", "aspirin", "ibuprofen", "peanuts", "eggs",
                     "seafood", "latex", "dust")
_PROMPT_TOKENS = 50
_STRENGTH = re.compile(r"\s*\b\d[\w%.-]*$")


@dataclass(frozen=True, slots=True)
class Term:
    """One word or phrase the clinic listens for, as it should be written in a transcript.

    ``kind`` is what it was first found as; ``kinds`` every list it is on ("aspirin" is a
    medicine and an allergen).
    """

    text: str
    kind: str
    kinds: frozenset[str] = frozenset()

    @property
    def hinglish(self) -> bool:
        """Whether the term has a Hindi word (Whisper decoding English never writes one)."""
        return any(word in HINGLISH for word in self.text.lower().split())


def _name(text: str) -> str:
    """A name as spoken: strengths and trailing form codes dropped ("Dolo 650" -> "Dolo")."""
    return _STRENGTH.sub("", text.replace("-", " ").replace("+", " ")).strip()


@lru_cache(maxsize=1)
def clinical_vocabulary() -> tuple[Term, ...]:
    """Every term the clinic must hear, once each, in a fixed order."""
    found: dict[str, tuple[str, set[str]]] = {}

    def add(text: str, kind: str) -> None:
        name = _name(text)
        if len(name) > 2:
            found.setdefault(name.lower(), (name, set()))[1].add(kind)

    for phrase in PHRASES:
        add(phrase, PHRASE)
    for cue in CUES:
        add(cue, CUE)
    for name in KNOWN_CONDITIONS:
        add(name, CONDITION)
    for allergen in ALLERGENS:
        add(allergen, ALLERGEN)
    table = load_medicines()
    for group in table.allergy_groups.values():
        for text in (group.name, *group.synonyms):
            if "allergy" not in text:
                add(text, ALLERGEN)
    for symptom in load_symptoms().values():
        for text in (symptom.label, *symptom.terms):
            add(text, SYMPTOM)
    for medicine in table:
        for text in (medicine.generic, *medicine.synonyms):
            add(text, MEDICINE)
        for text in medicine.brands:
            add(text, BRAND)
    for condition in load_conditions():
        for line in condition.medicines:
            add(line.generic, MEDICINE)
    return tuple(Term(name, min(kinds, key=_ORDER.index), frozenset(kinds))
                 for name, kinds in found.values())


def topic_kinds(topic: str) -> frozenset[str]:
    """The kinds of term most likely in the answer to the question about ``topic``."""
    if topic == "allergies":
        return frozenset({ALLERGEN, MEDICINE, BRAND, PHRASE, CUE})
    if topic == "medications":
        return frozenset({MEDICINE, BRAND})
    if topic == "conditions":
        return frozenset({CONDITION, MEDICINE, BRAND, PHRASE})
    if topic in _ANSWERS_WITHOUT_TERMS:
        return frozenset()
    return frozenset({SYMPTOM, PHRASE})


def listening_prompt(topic: str, question: str = "") -> str:
    """Text for Whisper's previous context while the patient answers the question on ``topic``.

    Whisper reads a prompt as the transcript so far, so a plausible one (the question just
    asked, then words a patient might answer with) makes the expected words likelier without
    putting them in the patient's mouth. Kept near 50 Whisper tokens; the same input always
    gives the same prompt.

    Args:
        topic: an intake topic (``QUESTIONS`` key) or ``"probe:<id>:<symptom>"``.
        question: the question as the assistant asked it; ``QUESTIONS[topic]`` when empty.

    Returns:
        For example ``"Are you allergic to any medicine or food? Penicillin, sulfa, ..."``.
    """
    question = (question or QUESTIONS.get(topic, "")).strip()
    return _fit(question, *_answer_words(topic))


def _answer_words(topic: str) -> tuple[list[str], str]:
    """The words a patient may answer with, most likely first, and a closing sentence."""
    if topic in _QUESTION_ONLY or topic.startswith("probe:"):
        return [], ""
    if topic == "allergies":
        return list(_COMMON_ALLERGENS), "I am not allergic to anything else."
    if topic == "medications":
        return list(_COMMON_MEDICINES), ""
    symptoms = load_symptoms()
    return [symptoms[s].label for s in _COMMON_SYMPTOMS if s in symptoms], ""


def _tokens(text: str) -> int:
    """Whisper tokens in ``text``, estimated: clinical words split into ~3-letter pieces
    ("metformin" is 3), punctuation is one more. Within 8% of Whisper's tokenizer on the
    prompts with words added; high on plain questions (38 for 28)."""
    return sum(max(1, round(sum(ch.isalnum() for ch in word) / 3))
               + sum(not ch.isalnum() and ch != "'" for ch in word) for word in text.split())


def _fit(question: str, words: list[str], closing: str) -> str:
    """The question, then as many answer words as the token budget holds, then the closing."""
    budget = _PROMPT_TOKENS - _tokens(question) - _tokens(closing)
    kept: list[str] = []
    for word in words:
        cost = _tokens(word) + 1  # and its comma
        if cost > budget:
            break
        kept.append(word)
        budget -= cost
    listed = ", ".join(kept)
    listed = f"{listed[:1].upper()}{listed[1:]}." if listed else ""
    return " ".join(part for part in (question, listed, closing) if part)
