// A new medicine order from a released prescription (#orders/new/<rx>): the delivery PIN code,
// then the cart a pharmacy near it proposes (each medicine as prescribed, as a generic
// substitute, or another strength to choose only on the doctor's word), the packs of each, the
// delivery address, and placing the order (which then waits for payment on its own page).
//
// Money is only ever shown as the server totals it: a changed quantity is priced again by the
// server (POST /orders/quote), never added up here.

import { describe, idempotencyKey, rupees } from "./care_api.js";
import { busy, h, showError } from "./care_dom.js";

const PIN = /^[1-9][0-9]{5}$/;
const MAX_PACKS = 50; // what the server accepts per line
const LABELS = { pin_code: "PIN code", address: "Delivery address", quantity: "Quantity",
  "items.quantity": "Quantity" };

function medicineName(item) {
  return `${item.brand} (${item.generic} ${item.strength}, ${item.form})`;
}

/** Draw the new-order screen for prescription ``rxId`` into ``root``. */
export async function newOrder(ctx, root, rxId) {
  const state = { cart: null, rows: [], quoting: 0, quoteSeq: 0, placeKey: null };
  const pinInput = h("input", { id: "pin-code", name: "pin_code", type: "text",
    inputmode: "numeric", autocomplete: "postal-code", maxlength: "6",
    "aria-describedby": "pin-help pin-error", required: true });
  const pinError = h("p", { class: "field-error", role: "alert", id: "pin-error", hidden: true });
  const findButton = h("button", { class: "button primary", type: "submit", id: "find-pharmacy" },
    "Find a pharmacy");
  const pinForm = h("form", { class: "field-form", id: "pin-form", novalidate: true },
    h("label", { for: "pin-code" }, "Delivery PIN code"),
    pinInput,
    h("p", { class: "help", id: "pin-help" }, "The 6-digit PIN code where the medicines go."),
    pinError, findButton);
  const cartBox = h("div", { class: "cart", id: "cart" });
  root.append(
    h("a", { class: "button small back", href: `#prescriptions/${rxId}` }, "← Prescription"),
    h("h1", {}, "Order medicines"),
    h("p", { class: "help" }, "From your released prescription: a pharmacy near you proposes "
      + "each medicine, and you choose quantities before paying."),
    h("section", { class: "card", "aria-labelledby": "pin-title" },
      h("h2", { id: "pin-title" }, "Where to deliver"), pinForm),
    cartBox);

  pinForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const pin = pinInput.value.trim();
    if (!PIN.test(pin)) {
      showError(pinError, "PIN code: enter the 6 digits of the delivery area (e.g. 560001).",
        pinInput);
      pinInput.focus();
      return;
    }
    showError(pinError, "", pinInput);
    busy(findButton, async () => {
      try {
        const cart = await ctx.api.post("/carts/from-prescription",
          { prescription_id: rxId, pin_code: pin });
        state.cart = cart;
        drawCart(cart);
      } catch (err) {
        cartBox.replaceChildren();
        showError(pinError, describe(err, LABELS), pinInput);
      }
    });
  });

  function drawCart(cart) {
    const filled = cart.lines.filter((line) => line.item);
    const choosable = cart.lines.filter((line) => line.alternatives.length);
    if (!cart.pharmacy || (!filled.length && !choosable.length)) {
      cartBox.replaceChildren(h("p", { class: "notice-box", role: "alert", id: "no-stock" },
        cart.pharmacy
          ? `None of these medicines is in stock at pharmacies delivering to ${cart.pin_code} yet.`
          : `No pharmacy delivers these medicines to ${cart.pin_code} yet.`));
      return;
    }
    state.rows = cart.lines.map((line, index) => cartRow(line, index, cart));
    const total = h("p", { class: "amount", id: "cart-total" }, rupees(cart.total));
    const totalNote = h("p", { class: "help", id: "cart-total-note", role: "status" },
      "Total from the pharmacy's prices.");
    const cartError = h("p", { class: "field-error", role: "alert", id: "cart-error",
      hidden: true });
    const address = h("textarea", { id: "address", name: "address", rows: "3",
      maxlength: "500", autocomplete: "street-address",
      "aria-describedby": "address-help address-error", required: true });
    const addressError = h("p", { class: "field-error", role: "alert", id: "address-error",
      hidden: true });
    const placeButton = h("button", { class: "button primary", type: "submit",
      id: "place-order" }, "Place order");
    const orderForm = h("form", { class: "field-form", id: "order-form", novalidate: true },
      h("label", { for: "address" }, "Delivery address"), address,
      h("p", { class: "help", id: "address-help" },
        `House, street and area in PIN code ${cart.pin_code} (5 to 500 characters).`),
      addressError, placeButton);
    state.total = total;
    state.totalNote = totalNote;
    state.cartError = cartError;
    state.placeButton = placeButton;

    cartBox.replaceChildren(
      h("section", { class: "card", "aria-labelledby": "cart-title" },
        h("h2", { id: "cart-title" }, "Your cart"),
        h("p", { class: "cart-pharmacy", id: "cart-pharmacy" },
          `From ${cart.pharmacy.name}, delivering to ${cart.pin_code}`),
        h("ul", { class: "cart-lines", id: "cart-lines" }, ...state.rows.map((row) => row.node)),
        h("div", { class: "cart-total" }, h("span", {}, "Total"), total),
        totalNote, cartError),
      h("section", { class: "card", "aria-labelledby": "address-title" },
        h("h2", { id: "address-title" }, "Deliver to"), orderForm));
    refreshPlaceable();

    orderForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = address.value.trim();
      if (text.length < 5 || text.length > 500) {
        showError(addressError, "Delivery address: write at least 5 characters (at most 500).",
          address);
        address.focus();
        return;
      }
      showError(addressError, "", address);
      const items = chosenItems();
      if (!items.length) {
        showError(cartError, "Choose at least one medicine to order.");
        return;
      }
      // One key for this order: a retry after a network failure places it once.
      state.placeKey = state.placeKey ?? idempotencyKey();
      busy(placeButton, async () => {
        try {
          const order = await ctx.api.post("/orders", {
            pharmacy_id: cart.pharmacy.id, pin_code: cart.pin_code, address: text, items,
            prescription_id: rxId,
          }, state.placeKey);
          ctx.toast(`Order placed: ${rupees(order.total)}. Now pay for it.`);
          ctx.go(`#orders/${order.id}`);
        } catch (err) {
          if (err?.status && err.status < 500) state.placeKey = null;
          const box = err?.details?.[0]?.field === "address" ? addressError : cartError;
          showError(box, describe(err, LABELS));
        }
      });
    });
  }

  function cartRow(line, index, cart) {
    const row = { line, choice: line.item, quantity: line.quantity || 1, node: null };
    const lineTotal = h("span", { class: "line-total", dataset: { role: "line-total" } },
      line.item ? rupees(line.line_total) : "");
    const head = h("div", { class: "cart-line-head" },
      h("span", { class: "title" }, `Prescribed: ${line.prescribed}`),
      line.dose ? h("span", { class: "meta" }, line.dose) : null);
    const body = [];
    const qtyId = `qty-${index}`;
    const quantity = h("input", { id: qtyId, type: "number", inputmode: "numeric", min: "1",
      max: String(MAX_PACKS), step: "1", value: String(row.quantity), class: "qty" });
    const qtyError = h("p", { class: "field-error", role: "alert", hidden: true,
      id: `${qtyId}-error` });
    quantity.setAttribute("aria-describedby", `${qtyId}-error`);
    const qtyLabel = h("label", { for: qtyId }, "Packs");
    const priced = (item) => {
      quantity.setAttribute("aria-label", `Packs of ${item.brand}`);
      return pricedRow(item);
    };
    const pricedRow = (item) => h("div", { class: "cart-price" },
      h("span", { class: "unit" }, `${rupees(item.price)} a pack (${item.pack})`),
      h("span", { class: "qty-field" }, qtyLabel, quantity),
      lineTotal, qtyError);

    if (line.match === "exact") {
      body.push(h("p", { class: "match", dataset: { match: "exact" } },
        h("strong", {}, "As prescribed: "), medicineName(line.item)));
      body.push(priced(line.item));
    } else if (line.match === "generic") {
      body.push(h("p", { class: "match", dataset: { match: "generic" } },
        h("strong", {}, "Generic substitute: "), medicineName(line.item),
        ` — the same medicine at the same strength, in place of ${line.prescribed}.`));
      body.push(priced(line.item));
    } else if (line.match === "alternatives") {
      const name = `alt-${index}`;
      const options = [{ id: "", label: "Don't add this medicine" }, ...line.alternatives.map(
        (item) => ({ id: item.id, item,
          label: `${medicineName(item)} · ${rupees(item.price)} a pack (${item.pack})` }))];
      const radios = options.map((option, i) => {
        const input = h("input", { type: "radio", name, id: `${name}-${i}`, value: option.id,
          checked: i === 0 });
        input.addEventListener("change", () => {
          row.choice = option.item ?? null;
          pricedBox.replaceChildren(...(row.choice ? [priced(row.choice)] : []));
          if (!row.choice) lineTotal.textContent = "";
          requote();
        });
        return h("div", { class: "choice" }, input, h("label", { for: input.id }, option.label));
      });
      const pricedBox = h("div", {});
      body.push(h("p", { class: "match", dataset: { match: "alternatives" } },
        h("strong", {}, "Not in stock at the prescribed strength. "),
        "Another strength is in stock: a change of strength needs your doctor's agreement, so "
        + "choose one only if your doctor has said so."));
      body.push(h("fieldset", { class: "alternatives" },
        h("legend", {}, `Instead of ${line.prescribed}`), ...radios));
      body.push(pricedBox);
    } else if (line.match === "out_of_stock") {
      body.push(h("p", { class: "match", dataset: { match: "out_of_stock" } },
        h("strong", {}, "Out of stock: "),
        `no pharmacy delivering to ${cart.pin_code} has it now.`));
    } else {
      body.push(h("p", { class: "match", dataset: { match: "not_in_catalog" } },
        h("strong", {}, "Not in our catalogue: "),
        "buy it at a pharmacy of your choice with your prescription."));
    }

    quantity.addEventListener("change", () => {
      const value = Number(quantity.value);
      if (!Number.isInteger(value) || value < 1 || value > MAX_PACKS) {
        showError(qtyError, `Packs: a whole number from 1 to ${MAX_PACKS}.`, quantity);
        row.invalid = true;
        refreshPlaceable();
        return;
      }
      showError(qtyError, "", quantity);
      row.invalid = false;
      row.quantity = value;
      requote();
    });
    row.lineTotal = lineTotal;
    row.node = h("li", { class: "cart-line", dataset: { match: line.match } }, head, ...body);
    return row;
  }

  function chosenItems() {
    return state.rows.filter((row) => row.choice && !row.invalid)
      .map((row) => ({ medicine_id: row.choice.id, quantity: row.quantity }));
  }

  function refreshPlaceable() {
    const ready = !state.quoting && chosenItems().length > 0
      && !state.rows.some((row) => row.choice && row.invalid);
    state.placeButton.disabled = !ready;
  }

  // The server prices the cart again; the newest answer wins over a slower older one.
  async function requote() {
    const ask = ++state.quoteSeq;
    const items = chosenItems();
    state.quoting += 1;
    state.totalNote.textContent = "Updating the total…";
    refreshPlaceable();
    try {
      if (!items.length) {
        state.total.textContent = rupees("0.00");
        state.totalNote.textContent = "Nothing chosen yet.";
        return;
      }
      const quote = await ctx.api.post("/orders/quote", {
        pharmacy_id: state.cart.pharmacy.id, pin_code: state.cart.pin_code, items,
        prescription_id: rxId,
      });
      if (ask !== state.quoteSeq) return;
      const byId = new Map(quote.items.map((item) => [item.medicine_id, item]));
      for (const row of state.rows) {
        const priced = row.choice && byId.get(row.choice.id);
        if (priced) row.lineTotal.textContent = rupees(priced.line_total);
      }
      state.total.textContent = rupees(quote.total);
      state.totalNote.textContent = "Total from the pharmacy's prices.";
      showError(state.cartError, "");
    } catch (err) {
      if (ask === state.quoteSeq) showError(state.cartError, describe(err, LABELS));
    } finally {
      state.quoting -= 1;
      refreshPlaceable();
    }
  }

  pinInput.focus();
  return null;
}
