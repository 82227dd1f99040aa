// Appointments with a doctor: the patient's list (cancel, add to a calendar), booking the next
// free time (#appointments/book, or #appointments/book/<consultation> when an intake ended with
// "a doctor should see you within 24 hours"; #appointments/follow-up/<physician>/<days> from a
// prescription's "follow up in 7 days"), and paying the fee (#appointments/<id>/pay).
//
// Slots come from the server as UTC instants and are shown in the browser's own zone; the
// doctor's registration is shown beside each time, as the Telemedicine Practice Guidelines ask.
// Two patients choosing one time at once: the server books one and tells the other, who gets
// the list again to choose another.

import { describe, rupees, when } from "./care_api.js";
import { busy, chip, downloadButton, h, showError } from "./care_dom.js";

const DAY_MS = 24 * 3600 * 1000;
const STATUS_TEXT = { booked: "Booked", completed: "Completed", cancelled: "Cancelled",
  no_show: "Missed" };
const LABELS = { starts_at: "Time", physician_id: "Doctor", consultation_id: "Consultation" };

export async function show(ctx, root, params) {
  if (params[0] === "book") return book(ctx, root, { consultationId: params[1] ?? null });
  if (params[0] === "follow-up") {
    return book(ctx, root, { physicianId: params[1] ?? null, days: Number(params[2]) || 0 });
  }
  if (params[0] && params[1] === "pay") return pay(ctx, root, params[0]);
  return list(ctx, root);
}

function statusChip(status) {
  return chip(status, STATUS_TEXT[status] ?? status);
}

function doctorLine(physician) {
  const what = [physician.qualification, physician.specialty].filter(Boolean).join(" · ");
  return h("span", { class: "meta doctor" }, `${physician.name}${what ? `, ${what}` : ""}`,
    h("br"), `Reg. no. ${physician.registration_number} (${physician.council})`);
}

// ------------------------------------------------------------------ my appointments
async function list(ctx, root) {
  const state = { urls: [] };
  const error = h("p", { class: "field-error", role: "alert", hidden: true, id: "appt-error" });
  const items = h("ul", { class: "care-list", id: "appointment-list" });
  root.append(h("h1", { id: "appt-title" }, "My appointments"),
    // Side by side, each as wide as its words (a .row stretches its children).
    h("div", { class: "appt-bar", style: "display:flex;flex-wrap:wrap;gap:8px;align-items:start" },
      h("a", { class: "button primary", id: "appt-book", href: "#appointments/book",
        style: "flex:0 0 auto;width:auto" }, "Book a doctor"),
      downloadButton(ctx, { id: "appt-ics", label: "Add to my calendar (.ics)",
        path: "/appointments/calendar.ics", name: "appointments.ics", error, urls: state.urls,
        rowClass: "appt-ics" })),
    error, items);

  async function load() {
    try {
      const { items: found } = await ctx.api.get("/appointments?limit=100");
      showError(error, "");
      items.replaceChildren(...(found.length ? found.map(item)
        : [h("li", {}, h("p", { class: "empty-state" }, "No appointments yet."))]));
    } catch (err) {
      showError(error, describe(err));
    }
  }

  function item(appt) {
    const owed = appt.status === "booked" && !appt.paid && appt.fee !== "0.00";
    const meta = [appt.physician_name, appt.fee === "0.00" ? "No fee"
      : `${rupees(appt.fee)}${appt.paid ? " paid" : " to pay"}`,
    appt.refunded !== "0.00" ? `${rupees(appt.refunded)} refunded` : null]
      .filter(Boolean).join(" · ");
    const row = h("div", { class: "item" },
      h("span", { class: "title" }, when(appt.starts_at)), statusChip(appt.status),
      h("span", { class: "meta" }, meta));
    if (appt.status === "booked") {
      const actions = h("div", { class: "row appt-actions" });
      if (appt.visit?.open) {
        // At the time (from ten minutes before): the video visit on the consultation page.
        actions.append(h("a", { class: "button small primary", href: `/?visit=${appt.id}`,
          id: `appt-join-${appt.id}` }, "Join your visit"));
      }
      if (owed) {
        actions.append(h("a", { class: "button small primary", href: `#appointments/${appt.id}/pay`,
          id: `appt-pay-${appt.id}` }, `Pay ${rupees(appt.fee)}`));
      }
      actions.append(cancelButton(appt));
      row.append(actions);
    }
    return h("li", { class: "appointment", dataset: { id: appt.id, status: appt.status } }, row);
  }

  function cancelButton(appt) {
    const button = h("button", { class: "button small", type: "button",
      id: `appt-cancel-${appt.id}` }, "Cancel");
    button.addEventListener("click", () => busy(button, async () => {
      if (button.dataset.confirm !== "yes") {
        // A second click confirms: the refund depends on how soon the appointment is.
        button.dataset.confirm = "yes";
        button.textContent = appt.paid ? "Cancel? (refund per policy)" : "Cancel? Tap again";
        return;
      }
      try {
        const done = await ctx.api.post(`/appointments/${appt.id}/cancel`);
        ctx.toast(done.refunded !== "0.00"
          ? `Cancelled. ${rupees(done.refunded)} is on its way back to you.` : "Cancelled.");
        await load();
      } catch (err) {
        showError(error, describe(err));
      }
    }));
    return button;
  }

  await load();
  return {
    onChange(change) {
      if (!change || ["appointment", "payment"].includes(change.kind)) load();
    },
    leave() {
      state.urls.forEach((url) => URL.revokeObjectURL(url));
    },
  };
}

// ------------------------------------------------------------------ booking
async function book(ctx, root, { consultationId = null, physicianId = null, days = 0 }) {
  const error = h("p", { class: "field-error", role: "alert", hidden: true, id: "slot-error" });
  const slots = h("ul", { class: "care-list", id: "slot-list", "aria-live": "polite" });
  const later = h("button", { class: "button", type: "button", id: "slot-later", hidden: true },
    "Show later days");
  root.append(h("a", { class: "button small back", href: "#appointments" }, "← My appointments"),
    h("h1", { id: "slot-title", tabindex: "-1" }, "Book a doctor"),
    h("p", { class: consultationId || days ? "notice-box" : "help", id: "slot-lead" },
      consultationId
        ? "The assistant advised that a doctor should see you within 24 hours. These are the "
          + "first free times."
        : days
          ? `Your doctor asked to see you again in ${days} day${days === 1 ? "" : "s"}. These `
            + "are their free times around then."
          : "The first free times of our doctors."),
    error, slots, later);
  // A follow-up looks from a day before the date asked to two days after it.
  const start = days ? Date.now() + Math.max(days - 1, 0) * DAY_MS : Date.now();
  const state = { days: days ? 3 : 1 };

  async function load() {
    const from = new Date(start);
    const to = new Date(from.getTime() + state.days * DAY_MS);
    const query = new URLSearchParams({ from: from.toISOString(), to: to.toISOString(),
      limit: "8", ...(physicianId ? { physician_id: physicianId } : {}) });
    try {
      const { items: found } = await ctx.api.get(`/appointment-slots?${query}`);
      if (!found.length && state.days < 7) {
        state.days = 7; // nobody free today: look at the week
        return load();
      }
      slots.replaceChildren(...(found.length ? found.map(slotItem)
        : [h("li", {}, h("p", { class: "empty-state" },
          "No doctor has a free time this week. Please try again later."))]));
      later.hidden = state.days >= 7 || !found.length;
    } catch (err) {
      showError(error, describe(err));
    }
    return undefined;
  }

  function slotItem(slot, index) {
    const choose = h("button", { class: "button primary", type: "button", id: `slot-${index}`,
      style: "flex:0 0 auto" }, "Book this time");
    choose.addEventListener("click", () => busy(choose, () => take(slot)));
    return h("li", { class: "slot", dataset: { starts: slot.starts_at, physician: slot.physician_id } },
      h("div", { class: "item" },
        h("span", { class: "title" }, when(slot.starts_at)),
        h("span", { class: "chip" }, slot.fee === "0.00" ? "No fee" : rupees(slot.fee)),
        doctorLine(slot.physician), choose));
  }

  async function take(slot) {
    showError(error, "");
    try {
      const booked = await ctx.api.post("/appointments", {
        physician_id: slot.physician_id, starts_at: slot.starts_at,
        source: consultationId ? "intake" : days ? "follow_up" : "direct",
        ...(consultationId ? { consultation_id: consultationId } : {}),
      });
      ctx.toast(`Booked with ${slot.physician.name} for ${when(booked.starts_at)}.`);
      ctx.go(booked.fee !== "0.00" ? `#appointments/${booked.id}/pay` : "#appointments");
    } catch (err) {
      if (err.code === "SLOT_TAKEN") {
        showError(error, "That time was just booked by someone else. Please choose another.");
        await load();
      } else {
        showError(error, describe(err, LABELS));
      }
    }
  }

  later.addEventListener("click", () => busy(later, async () => {
    state.days = 7;
    await load();
  }));
  await load();
  return null;
}

// ------------------------------------------------------------------ paying the fee
async function pay(ctx, root, id) {
  const path = `/appointments/${encodeURIComponent(id)}`;
  root.append(h("a", { class: "button small back", href: "#appointments" }, "← My appointments"));
  let appt;
  try {
    appt = await ctx.api.get(path);
  } catch (err) {
    root.append(h("p", { class: "field-error", role: "alert" }, describe(err)));
    return null;
  }
  const rule = appt.cancellation_policy;
  root.append(h("h1", {}, "Pay the consultation fee"),
    h("p", { class: "help", id: "pay-lead" },
      `${appt.physician_name}, ${when(appt.starts_at)}.`,
      appt.pay_by ? ` Pay by ${new Date(appt.pay_by).toLocaleTimeString("en-IN",
        { hour: "2-digit", minute: "2-digit" })}, or the time is offered to others.` : "",
      rule ? ` Cancel ${rule.full_refund_hours} hours or more before for a full refund; later, `
        + `${Number(rule.late_refund_percent)}% of the fee is refunded.` : ""));
  if (appt.paid || appt.status !== "booked") {
    root.append(h("p", { class: "notice-box", role: "status" }, appt.paid
      ? "This appointment is paid." : "This appointment can no longer be paid."));
    return null;
  }
  const box = h("div", { id: "appt-pay" });
  root.append(box);
  const { checkout } = await import("./care_checkout.js");
  checkout(ctx, box, {
    title: "Pay to confirm your appointment",
    amount: appt.fee,
    start: (method, key) => ctx.api.post(`${path}/pay`, { method }, key),
    done: () => {
      ctx.toast("Paid. Your appointment is confirmed.");
      ctx.go("#appointments");
    },
  });
  return null;
}
