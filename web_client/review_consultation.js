// How the consultation was held, as the reviewing physician states it.
//
// The Telemedicine Practice Guidelines 2020 set what each consultation may prescribe (List A:
// a first consultation only by video; List B: only at a follow-up) and ask for the mode on the
// prescription. The record's own reading (an AI voice consultation is a first audio one) is
// shown until the physician states it; what they state is sent with the next save, the safety
// gate runs again on it, and it is printed on the signed prescription.

import { $, el } from "./review_view.js";

const KINDS = [["first", "First"], ["follow_up", "Follow-up"]];
const MODES = [["video", "Video"], ["audio", "Audio"], ["text", "Text (chat)"],
               ["in_person", "In person"]];
const MODE_WORDS = Object.fromEntries(MODES.map(([value, label]) => [value, label.toLowerCase()]));

// Two selects rather than radio groups: each is one stop for Tab and names itself.
function choice(id, label, options) {
  const wrap = el("label", "held-choice", label);
  const select = el("select");
  select.id = id;
  select.append(new Option("Choose…", ""), ...options.map(([value, text]) => new Option(text, value)));
  wrap.append(select);
  return wrap;
}

function section() {
  let node = $("rx-consultation");
  if (node) return node;
  node = el("fieldset", "held");
  node.id = "rx-consultation";
  node.addEventListener("change", () => { node.dataset.touched = "true"; });
  const note = el("p", "meta");
  note.id = "rx-consultation-note";
  note.setAttribute("aria-live", "polite");
  node.append(el("legend", "", "How was this consultation held?"),
              choice("held-kind", "First or follow-up", KINDS),
              choice("held-mode", "Mode", MODES), note);
  $("rx-form").prepend(node);
  return node;
}

function describe(held) {
  const kind = held.first ? "first consultation" : "follow-up";
  return `${kind}, ${MODE_WORDS[held.mode] || held.mode}`;
}

/** Show what is known of how the record's consultation was held (stated or from the record). */
export function drawConsultation(rx) {
  const node = section();
  const held = rx.consultation || {};
  node.dataset.touched = String(Boolean(held.stated));
  $("held-kind").value = held.first === true ? "first" : held.first === false ? "follow_up" : "";
  $("held-mode").value = held.mode || "";
  const known = held.first !== null && held.first !== undefined && held.mode;
  $("rx-consultation-note").textContent = held.stated
    ? `Stated on review: ${describe(held)}. It is printed on the prescription.`
    : (known ? `From the record: ${describe(held)}. Confirm or change it. ` : "Not known yet. ")
      + "A first consultation prescribes List A medicines (antibiotics, most chronic-disease "
      + "medicines) only by video; List B medicines only at a follow-up (Telemedicine Practice "
      + "Guidelines 2020).";
}

/**
 * What the physician stated, for the edit request: undefined until they pick both (the record's
 * own reading, shown pre-picked, is not a statement until they confirm it by choosing).
 */
export function readConsultation() {
  const node = $("rx-consultation");
  if (!node || node.dataset.touched !== "true") return undefined;
  const kind = $("held-kind").value;
  const mode = $("held-mode").value;
  return kind && mode ? { first: kind === "first", mode } : undefined;
}
