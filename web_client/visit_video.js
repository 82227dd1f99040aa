// The video of a booked visit, on the patient's page: their camera goes to the doctor, and the
// doctor's camera comes back on the same video the avatar uses.
//
// The server switches what that one video carries (the avatar, or the doctor while they have the
// call) and says so on the events channel ({"type": "video", "source": ...}); the page only
// shows who is on screen. A camera that is refused or missing leaves the visit to go on by voice,
// and the page says so.

const $ = (id) => document.getElementById(id);

/** The patient's camera for the visit, or null (refused, missing, or busy: voice only). */
export async function openCamera() {
  if (!navigator.mediaDevices?.getUserMedia) return null;
  try {
    return await navigator.mediaDevices.getUserMedia({
      video: { width: { ideal: 640 }, height: { ideal: 480 }, facingMode: "user" } });
  } catch {
    return null;
  }
}

/** Offer the visit's video on ``pc``: the camera both ways when there is one, else receive only. */
export function offerVideo(pc, camera) {
  const [track] = camera?.getVideoTracks() ?? [];
  if (track) pc.addTransceiver(track, { direction: "sendrecv", streams: [camera] });
  else pc.addTransceiver("video", { direction: "recvonly" });
  showSelf(camera);
  say(track ? "Your camera is on. The doctor will see you when they join."
    : "Your camera is off or unavailable: the visit goes on by voice.", track ? "camera" : "voice");
}

/** The server changed who is on the patient's screen. */
export function showSource(event) {
  const frame = document.querySelector(".avatar-frame");
  if (frame) frame.dataset.source = event.source;
  if (event.source === "physician") {
    say(`${event.name || "Your doctor"} is on video`, "physician");
  } else if (line()?.dataset.source === "physician") {
    say("The assistant is on screen again.", "avatar");
  }
}

/** The visit ended: the camera is off and the lines go. */
export function closeVideo(camera) {
  camera?.getTracks().forEach((t) => t.stop());
  $("self-view")?.remove();
  $("visit-video")?.remove();
  delete document.querySelector(".avatar-frame")?.dataset.source;
}

function line() {
  return $("visit-video");
}

function say(text, source) {
  let box = line();
  if (!box) {
    box = document.createElement("p");
    box.id = "visit-video";
    box.className = "hint";
    box.setAttribute("role", "status");
    document.querySelector(".avatar-frame")?.after(box);
  }
  box.dataset.source = source;
  box.textContent = text;
}

// The patient's own picture, small in a corner of the frame (mirrored, as a mirror shows it).
function showSelf(camera) {
  const frame = document.querySelector(".avatar-frame");
  if (!camera || !frame) return;
  const video = document.createElement("video");
  Object.assign(video, { id: "self-view", muted: true, autoplay: true, playsInline: true });
  video.setAttribute("aria-label", "Your camera");
  Object.assign(video.style, {
    inset: "auto", right: "8px", bottom: "8px", width: "30%", height: "auto",
    aspectRatio: "4 / 3", borderRadius: "8px", border: "2px solid #fff",
    transform: "scaleX(-1)", zIndex: "2",
  });
  video.srcObject = camera;
  frame.append(video);
  video.play().catch(() => {});
}
