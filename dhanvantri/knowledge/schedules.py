"""TELECONSULTATION: what the Telemedicine Practice Guidelines 2020 let each consultation prescribe.

The guidelines sort medicines into lists (the table's ``tpg_list``):

* List O: over-the-counter medicines, prescribable in any teleconsultation.
* List A: prescribable at a first consultation only when it is a video consultation, and
  re-prescribed at a follow-up.
* List B: prescribable only at a follow-up, added to what an in-person consultation for the same
  condition started.
* Prohibited: Schedule X and NDPS narcotics and psychotropics, never by teleconsultation
  (reported as ``CONTROLLED_SUBSTANCE`` by :mod:`dhanvantri.knowledge.safety_rules`).

The rules need to know the consultation; when the request does not say, only the prohibition
(which holds in every consultation) applies. An in-person consultation is outside the guidelines.
"""

from __future__ import annotations

from dhanvantri.knowledge.medicines import Medicine
from dhanvantri.knowledge.safety_input import Consultation, MedicationOrder
from dhanvantri.knowledge.safety_issue import SafetyIssue

TPG = "Telemedicine Practice Guidelines 2020"


def check_teleconsultation(order: MedicationOrder, med: Medicine,
                           consultation: Consultation | None) -> list[SafetyIssue]:
    """Block a List A medicine at a first audio or text consultation and List B at any first."""
    if consultation is None or consultation.mode == "in_person" or med.controlled:
        return []
    if med.tpg_list == "B" and consultation.first:
        why = (f"{med.generic} is on List B: by teleconsultation it may only be added at a "
               "follow-up to treatment started in person")
    elif med.tpg_list == "A" and consultation.first and consultation.mode != "video":
        why = (f"{med.generic} is on List A: a first consultation may prescribe it only by "
               f"video, not by {consultation.mode}")
    else:
        return []
    return [SafetyIssue("TELECONSULTATION", "block", order.name, f"{why} ({TPG})")]
