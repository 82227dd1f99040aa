// The patient page: sign in by phone, start a consultation over WebRTC, talk, see the
// transcript, hang up.
//
// Plain browser JavaScript (an ES module), no build step. The server answers one SDP offer per
// consultation (no trickle ICE, no STUN), sends reply audio and the avatar's video, and JSON
// events on the "events" data channel. Where WebRTC is missing or cannot connect, the page joins
// over the WebSocket fallback instead (ws_call.js). A signed-in patient's token goes with every consultation
// request, so the consultation is theirs; a guest (only where the server allows demos) sends none.
// Opened as /?for=<id> (the care page's Family section), it is a dependent's consultation: the
// server's permission layer decides whether this caller may, and the record goes to them.
// Opened as /?visit=<appointment id> (the care page's "Join your visit"), it is that appointment's
// video visit: the waiting room until the booked doctor joins (visit.js).

import { ApiError, PatientSession, postJson } from "./auth.js";
import { FallbackAvatar } from "./avatar_fallback.js";
import { meter, openMicrophone } from "./microphone.js";
import { PatientError } from "./patient_error.js";
import { offerBooking, showDoctor, showEscalation, showEscalationNews } from "./notices.js";
import { SignIn } from "./signin.js";
import { transcript } from "./transcript.js";
import { showVisit, visitBody, visitId } from "./visit.js";
import { closeVideo, offerVideo, openCamera, showSource } from "./visit_video.js";
import { WsCall } from "./ws_call.js";

const API = "/api/v1/consultations";
const CONNECT_TIMEOUT_MS = 20000;
const ICE_GATHER_TIMEOUT_MS = 4000;
const VIDEO_GRACE_MS = 5000; // draw the avatar in the page if no video frame arrives by then

const STATE_TEXT = {
  idle: "Not connected",
  connecting: "Connecting…",
  listening: "Listening",
  thinking: "Thinking…",
  speaking: "Speaking",
  error: "Disconnected",
};

const SERVER_ERRORS = {
  SERVER_BUSY: "The clinic is busy right now. Please try again in a few minutes.",
  NOT_READY: "The clinic's assistant is still starting up. Please try again in a minute.",
  UNAUTHORIZED: "Please sign in to start a consultation.",
  FORBIDDEN: "Your level in this family does not allow starting a consultation for them.",
};
// Answers that mean "sign in (again)": the page goes back to the sign-in card.
const SIGN_IN_AGAIN = new Set(["UNAUTHORIZED", "TOKEN_EXPIRED", "TOKEN_INVALID", "TOKEN_REUSED",
  "ACCOUNT_DISABLED"]);
// How often the page asks whether the server allows guests while its models are still loading.
const HEALTH_RETRY_MS = 3000;

const $ = (id) => document.getElementById(id);
const ui = {
  start: $("start"), stop: $("stop"), retry: $("retry"), hint: $("hint"),
  state: $("state"), stateText: $("state-text"),
  video: $("avatar"), fallback: $("avatar-fallback"), frame: document.querySelector(".avatar-frame"),
  alert: $("alert"), alertText: $("alert-text"), escalation: $("escalation"),
  transcript: $("transcript"), micLevel: $("mic-level"),
  detailId: $("detail-id"), detailLatency: $("detail-latency"), detailConnection: $("detail-connection"),
  signinView: $("signin-view"), consultView: $("consult-view"),
  accountWho: $("account-who"), signout: $("signout"), toSignin: $("to-signin"),
  myCare: $("my-care"), forWhom: $("for-whom"),
};

// Whom the consultation is for: a dependent's id from the address (null: the caller).
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const forId = new URLSearchParams(window.location.search).get("for");
const forWhom = UUID.test(forId ?? "") ? forId.toLowerCase() : null;

// ---------------------------------------------------------------- page state

function setState(value) {
  ui.state.dataset.state = value;
  ui.stateText.textContent = STATE_TEXT[value] ?? value;
}

function showAlert(message, { retry = false, kind = "error" } = {}) {
  ui.alertText.textContent = message;
  ui.alert.dataset.kind = kind;
  ui.retry.hidden = !retry;
  ui.alert.hidden = false;
}

function hideAlert() {
  ui.alert.hidden = true;
}

function setRunning(running) {
  ui.start.hidden = running;
  ui.stop.hidden = !running;
  ui.start.disabled = false;
}

// ---------------------------------------------------------------- server calls

/** The body that creates a consultation: for the dependent named in the address, if any. */
function newConsultation() {
  if (visitId) return visitBody(); // a booked appointment's video visit (visit.js)
  return forWhom ? { patient_id: forWhom } : {};
}

/** GET ``url`` as the signed-in patient; the parsed answer, or an ``ApiError``. */
async function getJson(url) {
  return patient.call(async (headers) => {
    let response;
    try {
      response = await fetch(url, { headers: { Accept: "application/json", ...headers } });
    } catch {
      throw new ApiError(0, { message: "network" });
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new ApiError(response.status, data.error);
    return data;
  });
}

/** POST ``body`` as the signed-in patient (or a guest); a ``PatientError`` on failure. */
async function api(url, body) {
  try {
    return await patient.call((headers) => postJson(url, body, headers));
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.code === "NETWORK") {
      throw new PatientError(
        "Could not reach the clinic. Check your internet connection and try again.",
        { code: "network" });
    }
    const message = SERVER_ERRORS[err.code] ??
      (err.status >= 500 ? "The clinic's server had a problem. Please try again." : err.message);
    throw new PatientError(message, { code: err.code });
  }
}

function iceGatheringComplete(pc) {
  if (pc.iceGatheringState === "complete") return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      pc.removeEventListener("icegatheringstatechange", check);
      clearTimeout(timer);
      resolve();
    };
    const check = () => pc.iceGatheringState === "complete" && done();
    // Without STUN, gathering ends at once; the timeout only guards odd networks.
    const timer = setTimeout(done, ICE_GATHER_TIMEOUT_MS);
    pc.addEventListener("icegatheringstatechange", check);
  });
}

// ---------------------------------------------------------------- one consultation

class Consultation {
  constructor() {
    this.id = null;
    this.pc = null;
    this.call = null; // the WebSocket fallback, when used
    this.channel = null;
    this.mic = null;
    this.camera = null; // a booked visit's camera (visit_video.js)
    this.stopMeter = () => {};
    this.remote = new MediaStream();
    this.ended = false;
    this.endedByDoctor = false; // told so: the server's hang-up that follows is no failure
    this.events = []; // every event received, for support and diagnostics
    this.fallback = new FallbackAvatar(ui.fallback);
    this.videoTimer = null;
    this.connectTimer = null;
  }

  async start() {
    setState("connecting");
    ui.frame.classList.add("running");
    this.mic = await openMicrophone();
    this.stopMeter = meter(this.mic, ui.micLevel);
    const created = await api(API, newConsultation());
    this.joined(created);
    if (!window.RTCPeerConnection) {
      await this.overWebSocket(created);
      return;
    }

    const pc = new RTCPeerConnection({ iceServers: [] });
    this.pc = pc;
    const [track] = this.mic.getAudioTracks();
    pc.addTransceiver(track, { direction: "sendrecv", streams: [this.mic] });
    if (visitId) {
      this.camera = await openCamera();
      if (this.ended) { closeVideo(this.camera); return; }
      offerVideo(pc, this.camera); // the visit's video both ways (voice only without a camera)
    } else {
      pc.addTransceiver("video", { direction: "recvonly" });
    }
    this.channel = pc.createDataChannel("events");
    this.channel.onmessage = (e) => this.onMessage(e.data);
    this.channel.onclose = () => { if (this.endedByDoctor) doctorEnded(this); };
    pc.ontrack = (e) => this.onTrack(e.track);
    pc.onconnectionstatechange = () => this.onConnectionState(pc.connectionState);

    await pc.setLocalDescription(await pc.createOffer());
    await iceGatheringComplete(pc);
    if (this.ended) return;
    const answer = await api(created.webrtc_url, {
      sdp: pc.localDescription.sdp, type: "offer",
    });
    if (this.ended) return;
    await pc.setRemoteDescription(answer);
    this.connectTimer = setTimeout(() => {
      if (pc.connectionState !== "connected") this.fallBack();
    }, CONNECT_TIMEOUT_MS);
  }

  joined(created) {
    this.id = created.id;
    ui.detailId.textContent = created.id;
  }

  /** WebRTC did not connect (a network blocking UDP): a new consultation over the WebSocket. */
  async fallBack() {
    if (this.ended) return;
    this.pc.close();
    this.pc = null;
    closeVideo(this.camera); // no video over the WebSocket
    this.camera = null;
    hangUpOnServer(this.id);
    try {
      const created = await api(API, newConsultation());
      if (this.ended) return;
      this.joined(created);
      await this.overWebSocket(created);
    } catch {
      this.fail("Could not connect to the clinic. Your network may be blocking the call.");
    }
  }

  async overWebSocket(created) {
    ui.detailConnection.textContent = "websocket";
    this.call = new WsCall((raw) => this.onMessage(raw),
      () => this.fail("The connection to the clinic was lost."));
    await patient.fresh(); // the token rides in the start message: valid as the socket opens
    if (this.ended) return;
    await this.call.open(created.ws_url, patient.accessToken(), this.mic);
    this.useFallbackAvatar(); // no video comes this way
  }

  onTrack(track) {
    this.remote.addTrack(track);
    if (ui.video.srcObject !== this.remote) ui.video.srcObject = this.remote;
    ui.video.play().catch(() => {}); // playback was allowed by the Start click
    if (track.kind === "video") {
      this.videoTimer = setTimeout(() => this.useFallbackAvatar(), VIDEO_GRACE_MS);
      const shown = () => {
        clearTimeout(this.videoTimer);
        this.fallback.stop();
        ui.frame.classList.remove("fallback");
      };
      ui.video.addEventListener("loadeddata", shown, { once: true });
    }
  }

  useFallbackAvatar() {
    if (this.ended || ui.video.readyState >= 2) return;
    ui.frame.classList.add("fallback");
    this.fallback.start();
  }

  onConnectionState(state) {
    ui.detailConnection.textContent = state;
    if (this.ended) return;
    if (state === "connected") {
      clearTimeout(this.connectTimer);
      hideAlert();
    } else if (state === "disconnected") {
      showAlert("The connection is unstable. Trying to recover…", { kind: "warn" });
    } else if (state === "failed") {
      this.fail("The connection to the clinic was lost.");
    }
  }

  onMessage(raw) {
    if (this !== current) return; // hung up: late events must not revive the state indicator
    let event;
    try {
      event = JSON.parse(raw);
    } catch {
      return;
    }
    this.events.push(event);
    switch (event.type) {
      case "transcript":
        transcript.add(event.role, String(event.text ?? ""), Boolean(event.final));
        break;
      case "state":
        setState(event.value);
        this.fallback.setSpeaking(event.value === "speaking");
        if (event.value !== "speaking") transcript.endReply();
        break;
      case "viseme":
        this.fallback.push(event.visemes);
        break;
      case "metrics":
        if (typeof event.ms === "number") ui.detailLatency.textContent = `${Math.round(event.ms)} ms`;
        break;
      case "escalation":
        showEscalation(event);
        break;
      case "escalation_accepted":
        showEscalationNews("A doctor has accepted your case and is joining the call.", false);
        break;
      case "escalation_timeout":
      case "escalation_resolved": // the doctor is done, or nobody could come: what to do next
        showEscalationNews(String(event.advice ?? ""), Boolean(event.emergency));
        // Nobody could join live: the patient books the next free time instead of waiting.
        if (event.type === "escalation_timeout" && !event.emergency) {
          offerBooking(event.consultation_id ?? this.id);
        }
        break;
      case "doctor":
        showDoctor(event);
        break;
      case "video": // a visit: the doctor's camera or the avatar is on screen now
        showSource(event);
        break;
      case "ended_by_physician": // the goodbye is said next, then the server hangs up
        this.endedByDoctor = true;
        showEscalationNews("The doctor ended the consultation. Thank you, and take care.", false);
        break;
      case "error":
        showAlert(event.message || "Something went wrong on the clinic's side.",
          { kind: "warn" });
        break;
      default:
        break;
    }
  }

  fail(message) {
    if (this.ended) return;
    if (this.endedByDoctor) {
      doctorEnded(this);
      return;
    }
    this.close();
    setState("error");
    setRunning(false);
    showAlert(message, { retry: true });
  }

  /** Hang up: tell the server, close the connection and the microphone. */
  close() {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.connectTimer);
    clearTimeout(this.videoTimer);
    try {
      if (this.channel?.readyState === "open") this.channel.send(JSON.stringify({ type: "hangup" }));
    } catch { /* closing anyway */ }
    if (this.id) hangUpOnServer(this.id);
    this.call?.close();
    this.pc?.close();
    this.mic?.getTracks().forEach((t) => t.stop());
    closeVideo(this.camera);
    this.stopMeter();
    this.fallback.stop();
    ui.video.srcObject = null;
    ui.frame.classList.remove("fallback", "running");
  }
}

/** Tell the server the consultation is over (kept alive while the page unloads). */
function hangUpOnServer(id) {
  fetch(`${API}/${id}`, { method: "DELETE", keepalive: true, headers: patient.headers() })
    .catch(() => {});
}

// ---------------------------------------------------------------- wiring

let current = null;

async function start() {
  hideAlert();
  ui.escalation.hidden = true;
  ui.start.disabled = true;
  current?.close();
  const consultation = new Consultation();
  current = consultation;
  window.dhanvantri.session = consultation;
  setRunning(true);
  try {
    await consultation.start();
  } catch (err) {
    if (consultation !== current) return;
    consultation.close();
    setRunning(false);
    setState("error");
    const message = err instanceof PatientError
      ? err.message
      : "Could not start the consultation. Please try again.";
    if (err instanceof PatientError && SIGN_IN_AGAIN.has(err.code)) {
      showSignIn("Please sign in to start a consultation.");
      return;
    }
    showAlert(message, { retry: err instanceof PatientError ? err.retry : true });
    if (!(err instanceof PatientError)) console.error(err);
  }
}

function stop() {
  current?.close();
  current = null;
  setRunning(false);
  setState("idle");
}

/** The doctor ended the consultation and the server hung up: stop as the patient's own hang-up
 * does, keeping the notice. */
function doctorEnded(consultation) {
  if (consultation !== current) return;
  stop();
  showDoctor({ joined: false }); // the call closed before the doctor's "left" could arrive
}

// ---------------------------------------------------------------- who is consulting

let guest = false;

function showConsultation() {
  ui.signinView.hidden = true;
  ui.consultView.hidden = false;
  ui.accountWho.textContent = patient.signedIn ? `Signed in · ${patient.phone}`
    : "Guest demo · not saved as a record";
  ui.signout.hidden = !patient.signedIn;
  ui.myCare.hidden = !patient.signedIn;
  ui.toSignin.hidden = patient.signedIn;
  hideAlert();
  ui.start.focus();
  showForWhom();
}

/** "Consultation for <name>": the dependent's name as the caller's family lists it. */
async function showForWhom() {
  if (visitId) return showVisit(ui.forWhom, getJson);
  ui.forWhom.hidden = !forWhom;
  if (!forWhom) return;
  ui.forWhom.textContent = "Consultation for a family member";
  if (!patient.signedIn) return;
  try {
    const family = await getJson("/api/v1/family");
    const dependents = [...family.members,
      ...family.memberships.flatMap((f) => f.dependents)];
    const found = dependents.find((d) => d.member_id === forWhom);
    if (found?.full_name) ui.forWhom.textContent = `Consultation for ${found.full_name}`;
  } catch { /* the generic heading stays; starting asks the server anyway */ }
}

/** Back to the sign-in card (ending any consultation), with why, if the patient did not ask. */
function showSignIn(notice = "") {
  stop();
  guest = false;
  ui.consultView.hidden = true;
  ui.signinView.hidden = false;
  signIn.reset(notice);
}

async function signOut() {
  ui.signout.disabled = true;
  stop();
  transcript.clear(); // the next person at this device must not read it
  await patient.signOut();
  ui.signout.disabled = false;
  showSignIn();
}

/** Offer "Continue as guest" when the server allows guest demos (asked again while loading). */
async function offerGuest() {
  try {
    const response = await fetch("/healthz", { headers: { Accept: "application/json" } });
    const health = await response.json();
    if (health.status === "loading") {
      setTimeout(offerGuest, HEALTH_RETRY_MS);
      return;
    }
    signIn.offerGuest(health.guests === true);
  } catch {
    signIn.offerGuest(false); // unknown: signing in always works
  }
}

const patient = new PatientSession(() => {
  if (!guest) showSignIn("Your sign-in has ended. Please sign in again.");
});
const signIn = new SignIn(patient, {
  signedIn: () => { guest = false; showConsultation(); },
  guest: () => { guest = true; showConsultation(); },
});

// For support staff and automated checks: the live consultation (its RTCPeerConnection, events).
window.dhanvantri = { session: null };

ui.start.addEventListener("click", start);
ui.retry.addEventListener("click", start);
ui.stop.addEventListener("click", stop);
ui.signout.addEventListener("click", signOut);
ui.toSignin.addEventListener("click", () => showSignIn());
window.addEventListener("pagehide", () => current?.close());
transcript.attach(ui.transcript);
setState("idle");
new FallbackAvatar(ui.fallback); // a still face until the consultation starts
offerGuest();
if (patient.signedIn) {
  showConsultation();
} else {
  signIn.reset("", { focus: false }); // the page opens on its heading, not in a field
}
