"""A seeded synthetic corpus of Indian consultation text with gold PHI annotations.

Values are generated, never hard-coded: Aadhaar numbers carry a valid Verhoeff check digit,
mobiles pass ``phonenumbers`` as Indian mobiles, PANs follow the holder-type rule. Each value is
rendered in several formats (grouped, plain, dashed, ``+91``/``0`` prefixes, spoken digit words,
``double five``, ``at the rate``), and names are drawn partly from names the detector's lexicon
does not contain, so the corpus does not simply mirror the detector's patterns.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field

import phonenumbers
from stdnum import verhoeff

GIVEN = (
    "rajesh sunita amit priya arjun kavya vikram neha suresh lakshmi anil deepa rahul meena "
    "sanjay pooja karthik divya manoj anjali farhan ayesha harpreet gurpreet joseph mary "
    "senthil selvi venkatesh padma imran fatima rohit shreya naveen swati"
).split()
GIVEN_UNSEEN = (  # not in the detector's lexicon
    "tanvir oviya gurnoor thejas keerthana mrinal hamsa bhupinder yashodhara ishwar nandana "
    "jothika aniruddha ragini tenzin"
).split()
SURNAMES = (
    "sharma kumar patel reddy iyer nair singh gupta das mukherjee khan shaikh pillai rao joshi "
    "kulkarni menon chatterjee verma yadav bhat fernandes gill agarwal naidu"
).split()
SURNAMES_UNSEEN = "kothandaraman hasan lalwani nambiar bhattathiri tyagi acharya dsilva".split()
BUILDINGS = (
    "Sai Krupa Apartments|Green Park Society|Shanti Niwas|Lake View Residency|Prestige Towers|"
    "Ganga Enclave|Sunrise Heights|Om Sadan"
).split("|")
STREETS = "MG Road|4th Cross|Station Road|Nehru Street|Gandhi Marg|Lane 5|2nd Main|Link Road".split(
    "|"
)
LOCALITIES = (
    "Indiranagar|Koramangala|Banjara Hills|Salt Lake|Anna Nagar|Kothrud|Gomti Nagar|"
    "Malviya Nagar|Vashi Sector 17|Jayanagar 4th Block|Aundh|Civil Lines"
).split("|")
CITIES = "Bangalore|Hyderabad|Kolkata|Chennai|Pune|Lucknow|Jaipur|Mumbai|Delhi|Kochi".split("|")
MONTHS = "january february march april may june july august september october november december"
DIGIT_WORDS = "zero one two three four five six seven eight nine".split()
ORDINALS = (
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth"
).split()

# Clinical fillers: (typed, transcript) forms. None of these may be redacted.
CLINICAL = [
    ("fever of 101 degrees", "fever of one hundred and one degrees"),
    ("paracetamol 650 mg", "paracetamol six fifty mg"),
    ("sugar 180", "sugar one eighty"),
    ("HbA1c 7.8", "hba1c 7.8"),
    ("BP 140/90", "bp 140 over 90"),
    ("pulse 72", "pulse seventy two"),
    ("SpO2 96%", "spo2 96 percent"),
    ("metformin 500 mg twice daily", "metformin 500 mg twice daily"),
    ("creatinine 1.2", "creatinine one point two"),
    ("platelets 150000", "platelets one lakh fifty thousand"),
    ("weight 72 kg", "weight 72 kg"),
    ("Hb 9.8", "hb nine point eight"),
    ("TSH 6.5", "tsh 6.5"),
    ("insulin 10 units at night", "insulin 10 units at night"),
    ("Dolo 650 1-0-1 for 5 days", "dolo 650 one zero one for five days"),
    ("amlodipine 5 mg", "amlodipine 5 mg"),
    ("azithromycin 500 for 3 days", "azithromycin 500 for three days"),
    ("temperature 102 F", "temperature 102"),
    ("cough for 2 weeks", "cough for two weeks"),
    ("loose motions since 3 days", "loose motions since 3 days"),
    ("LDL 160 and triglycerides 220", "ldl 160 and triglycerides 220"),
    ("fasting sugar 126, post meal 240", "fasting sugar 126 post meal 240"),
    ("readings 120 130 140 150 160", "readings 120 130 140 150 160"),
    ("kidney stone of 8 mm", "kidney stone of 8 mm"),
    ("heart block", "heart block"),
    ("2 tablets 3 times a day for 5 days", "two tablets three times a day for five days"),
    ("vitamin D 12 ng/ml", "vitamin d 12"),
    ("BP 150/95, pulse 88, SpO2 98", "bp 150 95 pulse 88 spo2 98"),
    ("glimepiride 2 mg before breakfast", "glimepiride 2 mg before breakfast"),
    ("ECG normal, echo EF 55%", "ecg normal echo ef 55 percent"),
]


@dataclass(frozen=True)
class Gold:
    type: str
    start: int
    end: int


@dataclass
class Sample:
    """One sentence with its gold PHI and the clinical spans that must stay."""

    text: str
    style: str
    entities: list[Gold] = field(default_factory=list)
    keep: list[tuple[int, int]] = field(default_factory=list)


class _Builder:
    def __init__(self, style: str) -> None:
        self.style = style
        self.parts: list[str] = []
        self.size = 0
        self.entities: list[Gold] = []
        self.keep: list[tuple[int, int]] = []

    def add(self, text: str) -> None:
        self.parts.append(text)
        self.size += len(text)

    def ent(self, kind: str, text: str) -> None:
        self.entities.append(Gold(kind, self.size, self.size + len(text)))
        self.add(text)

    def clin(self, text: str) -> None:
        self.keep.append((self.size, self.size + len(text)))
        self.add(text)

    def sample(self) -> Sample:
        return Sample("".join(self.parts), self.style, self.entities, self.keep)


# --- value generators -----------------------------------------------------------------------


def aadhaar(rng: random.Random) -> str:
    while True:
        body = str(rng.randint(2, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(10))
        number = body + verhoeff.calc_check_digit(body)
        if number != number[::-1]:
            return number


def mobile(rng: random.Random) -> str:
    while True:
        number = str(rng.choice("6789")) + "".join(str(rng.randint(0, 9)) for _ in range(9))
        parsed = phonenumbers.parse("+91" + number)
        if phonenumbers.number_type(parsed) == phonenumbers.PhoneNumberType.MOBILE:
            return number


def pan(rng: random.Random) -> str:
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    return (
        "".join(rng.choice(letters) for _ in range(3))
        + rng.choice("PPPPCHFAT")
        + rng.choice(letters)
        + "".join(str(rng.randint(0, 9)) for _ in range(4))
        + rng.choice(letters)
    )


def abha(rng: random.Random) -> str:
    return str(rng.randint(10, 99)) + "".join(str(rng.randint(0, 9)) for _ in range(12))


def pin(rng: random.Random) -> str:
    return str(rng.randint(1, 8)) + "".join(str(rng.randint(0, 9)) for _ in range(5))


def spoken_digits(rng: random.Random, digits: str) -> str:
    """Digits as a person says them: word by word, with 'double' for some repeats."""
    words, i = [], 0
    while i < len(digits):
        if i + 1 < len(digits) and digits[i] == digits[i + 1] and rng.random() < 0.6:
            words.append("double " + DIGIT_WORDS[int(digits[i])])
            i += 2
        else:
            words.append(DIGIT_WORDS[int(digits[i])])
            i += 1
    sep = rng.choice([" ", " ", ", "])
    return sep.join(words)


def name(rng: random.Random, unseen_share: float = 0.25) -> tuple[str, str]:
    given = rng.choice(GIVEN_UNSEEN if rng.random() < unseen_share else GIVEN)
    surname = rng.choice(SURNAMES_UNSEEN if rng.random() < unseen_share else SURNAMES)
    return given, surname


# --- renderers: typed and transcript forms --------------------------------------------------


def render(kind: str, rng: random.Random, style: str) -> str:
    typed = style == "typed"
    if kind == "AADHAAR":
        n = aadhaar(rng)
        if not typed and rng.random() < 0.5:
            return spoken_digits(rng, n)
        return rng.choice([f"{n[:4]} {n[4:8]} {n[8:]}", n, f"{n[:4]}-{n[4:8]}-{n[8:]}"])
    if kind == "PHONE":
        n = mobile(rng)
        if not typed and rng.random() < 0.5:
            return spoken_digits(rng, n)
        return rng.choice(
            [
                f"+91 {n[:5]} {n[5:]}",
                f"+91-{n}",
                f"0{n}",
                f"{n[:5]}-{n[5:]}",
                f"{n[:3]} {n[3:6]} {n[6:]}",
                n,
                f"{n[:5]} {n[5:]}",
                f"91 {n}",
            ]
        )
    if kind == "PAN":
        p = pan(rng)
        if typed:
            return p
        return rng.choice([p.lower(), " ".join(p.lower())])
    if kind == "ABHA_NUMBER":
        n = abha(rng)
        if not typed and rng.random() < 0.4:
            return spoken_digits(rng, n)
        return rng.choice(
            [f"{n[:2]}-{n[2:6]}-{n[6:10]}-{n[10:]}", n, f"{n[:2]} {n[2:6]} {n[6:10]} {n[10:]}"]
        )
    if kind == "ABHA_ADDRESS":
        g, s = name(rng)
        handle = rng.choice([f"{g}.{s}", f"{g}{rng.randint(1, 999)}", f"{g}_{s}"])
        domain = rng.choice(["abdm", "abdm", "sbx"])
        if typed:
            return f"{handle}@{domain}"
        spoken = handle.replace(".", " dot ").replace("_", " underscore ")
        return f"{spoken} {rng.choice(['at', 'at the rate'])} {domain}"
    if kind == "EMAIL":
        g, s = name(rng)
        local = rng.choice(
            [f"{g}.{s}", f"{g}{rng.randint(1, 99)}", f"{g}_{s}{rng.randint(70, 99)}"]
        )
        domain = rng.choice(
            ["gmail.com", "yahoo.co.in", "rediffmail.com", "outlook.com", "hospital.org"]
        )
        if typed:
            return f"{local}@{domain}"
        spoken_local = local.replace(".", " dot ").replace("_", " underscore ")
        return f"{spoken_local} {rng.choice(['at', 'at the rate'])} {domain.replace('.', ' dot ')}"
    if kind == "DATE_OF_BIRTH":
        d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1940, 2015)
        month = MONTHS.split()[m - 1]
        if typed:
            return rng.choice(
                [
                    f"{d:02d}/{m:02d}/{y}",
                    f"{d} {month.title()} {y}",
                    f"{d}-{m}-{y}",
                    f"{month.title()} {d}, {y}",
                ]
            )
        return rng.choice(
            [
                f"{ORDINALS[d - 1] if d <= 20 else d} {month} {y}",
                f"{d} {month} {y}",
                f"{ORDINALS[min(d, 20) - 1]} of {month} {y}",
            ]
        )
    if kind == "PIN_CODE":
        p = pin(rng)
        if not typed and rng.random() < 0.5:
            return spoken_digits(rng, p)
        return rng.choice([p, f"{p[:3]} {p[3:]}"])
    raise ValueError(kind)


def address(rng: random.Random, style: str) -> str:
    house = rng.choice(
        [
            f"Flat {rng.randint(101, 905)}",
            f"H.No. {rng.randint(1, 40)}-{rng.randint(1, 9)}",
            f"#{rng.randint(1, 300)}",
            f"No. {rng.randint(1, 99)}",
            f"Plot {rng.randint(1, 80)}",
            f"Door no {rng.randint(1, 40)}/{rng.randint(1, 9)}",
        ]
    )
    parts = [house]
    if rng.random() < 0.6:
        parts.append(rng.choice(BUILDINGS))
    parts.append(rng.choice(STREETS))
    parts.append(rng.choice(LOCALITIES))
    city = rng.choice(CITIES)
    parts.append(f"{city} {pin(rng)}" if rng.random() < 0.7 else city)
    if style == "typed":
        return ", ".join(parts)
    text = " ".join(parts).lower()
    return re.sub(r"[.,#]", "", text).replace("  ", " ")


def person(rng: random.Random, style: str, full: bool = True) -> str:
    g, s = name(rng)
    value = f"{g} {s}" if full else g
    return value.title() if style == "typed" else value


# --- templates ------------------------------------------------------------------------------

# {KIND} is an entity slot, {CLIN} a clinical filler, {NAME}/{GIVEN} a person.
TYPED = [
    "Hello doctor, my name is {NAME} and I have had {CLIN} for a while.",
    "This is {NAME} calling, my mobile number is {PHONE}.",
    "Please send the prescription to {EMAIL}, my phone is {PHONE}.",
    "My Aadhaar number is {AADHAAR} and PAN is {PAN}.",
    "ABHA number {ABHA_NUMBER}, ABHA address {ABHA_ADDRESS}. {CLIN}.",
    "I live at {ADDRESS}. My date of birth is {DATE_OF_BIRTH}.",
    "{NAME} has {CLIN} and is taking {CLIN}.",
    "My son {GIVEN} has {CLIN}; {CLIN}.",
    "Mr. {NAME} was born on {DATE_OF_BIRTH} and lives at {ADDRESS}.",
    "Contact {PHONE} or email {EMAIL}. PIN code {PIN_CODE}.",
    "Patient name: {NAME}, DOB {DATE_OF_BIRTH}, mobile {PHONE}, Aadhaar {AADHAAR}.",
    "You can reach me at {PHONE}; I am {NAME}. {CLIN}.",
    "Dr. {NAME} advised {CLIN}.",
    "My PAN card: {PAN}. ABHA: {ABHA_NUMBER}.",
    "Here is my Aadhaar {AADHAAR}, and my wife {GIVEN} will come with me.",
    "Booked by {NAME} for a follow-up: {CLIN}.",
    "Name - {NAME}; Mob - {PHONE}; Email - {EMAIL}",
    "{GIVEN} here. {CLIN}, {CLIN}.",
    "Thanks, doctor. Regards, {NAME}",
    "Aadhaar no. {AADHAAR}, DOB: {DATE_OF_BIRTH}",
    "Call me at {PHONE} (evening), {CLIN}.",
    "Bought Dolo 650 from Apollo Pharmacy; {CLIN}.",
]
TRANSCRIPT = [
    "hello doctor this is {NAME} calling i have {CLIN}",
    "my name is {NAME} my number is {PHONE}",
    "myself {NAME} i have {CLIN} and {CLIN}",
    "my aadhaar number is {AADHAAR}",
    "pan card number {PAN} {CLIN}",
    "my abha number is {ABHA_NUMBER} and abha address is {ABHA_ADDRESS}",
    "my email is {EMAIL} please send the report",
    "i stay at {ADDRESS} {CLIN}",
    "my date of birth is {DATE_OF_BIRTH} and {CLIN}",
    "i am {NAME} and i am having {CLIN}",
    "doctor my wife {GIVEN} has {CLIN} {CLIN}",
    "you can call me on {PHONE} {CLIN}",
    "{NAME} speaking {CLIN}",
    "my daughter {GIVEN} has {CLIN} since yesterday",
    "address is {ADDRESS} pin code {PIN_CODE}",
    "phone number {PHONE} aadhaar {AADHAAR}",
    "i came with my husband {NAME} he has {CLIN}",
    "name {NAME} age 45 {CLIN}",
    "hello this side {NAME} {CLIN}",
    "{GIVEN} ji has {CLIN} since morning",
    "number is {PHONE} whatsapp also same",
    "my mother {NAME} is 70 years she has {CLIN}",
]


# Phrasings written after the detector was tuned and never tuned against: reported apart
# ("held-out") as an honest estimate of how the detector does on wording it has not seen.
HELD_OUT_TYPED = [
    "Hi, {NAME} here from {ADDRESS}; my sugar has been high, {CLIN}.",
    "For OTP please use {PHONE} — it's my son's number, he is {NAME}.",
    "Kindly update records: UID {AADHAAR}, PAN {PAN}, health ID {ABHA_NUMBER}.",
    "I'm writing on behalf of my father {NAME} (DOB {DATE_OF_BIRTH}), {CLIN}.",
    "{NAME}, {CLIN}, contact: {EMAIL} / {PHONE}",
    "Sir, send it on WhatsApp {PHONE} please. {CLIN}.",
    "Reg. patient {NAME}: ABHA {ABHA_ADDRESS}, {CLIN}.",
    "We shifted to {ADDRESS} last month.",
]
HELD_OUT_TRANSCRIPT = [
    "good morning doctor {NAME} this side my sugar is {CLIN}",
    "uh my phone is {PHONE} and my wife's number is {PHONE}",
    "aadhaar card number is {AADHAAR} doctor",
    "i'm calling for my grandmother {NAME} she is having {CLIN}",
    "yes my mail id is {EMAIL}",
    "we live in {ADDRESS}",
    "she was born on {DATE_OF_BIRTH} doctor and {CLIN}",
    "okay so my abha id is {ABHA_NUMBER}",
    "hello am i speaking to the doctor i am {NAME} {CLIN}",
    "pan number {PAN} for the bill",
]


def build_held_out(n: int = 30, seed: int = 99) -> list[Sample]:
    """``n`` samples of each style from the held-out phrasings."""
    rng = random.Random(seed)
    samples = [_fill(rng, rng.choice(HELD_OUT_TYPED), "typed") for _ in range(n)]
    samples += [_fill(rng, rng.choice(HELD_OUT_TRANSCRIPT), "transcript") for _ in range(n)]
    return samples


def _fill(rng: random.Random, template: str, style: str) -> Sample:
    b = _Builder(style)
    for piece in re.split(r"(\{\w+\})", template):
        if not piece.startswith("{"):
            b.add(piece)
            continue
        slot = piece[1:-1]
        if slot == "CLIN":
            b.clin(rng.choice(CLINICAL)[0 if style == "typed" else 1])
        elif slot in ("NAME", "GIVEN"):
            b.ent("PERSON", person(rng, style, full=slot == "NAME"))
        elif slot == "ADDRESS":
            b.ent("ADDRESS", address(rng, style))
        else:
            b.ent(slot, render(slot, rng, style))
    sample = b.sample()
    if style == "transcript":
        assert sample.text == sample.text.lower(), sample.text
    return sample


def negative(rng: random.Random, style: str) -> Sample:
    """A sentence of clinical facts only."""
    b = _Builder(style)
    lead = rng.choice(["I have ", "Doctor, ", "Reports: ", "Since last week ", ""])
    b.add(lead if style == "typed" else lead.lower().replace(",", "").replace(":", ""))
    for i in range(rng.randint(3, 5)):
        if i:
            b.add(
                rng.choice([", ", " and ", "; "])
                if style == "typed"
                else rng.choice([" ", " and "])
            )
        b.clin(rng.choice(CLINICAL)[0 if style == "typed" else 1])
    return b.sample()


# Everyday patient talk with no PHI: any detection here is a false positive.
PLAIN_TALK = [
    "hello doctor sahab",
    "thank you doctor",
    "doctor madam i have fever",
    "doctor ji my stomach is paining",
    "this is urgent please help",
    "i am feeling very weak since morning",
    "my son is not eating properly",
    "my wife has thyroid problem",
    "i am a teacher and i get headaches",
    "this is the third time this month",
    "i am from the village near the river",
    "my mother is diabetic since ten years",
    "i am pregnant seven months",
    "can i take crocin with coffee",
    "i took two dolo yesterday night",
    "my child has rashes all over the body",
    "sir the medicine is not working",
    "i live alone and i am seventy two",
    "my father had a heart attack last year",
    "i have an appointment on monday",
    "the report says hemoglobin eleven point five",
    "madam i have burning sensation while passing urine",
    "my bp was 150 by 100 in the morning",
    "i am allergic to penicillin",
    "my daughter is three years old and has cold",
    "I have had a sore throat since Tuesday.",
    "My mother, who is 65, has had chest pain.",
    "Can I take Pan 40 with Dolo 650?",
    "Yesterday I went to Apollo Hospital for an ECG.",
    "Started Telma 40 last week, BP still 150/90.",
    "Took Augmentin 625 twice a day.",
    "The doctor at the PHC gave me ORS.",
    "I am Hindu and fasting on Mondays.",
    "i am worried about my sugar levels",
    "my husband drinks alcohol every day",
]


def build_corpus(n: int = 60, seed: int = 7) -> list[Sample]:
    """``n`` samples per template family (typed, transcript, negatives of each style)."""
    rng = random.Random(seed)
    samples = [_fill(rng, rng.choice(TYPED), "typed") for _ in range(n * 2)]
    samples += [_fill(rng, rng.choice(TRANSCRIPT), "transcript") for _ in range(n * 2)]
    samples += [negative(rng, style) for style in ("typed", "transcript") for _ in range(n)]
    samples += [Sample(t, "typed" if t[0].isupper() else "transcript") for t in PLAIN_TALK]
    # Every template at least once, whatever n.
    samples += [_fill(rng, t, "typed") for t in TYPED]
    samples += [_fill(rng, t, "transcript") for t in TRANSCRIPT]
    return samples


def latency_utterances(rng: random.Random, style: str, count: int) -> list[str]:
    """~30-word utterances mixing PHI and clinical detail, for timing."""
    out = []
    templates = TYPED if style == "typed" else TRANSCRIPT
    while len(out) < count:
        text = ""
        while len(text.split()) < 26:
            text += " " + _fill(rng, rng.choice(templates), style).text
            if len(text.split()) < 26:
                text += " " + negative(rng, style).text
        out.append(" ".join(text.split()[:32]))
    return out
