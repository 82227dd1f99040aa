// Drawing one review record: patient profile, intake summary, AI reasoning, transcript, the
// safety issues beside the medicine lines they concern, and every API error as a sentence.
//
// Everything is put in the page with textContent: the record holds what a patient said.

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

export function drawPatient(rx, name) {
  const p = rx.patient || {};
  const dl = $("record-patient");
  dl.replaceChildren();
  row(dl, "Name", name || "Not given");
  row(dl, "Allergies", show(p.allergies) || "None recorded", p.allergies?.length ? "danger" : "");
  row(dl, "Conditions", show(p.conditions) || "None recorded");
  row(dl, "Current medicines", show(p.medicines) || "None recorded");
  row(dl, "Sex", p.sex);
  if (p.date_of_birth) row(dl, "Date of birth", `${p.date_of_birth}${ageFrom(p.date_of_birth)}`);
}

function confidence(content, draft) {
  if (content.diagnosis_confidence) return content.diagnosis_confidence;
  if (draft.confidence_label) return draft.confidence_label;
  return typeof draft.confidence === "number" ? `${Math.round(draft.confidence * 100)} %` : "";
}

export function drawIntake(rx) {
  const content = rx.content || {};
  const draft = rx.ai_draft || {};
  // A consultation's record keeps what the patient said under `consultation` (the server's
  // review_draft); a draft made elsewhere may carry its intake at the top.
  const stated = draft.intake ?? draft.consultation?.intake;
  const intake = stated && typeof stated === "object" ? stated : {};
  const dl = $("record-intake");
  dl.replaceChildren();
  row(dl, "Diagnosis", content.diagnosis || "Needs assessment");
  row(dl, "Confidence", confidence(content, draft));
  row(dl, "Differentials", (draft.differentials || []).map(
    (d) => d.title ?? d.diagnosis ?? d.name ?? d));
  row(dl, "Red flags reported",
      intake.red_flags ?? draft.red_flags_found ?? draft.consultation?.red_flags, "danger");
  for (const [key, value] of Object.entries(intake)) {
    if (key !== "red_flags") row(dl, humanise(key), value);
  }
  row(dl, "Red flags to watch", content.red_flags);
  row(dl, "Lab tests", content.lab_tests);
  row(dl, "Advice", content.advice);
  if (content.follow_up_days !== null && content.follow_up_days !== undefined) {
    row(dl, "Follow-up", `in ${content.follow_up_days} days`);
  }
  row(dl, "Withheld by the assistant", (draft.withheld || []).map(
    (w) => (w.reason ? `${show(w.generic ?? w.name ?? w)}: ${w.reason}` : w)));
  if (!dl.children.length) dl.append(el("dt", "", "Intake"), el("dd", "", "Nothing recorded"));
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
