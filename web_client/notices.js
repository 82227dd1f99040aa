// What the call tells the patient about doctors: an escalation, its news, a physician joining.

import { transcript } from "./transcript.js";

const $ = (id) => document.getElementById(id);

function notice(text, emergency) {
  const box = $("escalation");
  box.hidden = false;
  box.classList.toggle("emergency", emergency);
  box.textContent = text;
}

/** News about the escalation (accepted, or nobody came: what to do now). */
export function showEscalationNews(text, emergency) {
  if (text) notice(text, emergency);
}

/** A doctor has been asked to review the case (or an emergency: call 112 now). */
export function showEscalation(event) {
  notice(event.emergency
    ? "This may be an emergency. Call 112 now or go to the nearest hospital. " +
      "A doctor is being alerted."
    : "A doctor has been asked to review your case and may join this call.",
  Boolean(event.emergency));
}

/** An intake that needs a doctor, with none free to join live: book the next free time (the
 * care page's booking screen, which links the booking to this consultation). */
export function offerBooking(consultationId) {
  const link = document.createElement("a");
  link.id = "book-doctor";
  link.className = "button small primary";
  link.href = `/care#appointments/book${consultationId ? `/${encodeURIComponent(consultationId)}` : ""}`;
  link.textContent = "Book the next free time with a doctor";
  $("escalation").append(" ", link);
}

/** A physician joined (listening), took over the call, or left. */
export function showDoctor(event) {
  const badge = $("doctor-badge");
  const name = event.name || "A doctor";
  transcript.doctorName = name;
  badge.hidden = !event.joined;
  badge.dataset.mode = event.mode || "";
  badge.textContent = event.mode === "takeover" ? `${name} is speaking with you`
    : `${name} has joined the call`;
  if (event.joined) $("escalation").hidden = true;
}
