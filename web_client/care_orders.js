// Medicine orders: the list of orders (#orders) and one order's progress (#orders/<id>) with
// its payment, its delivery code while out for delivery, and cancelling (with the refund) before
// it is shipped. A new order from a prescription (#orders/new/<rx>) is drawn by care_cart.js.
//
// Money is only ever shown as the server totals it, never added up here.

import { describe, rupees, when } from "./care_api.js";
import { newOrder } from "./care_cart.js";
import { checkout } from "./care_checkout.js";
import { busy, chip, h, listScreen, showError } from "./care_dom.js";

const STATUS_TEXT = {
  placed: "Awaiting payment",
  paid: "Paid",
  packed: "Packed",
  shipped: "Shipped",
  out_for_delivery: "Out for delivery",
  delivered: "Delivered",
  cancelled: "Cancelled",
  refunded: "Refunded",
};
const STEPS = [
  ["placed", "Placed"], ["paid", "Paid"], ["packed", "Packed"], ["shipped", "Shipped"],
  ["out_for_delivery", "Out for delivery"], ["delivered", "Delivered"],
];
const CANCELLABLE = new Set(["placed", "paid", "packed"]);
const PAYMENT_TEXT = {
  created: "Awaiting payment",
  captured: "Paid",
  partially_refunded: "Partly refunded",
  refunded: "Refunded",
  failed: "Payment failed",
};

function statusChip(status) {
  return chip(status, STATUS_TEXT[status] ?? status.replace(/_/g, " "));
}

function shortId(id) {
  return String(id).slice(0, 8).toUpperCase();
}


export async function show(ctx, root, params) {
  if (params[0] === "new") return newOrder(ctx, root, params[1]);
  if (params[0]) return detail(ctx, root, params[0]);
  return list(ctx, root);
}

// ------------------------------------------------------------------ the list
function list(ctx, root) {
  return listScreen(root, {
    title: "My orders",
    listId: "order-list",
    fetch: async () => (await ctx.api.get("/orders?limit=100")).items,
    item: (order) => h("li", { class: "order", dataset: { id: order.id, status: order.status } },
      h("a", { href: `#orders/${order.id}` },
        h("span", { class: "title" }, `Order ${shortId(order.id)} · ${rupees(order.total)}`),
        statusChip(order.status),
        h("span", { class: "meta" }, [
          `${order.items.length} ${order.items.length === 1 ? "medicine" : "medicines"}`,
          `placed ${when(order.placed_at)}`].join(" · ")))),
    empty: ["No orders yet. Open a released prescription and choose “Order medicines”."],
    kinds: ["order", "payment"],
  });
}


// ------------------------------------------------------------------ one order
async function detail(ctx, root, id) {
  const path = `/orders/${encodeURIComponent(id)}`;
  const state = { order: null, payment: null, paying: null, seq: 0, cancelling: false };
  const heading = h("h1", { id: "order-title" }, "Order");
  const headChip = h("span", { id: "order-status" });
  const error = h("p", { class: "field-error", role: "alert", id: "order-error", hidden: true });
  const codeBox = h("section", { class: "card delivery-code", id: "delivery-code",
    "aria-labelledby": "code-title", hidden: true });
  const timeline = h("ol", { class: "timeline", id: "order-timeline",
    "aria-label": "Order progress" });
  const facts = h("dl", { class: "facts", id: "order-facts" });
  const itemsBox = h("div", { id: "order-items" });
  const payBox = h("div", { id: "order-pay" });
  const cancelBox = h("div", { id: "order-cancel" });
  root.append(
    h("a", { class: "button small back", href: "#orders" }, "← All orders"),
    h("div", { class: "order-head" }, heading, headChip),
    error, codeBox, payBox,
    h("section", { class: "card", "aria-labelledby": "progress-title" },
      h("h2", { id: "progress-title" }, "Progress"), timeline),
    h("section", { class: "card", "aria-labelledby": "items-title" },
      h("h2", { id: "items-title" }, "Medicines"), itemsBox, facts),
    cancelBox);

  async function load() {
    const seq = ++state.seq;
    try {
      const order = await ctx.api.get(path);
      const payment = order.payment_id
        ? await ctx.api.get(`/payments/${order.payment_id}`).catch(() => null) : null;
      if (seq !== state.seq) return; // a newer load is under way
      showError(error, "");
      state.order = order;
      state.payment = payment;
      draw(order, payment);
    } catch (err) {
      if (seq === state.seq) showError(error, describe(err));
    }
  }

  function draw(order, payment) {
    heading.textContent = `Order ${shortId(order.id)}`;
    headChip.replaceChildren(statusChip(order.status));
    root.dataset.status = order.status;
    drawTimeline(order, payment);
    drawItems(order, payment);
    drawPay(order);
    drawCancel(order);
    drawCode(order);
  }

  function drawTimeline(order, payment) {
    const ended = order.status === "cancelled" || order.status === "refunded";
    // An order that was paid before it was cancelled shows that it was paid.
    const reached = ended ? (payment && payment.status !== "failed"
      && payment.status !== "created" ? 1 : 0)
      : STEPS.findIndex(([step]) => step === order.status);
    const times = { placed: order.placed_at, delivered: order.delivered_at };
    const step = (key, label, mark, at) => h("li", { class: "step",
      dataset: { step: key, state: mark }, "aria-current": mark === "current" ? "step" : null },
    h("span", { class: "dot", "aria-hidden": "true" }),
    h("span", { class: "label" }, label),
    h("span", { class: "when" }, mark === "todo" ? "Not yet" : at ? when(at) : ""));
    const rows = STEPS.slice(0, ended ? reached + 1 : STEPS.length).map(([key, label], index) => {
      const mark = !ended && index === reached ? "current" : index <= reached ? "done" : "todo";
      return step(key, label, mark, times[key] ?? (mark === "current" ? order.updated_at : null));
    });
    if (ended) rows.push(step(order.status, STATUS_TEXT[order.status], "current", order.updated_at));
    timeline.replaceChildren(...rows);
  }

  function drawItems(order, payment) {
    const table = h("table", { class: "care-table", id: "order-lines" },
      h("thead", {}, h("tr", {},
        h("th", { scope: "col" }, "Medicine"), h("th", { scope: "col", class: "num" }, "Packs"),
        h("th", { scope: "col", class: "num" }, "Price a pack"),
        h("th", { scope: "col", class: "num" }, "Amount"))),
      h("tbody", {}, ...order.items.map((item) => h("tr", {},
        h("td", { "data-label": "Medicine" }, item.name),
        h("td", { class: "num", "data-label": "Packs" }, String(item.quantity)),
        h("td", { class: "num", "data-label": "Price a pack" }, rupees(item.unit_price)),
        h("td", { class: "num", "data-label": "Amount" }, rupees(item.line_total))))),
      h("tfoot", {}, h("tr", {},
        h("th", { scope: "row", colspan: "3" }, "Total"),
        h("td", { class: "num", "data-label": "Total", id: "order-total" },
          rupees(order.total)))));
    itemsBox.replaceChildren(table);
    const rows = [
      ["Deliver to", `${order.address} (PIN ${order.pin_code})`],
      ["Placed", when(order.placed_at)],
      ["Payment", paymentText(order, payment)],
    ];
    const refund = refundText(payment);
    if (refund) rows.push(["Refund", refund]);
    if (order.delivered_at) rows.push(["Delivered", when(order.delivered_at)]);
    facts.replaceChildren(...rows.flatMap(([term, value]) => [
      h("dt", {}, term), h("dd", { dataset: { fact: term.toLowerCase().replace(/ /g, "-") } },
        value)]));
  }

  function paymentText(order, payment) {
    if (!payment) return order.status === "cancelled" ? "Not paid" : "Not paid yet";
    const how = payment.method === "wallet" ? "from your wallet"
      : payment.gateway === "sandbox" ? "online (sandbox: no money moved)" : "online";
    const status = PAYMENT_TEXT[payment.status] ?? payment.status;
    if (payment.status === "captured") return `Paid ${rupees(payment.amount)} ${how}`;
    return `${status} · ${rupees(payment.amount)} ${how}`;
  }

  function refundText(payment) {
    if (!payment || payment.refunded === "0.00" || payment.refunded === "0") return "";
    const where = payment.method === "wallet" ? "to your wallet"
      : "to your original payment method";
    return `${rupees(payment.refunded)} refunded ${where}`;
  }

  // The payment step is drawn once while the order awaits payment: a refetch must not tear
  // down a checkout in progress.
  function drawPay(order) {
    if (order.status !== "placed") {
      state.paying = null;
      payBox.replaceChildren();
      return;
    }
    if (state.paying) return;
    state.paying = checkout(ctx, payBox, {
      title: "Pay for your order",
      amount: order.total,
      start: (method, key) => ctx.api.post(`${path}/pay`, { method }, key),
      done: async () => {
        ctx.toast("Payment received. The pharmacy is preparing your order.");
        await load();
      },
    });
  }

  function drawCancel(order) {
    if (!CANCELLABLE.has(order.status)) {
      cancelBox.replaceChildren();
      return;
    }
    if (state.cancelling) return;
    const paid = order.status !== "placed";
    const cancelError = h("p", { class: "field-error", role: "alert", id: "cancel-error",
      hidden: true });
    const open = h("button", { class: "button", type: "button", id: "cancel-order" },
      "Cancel order");
    const confirmBox = h("div", { class: "cancel-confirm", hidden: true });
    const yes = h("button", { class: "button danger", type: "button", id: "cancel-confirm" },
      "Yes, cancel the order");
    const no = h("button", { class: "button", type: "button", id: "cancel-keep" }, "Keep it");
    confirmBox.append(
      h("p", {}, paid
        ? `The pharmacy releases your medicines and ${rupees(order.total)} is refunded to `
          + "where you paid from."
        : "Nothing has been paid: the order is simply cancelled."),
      h("div", { class: "row" }, yes, no));
    open.addEventListener("click", () => {
      confirmBox.hidden = false;
      open.hidden = true;
      state.cancelling = true;
      yes.focus();
    });
    no.addEventListener("click", () => {
      confirmBox.hidden = true;
      open.hidden = false;
      state.cancelling = false;
      open.focus();
    });
    yes.addEventListener("click", () => busy(yes, async () => {
      try {
        await ctx.api.post(`${path}/cancel`, { reason: "cancelled by the patient" });
        state.cancelling = false;
        ctx.toast(paid ? "Order cancelled. Your refund is on its way." : "Order cancelled.");
        await load();
      } catch (err) {
        showError(cancelError, describe(err));
      }
    }));
    cancelBox.replaceChildren(h("section", { class: "card", "aria-labelledby": "cancel-title" },
      h("h2", { id: "cancel-title" }, "Cancel"),
      h("p", { class: "help" }, "You can cancel until the pharmacy ships the order."),
      open, confirmBox, cancelError));
  }

  // The code is read once per issue (each read is audited): again only when a fresh code
  // was issued (its expiry moved) or the shown one has expired.
  async function drawCode(order) {
    if (order.status !== "out_for_delivery") {
      state.codeFor = null;
      codeBox.hidden = true;
      codeBox.replaceChildren();
      return;
    }
    const issue = order.delivery?.otp_expires_at ?? "";
    const expired = issue && Date.parse(issue) <= Date.now();
    if ((state.codeFor === issue && !expired) || state.codeLoading === issue) return;
    state.codeLoading = issue;
    let content;
    let shown = null;
    try {
      const found = await ctx.api.get(`${path}/delivery-code`);
      content = [
        h("p", { class: "code-digits", id: "delivery-code-digits",
          "aria-label": `Delivery code ${found.code.split("").join(" ")}` }, found.code),
        h("p", { class: "code-help" }, "Tell this code to the delivery agent when your "
          + "medicines arrive. We also sent it to you by SMS."),
        found.expires_at ? h("p", { class: "help" }, `Valid until ${when(found.expires_at)}.`)
          : null,
      ];
      shown = issue;
    } catch (err) {
      content = [h("p", { class: "field-error", role: "alert" }, describe(err))];
    } finally {
      state.codeLoading = null;
    }
    if (state.order?.status !== "out_for_delivery") return; // delivered meanwhile
    state.codeFor = shown; // after a failure: read again on the next change
    codeBox.replaceChildren(h("h2", { id: "code-title" }, "Your delivery code"), ...content);
    codeBox.hidden = false;
  }

  await load();
  return {
    onChange(change) {
      if (!change || change.id === id || change.kind === "payment"
          || change.id === state.order?.payment_id) load();
    },
  };
}
