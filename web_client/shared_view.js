// A doctor elsewhere opens what a patient shared (/shared#<token>): the link says what it is,
// the patient reads out a 6-digit code, and the right code opens a read-only session for this
// share alone, until it expires or the patient revokes it. The token stays in the fragment
// (never sent to a server); the session lives only in this tab.

import { h, showError } from "./care_dom.js";

const API = "/api/v1/shares";
const KINDS = { record: "their health record", prescription: "a prescription", lab_report: "a lab report" };
const ENDED = {
  SHARE_REVOKED: "The patient has ended this share.",
  SHARE_EXPIRED: "This share has expired.",
  SHARE_LOCKED: "Too many wrong codes: this share is locked. Ask the patient to share again.",
  CONFLICT: "This share was already opened on another device.",
  NOT_FOUND: "No such share. Scan the QR code again.",
  RATE_LIMITED: "Too many tries from here. Wait a minute and try again.",
};
const $ = (id) => document.getElementById(id);
const view = { token: "", session: null, timer: null };

async function post(path, body) {
  let response;
  try {
    response = await fetch(API + path, {
      method: "POST", cache: "no-store", referrerPolicy: "no-referrer",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    return { ok: false, error: { code: "NETWORK" } };
  }
  const data = await response.json().catch(() => ({}));
  return response.ok ? { ok: true, data } : { ok: false, error: data.error ?? {} };
}

function ended(code) {
  clearTimeout(view.timer);
  view.session = null;
  sessionStorage.removeItem(storeKey());
  $("code-form").hidden = true;
  $("shared").replaceChildren();
  $("share-state").replaceChildren(h("span", { class: "ended-box", id: "share-ended" },
    ENDED[code] ?? "Could not reach the server. Check the internet connection and try again."));
}

function storeKey() {
  return `dhanvantri.share.${view.token.slice(0, 12)}`;
}

function until(iso) {
  return new Date(iso).toLocaleString("en-IN", { dateStyle: "medium", timeStyle: "short" });
}

// ---- drawing what was shared (text nodes only: nothing is parsed as HTML)
function facts(patient) {
  const row = (label, value) => h("div", {}, h("dt", {}, label), h("dd", {},
    Array.isArray(value) ? (value.length ? value.join(", ") : "None recorded") : (value || "Not recorded")));
  return h("section", { class: "card", "aria-labelledby": "shared-patient" },
    h("h2", { id: "shared-patient" }, patient.full_name || "Patient"),
    h("dl", { class: "card-facts" }, row("Date of birth", patient.date_of_birth), row("Sex", patient.sex),
      row("Allergies", patient.allergies), row("Conditions", patient.conditions),
      row("Current medicines", patient.medicines)));
}

function prescription(rx) {
  const content = rx.content ?? {};
  const meds = (content.medications ?? []).map((m) => h("li", {},
    [m.name, m.dose, m.frequency, m.duration].filter(Boolean).join(" · ")));
  const doctor = rx.physician ? `Dr ${rx.physician.full_name ?? ""}`.trim() : "";
  return h("li", { dataset: { id: rx.id } },
    h("span", { class: "title" }, content.diagnosis ?? "Prescription"),
    h("span", { class: "help" }, [doctor, rx.signed_at ? `signed ${until(rx.signed_at)}` : ""]
      .filter(Boolean).join(" · ")),
    meds.length ? h("ul", { class: "rx-meds" }, meds)
      : h("p", { class: "help" }, "Its content shows once the patient has acknowledged it."));
}

function report(lab) {
  return h("li", { dataset: { id: lab.id } },
    h("span", { class: "title" }, `Lab report: ${lab.tests.join(", ")}`),
    h("ul", {}, lab.results.map((r) => h("li", { dataset: { flag: r.flag ?? "" } },
      `${r.analyte}: ${r.value} ${r.unit ?? ""}${r.flag && r.flag !== "normal" ? ` (${r.flag})` : ""}`))));
}

function draw(shared) {
  const c = shared.content;
  const parts = [];
  if (shared.kind === "record") {
    parts.push(facts(c.patient));
    parts.push(h("section", { class: "card", "aria-labelledby": "shared-rx" },
      h("h2", { id: "shared-rx" }, "Prescriptions"),
      c.prescriptions.length ? h("ul", { class: "care-list share-list" }, c.prescriptions.map(prescription))
        : h("p", { class: "empty-state" }, "None signed yet.")));
    parts.push(h("section", { class: "card", "aria-labelledby": "shared-labs" },
      h("h2", { id: "shared-labs" }, "Lab reports"),
      c.lab_reports.length ? h("ul", { class: "care-list share-list" }, c.lab_reports.map(report))
        : h("p", { class: "empty-state" }, "None yet.")));
  } else if (shared.kind === "prescription") {
    parts.push(h("section", { class: "card" }, h("ul", { class: "care-list share-list" }, prescription(c))));
  } else {
    parts.push(h("section", { class: "card" }, h("ul", { class: "care-list share-list" }, report(c))));
  }
  $("shared").replaceChildren(...parts);
  $("share-state").textContent = `Read-only until ${until(shared.expires_at)}.`;
  clearTimeout(view.timer);
  const left = new Date(shared.expires_at) - Date.now();
  view.timer = setTimeout(() => ended("SHARE_EXPIRED"), Math.min(Math.max(left, 0), 2 ** 31 - 1));
}

async function load() {
  const answer = await post("/view", { session: view.session });
  if (answer.ok) draw(answer.data);
  else ended(answer.error.code === "TOKEN_INVALID" ? "NOT_FOUND" : answer.error.code);
}

async function start() {
  view.token = location.hash.replace(/^#/, "");
  if (!/^[A-Za-z0-9_-]{43}$/.test(view.token)) {
    ended("NOT_FOUND");
    return;
  }
  view.session = sessionStorage.getItem(storeKey());
  if (view.session) {
    await load();
    return;
  }
  const link = await post("/open", { token: view.token });
  if (!link.ok) {
    ended(link.error.code);
    return;
  }
  $("share-title").textContent = `A patient shared ${KINDS[link.data.kind]} with you`;
  $("share-state").textContent = `Ask the patient for the code. The share lasts until ${until(link.data.expires_at)}.`;
  $("code-form").hidden = false;
  $("share-code").focus();
}

$("code-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = $("share-code");
  const error = $("share-code-error");
  const code = input.value.replace(/\s/g, "");
  if (!/^[0-9]{6}$/.test(code)) {
    showError(error, "Enter the six digits the patient reads out.", input);
    return;
  }
  const button = $("share-open");
  button.disabled = true;
  const answer = await post("/unlock", { token: view.token, code });
  button.disabled = false;
  if (answer.ok) {
    view.session = answer.data.session;
    sessionStorage.setItem(storeKey(), view.session);
    showError(error, "", input);
    $("code-form").hidden = true;
    await load();
  } else if (answer.error.code === "OTP_INVALID") {
    const left = answer.error.details?.attempts_left;
    showError(error, `That code is not right. ${left} ${left === 1 ? "try" : "tries"} left.`, input);
  } else {
    ended(answer.error.code);
  }
});

start();
