// The pharmacy desk's order cards: what a pharmacist packs and a delivery person hands over,
// and the one next step for each order. Building only: pharmacy.js owns the state and the calls.

/** Which list an order is in, by what needs doing next. */
export const GROUP = {
  placed: "pack", paid: "pack", packed: "ship", shipped: "ship", out_for_delivery: "door",
  delivered: "done", cancelled: "done", refunded: "done",
};

const STATUS = {
  placed: "Awaiting payment", paid: "Paid: to pack", packed: "Packed: to ship",
  shipped: "Shipped: to send out", out_for_delivery: "Out for delivery", delivered: "Delivered",
  cancelled: "Cancelled", refunded: "Cancelled and refunded",
};

/** The one step the pharmacy takes next: the path after /orders/{id}/ and the button's words. */
export const NEXT = {
  paid: { step: "pack", label: "Pack", done: "packed" },
  packed: { step: "ship", label: "Ship", done: "shipped" },
  shipped: { step: "dispatch", label: "Out for delivery",
             done: "out for delivery; the patient has been sent the delivery code" },
};

// Once shipped the medicines have left the shop: cancelling then is support's.
export const CANCELLABLE = new Set(["placed", "paid", "packed"]);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function button(text, className, action, name) {
  const node = el("button", `button small ${className}`, text);
  node.type = "button";
  node.dataset.action = action;
  // The same words are on every card; the name says which order ("Pack order 1A2B3C4D").
  if (name) node.setAttribute("aria-label", name);
  return node;
}

/** An order's short reference, as said on the phone: the first 8 characters of its id. */
export function shortId(order) {
  return order.id.slice(0, 8).toUpperCase();
}

function clock(iso) {
  return iso ? new Date(iso).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : "";
}

/** A time today as "at 09:41", another day's as "on 28 Nov at 09:41". */
function when(iso) {
  const moment = new Date(iso);
  if (moment.toDateString() === new Date().toDateString()) return `at ${clock(iso)}`;
  const day = moment.toLocaleDateString([], { day: "numeric", month: "short" });
  return `on ${day} at ${clock(iso)}`;
}

function items(order) {
  const list = el("ul", "items");
  for (const item of order.items) {
    const line = el("li");
    line.append(el("span", "qty", `${item.quantity} ×`), el("span", "name", item.name));
    list.append(line);
  }
  return list;
}

function destination(order) {
  const where = el("dl", "where");
  where.append(el("dt", "", "Deliver to"), el("dd", "address", order.address),
               el("dt", "", "PIN code"), el("dd", "pin", order.pin_code));
  return where;
}

function noteFor({ kind, text }) {
  const note = el("p", "note", text);
  note.dataset.kind = kind;
  note.setAttribute("role", kind === "error" ? "alert" : "status");
  return note;
}

function doorstep(order, view) {
  const box = el("div", "doorstep");
  const { delivery } = order;
  if (delivery.escalated) {
    box.append(el("p", "escalated", "Too many wrong codes: support has been alerted and can " +
                  "send the patient a fresh code."));
    return box;
  }
  const form = el("form", "otp-form");
  form.noValidate = true;
  form.dataset.action = "deliver";
  const inputId = `otp-${order.id}`;
  const label = el("label", "", "Delivery code from the patient");
  label.htmlFor = inputId;
  const input = el("input", "otp");
  Object.assign(input, { id: inputId, name: "otp", inputMode: "numeric", maxLength: 6,
                         autocomplete: "one-time-code", value: view.draft || "" });
  input.pattern = "[0-9]{6}";
  input.dataset.focus = "otp";
  const submit = el("button", "button primary", "Confirm delivery");
  submit.type = "submit";
  submit.dataset.focus = "deliver";
  submit.setAttribute("aria-label", `Confirm delivery of order ${shortId(order)}`);
  const row = el("div", "otp-row");
  row.append(input, submit);
  form.append(label, row);
  const facts = [];
  if (delivery.otp_expires_at) facts.push(`Code valid until ${clock(delivery.otp_expires_at)}`);
  if (delivery.attempts) {
    facts.push(`${delivery.attempts} wrong ${delivery.attempts === 1 ? "try" : "tries"} so far`);
  }
  box.append(form);
  // The answer to the last code sits under the field it is about.
  if (view.note) box.append(noteFor(view.note));
  if (facts.length) box.append(el("p", "meta", facts.join(" · ")));
  const resend = button("Resend code to patient", "resend", "resend",
                        `Resend the delivery code for order ${shortId(order)}`);
  resend.dataset.focus = "resend";
  box.append(resend);
  return box;
}

function cancelBox(order) {
  const box = el("div", "cancel-confirm");
  const inputId = `reason-${order.id}`;
  const label = el("label", "", "Reason for cancelling (optional; the patient is refunded)");
  label.htmlFor = inputId;
  const input = el("input", "reason");
  Object.assign(input, { id: inputId, name: "reason", maxLength: 500, autocomplete: "off" });
  input.dataset.focus = "reason";
  const row = el("div", "actions");
  const yes = button("Cancel this order", "danger", "cancel-confirm",
                     `Cancel this order: ${shortId(order)}`);
  yes.dataset.focus = "cancel-confirm";
  const no = button("Keep the order", "", "cancel-keep", `Keep order ${shortId(order)}`);
  row.append(yes, no);
  box.append(label, input, row);
  return box;
}

/**
 * One order's card.
 *
 * @param {object} order the order as GET /orders gives it.
 * @param {{busy: boolean, note: ?{kind: string, text: string}, cancelling: boolean,
 *          draft: string}} view what the page adds: a step in flight, the last message about
 *          this order, the cancel question open, the delivery code typed so far.
 */
export function orderCard(order, view) {
  const card = el("li", "order");
  card.dataset.id = order.id;
  card.dataset.status = order.status;
  card.setAttribute("aria-busy", String(view.busy));
  const titleId = `order-${order.id}-title`;
  card.setAttribute("aria-labelledby", titleId);
  const head = el("div", "order-head");
  const title = el("h3", "", `Order ${shortId(order)}`);
  title.id = titleId;
  title.tabIndex = -1;
  title.dataset.focus = "title";
  head.append(title, el("span", "status-tag", STATUS[order.status] || order.status),
              el("span", "total", `₹${order.total}`));
  card.append(head);
  if (order.prescription_id) {
    card.append(el("p", "rx", "Prescription order: check the prescription before handing over"));
  }
  card.append(items(order), destination(order));
  const times = [];
  if (order.placed_at) times.push(`Placed ${when(order.placed_at)}`);
  if (order.status === "delivered" && order.delivered_at) {
    times.push(`delivered ${when(order.delivered_at)}`);
  }
  if (times.length) card.append(el("p", "meta", times.join(", ")));
  if (order.status === "out_for_delivery") card.append(doorstep(order, view));
  const atDoor = order.status === "out_for_delivery" && !order.delivery.escalated;
  if (view.note && !atDoor) card.append(noteFor(view.note));
  const actions = el("div", "actions");
  const next = NEXT[order.status];
  if (next) {
    const step = button(next.label, "primary", next.step, `${next.label}: order ${shortId(order)}`);
    step.dataset.focus = "next";
    actions.append(step);
  }
  if (order.status === "placed") actions.append(el("span", "meta", "Waiting for the patient's payment"));
  if (CANCELLABLE.has(order.status) && !view.cancelling) {
    const cancel = button("Cancel order", "quiet-danger", "cancel-ask",
                          `Cancel order ${shortId(order)}`);
    cancel.dataset.focus = "cancel";
    actions.append(cancel);
  }
  if (actions.childElementCount) card.append(actions);
  if (view.cancelling && CANCELLABLE.has(order.status)) card.append(cancelBox(order));
  if (view.busy) card.querySelectorAll("button, input").forEach((c) => { c.disabled = true; });
  return card;
}
