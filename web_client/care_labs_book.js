// Booking the lab tests a released prescription orders: the tests with their prices, a home
// collection slot found by PIN code, the address. The server totals the booking; paying it is
// the booking's own screen (#labs/<id>), so a booking left unpaid can be paid later.

import { describe, idempotencyKey, rupees } from "./care_api.js";
import { busy, h, showError } from "./care_dom.js";

const PIN = /^[1-9][0-9]{5}$/;
const LABELS = { pin_code: "PIN code", slot_id: "Slot", address: "Address", tests: "Tests",
  prescription_id: "Prescription" };

export async function book(ctx, root, rxId) {
  const back = h("a", { class: "button small back", href: rxId ? `#prescriptions/${rxId}` : "#labs" },
    "← Back to the prescription");
  root.append(back, h("h1", { id: "lab-book-title", tabindex: "-1" }, "Book lab tests at home"));
  let ordered;
  try {
    ordered = await ctx.api.get(`/prescriptions/${encodeURIComponent(rxId ?? "")}/lab-tests`);
  } catch (err) {
    root.append(h("p", { class: "field-error", role: "alert", id: "lab-book-error" },
      err.status === 404 ? "This prescription was not found."
        : err.code === "VALIDATION_ERROR"
          ? "Release this prescription first: open it and choose “Release to pharmacy”."
          : describe(err)));
    return null;
  }
  if (!ordered.items.length) {
    root.append(h("p", { class: "notice-box", role: "status", id: "lab-book-none" },
      "None of the tests on this prescription can be booked for home collection here. "
      + "Please take the prescription to a lab near you."),
    unmatchedNote(ordered.unmatched));
    return null;
  }

  const state = { slots: [], key: null, keyFor: "" };
  const error = h("p", { class: "field-error", role: "alert", hidden: true, id: "lab-book-error" });
  const testsBox = h("fieldset", { class: "lab-tests", id: "lab-tests" },
    h("legend", {}, "Tests your doctor ordered"),
    ordered.items.map((t) => h("label", { class: "check lab-test", for: `test-${t.code}` },
      h("input", { type: "checkbox", id: `test-${t.code}`, value: t.code, checked: true,
        name: "tests" }),
      h("span", { class: "lab-test-name" }, t.name,
        h("span", { class: "help" }, `${t.specimen}. ${t.preparation}`)),
      h("span", { class: "lab-price" }, rupees(t.price)))));

  const pin = h("input", { id: "lab-pin", name: "pin_code", type: "text", inputmode: "numeric",
    autocomplete: "postal-code", maxlength: "6", "aria-describedby": "lab-pin-help lab-pin-error" });
  const pinError = h("p", { class: "field-error", role: "alert", hidden: true, id: "lab-pin-error" });
  const find = h("button", { id: "lab-find", class: "button", type: "button" }, "Find slots");
  const slotsBox = h("fieldset", { class: "lab-slots", id: "lab-slots", hidden: true },
    h("legend", {}, "Choose a collection slot"));
  const address = h("textarea", { id: "lab-address", name: "address", maxlength: "500",
    autocomplete: "street-address", rows: "3", "aria-describedby": "lab-address-help" });
  const submit = h("button", { id: "lab-book", class: "button primary", type: "submit" },
    "Book and go to payment");

  const form = h("form", { class: "card field-form lab-book", id: "lab-book-form", novalidate: true,
    "aria-labelledby": "lab-book-title" },
    testsBox,
    unmatchedNote(ordered.unmatched),
    h("p", { class: "help" }, "The total is worked out when you book and shown before you pay."),
    h("label", { for: "lab-pin" }, "PIN code for home collection"),
    h("div", { class: "lab-pin-row" }, pin, find),
    h("p", { class: "help", id: "lab-pin-help" }, "Six digits, for example 560001."),
    pinError, slotsBox,
    h("label", { for: "lab-address" }, "Address for collection"),
    address,
    h("p", { class: "help", id: "lab-address-help" },
      "House, street and landmark, so the phlebotomist finds you."),
    error, submit);
  root.append(form);

  async function findSlots() {
    const value = pin.value.trim();
    if (!PIN.test(value)) {
      showError(pinError, "PIN code: enter the six digits of your PIN code.", pin);
      pin.focus();
      return;
    }
    showError(pinError, "", pin);
    await busy(find, async () => {
      try {
        const { items } = await ctx.api.get(`/lab-slots?pin_code=${value}`);
        state.slots = items;
        drawSlots(value);
      } catch (err) {
        showError(pinError, describe(err, LABELS), pin);
      }
    });
  }

  function drawSlots(value) {
    slotsBox.hidden = false;
    showError(error, "");
    const legend = slotsBox.querySelector("legend");
    if (!state.slots.length) {
      slotsBox.replaceChildren(legend, h("p", { class: "notice-box", role: "status",
        id: "lab-no-slots" }, `No home-collection slots at ${value} in the coming days. `
        + "Try a nearby PIN code, or check again tomorrow."));
      return;
    }
    slotsBox.replaceChildren(legend, ...state.slots.map((slot, i) => h("label", {
      class: "check lab-slot", for: `slot-${slot.id}` },
    h("input", { type: "radio", name: "slot", id: `slot-${slot.id}`, value: slot.id,
      checked: i === 0 }),
    h("span", {}, h("span", { class: "lab-slot-when" }, slotTime(slot.starts_at)),
      h("span", { class: "help" },
        `${slot.lab} · ${slot.free} place${slot.free === 1 ? "" : "s"} left`)))));
  }

  find.addEventListener("click", findSlots);
  pin.addEventListener("keydown", (event) => {
    if (event.key === "Enter") {
      event.preventDefault();
      findSlots();
    }
  });

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const tests = [...testsBox.querySelectorAll("input:checked")].map((box) => box.value);
    const slot = slotsBox.querySelector("input[name=slot]:checked")?.value;
    const place = address.value.trim();
    if (!tests.length) {
      showError(error, "Tests: tick at least one test to book.");
      testsBox.querySelector("input")?.focus();
      return;
    }
    if (!slot) {
      showError(error, state.slots.length || slotsBox.hidden
        ? "Slot: enter your PIN code, find slots and choose one."
        : "Slot: there is no slot at this PIN code; try another.");
      (slotsBox.hidden ? pin : find).focus();
      return;
    }
    if (place.length < 5) {
      showError(error, "Address: write the address where the sample is collected.", address);
      address.focus();
      return;
    }
    showError(error, "", address);
    const body = { slot_id: slot, tests, address: place, prescription_id: rxId };
    // One key per booking the patient means: a retry of the same one reuses it.
    const what = JSON.stringify(body);
    if (state.keyFor !== what) {
      state.key = idempotencyKey();
      state.keyFor = what;
    }
    busy(submit, async () => {
      try {
        const booking = await ctx.api.post("/lab-bookings", body, state.key);
        ctx.toast(`Booked: ${rupees(booking.total)} to pay.`);
        ctx.go(`#labs/${booking.id}`);
      } catch (err) {
        showError(error, describe(err, LABELS));
        if (err.fieldMessage?.("slot_id")) findSlots();
      }
    });
  });
  return null;
}

function unmatchedNote(unmatched) {
  if (!unmatched?.length) return null;
  return h("p", { class: "help", id: "lab-unmatched" },
    `Not offered for home collection here: ${unmatched.join(", ")}. `
    + "Take your prescription to a lab for these.");
}

function slotTime(iso) {
  const date = new Date(iso);
  return date.toLocaleString("en-IN", { weekday: "short", day: "numeric", month: "short",
    hour: "2-digit", minute: "2-digit" });
}
