// The physician's review workspace: the queue (review_queue.js) and one open record.
//
// In an open record every change to a medicine line is saved (PUT) and the server runs the
// safety gate again; its issues are drawn beside the line they concern (review_view.js).
// Approve, reject and e-sign follow the API's state machine; each 4xx is said in words. Facts
// the patient stated in the call are confirmed into their profile from the Patient card.

import {
  $, drawIntake, drawPatient, drawReasoning, drawSafety, drawTranscript, el, readError,
  showAlert,
} from "./review_view.js";
import { drawConsultation, readConsultation } from "./review_consultation.js";
import { ReviewQueue } from "./review_queue.js";

// A pause in typing this long counts as an edit: the gate runs while the physician reads on.
const IDLE_SAVE_MS = 700;
const MED_FIELDS = [["name", "Name", 200], ["dose", "Dose", 200], ["frequency", "Frequency", 200],
                    ["duration", "Duration", 200], ["route", "Route", 100],
                    ["instructions", "Instructions", 500]];
const CONTENT_KEYS = ["diagnosis", "diagnosis_confidence", "lab_tests", "advice", "red_flags",
                      "follow_up_days"];
// The edit API takes HIGH, MEDIUM or LOW; the knowledge draft says "moderate" for the middle.
const CONFIDENCE = { HIGH: "HIGH", MEDIUM: "MEDIUM", MODERATE: "MEDIUM", LOW: "LOW" };
const STATUS = { pending_review: "Awaiting review", approved: "Approved: awaiting signature",
                 rejected: "Rejected", signed: "Signed", acknowledged: "Acknowledged by patient",
                 released: "Released" };
const ISSUED = new Set(["signed", "acknowledged", "released"]);
const STALE = new Set(["PRESCRIPTION_LOCKED", "INVALID_STATE", "NOT_FOUND"]);

const review = { api: null, queue: null, record: null, sent: [], saving: null, dirty: false,
                 changed: false, idle: null, session: null, pdfUrl: null };

const enc = encodeURIComponent;

function send(method, path, body) {
  const options = { method };
  if (body !== undefined) {
    options.headers = { "Content-Type": "application/json" };
    options.body = JSON.stringify(body);
  }
  return review.api.call(path, options);
}

function button(text, className) {
  const node = el("button", className, text);
  node.type = "button";
  return node;
}

// ------------------------------------------------------------------ start and stop
/** Start the workspace; ``api`` gives ``call(path, options)`` and ``base`` (the API's path). */
export function startReview(api) {
  review.api = api;
  review.queue ??= new ReviewQueue((path) => api.call(path), openRecord);
  review.queue.start();
}

/** Stop polling and forget what was shown (sign-out). */
export function stopReview() {
  closeRecord();
  review.queue?.stop();
}

// ------------------------------------------------------------------ record
async function openRecord(id) {
  const response = await review.api.call(`/prescriptions/${enc(id)}`);
  if (!response.ok) {
    showAlert("review-error", (await readError(response)).text);
    return;
  }
  closeRecord();
  showRecord(await response.json());
  $("record").hidden = false;
  review.queue.select(id);
  $("record-title").focus();
}

async function reload() {
  const id = review.record?.id;
  if (!id) return;
  const response = await review.api.call(`/prescriptions/${enc(id)}`);
  if (response.ok && review.record?.id === id) showRecord(await response.json());
}

function showRecord(rx) {
  Object.assign(review, { record: rx, changed: false, dirty: false });
  $("record-title").textContent = `Record: ${rx.content?.diagnosis || "needs assessment"}`;
  drawIntake(rx);
  drawReasoning(rx);
  drawTranscript(rx);
  const lines = (rx.content?.medications || []).map(lineNode);
  $("rx-lines").replaceChildren(...lines);
  numberLines();
  review.sent = markSent(lines);
  drawSafety(rx.safety, review.sent, lines);
  drawConsultation(rx);
  $("rx-saved").textContent = `Version ${rx.version}`;
  applyStatus(rx);
}

function drawRecordPatient() {
  const rx = review.record;
  drawPatient(rx, review.queue.name(rx.id), rx.status === "pending_review" ? confirmFacts : null);
}

/** Confirm facts the patient stated in the call into their profile (the card redraws). */
async function confirmFacts(facts, control) {
  const rx = review.record;
  control.disabled = true;
  let response;
  try {
    response = await send("POST", `/prescriptions/${enc(rx.id)}/profile`, facts);
  } catch {
    control.disabled = false;
    showAlert("record-error", "Not confirmed: the server cannot be reached.");
    return;
  }
  if (review.record?.id !== rx.id) return;
  if (!response.ok) {
    control.disabled = false;
    stale(await readError(response));
    return;
  }
  const body = await response.json();
  Object.assign(review.record, { patient: body.patient, stated: body.stated });
  drawRecordPatient();
  showAlert("record-error", "");
  // Focus stays in the card: on the next fact to confirm, else on the card itself.
  ($("record-patient").parentElement.querySelector("button") || $("record-patient")).focus();
}

function closeRecord() {
  clearTimeout(review.idle);
  busy(false);
  if (review.pdfUrl) URL.revokeObjectURL(review.pdfUrl);
  Object.assign(review, { record: null, sent: [], session: null, pdfUrl: null, changed: false });
  $("record").hidden = true;
  for (const id of ["record-error", "record-notice"]) showAlert(id, "");
  $("reject-reason").value = "";
  $("sign-start").textContent = "Send signing code";
  $("signed-pdf").href = "#";
  $("verify-result").textContent = "";
}

function applyStatus(rx) {
  const editable = rx.status === "pending_review";
  for (const control of $("rx-form").querySelectorAll("input, select")) control.disabled = !editable;
  for (const control of $("rx-form").querySelectorAll("button")) control.hidden = !editable;
  drawRecordPatient(); // stated facts are offered for confirmation during review only
  const status = $("record-status");
  status.textContent = `${rx.urgent ? "Urgent · " : ""}${STATUS[rx.status] || rx.status}`;
  status.dataset.urgent = String(rx.urgent && editable);
  $("decide").hidden = !["pending_review", "approved"].includes(rx.status);
  $("rx-approve").hidden = !editable;
  $("esign").hidden = rx.status !== "approved";
  $("sign-form").hidden = !review.session;
  $("signed").hidden = !ISSUED.has(rx.status);
  if (rx.status === "rejected") showAlert("record-notice", `Rejected: ${rx.rejection_reason}`);
  else if (rx.status === "approved" && !review.session) {
    showAlert("record-notice", "Approved. Send yourself a signing code to sign it.");
  } else if (ISSUED.has(rx.status)) {
    showAlert("record-notice", "Signed: the prescription is issued.");
    showSigned(rx);
  } else if (rx.status === "pending_review") showAlert("record-notice", "");
}

function stale(error) {
  showAlert("record-error", error.text);
  if (STALE.has(error.code)) {
    reload();
    review.queue.refresh();
  }
}

// ------------------------------------------------------------------ medicine lines
function lineNode(med) {
  const node = el("fieldset", "med");
  node.append(el("legend"));
  for (const [field, label, limit] of MED_FIELDS) {
    const wrap = el("label", field === "name" || field === "instructions" ? "wide" : "", label);
    const input = el("input");
    Object.assign(input, { name: field, value: med[field] || "", maxLength: limit,
                           autocomplete: "off", spellcheck: false });
    wrap.append(input);
    node.append(wrap);
  }
  const issues = el("ul", "issues");
  issues.setAttribute("aria-live", "polite");
  const actions = el("div", "line-actions");
  const remove = button("Remove", "button small remove");
  remove.addEventListener("click", () => removeLine(node));
  actions.append(remove);
  node.append(issues, actions);
  return node;
}

function numberLines() {
  [...$("rx-lines").children].forEach((node, i) => {
    node.dataset.line = String(i);
    node.querySelector("legend").textContent = `Medicine ${i + 1}`;
    node.querySelector(".remove").setAttribute("aria-label", `Remove medicine ${i + 1}`);
  });
}

function readLine(node) {
  return Object.fromEntries(MED_FIELDS.map(([field]) => [
    field, node.querySelector(`[name="${field}"]`).value.trim()]));
}

// Remember the name each line had when the gate saw it: issues name medicines as sent.
function markSent(nodes) {
  for (const node of nodes) node.dataset.sentName = readLine(node).name.toLowerCase();
  return nodes;
}

function addLine() {
  const node = lineNode({});
  $("rx-lines").append(node);
  numberLines();
  node.querySelector("input").focus();
}

function removeLine(node) {
  const next = node.nextElementSibling || node.previousElementSibling;
  node.remove();
  numberLines();
  (next?.querySelector("input") || $("rx-add")).focus();
  save();
}

// The whole content goes back (the API replaces it), with only the medicines changed here.
function contentBody(content, medications) {
  const body = Object.fromEntries(CONTENT_KEYS.map((key) => [key, content?.[key]]));
  const level = String(body.diagnosis_confidence || "").toUpperCase();
  body.diagnosis_confidence = CONFIDENCE[level] || "";
  for (const key of ["lab_tests", "advice", "red_flags"]) body[key] = body[key] || [];
  body.diagnosis = body.diagnosis || "";
  body.follow_up_days = body.follow_up_days ?? null;
  return { ...body, medications };
}

/** Save the lines (one request at a time; changes made meanwhile go in the next). */
function save() {
  clearTimeout(review.idle);
  if (review.saving) {
    review.dirty = true;
    return review.saving;
  }
  busy(true);
  review.saving = (async () => {
    let ok = true;
    do {
      review.dirty = false;
      ok = await putLines();
    } while (ok && review.dirty);
    return ok;
  })().finally(() => {
    review.saving = null;
    busy(review.changed); // still busy while typed changes wait for their pause
  });
  return review.saving;
}

// aria-busy: unsaved changes or a save in flight (assistive technology, and tests, wait on it).
function busy(on) {
  $("rx-form").setAttribute("aria-busy", String(on));
}

async function putLines() {
  const rx = review.record;
  if (!rx || rx.status !== "pending_review") return false;
  const nodes = [...$("rx-lines").children];
  // A line without a name cannot be checked; it waits here until it has one.
  const named = nodes.filter((node) => readLine(node).name);
  review.changed = false;
  $("rx-saved").textContent = "Saving: the safety check runs again…";
  let response;
  try {
    response = await send("PUT", `/prescriptions/${enc(rx.id)}`,
                          { ...contentBody(rx.content, named.map(readLine)),
                            consultation: readConsultation() });
  } catch {
    review.changed = true; // the next edit, or approving, tries again
    $("rx-saved").textContent = "Not saved: the server cannot be reached";
    return false;
  }
  if (review.record?.id !== rx.id) return false; // closed or replaced meanwhile
  if (!response.ok) {
    $("rx-saved").textContent = "Not saved";
    stale(await readError(response, named));
    return false;
  }
  review.record = await response.json();
  review.sent = markSent(named);
  drawSafety(review.record.safety, review.sent, nodes);
  drawConsultation(review.record);
  const waiting = nodes.length - named.length;
  $("rx-saved").textContent = `Saved · version ${review.record.version}`
    + (waiting ? " · a medicine without a name is not saved yet" : "");
  showAlert("record-error", "");
  return true;
}

function onEdit(event) {
  if (!event.target.matches("input, select")) return;
  clearTimeout(review.idle);
  if (event.type === "input") {
    review.changed = true;
    busy(true);
    review.idle = setTimeout(save, IDLE_SAVE_MS);
  } else if (review.changed) save(); // leaving a field saves what the pause has not yet
}

// ------------------------------------------------------------------ decisions
async function approve() {
  const rx = review.record;
  const unnamed = [...$("rx-lines").children].find((node) => !readLine(node).name);
  if (unnamed) {
    showAlert("record-error", `${unnamed.querySelector("legend").textContent} has no name: `
      + "name it or remove it before approving.");
    unnamed.querySelector("input").focus();
    return;
  }
  if ((review.changed || review.saving) && !(await save())) return;
  const response = await send("POST", `/prescriptions/${enc(rx.id)}/approve`);
  if (review.record?.id !== rx.id) return;
  if (!response.ok) {
    const error = await readError(response, review.sent);
    if (error.code === "SAFETY_BLOCKED") {
      drawSafety({ blocked: true, issues: error.details?.issues || [] }, review.sent,
                 [...$("rx-lines").children]);
    }
    stale(error);
    return;
  }
  review.record = await response.json();
  showAlert("record-error", "");
  applyStatus(review.record);
  $("sign-start").focus();
  review.queue.refresh();
}

async function reject() {
  const rx = review.record;
  const field = $("reject-reason");
  const reason = field.value.trim();
  field.setAttribute("aria-invalid", String(!reason));
  if (!reason) {
    showAlert("record-error", "Give a reason to reject this record.");
    field.focus();
    return;
  }
  const response = await send("POST", `/prescriptions/${enc(rx.id)}/reject`, { reason });
  if (review.record?.id !== rx.id) return;
  if (!response.ok) {
    stale(await readError(response));
    return;
  }
  review.record = await response.json();
  showAlert("record-error", "");
  applyStatus(review.record);
  review.queue.refresh();
}

// ------------------------------------------------------------------ e-sign
async function startSigning() {
  const rx = review.record;
  const response = await send("POST", `/prescriptions/${enc(rx.id)}/sign`);
  if (!response.ok) {
    stale(await readError(response));
    return;
  }
  review.session = await response.json();
  const expires = new Date(review.session.expires_at).toLocaleTimeString();
  showAlert("record-error", "");
  showAlert("record-notice", `A 6-digit signing code has been sent to you; it expires at ${expires}.`);
  $("sign-start").textContent = "Send a new code";
  $("sign-form").hidden = false;
  $("sign-otp").value = "";
  $("sign-otp").focus();
}

async function completeSigning(event) {
  event.preventDefault();
  const rx = review.record;
  const otp = $("sign-otp").value.trim();
  if (!/^[0-9]{6}$/.test(otp)) {
    showAlert("record-error", "Enter the 6-digit signing code.");
    $("sign-otp").focus();
    return;
  }
  const response = await send("POST", `/prescriptions/${enc(rx.id)}/sign/complete`,
                              { session_id: review.session?.session_id, otp });
  if (!response.ok) {
    stale(await readError(response));
    $("sign-otp").select();
    return;
  }
  review.record = await response.json();
  review.session = null;
  showAlert("record-error", "");
  applyStatus(review.record);
}

async function showSigned(rx) {
  const verifyUrl = `${location.origin}${review.api.base}/prescriptions/${rx.id}/verify`;
  const link = $("verify-link");
  Object.assign(link, { href: verifyUrl, textContent: verifyUrl, target: "_blank", rel: "noopener" });
  const [pdf, verification] = await Promise.all([
    review.api.call(`/prescriptions/${enc(rx.id)}/pdf`),
    fetch(`${review.api.base}/prescriptions/${enc(rx.id)}/verify`),
  ]);
  if (review.record?.id !== rx.id) return;
  if (pdf.ok) {
    if (review.pdfUrl) URL.revokeObjectURL(review.pdfUrl);
    review.pdfUrl = URL.createObjectURL(await pdf.blob());
    Object.assign($("signed-pdf"), { href: review.pdfUrl, download: `prescription-${rx.id}.pdf` });
  } else showAlert("record-error", (await readError(pdf)).text);
  const result = $("verify-result");
  const body = verification.ok ? await verification.json() : { valid: false };
  result.dataset.valid = String(Boolean(body.valid));
  result.textContent = body.valid
    ? "Verified: the signature, the content and the PDF match."
    : `Not verified: ${body.reason || "the verification failed"}.`;
}

$("record-patient").tabIndex = -1;
$("rx-form").addEventListener("input", onEdit);
$("rx-form").addEventListener("change", onEdit);
$("rx-form").addEventListener("submit", (event) => { event.preventDefault(); save(); });
$("rx-add").addEventListener("click", addLine);
$("rx-approve").addEventListener("click", approve);
$("rx-reject").addEventListener("click", reject);
$("sign-start").addEventListener("click", startSigning);
$("sign-form").addEventListener("submit", completeSigning);
$("record-close").addEventListener("click", () => {
  const id = review.record?.id;
  closeRecord();
  review.queue.select(null);
  review.queue.focus(id);
});
