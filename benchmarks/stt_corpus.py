"""The speech evaluation set: patient utterances from templates, with the clinical terms in each.

Texts come from templates filled from fixed vocabularies with a seeded generator, so the set is
versioned by this file alone. Each utterance carries what a transcript must keep, computed from
its text: the lexicon's symptom terms, the medicines the knowledge base names, the negation words
and the numbers said. :func:`normalise` puts a reference and a transcript in one form ("one
hundred and one point five" and "101.5" both become ``101.5``), so terms and words compare;
:func:`score` says which terms a transcript kept and how many word edits it is away.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from dhanvantri.knowledge.conditions import load_symptoms
from dhanvantri.knowledge.medicines import load_medicines

SEED = 20261130
KINDS = ("symptoms", "medicines", "negations", "numbers")
NEGATIONS = ("not", "no", "never", "didn't", "don't", "haven't", "hasn't", "doesn't", "isn't",
             "wasn't", "can't", "cannot", "without", "none", "nothing", "nahi", "nahin")

# ------------------------------------------------------------------ normalisation
_UNITS = {w: i for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 10 * i for i, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split(), start=2)}
_SCALES = {"hundred": 100, "thousand": 1000, "lakh": 100000}
_SPELLING = {"mg": "milligrams", "milligram": "milligrams", "kg": "kilograms",
             "kilogram": "kilograms", "kilos": "kilograms", "ml": "millilitres",
             "diarrhea": "diarrhoea", "%": "percent",
             "°f": ""}  # Whisper writes "101°F" where "one hundred and one" was said
_TOKEN = re.compile(r"\d+(?:\.\d+)?|[a-z]+(?:'[a-z]+)?|°f|%")


def _kind(word: str) -> str | None:
    if word in _UNITS:
        return "unit" if _UNITS[word] < 10 else "teen"
    if word in _TENS:
        return "tens"
    if word == "hundred":
        return "hundred"
    return "scale" if word in _SCALES else None


# Which kind of number word may follow which ("" opens a number): "twenty five", "one hundred
# and one", never "one two" (two numbers, as in "one two days").
_FOLLOWS = {"unit": {"", "tens", "hundred", "scale", "and"},
            "teen": {"", "hundred", "scale", "and"}, "tens": {"", "hundred", "scale", "and"},
            "hundred": {"unit", "teen", "tens"}, "scale": {"unit", "teen", "tens", "hundred"}}


def _number_value(words: list[str]) -> tuple[int, int] | None:
    """The integer that ``words`` open with and how many words it took, or None."""
    total = current = used = 0
    last = ""
    for i, w in enumerate(words):
        kind = _kind(w)
        if w == "a" and i == 0 and len(words) > 1 and _kind(words[1]) in ("hundred", "scale"):
            kind = "unit"  # "a hundred and two"
        if w == "and" and last in ("hundred", "scale") and i + 1 < len(words) \
                and _kind(words[i + 1]) in ("unit", "teen", "tens"):
            last = "and"
            continue
        if kind is None or last not in _FOLLOWS[kind]:
            break
        if kind == "hundred":
            current *= 100
        elif kind == "scale":
            total, current = total + current * _SCALES[w], 0
        else:
            current += 1 if w == "a" else _UNITS.get(w, 0) + _TENS.get(w, 0)
        last, used = kind, i + 1
    return (total + current, used) if used else None


def _words_to_digits(tokens: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(tokens):
        found = _number_value(tokens[i:])
        if found is None:
            out.append(tokens[i])
            i += 1
            continue
        value, used = found
        out.append(str(value))
        i += used
    return out


def _join_points(tokens: list[str]) -> list[str]:
    """``101 point 5`` (or ``101 point 5 0``) as ``101.5``: the decimals are spoken digit by
    digit."""
    out: list[str] = []
    i = 0
    while i < len(tokens):
        t = tokens[i]
        if t == "point" and out and out[-1].isdigit() and i + 1 < len(tokens) \
                and tokens[i + 1].isdigit():
            decimals = []
            i += 1
            while i < len(tokens) and tokens[i].isdigit() and len(tokens[i]) == 1:
                decimals.append(tokens[i])
                i += 1
            if not decimals:  # "point 25": written as one number
                decimals, i = [tokens[i]], i + 1
            out[-1] = f"{out[-1]}.{''.join(decimals)}"
            continue
        out.append(t)
        i += 1
    return out


def normalise(text: str) -> list[str]:
    """Words of ``text`` in one comparable form: lowercase, no punctuation, numbers as digits
    (``"Five hundred mg"`` -> ``["500", "milligrams"]``), a few spellings made one."""
    text = text.lower().replace("\u2019", "'").replace(",", "")
    text = re.sub(r"(\d)([a-z%°])", r"\1 \2", text)  # "500mg" -> "500 mg"
    text = re.sub(r"(\d+)/(\d+)", r"\1 out of \2", text)  # "8/10" as said
    tokens = [_SPELLING.get(t, t) for t in _TOKEN.findall(text)]
    tokens = [t for t in tokens if t]
    return _join_points(_words_to_digits(tokens))


def contains(words: list[str], term: list[str]) -> bool:
    """True when ``term`` (normalised words) occurs in ``words`` as a run."""
    n = len(term)
    return n > 0 and any(words[i:i + n] == term for i in range(len(words) - n + 1))


def edits(reference: list[str], heard: list[str]) -> int:
    """Word-level Levenshtein distance."""
    row = list(range(len(heard) + 1))
    for i, word in enumerate(reference, 1):
        diagonal, row[0] = row[0], i
        for j, other in enumerate(heard, 1):
            diagonal, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1,
                                           diagonal + (word != other))
    return row[-1]


def score(utterance: Utterance, heard: str) -> dict[str, Any]:
    """Word edits and, per kind, which of the utterance's terms the heard text kept."""
    words, reference = normalise(heard), normalise(utterance.text)
    kept = {kind: [t for t in terms if contains(words, t.split())]
            for kind, terms in utterance.terms.items()}
    missed = {kind: [t for t in terms if t not in kept[kind]]
              for kind, terms in utterance.terms.items()}
    # Terms heard that were never said ("fever, cough" after a prompt; an invented "not").
    inserted = {k: [t for t in found if t not in utterance.terms[k]]
                for k, found in annotate(heard).items() if k in KINDS}
    return {"words": len(reference), "edits": edits(reference, words),
            "said": {k: len(utterance.terms[k]) for k in KINDS},
            "kept": {k: len(kept[k]) for k in KINDS},
            "inserted": {k: len(v) for k, v in inserted.items()},
            "missed": {k: v for k, v in missed.items() if v}}


# ------------------------------------------------------------------ annotation
@cache
def _term_pattern(kind: str) -> re.Pattern[str]:
    if kind == "symptoms":
        terms = {t for s in load_symptoms().values() for t in s.terms}
    else:
        table = load_medicines()
        terms = {n.lower() for m in table for n in (m.generic, *m.synonyms, *m.brands)
                 if not re.search(r"[\d+]", n)}
        terms |= {n.lower() for g in table.allergy_groups.values() for n in (g.name, *g.synonyms)}
    alternation = "|".join(re.escape(t) for t in sorted(terms, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternation})(?![\w-])")


def terms_in(text: str, kind: str) -> list[str]:
    """The lexicon terms of ``kind`` (symptoms or medicines) in ``text``, longest first where
    they overlap, in order, each once."""
    found = [m.group() for m in _term_pattern(kind).finditer(text.lower())]
    return list(dict.fromkeys(found))


def annotate(text: str) -> dict[str, list[str]]:
    """What a transcript of ``text`` must keep, per kind, each term in normalised form."""
    words = normalise(text)
    return {
        "symptoms": [" ".join(normalise(t)) for t in terms_in(text, "symptoms")],
        "medicines": [" ".join(normalise(t)) for t in terms_in(text, "medicines")],
        "negations": list(dict.fromkeys(w for w in words if w in NEGATIONS)),
        "numbers": list(dict.fromkeys(w for w in words if re.fullmatch(r"\d+(?:\.\d+)?", w))),
    }


@dataclass(frozen=True, slots=True)
class Utterance:
    """One line a patient says, its category and the terms a transcript must keep."""

    id: str
    category: str
    text: str
    terms: dict[str, list[str]]


# ------------------------------------------------------------------ vocabulary
# Words as patients say them; the lexicon (data/symptoms.json) and the medicine table must know
# every one (tests check it), so a rename there shows up here.
SYMPTOMS = ("fever", "a dry cough", "a headache", "a sore throat", "a runny nose", "vomiting",
            "loose motions", "stomach pain", "back pain", "chest pain", "body ache",
            "joint pain", "a rash", "itching", "nausea", "dizziness", "breathlessness",
            "wheezing", "ear pain", "constipation", "acidity", "weakness", "chills",
            "sneezing", "a blocked nose", "palpitations", "blurred vision", "knee pain",
            "burning while passing urine", "loss of appetite", "red eyes", "a stiff neck")
SPANS = ("three days", "two weeks", "a week", "ten days", "4 days", "two months", "five days",
         "one month", "12 days", "six hours")
SINCE = ("yesterday", "last night", "Monday", "this morning", "Diwali", "last Sunday")
SEVERITIES = ("mild", "quite bad", "very severe", "moderate", "getting worse", "not too bad")
RELATIVES = ("My son", "My daughter", "My mother", "My father", "My wife", "My husband",
             "My grandmother", "My brother")
MEDICINES = (("paracetamol", "five hundred"), ("paracetamol", "650"), ("metformin", "500"),
             ("metformin", "one thousand"), ("amlodipine", "five"), ("azithromycin", "500"),
             ("cetirizine", "ten"), ("pantoprazole", "forty"), ("ondansetron", "four"),
             ("ibuprofen", "four hundred"), ("amoxicillin", "500"), ("atorvastatin", "twenty"),
             ("telmisartan", "40"), ("glimepiride", "two"), ("levothyroxine", "fifty"),
             ("domperidone", "ten"), ("montelukast", "ten"), ("omeprazole", "twenty"),
             ("albendazole", "four hundred"), ("cefixime", "two hundred"),
             ("diclofenac", "fifty"), ("losartan", "fifty"), ("metronidazole", "400"),
             ("fluconazole", "150"), ("doxycycline", "one hundred"), ("prednisolone", "ten"),
             ("salbutamol", "two"), ("ciprofloxacin", "500"), ("atenolol", "fifty"),
             ("levocetirizine", "five"))
CONDITIONS = ("diabetes", "blood pressure", "thyroid", "acidity", "asthma", "cholesterol")
ALLERGENS = ("penicillin", "sulpha drugs", "aspirin", "ibuprofen", "amoxicillin",
             "cotrimoxazole", "diclofenac", "peanuts", "dust", "eggs")
FIRST_NAMES = ("Ramesh", "Priya", "Anil", "Sunita", "Lakshmi", "Mohammed", "Kavita", "Suresh",
               "Arjun", "Deepa", "Gurpreet", "Farida", "Venkatesh", "Meena", "Rahul", "Pooja")
LAST_NAMES = ("Iyer", "Sharma", "Kumar", "Devi", "Narayanan", "Rafiq", "Patil", "Reddy", "Nair",
              "Menon", "Singh", "Begum", "Rao", "Joshi", "Banerjee", "Gupta")
PLACES = ("Pune", "Chennai", "Lucknow", "Kochi", "Nagpur", "Indore", "Bhopal", "Guwahati",
          "Coimbatore", "Patna", "Jaipur", "Hyderabad", "Vijayawada", "Madurai", "Mysore",
          "Thane")
HINGLISH = ("bukhar", "khansi", "dast", "sar dard", "pet dard", "ulti", "kamzori", "chakkar",
            "khujli", "kamar dard", "jalan", "qabz", "badan dard", "gala kharab")
AGES = ("twenty five", "32", "forty one", "sixty five", "seventy", "19", "fifty eight", "eight")
TEMPERATURES = ("one hundred and one", "101 point 5", "one hundred and two", "99.8",
                "one hundred point four", "a hundred and three", "100", "ninety nine")
WEIGHTS = ("fifty five", "72", "sixty eight", "eighty", "forty five", "ninety one")

Template = Callable[[random.Random], str]


def _pick(rng: random.Random, options: tuple[str, ...]) -> str:
    return rng.choice(options)


def _sym(rng: random.Random) -> str:
    return _pick(rng, SYMPTOMS)


def _bare(symptom: str) -> str:
    return symptom.removeprefix("a ")


TEMPLATES: dict[str, tuple[Template, ...]] = {
    "symptoms": (
        lambda r: f"I have had {_sym(r)} for {_pick(r, SPANS)}.",
        lambda r: f"{_pick(r, RELATIVES)} has {_sym(r)} since {_pick(r, SINCE)}.",
        lambda r: f"The {_bare(_sym(r))} is {_pick(r, SEVERITIES)} today.",
        lambda r: "I have {} and {}, it started {} ago.".format(*_two(r, SYMPTOMS),
                                                                _pick(r, SPANS)),
        lambda r: f"For {_pick(r, SPANS)} I am having {_sym(r)} at night.",
        lambda r: f"Doctor, the {_bare(_sym(r))} comes and goes, it is {_pick(r, SEVERITIES)}.",
    ),
    "medicines": (
        lambda r: "I am taking {} {} milligrams twice a day.".format(*_pick_med(r)),
        lambda r: f"The doctor gave me {_pick_med(r)[0]} for my {_pick(r, CONDITIONS)}.",
        lambda r: "I took one tablet of {} {} last night.".format(*_pick_med(r)),
        lambda r: f"I take {_pick_med(r)[0]} every morning after breakfast.",
        lambda r: "Can I take {} together with {}?".format(*_two_medicines(r)),
        lambda r: "My father takes {} {} mg once a day.".format(*_pick_med(r)),
    ),
    "allergies": (
        lambda r: f"I am allergic to {_pick(r, ALLERGENS)}.",
        lambda r: "No, I am not allergic to anything.",
        lambda r: f"I get a rash whenever I take {_pick(r, ALLERGENS)}.",
        lambda r: f"I had a bad reaction to {_pick(r, ALLERGENS)} as a child.",
        lambda r: f"{_pick(r, RELATIVES)} is allergic to {_pick(r, ALLERGENS)}.",
        lambda r: "I don't have any allergies that I know of.",
        lambda r: "I think I am allergic to {} and {}.".format(*_two(r, ALLERGENS)),
    ),
    "negations": (
        lambda r: "I have not taken any medicine for it.",
        lambda r: "No {} and no {}.".format(*map(_bare, _two(r, SYMPTOMS))),
        lambda r: "I never had fits before.",
        lambda r: "I didn't check my temperature.",
        lambda r: f"I don't have {_sym(r)}.",
        lambda r: f"I haven't taken {_pick_med(r)[0]} since {_pick(r, SINCE)}.",
        lambda r: "There is {} but without {}.".format(*map(_bare, _two(r, SYMPTOMS))),
        lambda r: f"{_pick(r, RELATIVES)} doesn't have {_sym(r)}.",
        lambda r: f"I cannot sleep because of the {_bare(_sym(r))}.",
        lambda r: "It is not {}, it is more like {}.".format(*map(_bare, _two(r, SYMPTOMS))),
    ),
    "numbers": (
        lambda r: f"My temperature was {_pick(r, TEMPERATURES)} this morning.",
        lambda r: f"I am {_pick(r, AGES)} years old.",
        lambda r: f"I weigh {_pick(r, WEIGHTS)} kilograms.",
        lambda r: f"The pain is {r.randint(2, 10)} out of 10.",
        lambda r: f"My sugar was {_pick(r, ('two hundred and forty', '180', 'one hundred'))}"
                  " this morning.",
        lambda r: f"My blood pressure was {r.choice((130, 150, 160))} by {r.choice((80, 90))}.",
        lambda r: f"I have taken {_pick(r, ('two', 'three', '6'))} tablets in "
                  f"{_pick(r, ('two', '3', 'four'))} days.",
        lambda r: f"{_pick(r, RELATIVES)} is {_pick(r, AGES)} years old and has fever of "
                  f"{_pick(r, TEMPERATURES)}.",
    ),
    "names": (
        lambda r: f"My name is {_name(r)} from {_pick(r, PLACES)}.",
        lambda r: f"This is {_name(r)} calling for my mother, she lives in {_pick(r, PLACES)}.",
        lambda r: f"I am {_name(r)}, I have {_sym(r)} since {_pick(r, SINCE)}.",
        lambda r: f"We came from {_pick(r, PLACES)} to {_pick(r, PLACES)} last week.",
    ),
    "hinglish": (
        lambda r: f"I have {_pick(r, HINGLISH)} since {_pick(r, SINCE)}.",
        lambda r: "{} has {} and {}.".format(_pick(r, RELATIVES), *_two(r, HINGLISH)),
        lambda r: "Doctor, {} nahi hai, only {}.".format(*_two(r, HINGLISH)),
        lambda r: f"Mujhe {_pick(r, HINGLISH)} hai for {_pick(r, SPANS)}.",
    ),
}
# Utterances per category: 360 in all, 40 per voice over nine voices.
COUNTS = {"symptoms": 64, "medicines": 60, "allergies": 36, "negations": 64, "numbers": 64,
          "names": 36, "hinglish": 36}


def _pick_med(rng: random.Random) -> tuple[str, str]:
    return rng.choice(MEDICINES)


def _two(rng: random.Random, options: tuple[str, ...]) -> list[str]:
    return rng.sample(options, 2)


def _two_medicines(rng: random.Random) -> list[str]:
    return _two(rng, tuple(sorted({name for name, _ in MEDICINES})))


def _name(rng: random.Random) -> str:
    return f"{_pick(rng, FIRST_NAMES)} {_pick(rng, LAST_NAMES)}"


def _category(category: str, count: int, rng: random.Random) -> list[str]:
    """``count`` distinct texts, the templates taken in turn."""
    texts: dict[str, None] = {}
    templates = TEMPLATES[category]
    tries = 0
    while len(texts) < count:
        texts.setdefault(templates[tries % len(templates)](rng), None)
        tries += 1
        if tries > count * 200:
            raise ValueError(f"{category}: the templates make fewer than {count} texts")
    return list(texts)


@cache
def corpus() -> tuple[Utterance, ...]:
    """The evaluation set, the same on every call and machine, in a seeded shuffled order (so
    the voice, speed and noise assigned by position are not tied to a category)."""
    rng = random.Random(SEED)
    items = [(category, text) for category, count in COUNTS.items()
             for text in _category(category, count, rng)]
    random.Random(SEED + 1).shuffle(items)
    return tuple(Utterance(f"u{i:03d}", category, text, annotate(text))
                 for i, (category, text) in enumerate(items))
