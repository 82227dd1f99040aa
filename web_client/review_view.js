// Drawing one review record: the patient card (profile and stated facts), the clinical summary,
// AI reasoning, transcript, the safety issues beside the medicine lines they concern, and every
// API error as a sentence.
//
// Everything is put in the page with textContent: the record holds what a patient said.

import { visitLabel } from "./visit_label.js";

export const $ = (id) => document.getElementById(id);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = text;
  return node;
}

export function showAlert(id, text) {
  const box = $(id);
  box.textContent = text || "";
  box.hidden = !text;
}

const humanise = (key) => String(key).replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase());

// Profile and intake entries are text today; objects (e.g. an allergy "stated in consultation")
// are shown by their name and where they came from, so a richer shape still reads well.
export function show(value) {
  if (value === null || value === undefined || value === "") return "";
  if (Array.isArray(value)) return value.map(show).filter(Boolean).join(", ");
  if (typeof value === "object") {
    const name = value.name ?? value.label ?? value.generic ?? value.text;
    if (name !== undefined) {
      const source = value.source ?? value.status;
      return source ? `${show(name)} (${show(source).replaceAll("_", " ")})` : show(name);
    }
    return Object.entries(value).map(([k, v]) => [k, show(v)]).filter(([, v]) => v)
      .map(([k, v]) => `${humanise(k).toLowerCase()}: ${v}`).join("; ");
  }
  if (typeof value === "boolean") return value ? "yes" : "no";
  return String(value);
}

function row(dl, term, value, className) {
  const text = show(value);
  if (!text) return;
  dl.append(el("dt", "", term), el("dd", className || "", text));
}

function ageFrom(dateOfBirth) {
  const born = new Date(dateOfBirth);
  if (Number.isNaN(born.getTime())) return "";
  const years = Math.floor((Date.now() - born.getTime()) / (365.25 * 24 * 3600 * 1000));
  return years >= 0 ? ` (${years} years)` : "";
}

/** What the patient said in the call: the server's record keeps it under ``consultation``
 * (as the gate reads it); a draft made elsewhere may carry it at its top level. */
export function intakeOf(rx) {
  const draft = rx.ai_draft || {};
  const stated = draft.consultation?.intake ?? draft.intake;
  return stated && typeof stated === "object" ? stated : {};
}

// ------------------------------------------------------------------ patient card
// Each profile list, the intake's flag for "the patient said none".
const FACTS = [["allergies", "Allergies", "no_allergies"],
               ["conditions", "Conditions", "no_conditions"],
               ["medicines", "Current medicines", "no_medications"]];

function factButton(text, label, onClick) {
  const node = el("button", "button small confirm", text);
  node.type = "button";
  node.setAttribute("aria-label", label);
  node.addEventListener("click", () => onClick(node));
  return node;
}

function statedFact(field, fact, confirm) {
  const item = el("li", "fact stated");
  item.append(el("span", "", fact), el("span", "mark", "stated in consultation"));
  if (confirm) {
    item.append(factButton("Confirm to profile", `Confirm ${fact} to profile`,
                           (node) => confirm({ [field]: [fact] }, node)));
  }
  return item;
}

/** The Patient card: profile facts, and facts stated in the call that the profile lacks, each
 * with a "Confirm to profile" button when ``confirm(facts, button)`` is given. */
export function drawPatient(rx, name, confirm) {
  const p = rx.patient || {};
  const intake = intakeOf(rx);
  const dl = $("record-patient");
  dl.replaceChildren();
  row(dl, "Name", name || "Not given");
  const offered = { allergies: [], conditions: [], medicines: [] };
  for (const [field, label, none] of FACTS) {
    const stored = (p[field] || []).map(show).filter(Boolean);
    offered[field] = (rx.stated?.[field] || []).map(show).filter(Boolean);
    const known = stored.length + offered[field].length;
    const dd = el("dd", field === "allergies" && known ? "facts danger" : "facts");
    dd.dataset.field = field;
    if (!known) dd.textContent = intake[none] ? "None (stated)" : "None recorded";
    else {
      const list = el("ul", "fact-list");
      list.append(...stored.map((fact) => el("li", "fact", fact)),
                  ...offered[field].map((fact) => statedFact(field, fact, confirm)));
      dd.append(list);
    }
    dl.append(el("dt", "", label), dd);
  }
  row(dl, "Sex", p.sex);
  if (p.date_of_birth) row(dl, "Date of birth", `${p.date_of_birth}${ageFrom(p.date_of_birth)}`);
  drawConfirmAll(dl, offered, confirm);
}

// Below the card (not a term of its list): one button for every fact still to confirm.
function drawConfirmAll(dl, offered, confirm) {
  $("record-stated-all")?.remove();
  const count = Object.values(offered).flat().length;
  if (!confirm || count < 2) return;
  const bar = el("div", "confirm-all", `${count} facts stated in consultation are not in the profile.`);
  bar.id = "record-stated-all";
  bar.append(factButton("Confirm all to profile", `Confirm all ${count} stated facts to profile`,
                        (node) => confirm(offered, node)));
  dl.after(bar);
}

// ------------------------------------------------------------------ clinical summary
// Intake fields drawn in their own lines, or internal to the assistant: any other field a
// newer intake carries is still shown, by its name.
const DRAWN = new Set([
  "complaint", "symptoms", "duration", "duration_days", "severity", "severity_score", "onset",
  "character", "age_years", "sex", "pregnant", "weight_kg", "vitals", "allergies", "no_allergies",
  "medications", "no_medications", "conditions", "no_conditions", "unanswered", "missing",
  "turns", "summary_confirmed", "red_flags", "pending", "attempts", "probes",
  "associated_asked"]);
const TOPICS = { complaint: "main complaint", associated: "other symptoms",
                 medications: "current medicines", conditions: "long-standing illness" };
const has = (value) => value !== null && value !== undefined && value !== "";

function symptomsOf(intake) {
  const raw = intake.symptoms;
  const list = Array.isArray(raw) ? raw
    : raw && typeof raw === "object" ? Object.entries(raw).map(([key, present]) => ({ key, present }))
      : [];
  return list.map((s) => (typeof s === "object" && s
    ? { ...s, name: show(s.name ?? s.label ?? humanise(s.key || "")), present: s.present !== false }
    : { name: show(s), present: true })).filter((s) => s.name);
}

function severityOf(intake, main) {
  const word = intake.severity ?? main?.severity;
  const score = has(intake.severity_score) ? `${intake.severity_score}/10` : "";
  return word && score ? `${word} (${score})` : word || score;
}

// "Fever: 3 days, sudden onset, moderate (6/10), burning".
function complaintLine(intake, main) {
  const onset = show(intake.onset ?? main?.onset);
  const parts = [show(intake.duration ?? main?.duration),
                 onset && !/onset|start|began|since/i.test(onset) ? `${onset} onset` : onset,
                 severityOf(intake, main), show(main?.character ?? intake.character)];
  const head = main?.name || show(intake.complaint);
  const details = parts.filter(Boolean).join(", ");
  if (!head) return details;
  return details ? `${head.replace(/^./, (c) => c.toUpperCase())}: ${details}` : head;
}

// "35 y, male" / "28 y, female, pregnant".
function whoLine(intake) {
  const age = Number(intake.age_years);
  const years = has(intake.age_years) && Number.isFinite(age)
    ? (age < 1 ? `${Math.round(age * 12)} mo` : `${Math.floor(age)} y`) : "";
  const pregnancy = intake.pregnant === true ? "pregnant"
    : intake.pregnant === false ? "not pregnant" : "";
  return [years, show(intake.sex), pregnancy].filter(Boolean).join(", ");
}

// "Temperature 101.2 °F, BP 130/85 mmHg, pulse 96/min, weight 70 kg" (as the patient reported).
function vitalsLine(intake) {
  const v = intake.vitals && typeof intake.vitals === "object" ? intake.vitals : {};
  const bp = has(v.bp_systolic) ? `BP ${v.bp_systolic}/${has(v.bp_diastolic) ? v.bp_diastolic : "?"} mmHg` : "";
  const parts = [has(v.temperature_f) && `temperature ${v.temperature_f} °F`, bp,
                 has(v.pulse_bpm) && `pulse ${v.pulse_bpm}/min`,
                 has(v.spo2_pct) && `SpO₂ ${v.spo2_pct} %`,
                 has(v.sugar_mg_dl) && `sugar ${v.sugar_mg_dl} mg/dL`,
                 has(intake.weight_kg) && `weight ${intake.weight_kg} kg`];
  return parts.filter(Boolean).join(", ").replace(/^./, (c) => c.toUpperCase());
}

function unansweredLine(intake) {
  const topics = (Array.isArray(intake.unanswered) ? intake.unanswered : []).map(String)
    .filter((t) => t !== "summary")
    // A key question is "probe:<question>:<symptom>": the symptom says what was asked.
    .map((t) => (t.startsWith("probe:") ? humanise(t.split(":")[2] || "").toLowerCase()
      : TOPICS[t] || humanise(t).toLowerCase()));
  return [...new Set(topics)].join(", ");
}

function confidence(content, draft) {
  if (content.diagnosis_confidence) return content.diagnosis_confidence;
  if (draft.confidence_label) return draft.confidence_label;
  return typeof draft.confidence === "number" ? `${Math.round(draft.confidence * 100)} %` : "";
}

/** "Video visit, 1 Dec 2026" for a booked visit's record (when it began); "" otherwise. */
function heldLine(draft) {
  const label = visitLabel(draft.consultation);
  if (!label) return "";
  const began = new Date(draft.transcript?.[0]?.at ?? "");
  return Number.isNaN(began.getTime()) ? label : `${label}, ${began.toLocaleDateString("en-IN",
    { day: "numeric", month: "short", year: "numeric" })}`;
}

/** The clinical summary: red flags first, then what the patient said, then the draft's parts. */
export function drawIntake(rx) {
  const content = rx.content || {};
  const draft = rx.ai_draft || {};
  const intake = intakeOf(rx);
  const dl = $("record-intake");
  dl.replaceChildren();
  row(dl, "Red flags", intake.red_flags ?? draft.consultation?.red_flags ?? draft.red_flags_found,
      "danger flag");
  row(dl, "Held as", heldLine(draft));
  const symptoms = symptomsOf(intake);
  const present = symptoms.filter((s) => s.present);
  row(dl, "Complaint", complaintLine(intake, present[0]));
  row(dl, "Also reports", present.slice(1).map((s) => (s.character ? `${s.name} (${s.character})` : s.name)));
  row(dl, "Denies", symptoms.filter((s) => !s.present).map((s) => s.name));
  row(dl, "Patient", whoLine(intake));
  row(dl, "Reported", vitalsLine(intake));
  for (const [key, value] of Object.entries(intake)) {
    if (!DRAWN.has(key)) row(dl, humanise(key), value);
  }
  row(dl, "Not answered", unansweredLine(intake), "warn");
  const unconfirmed = Array.isArray(intake.unanswered) && intake.unanswered.includes("summary");
  row(dl, "Summary", unconfirmed ? "Patient did not confirm the summary" : "", "warn");
  const level = confidence(content, draft);
  row(dl, "AI impression", `${content.diagnosis || "Needs assessment"}${level ? ` (${level})` : ""}`);
  row(dl, "Differentials", (draft.differentials || []).map(
    (d) => d.title ?? d.diagnosis ?? d.name ?? d));
  row(dl, "Red flags to watch", content.red_flags);
  row(dl, "Lab tests", content.lab_tests);
  row(dl, "Advice", content.advice);
  if (content.follow_up_days !== null && content.follow_up_days !== undefined) {
    row(dl, "Follow-up", `in ${content.follow_up_days} days`);
  }
  row(dl, "Withheld by the assistant", (draft.withheld || []).map(
    (w) => (w.reason ? `${show(w.generic ?? w.name ?? w)}: ${w.reason}` : w)));
}

export function drawReasoning(rx) {
  const box = $("record-reasoning");
  const draft = rx.ai_draft || {};
  const parts = [];
  // The knowledge draft keeps its reasons as a list; a free-text draft as one string.
  if (Array.isArray(draft.reasoning) && draft.reasoning.length) {
    const list = el("ul");
    list.append(...draft.reasoning.map((line) => el("li", "", show(line))));
    parts.push(list);
  } else if (rx.ai_reasoning) {
    parts.push(...rx.ai_reasoning.split(/\n+/).filter(Boolean).map((p) => el("p", "", p)));
  }
  if (draft.narrative) parts.push(el("p", "", draft.narrative));
  box.replaceChildren(...(parts.length ? parts : [el("p", "meta", "No reasoning recorded.")]));
}

const SPEAKERS = { patient: ["patient", "Patient"], avatar: ["assistant", "Assistant"],
                   assistant: ["assistant", "Assistant"], physician: ["physician", "Physician"] };

export function drawTranscript(rx) {
  const list = $("record-transcript");
  const turns = Array.isArray(rx.transcript) ? rx.transcript : [];
  list.replaceChildren(...(turns.length ? turns.map((turn) => {
    const [className, who] = SPEAKERS[turn.role] || ["assistant", humanise(turn.role || "")];
    const line = el("li", className);
    line.append(el("span", "who", who), el("span", "text", show(turn.text)));
    return line;
  }) : [el("li", "empty", "No transcript recorded.")]));
}

// ------------------------------------------------------------------ safety issues
const SEVERITY = { block: "Blocked", warn: "Warning", info: "Note" };
const LINE_FIELD = /^medications(?:\[(\d+)\]|\.(\d+))(?:\.(\w+))?/;

// Which drawn line an issue concerns: the index the gate names (of the lines sent), else the
// medicine's name (the knowledge gate names medicines, not indices); pairs go to both lines.
function linesFor(issue, sent) {
  const match = LINE_FIELD.exec(issue.field || "");
  if (match) {
    const node = sent[Number(match[1] ?? match[2])];
    return node ? [node] : [];
  }
  const named = String(issue.medication ?? issue.medicine ?? "").trim().toLowerCase();
  if (!named) return [];
  const exact = sent.filter((node) => node.dataset.sentName === named);
  return exact.length ? exact
    : sent.filter((node) => node.dataset.sentName && named.includes(node.dataset.sentName));
}

function drawLineIssues(node, issues) {
  const list = node.querySelector(".issues");
  list.replaceChildren(...issues.map((issue) => {
    const item = el("li", "", `${SEVERITY[issue.severity] || "Note"}: ${issue.message || issue.code}`);
    item.dataset.severity = issue.severity || "info";
    item.dataset.code = issue.code || "";
    return item;
  }));
  node.dataset.verdict = issues.some((i) => i.severity === "block") ? "block"
    : issues.some((i) => i.severity === "warn") ? "warn" : "ok";
  for (const input of node.querySelectorAll("input")) {
    const flagged = issues.some((i) => (LINE_FIELD.exec(i.field || "")?.[3] || "name") === input.name
      && i.severity === "block");
    input.setAttribute("aria-invalid", flagged ? "true" : "false");
  }
}

/** Draw a safety result: each issue beside its line (``sent``: the lines the gate saw). */
export function drawSafety(safety, sent, lines) {
  const issues = Array.isArray(safety?.issues) ? safety.issues : [];
  const byLine = new Map(lines.map((node) => [node, []]));
  const general = [];
  for (const issue of issues) {
    const targets = linesFor(issue, sent);
    if (!targets.length) general.push(issue);
    for (const node of targets) byLine.get(node)?.push(issue);
  }
  for (const node of lines) drawLineIssues(node, byLine.get(node) || []);
  const blocked = Boolean(safety?.blocked) || issues.some((i) => i.severity === "block");
  const warnings = issues.filter((i) => i.severity === "warn").length;
  const box = $("safety-summary");
  box.dataset.verdict = blocked ? "block" : warnings ? "warn" : "ok";
  box.replaceChildren(el("span", "", blocked
    ? "Safety check: blocked. Fix the lines marked below before approving."
    : warnings ? `Safety check: ${warnings} warning${warnings > 1 ? "s" : ""} to review.`
      : "Safety check: no issues found."));
  if (general.length) {
    const list = el("ul");
    list.append(...general.map((i) => el("li", "", `${SEVERITY[i.severity] || "Note"}: ${i.message || i.code}`)));
    box.append(list);
  }
}

// ------------------------------------------------------------------ errors
const MESSAGES = {
  OTP_INVALID: (e) => `Wrong code.${e.details?.attempts_left !== undefined
    ? ` ${e.details.attempts_left} attempt${e.details.attempts_left === 1 ? "" : "s"} left.` : ""}`,
  OTP_EXPIRED: () => "The signing code has expired. Send a new code.",
  OTP_LOCKED: () => "Too many wrong codes. Send a new code.",
  OTP_USED: () => "That code was already used. Send a new code.",
  ESIGN_NOT_STARTED: () => "Send a signing code first.",
  NOT_SIGNER: () => "Only the physician who approved this prescription can sign it.",
  PRESCRIPTION_LOCKED: (e) => `This prescription is ${show(e.details?.status) || "final"}: `
    + "it can no longer be changed.",
  INVALID_STATE: (e) => `This prescription is now ${show(e.details?.status).replaceAll("_", " ")
    || "in another state"}: ${e.message || "that step is not possible"}.`,
  SAFETY_BLOCKED: () => "The safety check blocks this prescription. Fix the lines marked in red.",
  NOT_FOUND: () => "This record no longer exists, or you may not see it.",
  FORBIDDEN: () => "Your account may not do this.",
  RATE_LIMITED: () => "Too many requests. Wait a moment and try again.",
};

function fieldLabel(field, sent) {
  const match = LINE_FIELD.exec(field || "");
  if (!match) return humanise(field || "field");
  const node = sent[Number(match[1] ?? match[2])];
  const legend = node?.querySelector("legend")?.textContent || "A medicine";
  return match[3] ? `${legend} ${match[3]}` : legend;
}

/** The API's error body as ``{status, code, details, text}`` (``text``: a sentence to show). */
export async function readError(response, sent = []) {
  let error = {};
  try {
    error = (await response.json()).error || {};
  } catch { /* not JSON: the status says enough */ }
  const code = error.code || "HTTP_ERROR";
  let text;
  if (MESSAGES[code]) text = MESSAGES[code](error);
  else if (code === "VALIDATION_ERROR" && Array.isArray(error.details)) {
    text = `Check ${error.details.map((d) => `${fieldLabel(d.field, sent)}: ${d.message}`).join("; ")}.`;
  } else text = error.message || `The server answered ${response.status}.`;
  return { status: response.status, code, details: error.details, text };
}
