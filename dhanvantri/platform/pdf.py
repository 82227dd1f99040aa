"""The prescription PDF (fpdf2) with the physician's registration and a QR code to verify it."""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import segno
from fpdf import FPDF

from .domain.text import visible
from .drafts import consultation_label


@dataclass(frozen=True)
class PdfFacts:
    """Everything printed on the document."""

    prescription_id: str
    issued_at: datetime
    physician_name: str
    qualification: str
    registration_number: str
    council: str
    patient_name: str
    patient_abha: str | None
    patient_sex: str | None
    patient_dob: str | None
    content: dict[str, Any]
    verify_url: str


def _latin1(text: Any) -> str:
    # Invisible characters go first: a right-to-left override or a zero-width space would
    # otherwise print as '?' in a name (records stored before input was cleaned, AI drafts).
    # The core PDF fonts are Latin-1; other scripts print as '?' rather than failing. Text is
    # drawn as plain cells (no markdown or HTML mode), so markup in it prints as typed.
    return visible(str(text)).encode("latin-1", "replace").decode("latin-1")


def render(facts: PdfFacts) -> bytes:
    """The PDF bytes (deterministic for the same facts)."""
    pdf = FPDF(format="A4")
    pdf.set_creation_date(facts.issued_at)
    pdf.set_title(f"Prescription {facts.prescription_id}")
    pdf.set_auto_page_break(auto=True, margin=20)
    pdf.add_page()
    width = pdf.epw

    def line(text: Any, size: int = 10, style: str = "", height: float = 6) -> None:
        pdf.set_font("Helvetica", style=style, size=size)
        pdf.multi_cell(width, height, _latin1(text), new_x="LMARGIN", new_y="NEXT")

    line(f"Dr. {facts.physician_name}", 14, "B", 8)
    line(", ".join(x for x in (facts.qualification,) if x) or "Registered medical practitioner")
    line(f"Reg. No. {facts.registration_number}  |  {facts.council}")
    pdf.ln(2)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + width, pdf.get_y())
    pdf.ln(3)
    line(f"Patient: {facts.patient_name or '-'}", 11, "B")
    details = [f"Sex: {facts.patient_sex}" if facts.patient_sex else "",
               f"DOB: {facts.patient_dob}" if facts.patient_dob else "",
               f"ABHA: {facts.patient_abha}" if facts.patient_abha else ""]
    line("  ".join(d for d in details if d) or " ")
    line(f"Date: {facts.issued_at.strftime('%d %b %Y %H:%M UTC')}   Rx ID: {facts.prescription_id}",
         9)
    content = facts.content
    if content.get("consultation"):
        # The guidelines ask for the mode of consultation on the prescription.
        held = content["consultation"]
        kind = "Consultation" if held.get("mode") == "in_person" else "Teleconsultation"
        line(f"{kind}: {consultation_label(held)}", 9)
    pdf.ln(3)
    line(f"Diagnosis: {content.get('diagnosis') or '-'}", 11, "B")
    pdf.ln(1)
    line("Rx", 13, "B")
    for index, med in enumerate(content.get("medications", []), start=1):
        parts = [med.get("dose"), med.get("route"), med.get("frequency"), med.get("duration")]
        directions = " | ".join(str(p) for p in parts if p)
        line(f"{index}. {med.get('name', '')}  -  {directions}", 10, "B")
        if med.get("instructions"):
            line(f"    {med['instructions']}", 9)
    for title, key in (("Investigations", "lab_tests"), ("Advice", "advice"),
                       ("Return immediately if", "red_flags")):
        items = content.get(key) or []
        if items:
            pdf.ln(1)
            line(title, 11, "B")
            for item in items:
                line(f"- {item}")
    if content.get("follow_up_days"):
        line(f"Follow up in {content['follow_up_days']} days.")
    pdf.ln(4)
    qr = io.BytesIO()
    segno.make(facts.verify_url, error="m").save(qr, kind="png", scale=3, border=2)
    qr.seek(0)
    top = pdf.get_y()
    pdf.image(qr, x=pdf.l_margin, y=top, w=32, h=32)
    pdf.set_xy(pdf.l_margin + 36, top)
    pdf.set_font("Helvetica", size=8)
    pdf.multi_cell(width - 36, 4, _latin1(
        "AI-assisted draft, reviewed, approved and issued by the registered medical practitioner "
        "named above (Telemedicine Practice Guidelines 2020). Electronically signed; scan the "
        f"code or open {facts.verify_url} to verify."), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
