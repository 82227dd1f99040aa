// The physician desk's appointments: the coming week's bookings (patient, time, state), joining
// a video visit at its time (physician.js takes the call), marking a visit completed or missed
// once its time has come, cancelling one ahead (the patient is refunded in full), the calendar
// file, and the weekly hours patients book into.
//
// The panel starts when the desk opens (it watches #desk's hidden flag, so physician.js needs
// no hook) and refreshes every 30 s while open. Times are shown in the browser's zone; hours
// are entered in the physician's own zone, which the server stores with them.

import { call, errorText, tokens } from "./desk_api.js";

const REFRESH_MS = 30000;
const DAY_MS = 24 * 3600 * 1000;
const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const STATUS_TEXT = { booked: "Booked", completed: "Completed", cancelled: "Cancelled",
  no_show: "No-show" };

const $ = (id) => document.getElementById(id);
const panel = { timer: null, items: [], loads: 0, url: null };
window.dhanvantriAppointments = panel; // tests read how many loads finished

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined && child !== false) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
  }
  return node;
}

function when(iso) {
  return new Date(iso).toLocaleString("en-IN", { weekday: "short", day: "numeric",
    month: "short", hour: "2-digit", minute: "2-digit" });
}

function showError(text) {
  const box = $("appointments-error");
  box.textContent = text || "";
  box.hidden = !text;
}

/** The signed-in physician's id, from the access token's subject. */
function physicianId() {
  try {
    const payload = tokens.access.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(payload)).sub;
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------ the week's bookings
async function load() {
  if (!tokens.access) return;
  const from = new Date(Date.now() - DAY_MS / 2);
  const to = new Date(from.getTime() + 8 * DAY_MS);
  const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString() });
  const response = await call(`/appointments?${query}`);
  if (!response.ok) {
    showError(await errorText(response));
    return;
  }
  showError("");
  panel.items = (await response.json()).items;
  render();
  panel.loads += 1;
}

function render() {
  const list = $("appointments-list");
  const now = Date.now();
  list.replaceChildren(...(panel.items.length ? panel.items.map((a) => item(a, now))
    : [el("li", { class: "empty" }, "No appointments this week.")]));
}

function item(appt, now) {
  const begun = new Date(appt.starts_at).getTime() <= now;
  const actions = el("div", { class: "actions" });
  if (appt.visit?.open) {
    // The video visit's window (the server's clock): straight into the call, no queue.
    const join = el("button", { class: "button small primary", type: "button",
      id: `join-${appt.id}`, onclick: () => joinVisit(appt, join) }, "Join video visit");
    actions.append(join);
  }
  if (appt.status === "booked" && begun) {
    actions.append(
      el("button", { class: "button small primary", type: "button", id: `complete-${appt.id}`,
        onclick: () => act(appt, "complete") }, "Visit completed"),
      el("button", { class: "button small", type: "button", id: `no-show-${appt.id}`,
        onclick: () => act(appt, "no-show") }, "Patient did not come"));
  } else if (appt.status === "booked") {
    const cancel = el("button", { class: "button small", type: "button", id: `cancel-${appt.id}`,
      onclick: () => {
        // A second click confirms: the patient loses the time (and is refunded in full).
        if (cancel.dataset.confirm === "yes") {
          act(appt, "cancel");
        } else {
          cancel.dataset.confirm = "yes";
          cancel.textContent = "Cancel this appointment? Click again";
        }
      } }, "Cancel (full refund)");
    actions.append(cancel);
  }
  return el("li", { class: "appointment", dataset: { id: appt.id, status: appt.status } },
    el("div", { class: "row" },
      el("strong", {}, when(appt.starts_at)),
      el("span", { class: "tag" }, STATUS_TEXT[appt.status] ?? appt.status),
      el("span", { class: "meta" }, appt.source === "intake" ? "after an AI intake"
        : appt.source === "follow_up" ? "follow-up" : "booked directly")),
    el("div", { class: "meta patient" }, appt.patient_name || "Patient (name not given)"),
    actions);
}

document.addEventListener("dhanvantri:call-ended", () => load()); // a visit may have ended

/** Take the visit's call: the server hands over the escalation reserved for this physician,
 * and physician.js joins it and takes over at once (the "dhanvantri:join-visit" event). */
async function joinVisit(appt, button) {
  button.disabled = true;
  const response = await call(`/appointments/${appt.id}/visit/join`, { method: "POST" });
  button.disabled = false;
  if (!response.ok) {
    showError(await errorText(response));
    return;
  }
  showError("");
  const visit = await response.json();
  document.dispatchEvent(new CustomEvent("dhanvantri:join-visit",
    { detail: { escalationId: visit.escalation_id, button } }));
}

async function act(appt, action) {
  const response = await call(`/appointments/${appt.id}/${action}`, { method: "POST" });
  if (!response.ok) showError(await errorText(response));
  await load();
}

async function downloadCalendar() {
  const response = await call("/appointments/calendar.ics");
  if (!response.ok) {
    showError(await errorText(response));
    return;
  }
  if (panel.url) URL.revokeObjectURL(panel.url);
  panel.url = URL.createObjectURL(await response.blob());
  const link = $("appointments-ics-link");
  link.href = panel.url;
  link.hidden = false;
  link.click();
}

// ------------------------------------------------------------------ weekly hours
async function loadHours() {
  const id = physicianId();
  if (!id) return;
  const response = await call(`/physicians/${id}/hours`);
  const summary = $("hours-summary");
  if (response.status === 404) {
    summary.textContent = "You have not set appointment hours: patients cannot book you yet.";
    return;
  }
  if (!response.ok) return;
  const hours = await response.json();
  const spans = new Map(); // the same hours on several days are said once
  for (const w of hours.weekly) {
    const span = `${w.start}–${w.end}`;
    spans.set(span, [...(spans.get(span) ?? []), DAYS[w.weekday]]);
  }
  const days = [...spans].map(([span, names]) =>
    `${names.length === 7 ? "Every day" : names.join(", ")} ${span}`).join("; ");
  summary.textContent = `${days} (${hours.time_zone}), ${hours.slot_minutes}-minute slots, `
    + `fee ₹${hours.fee}`;
  const first = hours.weekly[0];
  if (first) {
    $("hours-start").value = first.start;
    $("hours-end").value = first.end;
  }
  for (const box of document.querySelectorAll("#hours-days input")) {
    box.checked = hours.weekly.some((w) => String(w.weekday) === box.value);
  }
  $("hours-zone").value = hours.time_zone;
  $("hours-minutes").value = String(hours.slot_minutes);
  $("hours-fee").value = hours.fee;
}

async function saveHours(event) {
  event.preventDefault();
  const days = [...document.querySelectorAll("#hours-days input:checked")].map((b) => Number(b.value));
  const body = {
    time_zone: $("hours-zone").value.trim() || "Asia/Kolkata",
    slot_minutes: Number($("hours-minutes").value),
    fee: $("hours-fee").value.trim(),
    weekly: days.map((weekday) => ({ weekday, start: $("hours-start").value,
      end: $("hours-end").value })),
  };
  const response = await call("/availability", { method: "PUT", body: JSON.stringify(body),
    headers: { "Content-Type": "application/json" } });
  const status = $("hours-status");
  if (!response.ok) {
    status.textContent = await errorText(response);
    return;
  }
  status.textContent = "Saved.";
  await loadHours();
}

// ------------------------------------------------------------------ start and stop
function opened() {
  clearInterval(panel.timer);
  load().catch((err) => showError(String(err)));
  loadHours().catch(() => {});
  panel.timer = setInterval(() => load().catch(() => {}), REFRESH_MS);
}

function closed() {
  clearInterval(panel.timer);
  panel.timer = null;
  panel.items = [];
}

function watch() {
  const desk = $("desk");
  if (!desk || !$("appointments")) return;
  $("appointments-refresh").addEventListener("click", () => load());
  $("appointments-ics").addEventListener("click", downloadCalendar);
  $("hours-form").addEventListener("submit", saveHours);
  $("hours-toggle").addEventListener("click", () => {
    const open = $("hours-box").hidden;
    $("hours-box").hidden = !open;
    $("hours-toggle").setAttribute("aria-expanded", String(open));
  });
  new MutationObserver(() => (desk.hidden ? closed() : opened()))
    .observe(desk, { attributes: true, attributeFilter: ["hidden"] });
  if (!desk.hidden) opened();
}

watch();
