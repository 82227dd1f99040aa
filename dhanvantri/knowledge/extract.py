"""Deterministic extraction of intake facts from (PHI-redacted, often lowercase) patient text.

Duration, severity, age, sex, pregnancy, allergies, current medicines and known conditions
(weight and reported vitals are in :mod:`.readings`, a symptom's character and onset in
:mod:`.character`).
Each function takes normalised text (see :func:`dhanvantri.knowledge.lexicon.normalise`) and
returns what it found or None; nothing here guesses beyond what the words say.
"""

from __future__ import annotations

import re

_NUMBER_WORDS = {
    "a": 1, "an": 1, "one": 1, "ek": 1, "two": 2, "do": 2, "couple of": 2, "a couple of": 2,
    "three": 3, "teen": 3, "few": 3, "a few": 3, "four": 4, "char": 4, "chaar": 4, "five": 5,
    "paanch": 5, "panch": 5, "six": 6, "chhe": 6, "seven": 7, "saat": 7, "eight": 8, "aath": 8,
    "nine": 9, "ten": 10, "das": 10, "fifteen": 15, "twenty": 20,
}
_UNIT_DAYS = {
    "hour": 1 / 24, "hours": 1 / 24, "hr": 1 / 24, "hrs": 1 / 24, "ghante": 1 / 24,
    "day": 1, "days": 1, "din": 1, "dino": 1, "dinon": 1,
    "week": 7, "weeks": 7, "hafta": 7, "hafte": 7, "hafton": 7,
    "month": 30, "months": 30, "mahina": 30, "mahine": 30, "mahino": 30,
    "year": 365, "years": 365, "saal": 365,
}
_WORDS = "|".join(sorted(map(re.escape, _NUMBER_WORDS), key=len, reverse=True))
_UNITS = "|".join(sorted(_UNIT_DAYS, key=len, reverse=True))
_DURATION = re.compile(rf"\b(\d+(?:\.\d+)?|{_WORDS})\s+({_UNITS})\b(?!\s+(?:old|pregnant))")
_RELATIVE = (
    (re.compile(r"\b(since|from) (this morning|today|last night|morning|tonight)\b|\baaj se\b"),
     0.5, "since today"),
    (re.compile(r"\b(since|from) (the )?day before yesterday\b|\bparso se\b"), 2.0,
     "since the day before yesterday"),
    (re.compile(r"\b(since|from) yesterday\b|\byesterday\b|\bkal se\b|\bkal raat se\b"),
     1.0, "since yesterday"),
    (re.compile(r"\b(since|from) (last|past) week\b|\bpichle hafte\b"), 7.0, "since last week"),
    (re.compile(r"\b(since|from) (last|past) month\b|\bpichle mahine\b"), 30.0,
     "since last month"),
    (re.compile(r"\b(for|since) (a )?long( time)?\b|\bfor years\b|\bmany years\b"), 365.0,
     "for a long time"),
)

_SCORE = re.compile(r"\b(10|[0-9])\s*(?:/|out of|on)\s*10\b")
_SEVERE = re.compile(r"\b(severe|severely|very bad|terrible|unbearable|worst|excruciating|"
                     r"very severe|too much|bahut zyada|bahut tez|bahut|extreme|really bad|"
                     r"very painful|very high)\b")
_MODERATE = re.compile(r"\b(moderate|quite|medium|manageable|fairly|bearable|so so)\b")
_MILD = re.compile(r"\b(mild|mildly|slight|slightly|a little|little bit|not much|halka|thoda|"
                   r"minor|light)\b")

_AGE = (
    re.compile(r"\b(\d{1,3})\s*(?:years?|yrs?|yr)\s*old\b"),
    re.compile(r"\b(\d{1,3})\s*(?:-\s*)?(?:years?|yrs?|yr)\s*(?:of age)?\b(?=.*\b(?:age|old)\b)"),
    re.compile(r"\b(?:i am|i'm|im|am|main|mai)\s+(\d{1,3})\b(?!\s*(?:months?|weeks?|days?|kg|"
               r"kilos?|cm|feet|ft|times|hours?|mahine|hafte|din|percent|%))"),
    re.compile(r"\b(?:age|aged|my age is|age is|umar|umra|umr)\s*(?:is\s*)?(?::\s*)?(\d{1,3})\b"),
    re.compile(r"\b(\d{1,3})\s*(?:saal|sal)\s*(?:ki|ka|ke)?\b"),
)
_BARE_NUMBER = re.compile(r"^\D*(\d{1,3})\D*$")

# Only words about the speaker: "my husband has fever" says nothing about the patient's sex.
_FEMALE = re.compile(r"\b(female|woman|lady|my periods?|my menses|pregnant|aurat|mahila)\b|"
                     r"\bi am a girl\b")
_MALE = re.compile(r"\b(male|man|gentleman|aadmi|purush)\b|\bi am a boy\b")
# "I am 31 years old and pregnant": a few words may come between.
_PREGNANT_YES = re.compile(r"\b(i am|i'm|im|currently|and|also|now)( [a-z0-9]+){0,4}? pregnant\b|"
                           r"\bexpecting a baby\b|\bweeks pregnant\b|\bmonths pregnant\b|"
                           r"\bgarbhvati\b|\bpregnant hoon\b")
_PREGNANT_NO = re.compile(r"\b(not|no chance of being|no chance of|never been) pregnant\b|"
                          r"\bno (chance of )?pregnancy\b|\bnot expecting\b|\bmenopause\b|"
                          r"\bmy periods? (came|is on|are on|started)\b")
_PREGNANT_UNSURE = re.compile(r"\b(not sure|don't know|dont know|maybe|might|may be|could be|"
                              r"chance|if|whether|trying|planning|want)\b[^.!?]*\bpregnant\b")

_NO_ALLERGY = re.compile(r"\b(no|not any|don't have any|dont have any|no known|none)\s+"
                         r"(known )?(drug |medicine )?allerg(y|ies)\b|\bnot allergic\b|"
                         r"\bkoi allergy nahi\b|\ballergy nahi\b")
_ALLERGY = re.compile(r"\ballerg(?:ic|y)\s+(?:to|from|with|se)\s+([a-z0-9 ,/\-]+?)"
                      r"(?=[.;!?]|\bbut\b|\bwhich\b|\bit\b|\bi\b|\bmy\b|$)")
_ALLERGY_BEFORE = re.compile(r"\b([a-z][a-z\-]+)\s+allergy\b")
_NOT_ALLERGENS = {"no", "any", "dust", "skin", "food", "drug", "medicine", "some", "nose",
                  "seasonal", "known", "an", "have", "koi"}

_NO_MEDS = re.compile(r"\b(not taking any|no medicines?|no medications?|no tablets?|"
                      r"not on any|don't take any|dont take any|nothing regularly|no regular|"
                      r"koi dawai nahi|koi dawa nahi|not taking anything|"
                      r"nothing (yet|so far|till now)|(haven't|have not|havent|not|didn't|did not|"
                      r"didnt) (given|taken|take|give) ((him|her|them) )?(any|anything))\b|"
                      r"\b(gave|given|give|giving|took|taken|take|taking) ((him|her|them) )?"
                      r"nothing\b")
# A sentence that asks ("Can I take paracetamol?") names no medicine the patient takes. Speech
# to text often drops the question mark, so a leading question word counts as well.
_QUESTION = re.compile(r"\?\s*$|^\W*(can|could|should|shall|may|will|would|is|are|am|do|does|"
                       r"which|what|how|when|why|kya)\b")
_SENTENCE = re.compile(r"(?:[^.!?]|\.(?=\d))+(?:[.!?]|$)")  # "2.5 mg" stays in its sentence
# "take" says what is taken wherever it is heard; "on", "using", "took" and "gave" ("I am on
# insulin", "I gave him syrup") only in answer to the question about medicines.
_TAKE = r"take|takes|taking"
_TAKE_IF_ASKED = (r"i am on|i'm on|im on|she is on|he is on|on|use|uses|using|took|taken|"
                  r"gave|given|give|giving|applied|apply|applying")
_NOT_TAKING = re.compile(r"\b(not|don't|dont|do not|doesn't|doesnt|never|stopped|no longer|"
                         r"didn't|didnt|can't|cannot|should i|can i|could i)\s+$")
_MED_END = (r"\s*(?:\btablets?\b|\btabs?\b|\bmedicines?\b|\bdaily\b|\bregularly\b|\bevery\b|"
            r"\bfor\b|\bsince\b|\bat\b|\bin the\b|\bwhen\b|\bwhich\b|\bbut\b|\bsometimes\b|"
            r"\bthis\b|\blast\b|\byesterday\b|\btoday\b|"
            r"(?:,\s*|\band\s+)(?:i|i'm|my|she|he|it|also|then|no|not|am|is|but)\b|[;:.!?]|$)")
_TAKEN = {asked: re.compile(rf"\b(?:{verbs})\s+([a-z0-9][a-z0-9 .,&/\-+]*?)(?={_MED_END})")
          for asked, verbs in ((False, _TAKE), (True, f"{_TAKE}|{_TAKE_IF_ASKED}"))}
_MED_ITEM_SPLIT = re.compile(r"\s*(?:,|\band\b|&|/|\bplus\b)\s*")
_MED_LEAD = re.compile(r"^(?:(?:a|an|the|some|only|just|my|his|her|also|one|two|regular)\s+)+")
_NOT_MEDICINES = {"any", "nothing", "anything", "it", "them", "the", "that", "this", "rest",
                  "medicine", "medicines", "tablet", "tablets", "bath", "leave",
                  "care", "time", "food", "water"}
_FILLER = re.compile(r"^\W*(?:(?:yes|yeah|haan|ha|ji|ok|okay|well|only|just|some|currently|"
                     r"right now|at the moment|i give|we give|she gets|he gets)\b\W*)+")
# A short answer with a person or a verb in it is a sentence, not the name of a medicine.
_NOT_A_NAME = re.compile(r"\b(no|not|nothing|none|i|i'm|im|me|my|he|she|it|we|they|is|am|are|"
                         r"was|were|have|has|had|feel|feels|did|do|does|don't|dont)\b")
_UNSURE = re.compile(r"\b(not sure|don't know|dont know|do not know|don't remember|"
                     r"dont remember|can't remember|cannot remember|no idea|pata nahi|maybe)\b")

_NO_CONDITIONS = re.compile(r"\b(no (other )?(medical|health) (problems?|issues?)|"
                            r"no (other )?(long[- ]standing |chronic )?(illness(es)?|diseases?|"
                            r"conditions?)|healthy otherwise|otherwise healthy|no history|"
                            r"no chronic|koi bimari nahi)\b")
# Said in answer to the question about illnesses, these say there are none; said to "any
# other symptoms?" they are about symptoms.
_NO_CONDITIONS_IF_ASKED = re.compile(r"\b(nothing else|no other problems?|no problems?|"
                                     r"nothing like that|none of (these|them|those))\b")
KNOWN_CONDITIONS = {
    "diabetes": r"diabet\w*|sugar (patient|problem)|i have sugar|madhumeh",
    "hypertension": r"hypertension|high (bp|blood pressure)|bp (patient|problem)|i have bp",
    "asthma": r"asthma|wheezing problem|dama",
    "thyroid disease": r"thyroid|hypothyroid\w*",
    "heart disease": r"heart (disease|problem|attack)|angina|stent|bypass",
    "kidney disease": r"kidney (disease|problem|failure)|dialysis|ckd",
    "liver disease": r"liver (disease|problem)|cirrhosis|hepatitis b|hepatitis c",
    "epilepsy": r"epilepsy|fits|seizures?",
    "tuberculosis": r"\btb\b|tuberculosis",
    "peptic ulcer": r"(stomach|peptic) ulcer",
    "g6pd deficiency": r"g6pd",
}
_CONDITION_PATTERNS = {name: re.compile(rf"\b(?:{rx})") for name, rx in KNOWN_CONDITIONS.items()}
# In Indian English "I have blood pressure" or "I have sugar" names the illness. A bare
# "blood pressure" is the illness when something is had, taken for or listed with it ("tablets
# for sugar", "diabetes and blood pressure"), or when it answers the question about illnesses;
# never when a reading, a check or a low pressure follows or comes before.
_BARE_CONDITIONS = {"hypertension": r"blood pressure|bp|b\.?p\.?", "diabetes": r"sugar"}
_NOT_THE_ILLNESS = (r"(?<!low )(?<!my )(?<!his )(?<!her )(?<!the )(?<!your )"
                    r"(?:{names})\b(?!\s*(?:is|was|were|are|of|level|levels|reading|readings|"
                    r"check\w*|test\w*|machine|normal|low|went|goes|came|dropped|\d))")
_BARE_HAD = {name: re.compile(rf"\b(?:have|has|had|got|for|from|of|with|and)\s+"
                              rf"(?:a |some |the |also )?{_NOT_THE_ILLNESS.format(names=rx)}")
             for name, rx in _BARE_CONDITIONS.items()}
_BARE_ASKED = {name: re.compile(rf"\b{_NOT_THE_ILLNESS.format(names=rx)}")
               for name, rx in _BARE_CONDITIONS.items()}


def duration(text: str) -> tuple[float, str] | None:
    """How long the complaint has lasted, in days, and the words that said it."""
    match = _DURATION.search(text)
    if match:
        raw = match.group(1)
        count = float(raw) if raw[0].isdigit() else float(_NUMBER_WORDS[raw])
        return count * _UNIT_DAYS[match.group(2)], match.group(0)
    for pattern, days, words in _RELATIVE:
        if pattern.search(text):
            return days, words
    return None


def severity(text: str) -> tuple[str, int | None] | None:
    """``("mild"|"moderate"|"severe", score out of 10 or None)``."""
    match = _SCORE.search(text)
    if match:
        score = int(match.group(1))
        band = "mild" if score <= 3 else "moderate" if score <= 6 else "severe"
        return band, score
    for band, pattern in (("severe", _SEVERE), ("moderate", _MODERATE), ("mild", _MILD)):
        if pattern.search(text):
            return band, None
    return None


def age(text: str, expecting: bool = False) -> float | None:
    """Age in years; a bare number counts only when the question asked was the age."""
    for pattern in _AGE:
        match = pattern.search(text)
        if match and 0 < int(match.group(1)) < 120:
            return float(match.group(1))
    if expecting:
        match = _BARE_NUMBER.match(text)
        if match and 0 < int(match.group(1)) < 120:
            return float(match.group(1))
    return None


def sex(text: str) -> str | None:
    """``"female"``, ``"male"`` or None."""
    if _FEMALE.search(text):
        return "female"
    if _MALE.search(text):
        return "male"
    return None


def pregnancy(text: str) -> bool | None:
    """True when the text says pregnant, False when it rules it out, else None."""
    if _PREGNANT_NO.search(text):
        return False
    if _PREGNANT_UNSURE.search(text):
        return None  # "not sure if I am pregnant" is for the physician to ask about
    if _PREGNANT_YES.search(text):
        return True
    return None


def allergies(text: str) -> tuple[list[str], bool]:
    """``(allergens named, said to have none)``."""
    if _NO_ALLERGY.search(text):
        return [], True
    found = []
    for match in _ALLERGY.finditer(text):
        for part in re.split(r"\s*(?:,|\bor\b|\band\b|/)\s*", match.group(1)):
            part = re.sub(r"^(the|a|an|some)\s+", "", part.strip())
            if part and part not in _NOT_ALLERGENS and len(part.split()) <= 3:
                found.append(part)
    for match in _ALLERGY_BEFORE.finditer(text):
        if match.group(1) not in _NOT_ALLERGENS and match.group(1) not in found:
            found.append(match.group(1))
    return found, False


def medications(text: str, expecting: bool = False) -> tuple[list[str], bool]:
    """``(medicine phrases named, said to take none)``.

    ``expecting`` when the question asked was about medicines: then "I am on ...", "I gave
    him ..." and a short answer naming only what is taken ("Only salt water gargles") count.
    A question ("Can I take paracetamol?") never names a medicine the patient takes.
    """
    if _NO_MEDS.search(text):
        return [], True
    found: list[str] = []
    statements = [s.strip() for s in _SENTENCE.findall(text) if not _QUESTION.search(s.strip())]
    for sentence in statements:
        for match in _TAKEN[expecting].finditer(sentence):
            if not _NOT_TAKING.search(sentence[:match.start()]):
                _add_medicines(found, match.group(1))
    if expecting and not found and statements and not _UNSURE.search(text):
        answer = re.split(r"[,;]", _FILLER.sub("", statements[0]))[0]
        if len(answer.split()) <= 5 and not _NOT_A_NAME.search(answer):
            _add_medicines(found, answer)
    return found, False


def _add_medicines(found: list[str], phrase: str) -> None:
    """The medicines in one phrase ("metformin and amlodipine"), without article, strength or
    schedule: "a metformin 500 twice" -> "metformin"."""
    for item in _MED_ITEM_SPLIT.split(phrase.strip()):
        item = _MED_LEAD.sub("", item.strip(" .!?-"))
        item = re.sub(r"\s*\b(\d.*|once.*|twice.*|thrice.*)$", "", item).strip()
        if item and item not in _NOT_MEDICINES and len(item.split()) <= 4 and item not in found:
            found.append(item)


def known_conditions(text: str, expecting: bool = False) -> tuple[list[str], bool]:
    """``(long-standing conditions named, said to have none)``.

    ``expecting`` when the question asked was about long-standing illnesses: a bare "blood
    pressure" or "sugar" then names the illness, and "nothing else" says there is none.
    """
    found = [name for name, pattern in _CONDITION_PATTERNS.items() if pattern.search(text)]
    bare = _BARE_ASKED if expecting else _BARE_HAD
    found += [name for name, pattern in bare.items()
              if name not in found and pattern.search(text)]
    if found:
        return found, False
    return [], bool(_NO_CONDITIONS.search(text) or (
        expecting and _NO_CONDITIONS_IF_ASKED.search(text)))
