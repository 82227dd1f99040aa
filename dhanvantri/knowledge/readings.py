"""Weight and the vitals a patient reports, from (PHI-redacted, normalised) patient text.

Each function returns what the words say, in one unit (kg, °F, mmHg, bpm, %, mg/dL), or None.
"""

from __future__ import annotations

import re

# --- weight and the vitals a patient reports ---------------------------------------------------
# Readings are taken only next to a word that says what they measure ("temperature was 101",
# "pulse 110") or with a unit that does ("110 bpm", "93 percent oxygen"), and only in a
# plausible range: a bare number in patient talk is far more often an age, a count or a day.
# Up to 3 digits (a phone or an id has more), not part of a date, a fraction or a clock time.
_NUM = r"(?<![\d./])(\d{1,3}(?:\.\d{1,2})?)(?![\d/:]|\.\d)"
_FILLERS = ("is", "was", "of", "at", "around", "about", "reached", "went", "goes", "up", "to",
            "upto", "till", "showed", "shows", "showing", "came", "comes", "reading", "measured",
            "checked", "nearly", "almost", "approximately", "approx", "roughly", "like", "been",
            "has", "had", "hai", "tha", "touched", "touching", "as", "high", "over", "above",
            "even", "rose", "still", "now", "today", "currently", "level", "just", "only", "it",
            "the", "my", "me")
# "i am" is left out on purpose: "fever, i am 38" gives an age, not a temperature.
_GAP = rf"(?:\s*[:=,-]?\s*(?:\b(?:{'|'.join(_FILLERS)})\b\s*)*)"
_NOT_A_READING = (r"(?!\s*(?:-\s*)?(?:days?|weeks?|months?|years?|yrs?|hours?|hrs?|minutes?|"
                  r"mins?|times?|din|dino|saal|sal|mahine|hafte|ghante|am|pm|o'clock|rupees?|"
                  r"rs|floors?|steps?|km|metres?|meters?)\b)")


def _reading(anchor: str, unit: str = r"(?!)") -> re.Pattern[str]:
    """``anchor`` then a number (filler words allowed between), with an optional unit."""
    return re.compile(rf"\b(?:{anchor})\b{_GAP}{_NUM}\s*(?P<unit>{unit})?(?!\w){_NOT_A_READING}")


def _unit_first(unit: str, after: str = "") -> re.Pattern[str]:
    """A number whose unit says what it measures: "110 bpm", "93 percent oxygen"."""
    return re.compile(rf"{_NUM}\s*(?P<unit>{unit}){after}(?![\w/])")


_WEIGHT_UNIT = r"kgs?|kilos?|kilograms?|kilo grams?|lbs?|pounds?"
_WEIGHT = (
    _reading(r"weigh|weighs|weighed|weighing|weight|wajan|vajan|wazan|wt", _WEIGHT_UNIT),
    re.compile(rf"\b(?:i am|i'm|im|he is|she is|he's|she's)\s+{_NUM}\s*(?P<unit>{_WEIGHT_UNIT})\b"),
    re.compile(rf"{_NUM}\s*(?P<unit>{_WEIGHT_UNIT})\s+(?:weight|wajan|vajan|wazan)\b"),
)
_WEIGHT_ANSWER = _unit_first(_WEIGHT_UNIT)
_BARE_WEIGHT = re.compile(rf"^\D*?{_NUM}{_NOT_A_READING}\D*$")
# "lost 5 kg", "weight 5 kg kam": a change of weight, not the weight.
_WEIGHT_CHANGE_BEFORE = re.compile(r"\b(lost|lose|losing|gained|gain|gaining|reduced|dropped|"
                                   r"down|put on|increased|decreased|by)\b(\W+\w+){0,2}\W*$")
_WEIGHT_CHANGE_AFTER = re.compile(r"^\s*(weight\s+)?(loss|lost|less|kam|gain|gained|down|"
                                  r"reduced|increase|decrease)\b")
_KG_PER_LB = 0.4536

_TEMPERATURE = (
    _reading(r"temperature|temp|fever|bukhar|bukhaar|thermometer",
             r"degrees?|deg|°\s*[fc]?|f|c|fahrenheit|celsius|centigrade"),
    _unit_first(r"degrees?\s*(?:f|c|fahrenheit|celsius|centigrade)?|°\s*[fc]?|deg|"
                r"fahrenheit|celsius|centigrade|f\b|c\b"),
    re.compile(rf"{_NUM}\s*(?P<unit>)(?:fever|bukhar|temperature)\b"),  # "i had 101 fever"
)
# "it was 42 degrees outside" is the weather, which a patient out in the heat may well mention.
_WEATHER = re.compile(r"\b(outside|outdoors?|sun|weather|heat|hot day|room|city|garmi|mausam)\b")
_BP = (
    re.compile(r"(?<![\d./])(\d{2,3})\s*(?:/|by|over|upon|bata)\s*(\d{2,3})(?![\d/:]|\.\d)"),
    re.compile(r"\b(?:upper|systolic)\b\D{0,15}?(\d{2,3})\b.{0,20}?\b(?:lower|diastolic)\b"
               r"\D{0,15}?(\d{2,3})\b"),
)
# key -> (patterns, plausible range, factor by unit word): table-driven so a new vital is a row.
_VITALS: dict[str, tuple[tuple[re.Pattern[str], ...], tuple[float, float], dict[str, float]]] = {
    "pulse_bpm": ((_reading(r"pulse(?: rate)?|heart ?rate|heart ?beat|dhadkan", r"bpm|beats?"),
                   _unit_first(r"bpm|beats? (?:per|a|/) ?min(?:ute)?|beats?")),
                  (30, 220), {}),
    "spo2_pct": ((_reading(r"sp ?[o0] ?2|s p o 2|o2|oxygen(?: level| saturation)?|"
                           r"saturation|sats?|oximeter", r"%|percent|per cent"),
                  _unit_first(r"%|percent|per cent", r"\s*(?:oxygen|saturation|spo2|sp02|o2)")),
                 (50, 100), {}),
    "sugar_mg_dl": ((_reading(r"(?:blood |fasting |random |post ?meal |pp )?(?:sugar|glucose)"
                              r"(?: level| reading)?|rbs|fbs|ppbs|grbs|glucometer",
                              r"mg(?:/| per | )?dl|mg|mmol(?:/l| per l(?:itre|iter)?)?"),
                     _unit_first(r"mg(?:/| per | )dl")),
                    (20, 800), {"mmol": 18.0}),
}


def weight(text: str, expecting: bool = False) -> float | None:
    """Body weight in kg (pounds converted); a bare number counts only when weight was asked."""
    patterns = (*_WEIGHT, _WEIGHT_ANSWER) if expecting else _WEIGHT
    for pattern in patterns:
        for match in pattern.finditer(text):
            if (_WEIGHT_CHANGE_BEFORE.search(text[:match.start(1)])
                    or _WEIGHT_CHANGE_AFTER.match(text[match.end():])):
                continue
            if (kg := _kg(float(match.group(1)), match.group("unit") or "")) is not None:
                return kg
    if expecting and (bare := _BARE_WEIGHT.match(text)):
        return _kg(float(bare.group(1)), "")
    return None


def _kg(value: float, unit: str) -> float | None:
    # A number without a unit is taken as kilograms, as patients in India weigh themselves.
    kg = value * _KG_PER_LB if unit.startswith(("lb", "pound")) else value
    return round(kg, 1) if 2 <= kg <= 250 else None


def vitals(text: str) -> dict[str, float]:
    """The readings the patient reports, only the keys found among ``temperature_f``,
    ``bp_systolic``, ``bp_diastolic``, ``pulse_bpm``, ``spo2_pct`` and ``sugar_mg_dl``."""
    found: dict[str, float] = {}
    if (temp := temperature_f(text)) is not None:
        found["temperature_f"] = temp
    if (bp := _blood_pressure(text)) is not None:
        found["bp_systolic"], found["bp_diastolic"] = bp
    for key, (patterns, (low, high), factors) in _VITALS.items():
        value = _first_in_range(text, patterns, low, high, factors)
        if value is not None:
            found[key] = value
    return found


def temperature_f(text: str) -> float | None:
    """Body temperature in °F, 1 decimal. A reading with no unit is °F when 90 or more
    (thermometers in India read °F) and °C when 34-43."""
    for pattern in _TEMPERATURE:
        for match in pattern.finditer(text):
            if pattern is _TEMPERATURE[1] and _WEATHER.search(_clause(text, match)):
                continue
            value, unit = float(match.group(1)), match.group("unit") or ""
            scale = "c" if "c" in unit else "f" if "f" in unit else "f" if value >= 90 else "c"
            if scale == "c" and 34 <= value <= 43:
                return round(value * 9 / 5 + 32, 1)
            if scale == "f" and 93 <= value <= 110:
                return round(value, 1)
    return None


def _blood_pressure(text: str) -> tuple[float, float] | None:
    for pattern in _BP:
        for match in pattern.finditer(text):
            systolic, diastolic = float(match.group(1)), float(match.group(2))
            # "150/95" or "150 by 95" reads as a pressure only in this range: dates, scores
            # ("8/10") and "24/7" fall outside it.
            if 70 <= systolic <= 260 and 40 <= diastolic <= 160 and systolic > diastolic + 10:
                return systolic, diastolic
    return None


def _first_in_range(text: str, patterns: tuple[re.Pattern[str], ...], low: float, high: float,
                    factors: dict[str, float]) -> float | None:
    for pattern in patterns:
        for match in pattern.finditer(text):
            unit = match.group("unit") or ""
            factor = next((f for word, f in factors.items() if unit.startswith(word)), 1.0)
            value = round(float(match.group(1)) * factor, 1)
            if low <= value <= high:
                return value
    return None


def _clause(text: str, match: re.Match[str]) -> str:
    left = max(text.rfind(c, 0, match.start()) for c in ".;,!?")
    rights = [i for c in ".;,!?" if (i := text.find(c, match.end())) >= 0]
    return text[left + 1:min(rights, default=len(text))]
