// A booked visit's video on the physician's desk: their camera goes to the patient (it replaces
// the assistant's avatar while they have the call), and the patient's camera is shown here.
//
// Only visits carry video: a live escalation is joined by voice, as before. A camera that is
// refused or missing leaves the physician on the call by voice.

const $ = (id) => document.getElementById(id);
const VOICE = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };

/** The physician's microphone, with the camera for a visit when it can be had.
 * Throws when the microphone itself cannot be opened. */
export async function openMedia(video) {
  if (video) {
    try {
      return await navigator.mediaDevices.getUserMedia({
        audio: VOICE, video: { width: { ideal: 640 }, height: { ideal: 480 } } });
    } catch { /* no camera (or refused): the visit goes on by voice */ }
  }
  return navigator.mediaDevices.getUserMedia({ audio: VOICE });
}

/** Offer the visit's video on ``pc`` (the camera both ways, or receive only). */
export function offerVideo(pc, media) {
  const [camera] = media.getVideoTracks();
  if (camera) pc.addTransceiver(camera, { direction: "sendrecv", streams: [media] });
  else pc.addTransceiver("video", { direction: "recvonly" });
  const self = $("call-self");
  self.hidden = !camera;
  self.srcObject = camera ? new MediaStream([camera]) : null;
  $("call-video-note").textContent = camera ? "Waiting for the patient's video…"
    : "Your camera is off: the patient hears you. Waiting for the patient's video…";
  $("call-video-box").hidden = false;
}

/** The patient's camera arrived. */
export function showPatient(track) {
  const video = $("call-video");
  video.srcObject = new MediaStream([track]);
  video.play().catch(() => {});
  const note = $("call-video-note");
  video.addEventListener("loadeddata", () => { note.textContent = "Patient"; }, { once: true });
}

/** The call ended: no video left on the desk. */
export function closeVideo() {
  for (const id of ["call-video", "call-self"]) $(id).srcObject = null;
  $("call-video-box").hidden = true;
}
