// The payment step of the care area, shared by orders, lab bookings and the wallet: the amount,
// "Pay from wallet" (with the balance) and "Pay online". Online payments on this server go
// through the built-in sandbox checkout, drawn here as the gateway's page would be, clearly
// labelled: no money moves. Every start of a payment carries an Idempotency-Key: a retried click
// (the network failed) reuses it, so the server does it once; a new attempt after a decline gets
// a new one.

import { describe, idempotencyKey, paise, rupees } from "./care_api.js";
import { busy, h, showError } from "./care_dom.js";

const MERCHANT = "Dhanvantri Health";
// Failures after which the same request may be sent again with the same key (it may or may not
// have reached the server).
const RETRYABLE = (err) => !err?.status || err.status >= 500 || err.status === 429;

/** What to tell the patient about a failed payment call. */
function payMessage(err) {
  if (err?.code === "PAYMENTS_DISABLED") {
    return `Online payments are not available on this server (${err.message}).`;
  }
  if (err?.code === "OUT_OF_STOCK") {
    return "The pharmacy could not hold these medicines for you; nothing was charged.";
  }
  return describe(err);
}

/**
 * Draw the payment step into ``root``.
 *
 * @param ctx the care area's context (``ctx.api``).
 * @param root an element to draw into (emptied first).
 * @param options.title the step's heading ("Pay for your order").
 * @param options.amount the amount to pay, a decimal string from the server.
 * @param options.start ``(method, key) => Promise`` of the pay response (``{payment,
 *   checkout?}``) for method "gateway" or "wallet", sent with Idempotency-Key ``key``.
 * @param options.done ``(payment) => void`` once the payment is captured.
 * @param options.wallet whether paying from the wallet is offered.
 * @param options.merchant the name the checkout shows as the payee.
 * @returns ``{ element, refresh() }``: ``refresh`` reads the wallet balance again.
 */
export function checkout(ctx, root, { title, amount, start, done, wallet = true,
  merchant = MERCHANT }) {
  const state = { attempt: null, enough: false, busy: false, panelOpen: false };
  const error = h("p", { class: "field-error", role: "alert", id: "pay-error", hidden: true });
  const note = h("p", { class: "notice-box", role: "status", id: "pay-note", hidden: true });
  const walletButton = h("button", { class: "button", type: "button", id: "pay-wallet",
    disabled: true, "aria-describedby": "pay-wallet-help" }, "Pay from wallet");
  const walletHelp = h("p", { class: "help", id: "pay-wallet-help" }, "Reading your wallet…");
  const onlineButton = h("button", { class: "button primary", type: "button", id: "pay-online" },
    "Pay online");
  const panel = h("div", { class: "sandbox-slot" });
  const choices = h("div", { class: "pay-choices" },
    onlineButton,
    wallet ? h("div", { class: "pay-wallet" }, walletButton, walletHelp) : null);
  const element = h("section", { class: "card checkout", "aria-labelledby": "pay-title" },
    h("h2", { id: "pay-title" }, title),
    h("p", { class: "amount", id: "pay-amount" }, rupees(amount)),
    choices, note, error, panel);
  root.replaceChildren(element);

  async function readWallet() {
    if (!wallet) return;
    try {
      const { balance } = await ctx.api.get("/wallet?limit=1");
      const has = paise(balance, { signed: true });
      const needed = paise(amount);
      // An amount the server should never send: treated as a failed read, not as "enough".
      if (has === null || needed === null) throw new Error(`not an amount: ${balance}, ${amount}`);
      state.enough = has >= needed;
      walletButton.textContent = `Pay from wallet (balance ${rupees(balance)})`;
      walletHelp.textContent = state.enough
        ? "Taken from your wallet at once."
        : `Your wallet balance is too low for ${rupees(amount)}. Top it up under Wallet, or pay online.`;
    } catch (err) {
      state.enough = false;
      walletHelp.textContent = `The wallet cannot be used now: ${describe(err)}`;
    }
    sync();
  }

  // Both choices wait while one is in flight; "Pay online" also while its checkout is open.
  function sync() {
    onlineButton.disabled = state.busy || state.panelOpen;
    walletButton.disabled = state.busy || !state.enough;
  }

  // One attempt per method until it succeeds or is refused for good: its key is reused when
  // the same click is retried after a network failure.
  function attemptFor(method) {
    if (!state.attempt || state.attempt.method !== method) {
      state.attempt = { method, key: idempotencyKey() };
    }
    return state.attempt;
  }

  async function begin(method, button) {
    if (state.busy) return; // a double click: the first one is under way
    state.busy = true;
    sync();
    button.setAttribute("aria-busy", "true");
    showError(error, "");
    note.hidden = true;
    const attempt = attemptFor(method);
    try {
      const started = await start(method, attempt.key);
      if (started.payment?.status === "captured") {
        state.attempt = null;
        await finish(started.payment);
      } else if (started.checkout) {
        showGateway(started.payment, started.checkout);
      } else {
        state.attempt = null;
        showError(error, "The payment could not be started. Please try again.");
      }
    } catch (err) {
      if (err?.code === "PAYMENT_PENDING" && err.details?.payment_id) {
        await resume(err.details.payment_id).catch((again) => showError(error, payMessage(again)));
      } else {
        if (!RETRYABLE(err)) state.attempt = null;
        showError(error, payMessage(err));
      }
    } finally {
      state.busy = false;
      button.removeAttribute("aria-busy");
      sync();
      readWallet();
    }
  }

  async function resume(paymentId) {
    const payment = await ctx.api.get(`/payments/${encodeURIComponent(paymentId)}`);
    if (payment.status === "captured") {
      await finish(payment);
      return;
    }
    showGateway(payment, { gateway: payment.gateway, order_id: payment.gateway_order_id });
  }

  function showGateway(payment, info) {
    panel.hidden = false;
    state.panelOpen = true;
    sync();
    if (info.gateway !== "sandbox") {
      state.attempt = null;
      panel.replaceChildren(h("p", { class: "notice-box" },
        `Online payment through ${info.gateway} opens that gateway's own checkout, which this `
        + "page cannot show. Pay from your wallet instead, or ask the clinic."));
      return;
    }
    const payError = h("p", { class: "field-error", role: "alert", id: "sandbox-error",
      hidden: true });
    const payButton = h("button", { class: "button primary", type: "button", id: "sandbox-pay" },
      `Pay ${rupees(payment.amount)}`);
    const declineButton = h("button", { class: "button", type: "button", id: "sandbox-decline" },
      "Decline payment");
    const gatewayPage = h("section", { class: "sandbox-checkout", id: "sandbox-checkout",
      "aria-labelledby": "sandbox-title" },
      h("div", { class: "sandbox-bar" },
        h("span", { class: "sandbox-merchant", id: "sandbox-title" }, merchant),
        h("span", { class: "sandbox-label" }, "Sandbox — no money moves")),
      h("div", { class: "sandbox-body" },
        h("p", { class: "help" }, "Amount to pay"),
        h("p", { class: "amount", id: "sandbox-amount" }, rupees(payment.amount)),
        h("p", { class: "help" }, `Order reference ${info.order_id}`),
        h("p", { class: "help" }, "This is the server's built-in test checkout. Paying here "
          + "completes the payment without charging any card; declining fails it."),
        payError,
        h("div", { class: "row" }, payButton, declineButton)));
    panel.replaceChildren(gatewayPage);

    const path = `/payments/${encodeURIComponent(payment.id)}`;
    payButton.addEventListener("click", () => busy(payButton, async () => {
      declineButton.disabled = true;
      showError(payError, "");
      try {
        // The checkout's answer (ids and signature) goes to the server, which checks the
        // signature and captures; capture is done once however often it is confirmed.
        const paid = await ctx.api.post(`${path}/sandbox-checkout`, { outcome: "paid" });
        const confirmed = await ctx.api.post(`${path}/confirm`, paid);
        if (confirmed.status === "captured") {
          state.attempt = null;
          closePanel();
          await finish(confirmed);
        } else {
          failed(`The payment is ${confirmed.status.replace(/_/g, " ")}.`);
        }
      } catch (err) {
        if (err?.status === 409) failed(payMessage(err));
        else showError(payError, payMessage(err));
      } finally {
        declineButton.disabled = false;
      }
    }));
    declineButton.addEventListener("click", () => busy(declineButton, async () => {
      payButton.disabled = true;
      showError(payError, "");
      try {
        await ctx.api.post(`${path}/sandbox-checkout`, { outcome: "failed" });
        failed("The payment was declined. No money was taken. You can try again.");
      } catch (err) {
        showError(payError, payMessage(err));
      } finally {
        payButton.disabled = false;
      }
    }));
    payButton.focus();
  }

  // The attempt is over: a new click is a new payment with a new key.
  function failed(message) {
    state.attempt = null;
    closePanel();
    onlineButton.textContent = "Try again: pay online";
    showError(error, message);
    readWallet();
    onlineButton.focus();
  }

  function closePanel() {
    panel.replaceChildren();
    panel.hidden = true;
    state.panelOpen = false;
    sync();
  }

  async function finish(payment) {
    note.textContent = `Paid ${rupees(payment.amount)}.`;
    note.hidden = false;
    choices.hidden = true;
    await done(payment);
  }

  onlineButton.addEventListener("click", () => begin("gateway", onlineButton));
  walletButton.addEventListener("click", () => begin("wallet", walletButton));
  readWallet();
  return { element, refresh: readWallet };
}
