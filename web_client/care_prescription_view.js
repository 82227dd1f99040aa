// How a prescription reads to the patient: its status in words, the doctor who signed it and
// the prescription itself (diagnosis, medicines in plain words, tests, advice, warning signs).

import { when } from "./care_api.js";
import { chip, h } from "./care_dom.js";

/** What each status means to the patient (the consultations screen shows these too). */
export const STATUS_TEXT = {
  pending_review: "Pending doctor review",
  approved: "Approved, being signed",
  rejected: "Not issued",
  signed: "Awaiting your signature",
  acknowledged: "Signed by you",
  released: "Released",
};

export function statusChip(status) {
  return chip(status, STATUS_TEXT[status] ?? status.replace(/_/g, " "));
}

/**
 * The patient's prescription ``id`` as the list gives it (status and times, no content), or
 * null. Refreshes use this: reading one prescription is audited as a view of the record, and
 * a poll is not the patient looking at it again.
 */
export async function briefOf(api, id) {
  const { items } = await api.get("/prescriptions?limit=200");
  return items.find((rx) => rx.id === id) ?? null;
}

// Staff names are stored as written ("Dr Rao", "Test Physician"): do not say "Dr Dr".
function plainName(name) {
  return String(name).replace(/^dr\.?\s+/i, "");
}

export function doctorLine(rx) {
  return rx.physician?.full_name ? `Dr ${plainName(rx.physician.full_name)}` : "Your doctor";
}

export function header(rx) {
  const facts = h("dl", { class: "facts" });
  const add = (term, value) => { if (value) facts.append(h("dt", {}, term), h("dd", {}, value)); };
  add("Doctor", rx.physician?.full_name && doctorLine(rx));
  add("Registration", rx.physician?.registration_number
    && [rx.physician.registration_number, rx.physician.council].filter(Boolean).join(", "));
  add("Signed", rx.signed_at && when(rx.signed_at));
  add("Released", rx.released_at && when(rx.released_at));
  return h("header", { class: "card rx-head" },
    h("div", { class: "rx-head-line" },
      h("h1", { id: "rx-title", tabindex: "-1" }, "Prescription"), statusChip(rx.status)),
    facts.childElementCount ? facts : null);
}

export function rejected(rx) {
  return h("section", { class: "card rx-rejected", "aria-labelledby": "rx-rejected" },
    h("h2", { id: "rx-rejected" }, "The doctor did not issue a prescription"),
    rx.rejection_reason ? h("p", {}, rx.rejection_reason) : null,
    h("p", { class: "help" },
      "Please see a doctor in person. If your symptoms are severe, call 112 now."));
}

const HELD_MODES = { video: "video call", audio: "phone or voice call", text: "text chat",
                     in_person: "in person" };

function heldAs(held) {
  const kind = held.first ? "first consultation" : "follow-up";
  return `${kind}, by ${HELD_MODES[held.mode] || held.mode}`;
}

// ------------------------------------------------------------------ the prescription itself
export function prescriptionView(rx) {
  const content = rx.content ?? {};
  const section = h("article", { class: "card rx-document", id: "rx-document",
    "aria-labelledby": "rx-doc-title" },
    h("h2", { id: "rx-doc-title" }, "Your prescription"));
  if (content.consultation) {
    // The guidelines ask for the mode of consultation on the prescription.
    section.append(h("p", { class: "rx-consultation", id: "rx-consultation-held" },
      h("span", { class: "label" }, "Consultation: "), heldAs(content.consultation)));
  }
  if (content.diagnosis) {
    section.append(h("p", { class: "rx-diagnosis" },
      h("span", { class: "label" }, "Diagnosis: "), content.diagnosis));
  }
  const meds = content.medications ?? [];
  if (meds.length) {
    section.append(h("h3", {}, "Medicines"), medicinesList(meds));
  }
  const lists = [
    ["Lab tests", content.lab_tests, "rx-labs-list"],
    ["Advice", content.advice, "rx-advice"],
  ];
  for (const [title, items, id] of lists) {
    if (items?.length) {
      section.append(h("h3", {}, title), h("ul", { id }, items.map((item) => h("li", {}, item))));
    }
  }
  if (content.red_flags?.length) {
    section.append(h("div", { class: "rx-red-flags", role: "note" },
      h("h3", {}, "Get help at once (call 112) if you notice"),
      h("ul", {}, content.red_flags.map((item) => h("li", {}, item)))));
  }
  if (Number.isInteger(content.follow_up_days)) {
    section.append(h("p", { class: "rx-follow-up" }, content.follow_up_days === 0
      ? "Follow up: when needed."
      : `Follow up in ${content.follow_up_days} day${content.follow_up_days === 1 ? "" : "s"}.`));
    if (content.follow_up_days > 0 && rx.physician?.id) {
      section.append(h("a", { class: "button small", id: "rx-book-follow-up",
        href: `#appointments/follow-up/${rx.physician.id}/${content.follow_up_days}` },
      "Book the follow-up"));
    }
  }
  return section;
}

// Doctors' shorthand for how often, in words (the shorthand stays beside it: it is on the PDF).
const HOW_OFTEN = {
  OD: "once a day", BD: "twice a day", BID: "twice a day", TDS: "three times a day",
  TID: "three times a day", QID: "four times a day", QDS: "four times a day",
  HS: "at bedtime", SOS: "only when needed", PRN: "only when needed", STAT: "at once",
};

function howOften(frequency) {
  const code = String(frequency ?? "").trim();
  const words = HOW_OFTEN[code.toUpperCase().replace(/\./g, "")];
  return words ? `${words} (${code})` : code;
}

// One card per medicine rather than a table: it reads the same on a phone and a desktop.
function medicinesList(meds) {
  return h("ol", { class: "rx-meds", id: "rx-meds" }, meds.map((med) => {
    const how = [med.dose, howOften(med.frequency), med.duration && `for ${med.duration}`]
      .filter(Boolean).join(" · ");
    const note = [med.route, med.instructions].filter(Boolean).join(", ");
    return h("li", {},
      h("span", { class: "med-name" }, med.name),
      how ? h("span", { class: "med-how" }, how) : null,
      note ? h("span", { class: "med-note" }, note) : null);
  }));
}
