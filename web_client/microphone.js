// The patient's microphone: opening it (with a message for each way that fails) and its level.

import { PatientError } from "./patient_error.js";

/** The patient's microphone, or a ``PatientError`` that says how to allow or connect it. */
export async function openMicrophone() {
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

/** Show ``stream``'s level in ``bar`` (its width); returns what stops it. */
export function meter(stream, bar) {
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
    bar.style.width = `${Math.round(level * 100)}%`;
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  return () => {
    running = false;
    bar.style.width = "0";
    ctx.close().catch(() => {});
  };
}
