"""Red flags: which combinations of lexicon concepts make an emergency, with first aid.

A flag fires when every concept of one of its rules is present and not negated (see
:mod:`dhanvantri.knowledge.triage`); the concepts live in
:mod:`dhanvantri.knowledge.red_flag_lexicon`.
"""

from __future__ import annotations

from dataclasses import dataclass

from dhanvantri.knowledge.red_flag_lexicon import CONCEPTS

__all__ = ["CONCEPTS", "RED_FLAGS", "RedFlag"]


@dataclass(frozen=True, slots=True)
class RedFlag:
    """A red flag: fires when all concepts of any one rule are present and not negated."""

    id: str
    label: str
    rules: tuple[tuple[str, ...], ...]
    first_aid: str


RED_FLAGS: tuple[RedFlag, ...] = (
    RedFlag("chest_pain", "chest pain with features of a heart attack",
            (("chest_pain", "radiation"), ("chest_pain", "sweating"), ("chest_pain", "breathless"),
             ("chest_pain_severe",), ("heart_attack",)),
            "Sit down and rest; do not drive yourself."),
    RedFlag("stroke", "signs of a stroke",
            (("face_droop",), ("slurred_speech",), ("one_sided_weakness",), ("stroke",)),
            "Note the time the symptoms started and give nothing to eat or drink."),
    RedFlag("breathing", "severe breathing difficulty",
            (("cant_breathe",), ("cyanosis",), ("breathless", "cant_talk"),
             ("wheeze", "cant_talk")),
            "Sit upright and use a reliever inhaler if you have one."),
    RedFlag("suicidal", "thoughts of suicide or self-harm", (("suicidal",),),
            "If you can, stay with someone you trust and keep medicines and sharp objects away."),
    RedFlag("seizure", "a seizure (fit)", (("seizure",),),
            "Lay the person on their side, move hard objects away and put nothing in the mouth."),
    RedFlag("unconscious", "unconsciousness or fainting", (("unconscious",),),
            "Lay the person on their side and check that they are breathing."),
    RedFlag("heavy_bleeding", "heavy bleeding", (("heavy_bleeding",),),
            "Press firmly on the bleeding point with a clean cloth and keep pressing."),
    RedFlag("gi_bleeding", "vomiting blood or black stools", (("gi_bleeding",),),
            "Lie down and take nothing by mouth."),
    RedFlag("pregnancy_emergency", "a danger sign in pregnancy",
            (("pregnant", "pregnancy_bleeding"), ("pregnant", "severe_abdominal_pain"),
             ("pregnant", "pregnancy_danger_sign"), ("pregnant", "seizure")),
            "Go to the nearest hospital with a labour room; lie on your left side on the way."),
    RedFlag("thunderclap_headache", "a sudden, worst-ever headache", (("thunderclap",),),
            "Do not wait for painkillers to work; this needs a scan today."),
    RedFlag("anaphylaxis", "a severe allergic reaction",
            (("throat_swelling",), ("face_swelling", "breathless"), ("face_swelling", "wheeze"),
             ("face_swelling", "cant_breathe"), ("face_swelling", "chest_tight")),
            "Use an adrenaline auto-injector if you have one; lie down with legs raised, or sit "
            "up if breathing is hard."),
    RedFlag("meningitis", "fever with a stiff neck, confusion or a purple rash",
            (("fever", "stiff_neck"), ("fever", "confusion"), ("non_blanching_rash",)),
            "This needs urgent antibiotics in hospital."),
    RedFlag("child_dehydration", "severe dehydration",
            (("child", "dehydration_sign"), ("severe_dehydration",)),
            "Keep giving ORS in small sips on the way."),
    RedFlag("poisoning", "poisoning or overdose", (("poisoning",),),
            "Do not make them vomit; take the bottle, strip or container with you."),
    RedFlag("envenomation", "a snake bite or scorpion sting",
            (("envenomation",), ("bitten", "snake")),
            "Keep still and keep the bitten limb still and low; do not cut, suck or tie the "
            "wound."),
    RedFlag("head_injury", "a head injury with warning signs",
            (("head_injury", "head_injury_sign"),),
            "Keep the person still and give nothing to eat or drink."),
    RedFlag("severe_burn", "a serious burn", (("severe_burn",),),
            "Cool the burn under clean running water for 20 minutes; no ice, oil or toothpaste."),
)
