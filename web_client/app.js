// The patient page: start a consultation over WebRTC, talk, see the transcript, hang up.
//
// Plain browser JavaScript (an ES module), no build step. The server answers one SDP offer per
// consultation (no trickle ICE, no STUN), sends reply audio and the avatar's video, and JSON
// events on the "events" data channel.

import { FallbackAvatar } from "./avatar_fallback.js";

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
};

const $ = (id) => document.getElementById(id);
const ui = {
  start: $("start"), stop: $("stop"), retry: $("retry"), hint: $("hint"),
  state: $("state"), stateText: $("state-text"),
  video: $("avatar"), fallback: $("avatar-fallback"), frame: document.querySelector(".avatar-frame"),
  badge: $("doctor-badge"),
  alert: $("alert"), alertText: $("alert-text"), escalation: $("escalation"),
  transcript: $("transcript"), micLevel: $("mic-level"),
  detailId: $("detail-id"), detailLatency: $("detail-latency"), detailConnection: $("detail-connection"),
};

/** A failure the patient should read, with whether trying again may help. */
class PatientError extends Error {
  constructor(message, { retry = true, code = "" } = {}) {
    super(message);
    this.retry = retry;
    this.code = code;
  }
}

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

// ---------------------------------------------------------------- transcript

const transcript = {
  assistantOpen: null, // the assistant's reply, growing phrase by phrase

  open: {}, // per speaker (patient, physician): their line still being recognised
  doctorName: "Doctor",

  add(role, text, final) {
    const list = ui.transcript;
    list.querySelector(".empty")?.remove();
    if (role === "assistant") {
      this.open = {};
      if (!this.assistantOpen) this.assistantOpen = this.bubble("assistant", "Assistant");
      const el = this.assistantOpen.querySelector(".text");
      el.textContent = el.textContent ? `${el.textContent} ${text}` : text;
    } else {
      const speaker = role === "physician" ? "physician" : "patient";
      this.assistantOpen = null;
      let line = this.open[speaker];
      if (!text.trim() && !line) return;
      if (!line) {
        line = this.bubble(speaker, speaker === "physician" ? this.doctorName : "You");
        this.open[speaker] = line;
      }
      line.querySelector(".text").textContent = text;
      line.classList.toggle("partial", !final);
      if (final) {
        if (!text.trim()) line.remove();
        delete this.open[speaker];
      }
    }
    list.scrollTop = list.scrollHeight;
  },

  bubble(role, who) {
    const li = document.createElement("li");
    li.className = role;
    li.dataset.role = role;
    const label = document.createElement("span");
    label.className = "who";
    label.textContent = who;
    const text = document.createElement("span");
    text.className = "text";
    li.append(label, text);
    ui.transcript.append(li);
    return li;
  },

  endReply() {
    this.assistantOpen = null;
  },
};

// ---------------------------------------------------------------- microphone

async function openMicrophone() {
  if (!window.isSecureContext || !navigator.mediaDevices?.getUserMedia) {
    throw new PatientError(
      "This page needs a secure connection (https) to use your microphone. " +
      "Please open the clinic's https address.", { retry: false, code: "insecure" });
  }
  try {
    return await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true, autoGainControl: true },
    });
  } catch (err) {
    if (err.name === "NotAllowedError" || err.name === "SecurityError") {
      throw new PatientError(
        "Microphone access was blocked. Allow the microphone for this site in your browser " +
        "settings, then try again.", { code: "mic_denied" });
    }
    if (err.name === "NotFoundError" || err.name === "OverconstrainedError") {
      throw new PatientError("No microphone was found. Connect one and try again.",
        { code: "no_mic" });
    }
    if (err.name === "NotReadableError") {
      throw new PatientError(
        "Your microphone is being used by another app. Close it and try again.",
        { code: "mic_busy" });
    }
    throw new PatientError(`The microphone could not be opened (${err.name}).`, { code: "mic" });
  }
}

function meter(stream) {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return () => {};
  const ctx = new Context();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 512;
  ctx.createMediaStreamSource(stream).connect(analyser);
  const data = new Float32Array(analyser.fftSize);
  let running = true;
  const tick = () => {
    if (!running) return;
    analyser.getFloatTimeDomainData(data);
    let sum = 0;
    for (const v of data) sum += v * v;
    const level = Math.min(1, Math.sqrt(sum / data.length) * 6);
    ui.micLevel.style.width = `${Math.round(level * 100)}%`;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  return () => {
    running = false;
    ui.micLevel.style.width = "0";
    ctx.close().catch(() => {});
  };
}

// ---------------------------------------------------------------- server calls

async function postJson(url, body) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw new PatientError(
      "Could not reach the clinic. Check your internet connection and try again.",
      { code: "network" });
  }
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const error = data.error ?? {};
    const message = SERVER_ERRORS[error.code] ??
      (response.status >= 500
        ? "The clinic's server had a problem. Please try again."
        : error.message || `The request failed (${response.status}).`);
    throw new PatientError(message, { code: error.code || `http_${response.status}` });
  }
  return data;
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
    this.channel = null;
    this.mic = null;
    this.stopMeter = () => {};
    this.remote = new MediaStream();
    this.ended = false;
    this.events = []; // every event received, for support and diagnostics
    this.fallback = new FallbackAvatar(ui.fallback);
    this.videoTimer = null;
    this.connectTimer = null;
  }

  async start() {
    setState("connecting");
    ui.frame.classList.add("running");
    this.mic = await openMicrophone();
    this.stopMeter = meter(this.mic);
    const created = await postJson(API, {});
    this.id = created.id;
    ui.detailId.textContent = created.id;

    const pc = new RTCPeerConnection({ iceServers: [] });
    this.pc = pc;
    const [track] = this.mic.getAudioTracks();
    pc.addTransceiver(track, { direction: "sendrecv", streams: [this.mic] });
    pc.addTransceiver("video", { direction: "recvonly" });
    this.channel = pc.createDataChannel("events");
    this.channel.onmessage = (e) => this.onMessage(e.data);
    pc.ontrack = (e) => this.onTrack(e.track);
    pc.onconnectionstatechange = () => this.onConnectionState(pc.connectionState);

    await pc.setLocalDescription(await pc.createOffer());
    await iceGatheringComplete(pc);
    if (this.ended) return;
    const answer = await postJson(created.webrtc_url, {
      sdp: pc.localDescription.sdp, type: "offer",
    });
    if (this.ended) return;
    await pc.setRemoteDescription(answer);
    this.connectTimer = setTimeout(() => {
      if (pc.connectionState !== "connected") {
        this.fail("Could not connect to the clinic. Your network may be blocking the call.");
      }
    }, CONNECT_TIMEOUT_MS);
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
        showEscalationNews(String(event.advice ?? ""), Boolean(event.emergency));
        break;
      case "doctor":
        showDoctor(event);
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
    if (this.id) fetch(`${API}/${this.id}`, { method: "DELETE", keepalive: true }).catch(() => {});
    this.pc?.close();
    this.mic?.getTracks().forEach((t) => t.stop());
    this.stopMeter();
    this.fallback.stop();
    ui.video.srcObject = null;
    ui.frame.classList.remove("fallback", "running");
  }
}

function showEscalationNews(text, emergency) {
  if (!text) return;
  ui.escalation.hidden = false;
  ui.escalation.classList.toggle("emergency", emergency);
  ui.escalation.textContent = text;
}

/** A physician joined (listening), took over the call, or left. */
function showDoctor(event) {
  const name = event.name || "A doctor";
  transcript.doctorName = name;
  ui.badge.hidden = !event.joined;
  ui.badge.dataset.mode = event.mode || "";
  ui.badge.textContent = event.mode === "takeover" ? `${name} is speaking with you`
    : `${name} has joined the call`;
  if (event.joined) ui.escalation.hidden = true;
}

function showEscalation(event) {
  ui.escalation.hidden = false;
  ui.escalation.classList.toggle("emergency", Boolean(event.emergency));
  ui.escalation.textContent = event.emergency
    ? "This may be an emergency. Call 112 now or go to the nearest hospital. " +
      "A doctor is being alerted."
    : "A doctor has been asked to review your case and may join this call.";
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

// For support staff and automated checks: the live consultation (its RTCPeerConnection, events).
window.dhanvantri = { session: null };

ui.start.addEventListener("click", start);
ui.retry.addEventListener("click", start);
ui.stop.addEventListener("click", stop);
window.addEventListener("pagehide", () => current?.close());
setState("idle");
new FallbackAvatar(ui.fallback); // a still face until the consultation starts
