// My consultations: the list, and one consultation: what was said (by speaker), the summary the
// doctor reads (in plain words) and where the prescription made from it stands.

import { describe, when } from "./care_api.js";
import { chip, h, listScreen } from "./care_dom.js";
import { STATUS_TEXT, briefOf, statusChip } from "./care_prescription_view.js";
import { visitLabel } from "./visit_label.js";

const CONSULTATION_TEXT = { active: "In progress", completed: "Completed", abandoned: "Ended early" };
const SPEAKER = { patient: "You", assistant: "Assistant", physician: "Doctor" };

export async function show(ctx, root, params) {
  return params[0] ? detail(ctx, root, params[0]) : list(ctx, root);
}

function consultationChip(status) {
  return chip(status, CONSULTATION_TEXT[status] ?? status);
}

// ------------------------------------------------------------------ the list
function list(ctx, root) {
  return listScreen(root, {
    title: "My consultations",
    listId: "consultation-list",
    async fetch() {
      const [{ items: found }, { items: prescriptions }] = await Promise.all([
        ctx.api.get("/consultations?limit=100"), ctx.api.get("/prescriptions?limit=200")]);
      const review = new Map(prescriptions.map((rx) => [rx.id, rx.status]));
      return found.map((c) => [c, review.get(c.prescription_id)]);
    },
    item: ([consultation, reviewStatus]) => listItem(consultation, reviewStatus),
    empty: ["No consultations yet. ", h("a", { href: "/" }, "Talk to the assistant"),
      " to start one."],
    kinds: ["prescription"],
  });
}

function listItem(consultation, reviewStatus) {
  const turns = consultation.turn_count;
  const meta = [
    clock(consultation.started_at),
    `${turns} message${turns === 1 ? "" : "s"}`,
    reviewStatus ? `Prescription: ${STATUS_TEXT[reviewStatus] ?? reviewStatus}` : null,
    consultation.emergency ? "Emergency advice given" : null,
  ].filter(Boolean).join(" · ");
  return h("li", { class: "consultation", dataset: { id: consultation.id } },
    h("a", { href: `#consultations/${consultation.id}` },
      h("span", { class: "title" },
        `${visitLabel(consultation.visit) ?? "Consultation"}, ${day(consultation.started_at)}`),
      consultationChip(consultation.status),
      h("span", { class: "meta" }, meta)));
}

// ------------------------------------------------------------------ one consultation
async function detail(ctx, root, id) {
  const back = h("a", { class: "button small back", href: "#consultations" },
    "← All consultations");
  let record;
  try {
    record = await ctx.api.get(`/consultations/${encodeURIComponent(id)}`);
  } catch (err) {
    root.append(back, h("p", { class: "field-error", role: "alert" },
      err.status === 404 ? "This consultation was not found." : describe(err)));
    return null;
  }
  const review = h("section", { class: "card", id: "consultation-review",
    "aria-labelledby": "review-title" }, h("h2", { id: "review-title" }, "Your prescription"));

  async function loadReview() {
    if (!record.prescription_id) {
      review.replaceChildren(review.firstChild, h("p", { class: "help" },
        record.status === "active"
          ? "When the consultation ends, a doctor reviews it and writes your prescription."
          : "No prescription was made from this consultation."));
      return;
    }
    try {
      const rx = await briefOf(ctx.api, record.prescription_id);
      if (!rx) {
        review.replaceChildren(review.firstChild,
          h("p", { class: "help" }, "The prescription from it is not available."));
        return;
      }
      review.replaceChildren(review.firstChild,
        statusChip(rx.status),
        h("p", { class: "help" }, reviewHelp(rx.status)),
        h("a", { class: "button", href: `#prescriptions/${rx.id}`, id: "consultation-rx" },
          rx.status === "signed" ? "Sign and view prescription" : "Open prescription"));
    } catch (err) {
      review.replaceChildren(review.firstChild,
        h("p", { class: "field-error", role: "alert" }, describe(err)));
    }
  }

  root.append(back,
    h("header", { class: "card" },
      h("div", { class: "rx-head-line" },
        h("h1", {}, `${visitLabel(record.visit) ?? "Consultation"} on ${when(record.started_at)}`),
        consultationChip(record.status)),
      record.emergency || record.escalated
        ? h("p", { class: "notice-box", role: "note" },
          "The assistant advised urgent care during this consultation. If you still feel unwell, "
          + "call 112 or go to the nearest hospital.")
        : null),
    summaryCard(record.intake ?? {}, record.red_flags ?? []),
    review,
    transcriptCard(record.turns ?? []));
  await loadReview();

  return {
    onChange(change) {
      if (!change || (change.kind === "prescription" && change.id === record.prescription_id)) {
        loadReview();
      }
    },
  };
}

function reviewHelp(status) {
  return {
    pending_review: "A doctor is reviewing what you said.",
    approved: "The doctor approved it and is signing it.",
    rejected: "The doctor did not issue a prescription.",
    signed: "The doctor signed it. Sign for it to read it.",
    acknowledged: "You have signed for it. Release it to order medicines.",
    released: "Ready: you can order medicines and book tests from it.",
  }[status] ?? "";
}

// ------------------------------------------------------------------ the doctor's summary
const text = (value) => (typeof value === "string" ? value.trim() : "");
const words = (values) => (Array.isArray(values) ? values : [])
  .map((v) => (typeof v === "string" ? v : v?.name ?? "")).map((v) => String(v).trim())
  .filter(Boolean);

function symptoms(intake) {
  const raw = Array.isArray(intake.symptoms) ? intake.symptoms : [];
  const have = [];
  const not = [];
  for (const s of raw) {
    if (typeof s === "string") have.push(s);
    else if (s && s.name) (s.present === false ? not : have).push(s.name);
  }
  return { have, not };
}

function summaryCard(intake, redFlags) {
  const facts = h("dl", { class: "facts", id: "consultation-summary" });
  const add = (term, value) => { if (value) facts.append(h("dt", {}, term), h("dd", {}, value)); };
  add("What troubled you", text(intake.complaint));
  const since = text(intake.duration) || (Number.isFinite(intake.duration_days)
    ? `${intake.duration_days} day${intake.duration_days === 1 ? "" : "s"}` : "");
  add("For how long", since);
  const score = Number.isFinite(intake.severity_score) ? ` (${intake.severity_score} out of 10)` : "";
  add("How bad", text(intake.severity) && `${text(intake.severity)}${score}`);
  const { have, not } = symptoms(intake);
  add("Symptoms", have.join(", "));
  add("Not present", not.join(", "));
  const listed = (values, none, noneText) => words(values).join(", ")
    || (intake[none] ? noneText : "");
  add("Allergies", listed(intake.allergies, "no_allergies", "None"));
  add("Medicines you take", listed(intake.medications, "no_medications", "None"));
  add("Health conditions", listed(intake.conditions, "no_conditions", "None"));
  const card = h("section", { class: "card", "aria-labelledby": "summary-title" },
    h("h2", { id: "summary-title" }, "What the doctor reads"),
    h("p", { class: "help" }, "The summary of what you told the assistant."));
  card.append(facts.childElementCount ? facts
    : h("p", { class: "empty-state" }, "Nothing was noted yet."));
  if (redFlags.length) {
    card.append(h("p", { class: "notice-box", role: "note" },
      `Warning signs noted: ${words(redFlags).join(", ")}.`));
  }
  return card;
}

function day(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? ""
    : date.toLocaleDateString("en-IN", { day: "numeric", month: "short", year: "numeric" });
}

function clock(iso) {
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? ""
    : date.toLocaleTimeString("en-IN", { hour: "2-digit", minute: "2-digit" });
}

function transcriptCard(turns) {
  const card = h("section", { class: "card", "aria-labelledby": "said-title" },
    h("h2", { id: "said-title" }, "What was said"));
  if (!turns.length) {
    card.append(h("p", { class: "empty-state" }, "Nothing was said in this consultation."));
    return card;
  }
  card.append(h("ol", { class: "care-transcript", id: "consultation-transcript" },
    turns.map((turn) => h("li", { dataset: { role: turn.role } },
      h("span", { class: "speaker" }, SPEAKER[turn.role] ?? turn.role),
      h("time", { datetime: turn.at }, clock(turn.at)),
      h("p", {}, turn.text)))));
  return card;
}
