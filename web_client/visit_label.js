// How a booked visit was held, in words, for the patient's consultations and the review screen.
// ``visit`` is what the record keeps: {appointment_id, mode}, mode "video" when video flowed
// both ways, else "audio".

/** "Video visit" or "Visit by voice" for an appointment's visit; null for an intake. */
export function visitLabel(visit) {
  if (!visit?.appointment_id) return null;
  return visit.mode === "video" ? "Video visit" : "Visit by voice";
}
