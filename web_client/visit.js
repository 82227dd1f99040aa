// The video visit of a booked appointment, on the consultation page.
//
// The care page's "Join your visit" opens /?visit=<appointment id>. Starting the call then
// creates the appointment's consultation (the server admits the patient, or the family manager
// who booked it, from ten minutes before the slot to its end). Until the booked doctor joins,
// the page is the waiting room: the assistant listens and takes notes for the doctor; when the
// doctor joins, their voice and video replace the assistant's (the doctor badge says so).

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const asked = new URLSearchParams(window.location.search).get("visit");

/** The appointment whose visit this page is (null: an ordinary consultation). */
export const visitId = UUID.test(asked ?? "") ? asked.toLowerCase() : null;

/** The body that starts the visit's consultation. */
export function visitBody() {
  return { appointment_id: visitId };
}

function clock(iso) {
  return new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** Fill ``box`` with the waiting room's line: whom the visit is with, and when. */
export async function showVisit(box, getJson) {
  if (!visitId) return;
  box.hidden = false;
  box.dataset.visit = visitId;
  box.textContent = "Video visit. Press the button to enter the waiting room.";
  const start = document.getElementById("start");
  if (start) start.textContent = "Enter the waiting room";
  try {
    const appt = await getJson(`/api/v1/appointments/${encodeURIComponent(visitId)}`);
    const doctor = appt.physician_name || "Your doctor";
    box.textContent = appt.visit?.open
      ? `Video visit with ${doctor} at ${clock(appt.starts_at)}. In the waiting `
        + "room the assistant takes notes for the doctor until they join you here."
      : appt.status !== "booked"
        ? `This visit is ${appt.status.replace("_", " ")}.`
        : `Your visit with ${doctor} opens at ${clock(appt.visit.opens_at)}.`;
    box.dataset.open = String(Boolean(appt.visit?.open));
  } catch { /* the plain line stays; starting asks the server anyway */ }
}
