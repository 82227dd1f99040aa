// The pharmacy desk: sign in, see the pharmacy's orders by what needs doing, take each order
// one step on (pack, ship, out for delivery), and at the door confirm delivery with the code
// the patient reads out.
//
// Each step is a POST the server checks against the order's state, so a second click could
// only fail; the page still sends each order's step once: the card's controls are disabled
// while its request is in flight, and a step that meets an order already moved on (409) just
// shows the order as it now is. None of these POSTs takes an Idempotency-Key (only payments
// do). A wrong delivery code says how many attempts are left, as the server counts them.
//
// The list is fetched again after each step, when live_updates.js reports a change of an order
// or a payment, and every 15 s only while that socket is down. A card is rebuilt only when its
// order or its message changed, so a delivery code being typed survives a refresh.

import { call, renew, tokens } from "./desk_api.js";
import { connectLive } from "./live_updates.js";
import { CANCELLABLE, GROUP, NEXT, el, orderCard, shortId } from "./pharmacy_orders.js";
import { staffSignIn } from "./staff_signin.js";

// Often enough that a new paid order shows within a short walk to the counter; rarely enough
// that a shop's phone on mobile data hardly notices.
const POLL_MS = 15000;
const LIMIT = 200; // the API's page size ceiling
const DONE_SHOWN = 20; // finished orders below the work: the latest only
const EMPTY = { pack: "Nothing to pack.", ship: "Nothing to ship.",
                door: "No order is out for delivery.", done: "No finished orders yet." };
const ORDER_KINDS = new Set(["order", "payment"]);
const TOKEN_MARGIN_S = 30; // renew before the socket is refused for an expired token
const NETWORK = "Could not reach the server. Check the connection; the page retries by itself.";

const $ = (id) => document.getElementById(id);
const enc = encodeURIComponent;
const desk = { orders: [], cards: new Map(), busy: new Set(), notes: new Map(),
               drafts: new Map(), cancelling: new Set(), poll: null, live: null,
               liveUp: false, open: false, loading: null, again: false };

function setState(state, text) {
  $("state").dataset.state = state;
  $("state-text").textContent = text;
}

function show(id, text) {
  $(id).textContent = text || "";
  $(id).hidden = !text;
}

async function readError(response) {
  const body = await response.json().catch(() => ({}));
  return { status: response.status, code: body.error?.code || "", details: body.error?.details,
           message: body.error?.message || `HTTP ${response.status}` };
}

// ------------------------------------------------------------------ sign-in
async function signIn(event) {
  event.preventDefault();
  show("login-error", "");
  if (!$("email").value.trim() || !$("password").value) {
    show("login-error", "Enter the pharmacy's e-mail and password.");
    return;
  }
  $("signin").disabled = true;
  const refused = await staffSignIn({ email: $("email").value, password: $("password").value,
                                      totp: $("totp").value });
  $("signin").disabled = false;
  if (refused) {
    show("login-error", refused);
    return;
  }
  $("password").value = "";
  $("totp").value = "";
  openDesk();
}

function openDesk() {
  desk.open = true;
  $("signin-view").hidden = true;
  $("desk").hidden = false;
  setState("connecting", "Loading…");
  load();
  startLive();
}

function signOut(message) {
  const refresh = tokens.refresh;
  if (refresh && tokens.access) {
    // Ends the session on the server too; the page signs out whatever it answers.
    call("/auth/logout", { method: "POST", headers: { "Content-Type": "application/json" },
                           body: JSON.stringify({ refresh_token: refresh }) }, false)
      .catch(() => {});
  }
  tokens.clear();
  desk.open = false;
  stopLive();
  stopPolling();
  Object.assign(desk, { orders: [], liveUp: false });
  for (const map of [desk.cards, desk.notes, desk.drafts]) map.clear();
  desk.busy.clear();
  desk.cancelling.clear();
  render();
  show("desk-error", "");
  show("desk-notice", "");
  $("desk").hidden = true;
  $("signin-view").hidden = false;
  show("login-error", typeof message === "string" ? message : "");
  setState("idle", "Signed out");
  $("email").focus();
}

// ------------------------------------------------------------------ the list
/** Fetch the orders; a call made while one is in flight runs once more after it. */
function load() {
  if (desk.loading) {
    desk.again = true;
    return desk.loading;
  }
  desk.loading = fetchOrders().finally(() => {
    desk.loading = null;
    if (desk.again && desk.open) {
      desk.again = false;
      load();
    }
  });
  return desk.loading;
}

async function fetchOrders() {
  let response;
  try {
    response = await call(`/orders?limit=${LIMIT}`);
  } catch {
    setState("error", "Offline");
    show("desk-error", NETWORK);
    return;
  }
  if (!desk.open) return;
  if (response.status === 401) {
    signOut("Your session has ended; please sign in again.");
    return;
  }
  if (!response.ok) {
    const error = await readError(response);
    show("desk-error", response.status === 403
      ? "This account cannot see pharmacy orders: sign in with the pharmacy's account."
      : error.message);
    setState("error", response.status === 403 ? "Not a pharmacy" : "Error");
    return;
  }
  desk.orders = (await response.json()).items;
  show("desk-error", "");
  render();
  const time = new Date().toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  $("updated").textContent = `Updated at ${time}.`;
  setState("listening", desk.liveUp ? "Live" : "Checking every 15 s");
}

function viewOf(order) {
  return { busy: desk.busy.has(order.id), note: desk.notes.get(order.id) || null,
           cancelling: desk.cancelling.has(order.id), draft: desk.drafts.get(order.id) || "" };
}

/** A card for ``order``: the one shown already when nothing about it changed. */
function cardFor(order) {
  const view = viewOf(order);
  const signature = JSON.stringify([order, { ...view, draft: undefined }]);
  const known = desk.cards.get(order.id);
  if (known && known.signature === signature) return known.card;
  const card = orderCard(order, view);
  desk.cards.set(order.id, { signature, card });
  return card;
}

function render() {
  // Where the keyboard was, to put it back on the rebuilt card.
  const active = document.activeElement;
  const focusCard = active?.closest?.("li.order")?.dataset.id;
  const focusRole = active?.dataset?.focus;
  const groups = { pack: [], ship: [], door: [], done: [] };
  for (const order of desk.orders) groups[GROUP[order.status] || "done"].push(order);
  // The API lists newest first: work is done oldest first, finished orders read newest first.
  for (const name of ["pack", "ship", "door"]) groups[name].reverse();
  const shown = new Set();
  for (const [name, orders] of Object.entries(groups)) {
    const list = document.querySelector(`.orders[data-group="${name}"]`);
    const cards = orders.slice(0, name === "done" ? DONE_SHOWN : undefined).map((order) => {
      shown.add(order.id);
      return cardFor(order);
    });
    const same = cards.length && cards.length === list.children.length
      && cards.every((card, i) => list.children[i] === card);
    // Unchanged lists stay in place: moving a node would take the focus from what is typed.
    if (!same) list.replaceChildren(...(cards.length ? cards : [el("li", "empty", EMPTY[name])]));
    document.querySelector(`[data-count="${name}"]`).textContent = String(orders.length);
  }
  for (const id of desk.cards.keys()) if (!shown.has(id)) desk.cards.delete(id);
  if (focusCard && !document.activeElement?.closest?.("li.order")) {
    refocus(focusCard, focusRole);
  }
}

function refocus(id, role) {
  const card = document.querySelector(`li.order[data-id="${CSS.escape(id)}"]`);
  if (!card) return;
  const target = card.querySelector(`[data-focus="${role}"]:not(:disabled)`)
    || card.querySelector('[data-focus="next"], [data-focus="otp"]')
    || card.querySelector('[data-focus="title"]');
  target?.focus();
}

// ------------------------------------------------------------------ steps
function note(id, kind, text) {
  if (text) desk.notes.set(id, { kind, text });
  else desk.notes.delete(id);
}

function replace(order) {
  const { payout: _payout, ...plain } = order; // a delivered order's payout is not the list's
  desk.orders = desk.orders.map((known) => (known.id === plain.id ? plain : known));
}

// A 401 about the token (not about a delivery code): the session is over.
const TOKEN_ERRORS = new Set(["UNAUTHORIZED", "TOKEN_EXPIRED", "TOKEN_INVALID", "TOKEN_REUSED"]);

/** POST one step for one order, once; ``done`` gets the answer's body. */
async function step(id, path, body, done) {
  if (desk.busy.has(id)) return; // a second click while the first is in flight
  desk.busy.add(id);
  note(id, "", "");
  show("desk-notice", "");
  render();
  let response = null;
  try {
    response = await call(`/orders/${enc(id)}/${path}`, body === undefined ? { method: "POST" }
      : { method: "POST", headers: { "Content-Type": "application/json" },
          body: JSON.stringify(body) });
  } catch {
    note(id, "error", NETWORK);
  }
  desk.busy.delete(id);
  if (response?.ok) {
    const order = await response.json();
    replace(order);
    done(order);
  } else if (response) {
    const error = await readError(response);
    if (error.status === 401 && TOKEN_ERRORS.has(error.code)) {
      signOut("Your session has ended; please sign in again.");
      return;
    }
    note(id, "error", describe(error));
  }
  const wasFocused = document.activeElement?.closest?.("li.order")?.dataset.id;
  const lost = !document.activeElement || document.activeElement === document.body;
  render();
  // Back to the card's next control, unless the keyboard has gone elsewhere meanwhile.
  if (lost || wasFocused === id) refocus(id, "next");
  load(); // what else changed meanwhile (and the answer's order, as the list shows it)
}

function describe(error) {
  const left = error.details?.attempts_left;
  switch (error.code) {
    case "DELIVERY_OTP_INVALID":
      return Number.isInteger(left)
        ? `Wrong code. ${left} ${left === 1 ? "attempt" : "attempts"} left.`
        : "Wrong code. Ask the patient to read it out again.";
    case "DELIVERY_OTP_EXPIRED":
      return "This code has expired. Send a fresh code to the patient.";
    case "DELIVERY_ESCALATED": // the card says what happens next
      return "Wrong code, and that was the last attempt.";
    case "ESCALATED_TO_SUPPORT":
      return "Too many wrong codes on this order: only support can send a fresh code now.";
    case "INVALID_STATE": {
      const now = error.details?.status;
      return now ? `This order has already moved on (it is ${now.replaceAll("_", " ")}).`
        : "This order has already moved on; the list shows it as it is now.";
    }
    default:
      break;
  }
  if (error.status === 403) return "This account may not do that.";
  if (error.status === 429) return "Too many attempts. Wait a minute and try again.";
  if (error.status === 422 && Array.isArray(error.details) && error.details.length) {
    return `${error.details[0].field}: ${error.details[0].message}`;
  }
  return error.message;
}

function advance(order) {
  const next = NEXT[order.status];
  step(order.id, next.step, undefined, (updated) => {
    show("desk-notice", `Order ${shortId(updated)} is ${next.done}.`);
  });
}

function deliver(order, form) {
  const input = form.querySelector("input.otp");
  const code = input.value.replace(/\s+/g, "");
  if (!/^[0-9]{6}$/.test(code)) {
    // Checked here: a mistyped code must not spend one of the patient's attempts.
    note(order.id, "error", "Enter the 6-digit code the patient reads out.");
    desk.drafts.set(order.id, input.value);
    render();
    refocus(order.id, "otp");
    return;
  }
  desk.drafts.delete(order.id); // right or wrong, the next try is typed afresh
  step(order.id, "deliver", { otp: code }, (delivered) => {
    const paid = delivered.payout ? ` ₹${delivered.payout.net} will be paid to the pharmacy.` : "";
    show("desk-notice", `Order ${shortId(delivered)} is delivered.${paid}`);
  });
}

function resend(order) {
  step(order.id, "delivery-otp", undefined, () => {
    note(order.id, "done", "A fresh code has been sent to the patient.");
  });
}

function cancel(order, card) {
  const reason = card.querySelector("input.reason")?.value.trim() || "";
  desk.cancelling.delete(order.id);
  step(order.id, "cancel", { reason }, (updated) => {
    show("desk-notice", `Order ${shortId(updated)} is cancelled; the patient is refunded.`);
  });
}

// One listener for every card: cards are rebuilt, the lists stay.
function onClick(event) {
  const control = event.target.closest("button[data-action]");
  const card = control?.closest("li.order");
  const order = card && desk.orders.find((o) => o.id === card.dataset.id);
  if (!order || control.disabled) return;
  const action = control.dataset.action;
  if (action === NEXT[order.status]?.step) advance(order);
  else if (action === "resend") resend(order);
  else if (action === "cancel-ask" && CANCELLABLE.has(order.status)) {
    desk.cancelling.add(order.id);
    render();
    refocus(order.id, "reason");
  } else if (action === "cancel-keep") {
    desk.cancelling.delete(order.id);
    render();
    refocus(order.id, "cancel");
  } else if (action === "cancel-confirm") cancel(order, card);
}

function onSubmit(event) {
  const form = event.target.closest("form.otp-form");
  if (!form) return;
  event.preventDefault();
  const card = form.closest("li.order");
  const order = desk.orders.find((o) => o.id === card.dataset.id);
  if (order && !desk.busy.has(order.id)) deliver(order, form);
}

function onInput(event) {
  const input = event.target;
  const card = input.closest?.("li.order");
  if (card && input.matches("input.otp")) desk.drafts.set(card.dataset.id, input.value);
}

// ------------------------------------------------------------------ freshness
function startPolling() {
  stopPolling();
  desk.poll = setInterval(() => { if (!document.hidden) load(); }, POLL_MS);
}

function stopPolling() {
  clearInterval(desk.poll);
  desk.poll = null;
}

function liveState(live) {
  desk.liveUp = Boolean(live);
  if (!desk.open) return;
  if ($("state").dataset.state === "listening") {
    setState("listening", desk.liveUp ? "Live" : "Checking every 15 s");
  }
  if (desk.liveUp) {
    stopPolling();
    load(); // whatever changed while the stream was down
  } else if (!desk.poll) {
    startPolling();
  }
}

/** The access token for the live socket: renewed first when it is about to expire. */
async function liveToken() {
  if (!desk.open || !tokens.access) return null;
  if (expiresWithin(tokens.access, TOKEN_MARGIN_S) && !(await renew())) {
    return desk.open ? undefined : null; // offline now: the socket tries again later
  }
  return tokens.access;
}

function expiresWithin(jwt, seconds) {
  try {
    const claims = JSON.parse(atob(jwt.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
    return claims.exp * 1000 - Date.now() < seconds * 1000;
  } catch {
    return false; // not ours to read: let the server judge it
  }
}

function startLive() {
  startPolling(); // until the live socket says it is up
  desk.live = connectLive({
    token: liveToken,
    // A change names a record and its state; the list is fetched again (payments move orders).
    onChange: (change) => { if (ORDER_KINDS.has(change.kind)) load(); },
    onState: liveState,
  });
}

function stopLive() {
  desk.live?.close();
  desk.live = null;
}

document.addEventListener("visibilitychange", () => {
  if (!document.hidden && desk.open) load();
});
$("login").addEventListener("submit", signIn);
$("signout").addEventListener("click", () => signOut());
$("refresh").addEventListener("click", () => load());
$("desk").addEventListener("click", onClick);
$("desk").addEventListener("submit", onSubmit);
$("desk").addEventListener("input", onInput);
if (tokens.access) openDesk();
