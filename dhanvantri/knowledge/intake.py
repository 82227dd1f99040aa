"""Clinical intake: what is known about the patient so far, and which question comes next.

The state is filled by deterministic extraction from (PHI-redacted) patient text and the next
question is chosen from the knowledge base: first the history every consultation needs, then
the key questions of the most likely conditions, then allergies, a child's weight, medicines
and conditions, then a summary for the patient to confirm. The language model only rephrases
``NextStep.question``; no question ever names a diagnosis, a medicine or a dose.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, Any, Literal

from dhanvantri.knowledge import extract, intake_record, readings
from dhanvantri.knowledge.character import character as character_of
from dhanvantri.knowledge.character import onset as onset_of
from dhanvantri.knowledge.lexicon import answer_polarity, find_symptoms, normalise, symptom

if TYPE_CHECKING:
    from dhanvantri.knowledge.conditions import Condition, KeyQuestion
    from dhanvantri.knowledge.retrieval import KnowledgeBase

QUESTIONS = {
    "complaint": "What is troubling you today?",
    "duration": "Since when have you had this? For example, how many days?",
    "severity": "How bad is it: mild, moderate or severe? Or give it a number out of 10.",
    "associated": "Do you have any other symptoms along with this?",
    "associated_which": "Which other symptoms do you have?",
    "age": "May I know your age?",
    "sex": "May I know if you are male or female?",
    "pregnancy": "Are you pregnant, or is there any chance you could be?",
    "weight": "May I know the weight, in kilograms?",
    "allergies": "Are you allergic to any medicine or food?",
    "medications": "Are you taking any medicines at the moment, including home remedies?",
    "conditions": "Do you have any long-standing illness, like diabetes, blood pressure, "
                  "asthma, or heart, kidney or liver disease?",
    "correction": "Sorry, what should I correct?",
}
MAX_PROBES = 4  # condition-specific questions per consultation
MAX_ATTEMPTS = 2  # a question unanswered twice is left for the physician
# Long-standing conditions named while answering history questions are not new symptoms.
_HISTORY_SYMPTOMS = {"high_bp", "high_sugar", "thyroid", "wheeze_history"}
_HISTORY_TOPICS = {"allergies", "medications", "conditions"}
_GREETING = re.compile(r"\b(hello|hi|hey|good (morning|afternoon|evening)|namaste|namaskar|doctor|"
                       r"doc|sir|madam|ji|this is|my name is|i am calling|calling)\b")


@dataclass(frozen=True, slots=True)
class NextStep:
    """What the assistant should do next.

    ``kind`` is ``"ask"`` (ask ``question`` about ``topic``), ``"summarise"`` (read the summary
    in ``question`` back to the patient and ask them to confirm) or ``"done"``.
    """

    kind: Literal["ask", "summarise", "done"]
    topic: str
    question: str


def confirm_question(terms: Sequence[str]) -> str:
    """"Penicillin — did I get that right?" for the terms read back to the patient."""
    said = list(terms)
    listed = said[0] if len(said) == 1 else f"{', '.join(said[:-1])} and {said[-1]}"
    return f"{listed[:1].upper()}{listed[1:]} — did I get that right?"


@dataclass
class IntakeState:
    """Everything learned in the consultation so far. Update with :meth:`update`."""

    complaint: str | None = None
    duration_days: float | None = None
    duration_text: str | None = None
    severity: str | None = None
    severity_score: int | None = None
    symptoms: dict[str, bool] = field(default_factory=dict)
    character: dict[str, str] = field(default_factory=dict)  # symptom key -> "dry", "throbbing"
    onset: str | None = None  # of the complaint: "sudden" or "gradual"
    age_years: float | None = None
    sex: str | None = None
    pregnant: bool | None = None
    weight_kg: float | None = None
    vitals: dict[str, float] = field(default_factory=dict)  # see readings.vitals; latest wins
    allergies: list[str] = field(default_factory=list)
    no_allergies: bool = False
    medications: list[str] = field(default_factory=list)
    no_medications: bool = False
    conditions: list[str] = field(default_factory=list)
    no_conditions: bool = False
    associated_asked: bool = False
    summary_confirmed: bool = False
    pending: str | None = None
    attempts: dict[str, int] = field(default_factory=dict)
    probes: list[str] = field(default_factory=list)
    turns: int = 0
    # Clinical terms speech-to-text corrected or was unsure of, read back for the patient to
    # confirm; the state from before that turn comes back if the patient says it was misheard.
    confirming: tuple[str, ...] = ()
    confirmed: set[str] = field(default_factory=set)
    misheard: bool = False
    _before: IntakeState | None = field(default=None, repr=False, compare=False)

    # --- reading patient text -------------------------------------------------------------

    def update(self, patient_text: str, unsure: Sequence[str] = ()) -> None:
        """Take in one patient utterance (already PHI-redacted); ``unsure`` names the clinical
        terms in it that speech-to-text corrected or was not confident of."""
        text = normalise(patient_text)
        if self.pending == "confirm" and self._settle_confirmation(text):
            return
        to_confirm = tuple(t for t in unsure if t.lower() not in self.confirmed)
        before = copy.deepcopy(self) if to_confirm and text else None
        self.turns += 1
        if not text:
            return
        pending, self.pending = self.pending, None
        self._read(text, pending)
        if before is not None:
            self._before, self.confirming, self.pending = before, to_confirm, "confirm"

    def _settle_confirmation(self, text: str) -> bool:
        """Take the answer to "did I get that right?"; True when nothing more is to be read.

        Yes keeps what was heard (and reads anything else said). No restores the state from
        before the misheard turn, so its question is asked again. Anything else is taken as a
        fresh answer to that question.
        """
        polarity = answer_polarity(text)
        before, terms = self._before, self.confirming
        self._before, self.confirming, self.pending = None, (), None
        if polarity is True or before is None:
            self.confirmed.update(t.lower() for t in terms)
            return False
        turns = self.turns
        for f in fields(self):
            setattr(self, f.name, getattr(before, f.name))
        self.turns = turns
        if polarity is False:
            self.turns += 1
            self.misheard = True
            return True
        return False

    def _read(self, text: str, pending: str | None) -> None:
        polarity = answer_polarity(text)
        self._read_symptoms(text, pending)
        self._read_facts(text, pending, polarity)
        if pending and pending.startswith("probe:"):
            sid = pending.split(":", 2)[2]
            if polarity is not None and sid not in {f.symptom for f in find_symptoms(text)}:
                self.symptoms[sid] = polarity
        elif pending == "associated":
            # "yes" alone names nothing: ask once more which symptoms.
            named = any(f.present for f in find_symptoms(text))
            self.associated_asked = polarity is not True or named
        elif pending == "summary":
            self.summary_confirmed = polarity is True
            if polarity is False:
                self.pending = "correction"

    def _read_symptoms(self, text: str, pending: str | None) -> None:
        findings = find_symptoms(text)
        for finding in findings:
            if pending in _HISTORY_TOPICS and finding.symptom in _HISTORY_SYMPTOMS:
                continue
            # An explicit yes stays yes: a later "no" in the same breath is about something else.
            if finding.present or finding.symptom not in self.symptoms:
                self.symptoms[finding.symptom] = finding.present
        self._read_character(text, {f.symptom for f in findings if f.present})
        if self.complaint is None and any(f.present for f in findings):
            self.complaint = text[:300]
        elif (self.complaint is None and pending in (None, "complaint")
              and len(_GREETING.sub("", text).split()) >= 3):
            self.complaint = text[:300]  # words the lexicon does not know still say something

    def _read_character(self, text: str, named: set[str]) -> None:
        referred = {}
        for key in (k for k, yes in self.symptoms.items() if yes):
            if said := character_of(text, key, stand_in=False):
                self.character[key] = said
            elif found := character_of(text, key):
                referred[key] = found
        # "It is sharp" or "the pain is sharp" is about the one symptom it fits: one named in
        # the same breath if any, else one known from before. Two that fit: neither is sure.
        fits = {k: v for k, v in referred.items() if k in named} or referred
        if len(fits) == 1:
            self.character.update(fits)

    def _read_facts(self, text: str, pending: str | None, polarity: bool | None) -> None:
        if self.duration_days is None and (found := extract.duration(text)):
            self.duration_days, self.duration_text = found
        if self.severity is None and (graded := extract.severity(text)):
            self.severity, self.severity_score = graded
        if (years := extract.age(text, expecting=pending == "age")) is not None:
            self.age_years = years
        if (kg := readings.weight(text, expecting=pending == "weight")) is not None:
            self.weight_kg = kg
        self.vitals.update(readings.vitals(text))
        self.onset = onset_of(text) or self.onset
        self.sex = extract.sex(text) or self.sex
        if (pregnant := extract.pregnancy(text)) is not None:
            self.pregnant = pregnant
        elif pending == "pregnancy" and polarity is not None:
            self.pregnant = polarity
        if self.pregnant:
            self.sex = "female"
        names, none = extract.allergies(text)
        self._merge(self.allergies, names)
        said_no = polarity is False
        self.no_allergies = (self.no_allergies or none or (pending == "allergies" and said_no)
                             ) and not self.allergies
        names, none = extract.medications(text, expecting=pending == "medications")
        self._merge(self.medications, names)
        self.no_medications = (self.no_medications or none or (
            pending == "medications" and polarity is False)) and not self.medications
        names, none = extract.known_conditions(text, expecting=pending == "conditions")
        self._merge(self.conditions, names)
        self.no_conditions = (self.no_conditions or none or (
            pending == "conditions" and polarity is False)) and not self.conditions

    @staticmethod
    def _merge(target: list[str], names: list[str]) -> None:
        target.extend(n for n in names if n not in target)

    # --- deciding what to ask -------------------------------------------------------------

    def known(self, topic: str) -> bool:
        """Whether the intake already has an answer for a core topic."""
        return {
            "complaint": self.complaint is not None,
            "duration": self.duration_days is not None,
            "severity": self.severity is not None,
            "associated": self.associated_asked,
            "age": self.age_years is not None,
            "sex": self.sex is not None,
            "pregnancy": self.pregnant is not None or not self.pregnancy_relevant(),
            "weight": self.weight_kg is not None or not self.is_child(),
            "allergies": bool(self.allergies) or self.no_allergies,
            "medications": bool(self.medications) or self.no_medications,
            "conditions": bool(self.conditions) or self.no_conditions,
        }[topic]

    def pregnancy_relevant(self) -> bool:
        """Pregnancy matters for a female patient (or sex unknown) aged 12 to 55."""
        if self.sex == "male":
            return False
        return self.age_years is None or 12 <= self.age_years <= 55

    def is_child(self) -> bool:
        """Under 18 (age known): doses then go by weight, so the weight is asked."""
        return self.age_years is not None and self.age_years < 18

    def next_step(self, kb: KnowledgeBase) -> NextStep:
        """The next question (or summary, or done), decided from what is known and the KB."""
        if self.pending == "confirm":
            return NextStep("ask", "confirm", confirm_question(self.confirming))
        step = self._next_step(kb)
        if self.misheard:
            self.misheard = False
            step = NextStep(step.kind, step.topic, f"Sorry, I misheard. {step.question}")
        return step

    def _next_step(self, kb: KnowledgeBase) -> NextStep:
        if self.pending == "correction":
            return self._ask("correction", QUESTIONS["correction"], count=False)
        for topic in ("complaint", "duration", "severity", "associated"):
            if not self.known(topic) and self._may_ask(topic):
                again = topic == "associated" and self.attempts.get(topic, 0) > 0
                return self._ask(topic, QUESTIONS["associated_which"] if again
                                 else QUESTIONS[topic])
        if self.complaint is not None and (probe := self._next_probe(kb)) is not None:
            return self._ask(f"probe:{probe.id}:{probe.symptom}", probe.text)
        for topic in ("age", "sex", "pregnancy", "allergies", "weight", "medications",
                      "conditions"):
            if topic == "sex" and not self.pregnancy_relevant():
                continue
            if not self.known(topic) and self._may_ask(topic):
                return self._ask(topic, QUESTIONS[topic])
        if not self.summary_confirmed and self._may_ask("summary"):
            self.attempts["summary"] = self.attempts.get("summary", 0) + 1
            self.pending = "summary"
            return NextStep("summarise", "summary", self.summary())
        return NextStep("done", "done", "Thank you. A doctor will now review your details.")

    def _may_ask(self, topic: str) -> bool:
        return self.attempts.get(topic, 0) < MAX_ATTEMPTS

    def _ask(self, topic: str, question: str, count: bool = True) -> NextStep:
        if count:
            self.attempts[topic] = self.attempts.get(topic, 0) + 1
        self.pending = topic
        return NextStep("ask", topic, question)

    def _next_probe(self, kb: KnowledgeBase) -> KeyQuestion | None:
        if len(self.probes) >= MAX_PROBES:
            return None
        candidates = self.candidate_conditions(kb)[:2]
        others = {sid for c, _ in candidates[1:] for sid in c.features}
        options: list[tuple[int, KeyQuestion]] = []
        for rank, (condition, _) in enumerate(candidates):
            for order, question in enumerate(condition.key_questions):
                if question.symptom in self.symptoms or question.id in self.probes:
                    continue
                # Prefer the leading condition, and within it a symptom the runner-up lacks.
                telling = 0 if rank == 0 and question.symptom not in others else 1
                options.append((rank * 100 + telling * 10 + order, question))
        if not options:
            return None
        question = min(options, key=lambda item: item[0])[1]
        self.probes.append(question.id)
        return question

    def candidate_conditions(self, kb: KnowledgeBase, k: int = 5) -> list[tuple[Condition, float]]:
        """The conditions that best fit what is known, best first, with a score in 0..1.

        The score blends the meaning of the patient's words (embedding similarity) with the
        explicit symptom match: how much of the condition's picture is present, how much of
        the patient's picture it explains, and symptoms the patient denied.
        """
        from dhanvantri.knowledge.scoring import rank_conditions

        return rank_conditions(kb, self.query_text(), self.symptoms)[:k]

    def query_text(self) -> str:
        """What to search the knowledge base with: the complaint and the symptoms found."""
        present = [symptom(s).label for s, yes in self.symptoms.items() if yes]
        return f"{self.complaint or ''} {', '.join(present)}".strip()

    # --- as data ---------------------------------------------------------------------------

    def as_record(self) -> dict[str, Any]:
        """The intake as plain JSON-ready data, for the consultation's clinical record (see
        :func:`dhanvantri.knowledge.intake_record.record`)."""
        return intake_record.record(self)

    def summary(self) -> str:
        """A plain read-back of what the patient said (no diagnosis, no medicines)."""
        return intake_record.summary(self)

    def unanswered(self, attempts: dict[str, int], symptoms: dict[str, bool]) -> list[str]:
        """The questions counted in ``attempts`` that got no usable answer (``symptoms``: the
        symptoms known, as copied with ``attempts``)."""
        unanswered = [t for t in attempts if t in QUESTIONS and t != "correction"
                      and t != "associated_which" and not self.known(t)]
        # A probe is counted under "probe:<question id>:<symptom>"; answered once the symptom
        # is known either way.
        unanswered += [t for t in attempts
                       if t.startswith("probe:") and t.split(":", 2)[2] not in symptoms]
        if attempts.get("summary") and not self.summary_confirmed:
            unanswered.append("summary")
        return unanswered

    def missing_for_draft(self) -> list[str]:
        """Topics still unknown that a prescription draft needs (empty when ready)."""
        needed = ["complaint", "duration", "age", "pregnancy", "allergies", "medications"]
        missing = [t for t in needed if not self.known(t)]
        if not any(self.symptoms.values()):
            missing.append("symptoms")
        return missing
