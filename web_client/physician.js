// The physician desk: sign in, watch the live escalation queue, accept one; review records
// (review.js).
//
// The queue arrives over /api/v1/physician/ws: a snapshot ({"type":"queue"}) then one
// {"type":"escalation","event",...} per change. Items are upserted by id, so an event that
// arrives twice (the snapshot and the stream overlap) changes nothing. Each change records how
// long it took from the server publishing it to the page showing it (window.dhanvantriDesk).
// The same socket says when the review queue changed ({"type":"review_queue",...}: ids and
// states only); review_queue.js hears it as a "dhv:review-queue" window event and refetches,
// and hears "dhv:desk-socket" ({live}) to poll only while the socket is down.

import { API, call, errorText, renew, tokens } from "./desk_api.js";
import { startReview, stopReview } from "./review.js";
import { closeVideo, offerVideo, openMedia, showPatient } from "./physician_video.js";
import { staffSignIn } from "./staff_signin.js";

const RECONNECT_MS = [500, 1000, 2000, 5000];
const REASONS = { red_flag: "Red flag", patient_request: "Patient asked for a doctor",
                  uncertain: "AI uncertain", other: "Needs a doctor",
                  appointment: "Booked video visit: the patient is waiting" };
const WAITING = new Set(["raised", "offered", "timed_out"]);

const $ = (id) => document.getElementById(id);
const desk = { items: new Map(), latencies: [], reviewEvents: [], socket: null,
               physicianId: null, attempt: 0 };
window.dhanvantriDesk = desk;

function nowMs() {
  return performance.timeOrigin + performance.now();
}

function setState(state, text) {
  $("state").dataset.state = state;
  $("state-text").textContent = text;
}

/** Tell the review queue whether pushes arrive (it polls slowly only while they cannot). */
function socketLive(live) {
  window.dispatchEvent(new CustomEvent("dhv:desk-socket", { detail: { live } }));
}

function showError(id, text) {
  const box = $(id);
  box.textContent = text || "";
  box.hidden = !text;
}

// ------------------------------------------------------------------ sign-in
async function signIn(event) {
  event.preventDefault();
  showError("login-error", "");
  const refused = await staffSignIn({ email: $("email").value, password: $("password").value,
                                      totp: $("totp").value });
  if (refused) {
    showError("login-error", refused);
    return;
  }
  $("password").value = "";
  openDesk();
}

function openDesk() {
  $("login").hidden = true;
  $("desk").hidden = false;
  connect();
  startReview({ call, base: API });
}

function signOut() {
  tokens.clear();
  desk.socket?.close(1000);
  desk.socket = null;
  socketLive(false);
  desk.items.clear();
  render();
  stopReview();
  $("desk").hidden = true;
  $("login").hidden = false;
  setState("idle", "Signed out");
}

// ------------------------------------------------------------------ live queue
function connect() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  const socket = new WebSocket(`${scheme}://${location.host}${API}/physician/ws`);
  desk.socket = socket;
  setState("connecting", "Connecting…");
  // The token goes in the first message, not the URL (URLs end up in access logs).
  socket.onopen = () => socket.send(JSON.stringify({ type: "auth", token: tokens.access }));
  socket.onmessage = (message) => onMessage(JSON.parse(message.data));
  socket.onclose = (event) => onClose(socket, event);
}

async function onClose(socket, event) {
  if (desk.socket !== socket) return; // signed out, or replaced
  socketLive(false);
  if (event.code === 4403) {
    showError("desk-error", "This account is not a physician's.");
    setState("error", "Not a physician");
    return;
  }
  if (event.code === 4401 && !(await renew())) {
    signOut();
    showError("login-error", "Your session ended; please sign in again.");
    return;
  }
  const wait = RECONNECT_MS[Math.min(desk.attempt, RECONNECT_MS.length - 1)];
  desk.attempt += 1;
  setState("connecting", "Reconnecting…");
  setTimeout(() => { if (desk.socket === socket) connect(); }, wait);
}

function onMessage(message) {
  if (message.type === "hello") {
    desk.physicianId = message.physician_id;
    desk.attempt = 0;
    setState("listening", "Live");
    showError("desk-error", "");
    socketLive(true); // subscribed: the review queue refetches once and then follows pushes
  } else if (message.type === "queue") {
    desk.items = new Map(message.items.map((item) => [item.id, item]));
    render();
  } else if (message.type === "escalation") {
    const item = message.escalation;
    if (item.status === "resolved") desk.items.delete(item.id);
    else desk.items.set(item.id, item);
    render();
    // Measured after the DOM holds the change: publish on the server to visible here.
    desk.latencies.push({ id: item.id, event: message.event,
                          ms: nowMs() - message.published_at });
  } else if (message.type === "review_queue") {
    desk.reviewEvents.push({ id: message.prescription_id, status: message.status,
                             ms: nowMs() - message.published_at });
    window.dispatchEvent(new CustomEvent("dhv:review-queue", { detail: message }));
  } else if (message.type === "error") {
    showError("desk-error", message.message);
  }
}

function ordered() {
  return [...desk.items.values()].sort((a, b) =>
    (b.emergency - a.emergency) ||
    (WAITING.has(b.status) - WAITING.has(a.status)) ||
    (a.raised_at - b.raised_at));
}

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function describeStatus(item) {
  if (item.status === "accepted") {
    return item.accepted_by === desk.physicianId ? "Accepted by you" : "Accepted by a colleague";
  }
  if (item.status === "timed_out") return "No doctor in time: patient given emergency advice";
  return `Waiting · offered to ${item.offered_to ?? 0} online`;
}

function renderItem(item) {
  const li = element("li", item.emergency ? "emergency" : "");
  li.dataset.id = item.id;
  li.dataset.status = item.status;
  const head = element("div", "row");
  head.append(element("span", "tag kind", item.emergency ? "EMERGENCY" : "Review"),
              element("strong", "reason", REASONS[item.reason] || REASONS.other));
  li.append(head);
  const details = [];
  if (item.red_flags.length) details.push(`Red flags: ${item.red_flags.join(", ").replaceAll("_", " ")}`);
  if (item.topics.length) details.push(`Intake: ${item.topics.join(", ").replaceAll("_", " ")}`);
  if (details.length) li.append(element("div", "summary", details.join(" · ")));
  const raised = new Date(item.raised_at * 1000).toLocaleTimeString();
  li.append(element("div", "meta", `${describeStatus(item)} · raised ${raised}`));
  if (WAITING.has(item.status)) {
    const accept = element("button", "button primary small accept", "Accept");
    accept.type = "button";
    accept.addEventListener("click", () => acceptItem(item.id, accept));
    li.append(accept);
  } else if (item.status === "accepted" && item.accepted_by === desk.physicianId) {
    const actions = element("div", "actions");
    if (live.escalationId !== item.id) {
      const join = element("button", "button primary small join", "Join call");
      join.type = "button";
      join.addEventListener("click", () => joinCall(item, join));
      actions.append(join);
    }
    const resolve = element("button", "button small resolve", "Mark resolved");
    resolve.type = "button";
    resolve.addEventListener("click", () => resolveItem(item.id, resolve));
    actions.append(resolve);
    li.append(actions);
  }
  return li;
}

function render() {
  const list = $("queue");
  const items = ordered();
  list.replaceChildren(...(items.length ? items.map(renderItem)
    : [element("li", "empty", "No consultation needs a doctor right now.")]));
}

async function acceptItem(id, button) {
  button.disabled = true;
  const response = await call(`/escalations/${encodeURIComponent(id)}/accept`, { method: "POST" });
  if (response.ok) {
    const item = await response.json();
    desk.items.set(item.id, item);
    render();
    showError("desk-error", "");
  } else {
    button.disabled = false;
    showError("desk-error", response.status === 409 ? "Another physician accepted it first."
      : await errorText(response));
  }
}

async function resolveItem(id, button) {
  button.disabled = true;
  const response = await call(`/escalations/${encodeURIComponent(id)}/resolve`, { method: "POST" });
  if (response.ok) {
    desk.items.delete(id);
    render();
  } else {
    button.disabled = false;
    showError("desk-error", await errorText(response));
  }
}

// ------------------------------------------------------------------ live call
// The physician hears the call over WebRTC and sees the transcript and the assistant's notes
// on the "events" data channel. Mode changes are POSTed (audited, routed over the bus).
const ICE_GATHER_TIMEOUT_MS = 4000;
const live = { escalationId: null, pc: null, mic: null, channel: null, mode: null,
               events: [], open: {} };
desk.call = live;

function iceGatheringComplete(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ICE_GATHER_TIMEOUT_MS);
    pc.addEventListener("icegatheringstatechange", () => {
      if (pc.iceGatheringState === "complete") { clearTimeout(timer); resolve(); }
    });
  });
}

async function joinCall(item, button, { video = false } = {}) {
  button.disabled = true;
  showError("desk-error", "");
  try {
    live.mic = await openMedia(video); // with the camera for a booked visit
  } catch {
    button.disabled = false;
    showError("desk-error", "The microphone is needed to join the call.");
    return;
  }
  const pc = new RTCPeerConnection();
  Object.assign(live, { escalationId: item.id, pc, mode: "listen", events: [], open: {} });
  pc.addTransceiver(live.mic.getAudioTracks()[0], { direction: "sendrecv", streams: [live.mic] });
  if (video) offerVideo(pc, live.mic);
  live.channel = pc.createDataChannel("events");
  live.channel.onmessage = (e) => onCallEvent(JSON.parse(e.data));
  pc.ontrack = (e) => {
    if (e.track.kind === "video") showPatient(e.track);
    else $("call-audio").srcObject = new MediaStream([e.track]);
  };
  pc.onconnectionstatechange = () => {
    if (pc.connectionState === "failed" && live.pc === pc) endCall("The call connection was lost.");
  };
  await pc.setLocalDescription(await pc.createOffer());
  await iceGatheringComplete(pc);
  const response = await postTo(item.id, "webrtc", { sdp: pc.localDescription.sdp, type: "offer" });
  if (!response.ok) {
    const text = await errorText(response);
    endCall(text);
    return;
  }
  await pc.setRemoteDescription(await response.json());
  $("call-transcript").replaceChildren();
  $("call").hidden = false;
  showMode("listen");
  render();
}

function postTo(id, what, body) {
  return call(`/escalations/${encodeURIComponent(id)}/${what}`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body || {}),
  });
}

async function command(kind) {
  if (!live.escalationId) return;
  const body = kind === "handback" ? { notes: $("handback-notes").value.trim() } : {};
  const response = await postTo(live.escalationId, kind, body);
  if (!response.ok) showError("desk-error", await errorText(response));
  else if (kind === "handback") $("handback-notes").value = "";
}

function showMode(mode) {
  live.mode = mode;
  const badge = $("call-mode");
  badge.dataset.mode = mode;
  badge.textContent = mode === "takeover" ? "You have the call: the assistant is silent"
    : "Listening: the assistant is talking";
  $("takeover").hidden = mode === "takeover";
  $("handback").hidden = mode !== "takeover";
}

function onCallEvent(event) {
  live.events.push(event);
  if (event.type === "transcript") addLine(event.role, String(event.text ?? ""), event.final);
  else if (event.type === "mode" || event.type === "joined") showMode(event.mode);
  else if (event.type === "notes") renderNotes(event);
  else if (event.type === "doctor" && !event.joined) endCall(); // left, or the patient hung up
}

function addLine(role, text, final) {
  const list = $("call-transcript");
  const who = { patient: "Patient", assistant: "Assistant", physician: "You" }[role] || role;
  let line = live.open[role];
  if (!line) {
    if (!text.trim()) return;
    line = element("li", role === "patient" ? "patient" : role);
    line.append(element("span", "who", who), element("span", "text"));
    list.append(line);
    if (role !== "assistant") live.open[role] = line;
  }
  const el = line.querySelector(".text");
  el.textContent = role === "assistant" && el.textContent ? `${el.textContent} ${text}` : text;
  line.classList.toggle("partial", role !== "assistant" && !final);
  if (final && role !== "assistant") delete live.open[role];
  if (role !== "assistant") delete live.open.assistant;
  else live.open = { assistant: line };
  list.scrollTop = list.scrollHeight;
}

function renderNotes(notes) {
  const box = $("call-notes");
  const dl = element("dl");
  const row = (term, value, className) => {
    if (value === null || value === undefined || value === "" ||
        (Array.isArray(value) && !value.length)) return;
    dl.append(element("dt", "", term),
              element("dd", className || "", Array.isArray(value) ? value.join(", ") : String(value)));
  };
  const intake = notes.intake || {};
  row("Red flags", (notes.red_flags || []).map((f) => f.replaceAll("_", " ")), "flags");
  row("Complaint", intake.complaint);
  row("Duration", intake.duration);
  row("Severity", intake.severity);
  row("Symptoms", intake.symptoms);
  row("Denies", intake.denied);
  row("Age", intake.age_years);
  row("Allergies", intake.allergies);
  row("Medicines", intake.medications);
  row("Conditions", intake.conditions);
  row("Still to ask", intake.missing);
  row("Draft", notes.draft ? (notes.draft.diagnosis || "ready for review") : null);
  row("Your notes", notes.physician_notes);
  box.replaceChildren(element("h2", "", "Assistant's working notes"), dl);
}

function endCall(error) {
  const pc = live.pc;
  Object.assign(live, { escalationId: null, pc: null, channel: null, mode: null, open: {} });
  live.mic?.getTracks().forEach((t) => t.stop());
  live.mic = null;
  pc?.close();
  $("call-audio").srcObject = null;
  closeVideo();
  $("call").hidden = true;
  if (error) showError("desk-error", error);
  render();
  document.dispatchEvent(new CustomEvent("dhanvantri:call-ended")); // appointments refresh
}

async function leaveCall() {
  const id = live.escalationId;
  if (id) await postTo(id, "leave");
  endCall();
}

// Ending is for the patient too (told, then hung up; the record goes to review): asked twice.
async function endConsultation() {
  if (!live.escalationId) return;
  const question = "End the consultation for the patient? They will be told, and the call ends.";
  if (!window.confirm(question)) return;
  $("end-call").disabled = true;
  const response = await postTo(live.escalationId, "end");
  $("end-call").disabled = false;
  // On success the call panel closes when the server ends the call (the "doctor" event).
  if (!response.ok) showError("desk-error", await errorText(response));
}

// A booked video visit (physician_appointments.js): join the reserved call with the camera and take
// it over at once; the patient sees and hears the doctor instead of the assistant
// (physician_video.js).
document.addEventListener("dhanvantri:join-visit", async (event) => {
  const { escalationId, button } = event.detail;
  if (live.escalationId) return; // one call at a time
  await joinCall({ id: escalationId }, button, { video: true });
  if (live.escalationId === escalationId) await command("takeover");
});

$("takeover").addEventListener("click", () => command("takeover"));
$("handback").addEventListener("click", () => command("handback"));
$("leave").addEventListener("click", leaveCall);
$("end-call").addEventListener("click", endConsultation);

$("login").addEventListener("submit", signIn);
$("signout").addEventListener("click", signOut);
if (tokens.access) openDesk();
