"""TELECONSULTATION: what the Telemedicine Practice Guidelines 2020 let each consultation prescribe.

The guidelines sort medicines into lists (the table's ``tpg_list``):

* List O: over-the-counter medicines, prescribable in any teleconsultation.
* List A: prescribable at a first consultation only when it is a video consultation, and
  re-prescribed at a follow-up.
* List B: prescribable only at a follow-up, added to what an in-person consultation for the same
  condition started.
* Prohibited: never by teleconsultation, first consultation or follow-up. Schedule X and NDPS
  narcotics and psychotropics are reported as ``CONTROLLED_SUBSTANCE`` by
  :mod:`dhanvantri.knowledge.safety_rules`; the anti-cancer medicines the guidelines give as an
  instance of the list are reported here, as ``TELECONSULTATION``, because calling a cytotoxic a
  controlled substance would send a pharmacist and an auditor after the wrong register.

The rules for Lists A and B need to know the consultation; when the request does not say, only
the prohibition (which holds in every teleconsultation) applies. An in-person consultation is
outside the guidelines.
"""

from __future__ import annotations

from dhanvantri.knowledge.medicines import Medicine
from dhanvantri.knowledge.safety_input import Consultation, MedicationOrder
from dhanvantri.knowledge.safety_issue import SafetyIssue

TPG = "Telemedicine Practice Guidelines 2020"


def check_teleconsultation(order: MedicationOrder, med: Medicine,
                           consultation: Consultation | None) -> list[SafetyIssue]:
    """Block a prohibited anti-cancer medicine, List A at a first audio or text consultation
    and List B at any first consultation."""
    in_person = consultation is not None and consultation.mode == "in_person"
    if in_person or med.controlled:
        return []
    if med.tpg_list == "prohibited":
        why = (f"{med.generic} is an anti-cancer medicine, which the guidelines' prohibited list "
               "names: it may not be prescribed by teleconsultation, at a first consultation or "
               "a follow-up; refer for an in-person consultation")
    elif consultation is None:
        return []
    elif med.tpg_list == "B" and consultation.first:
        why = (f"{med.generic} is on List B: by teleconsultation it may only be added at a "
               "follow-up to treatment started in person")
    elif med.tpg_list == "A" and consultation.first and consultation.mode != "video":
        why = (f"{med.generic} is on List A: a first consultation may prescribe it only by "
               f"video, not by {consultation.mode}")
    else:
        return []
    return [SafetyIssue("TELECONSULTATION", "block", order.name, f"{why} ({TPG})")]
