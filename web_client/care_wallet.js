// The wallet: balance and history, adding money through the payment gateway, and family
// members: linking one (they read out the code they were sent: their consent) and sending them
// money. Amounts stay decimal strings; the server checks the balance and moves the money.

import { describe, idempotencyKey, paise, rupees, when } from "./care_api.js";
import { busy, h, showError } from "./care_dom.js";

const MIN_TOPUP = "1.00";
const PHONE = /^(\+?91[\s-]*)?[6-9][0-9\s-]{9,12}$/;

export async function show(ctx, root) {
  const state = { wallet: null, members: [], leaving: false };

  // ---- balance
  const balance = h("p", { class: "amount", id: "wallet-balance" }, "…");
  const loadError = h("p", { class: "field-error", role: "alert", hidden: true, id: "wallet-error" });
  const balanceCard = h("section", { class: "card wallet-balance", "aria-labelledby": "wallet-title" },
    h("h1", { id: "wallet-title" }, "Wallet"),
    h("p", { class: "help" }, "Balance"), balance,
    h("p", { class: "help" }, "Pay for medicines and lab tests from your wallet, or send money "
      + "to family members you have added."), loadError);

  // ---- top-up
  const topupAmount = h("input", { id: "topup-amount", name: "amount", type: "text",
    inputmode: "decimal", autocomplete: "off", "aria-describedby": "topup-help topup-error" });
  const topupHelp = h("p", { class: "help", id: "topup-help" }, "From ₹1.");
  const topupError = h("p", { class: "field-error", role: "alert", hidden: true, id: "topup-error" });
  const topupSubmit = h("button", { id: "topup-submit", class: "button primary", type: "submit" },
    "Add money");
  const topupForm = h("form", { class: "field-form", id: "topup-form", novalidate: true },
    h("label", { for: "topup-amount" }, "Amount to add (₹)"), topupAmount, topupHelp, topupError,
    topupSubmit);
  const topupCard = h("section", { class: "card", "aria-labelledby": "topup-title" },
    h("h2", { id: "topup-title" }, "Add money"), topupForm);
  const topupPay = h("div", { id: "topup-pay", class: "wallet-pay" });

  // ---- family
  const memberList = h("ul", { class: "wallet-members", id: "wallet-members" });
  const transfer = transferForm();
  const link = linkForm();
  const familyCard = h("section", { class: "card", "aria-labelledby": "family-title" },
    h("h2", { id: "family-title" }, "Family"), memberList, transfer.form,
    h("h3", { class: "wallet-link-title" }, "Add a family member"), link.form);

  // ---- history
  const history = h("ul", { class: "wallet-history", id: "wallet-history" });
  const historyCard = h("section", { class: "card", "aria-labelledby": "history-title" },
    h("h2", { id: "history-title" }, "History"), history);

  root.append(balanceCard, topupCard, topupPay, familyCard, historyCard);

  async function load() {
    try {
      const [wallet, family] = await Promise.all([ctx.api.get("/wallet?limit=50"),
        ctx.api.get("/wallet/family")]);
      if (state.leaving) return;
      state.wallet = wallet;
      state.members = family.items;
      showError(loadError, "");
      draw();
    } catch (err) {
      showError(loadError, describe(err));
    }
  }

  function draw() {
    const { wallet, members } = state;
    balance.textContent = rupees(wallet.balance);
    if (wallet.topup_max) {
      topupHelp.textContent = `From ${rupees(MIN_TOPUP)} to ${rupees(wallet.topup_max)} at a time.`;
    }
    memberList.replaceChildren(...members.map((m) => h("li", { dataset: { id: m.member_id } },
      h("span", { class: "title" }, memberName(m)),
      h("span", { class: "help" }, `Added ${when(m.linked_at)}`))));
    if (!members.length) {
      memberList.replaceChildren(h("li", {}, h("p", { class: "empty-state" },
        "No family members yet. Add one below to send them money.")));
    }
    transfer.setMembers(members);
    const names = Object.fromEntries(members.map((m) => [m.member_id, memberName(m)]));
    history.replaceChildren(...wallet.entries.map((e) => entry(e, names)));
    if (!wallet.entries.length) {
      history.replaceChildren(h("li", {}, h("p", { class: "empty-state" }, "Nothing yet.")));
    }
  }

  // ---- adding money: the gateway's checkout, not the wallet itself
  topupForm.addEventListener("submit", (event) => {
    event.preventDefault();
    const amount = topupAmount.value.trim();
    const problem = amountProblem(amount, MIN_TOPUP, state.wallet?.topup_max);
    if (problem) {
      showError(topupError, `Amount: ${problem}`, topupAmount);
      topupAmount.focus();
      return;
    }
    showError(topupError, "", topupAmount);
    busy(topupSubmit, async () => {
      try {
        const { checkout } = await import("./care_checkout.js");
        if (state.leaving) return;
        const value = normalise(amount);
        const finish = () => {
          topupPay.replaceChildren();
          topupCard.hidden = false;
          topupAmount.value = "";
        };
        const cancel = h("button", { class: "button small", type: "button", id: "topup-cancel" },
          "Change the amount");
        cancel.addEventListener("click", () => { finish(); topupAmount.focus(); });
        // The checkout takes the top-up card's place until it is paid or given up.
        topupCard.hidden = true;
        const { element } = checkout(ctx, topupPay, {
          title: "Add money to your wallet",
          amount: value,
          wallet: false,
          start: (method, key) => ctx.api.post("/wallet/topup", { amount: value }, key),
          done: async () => {
            finish();
            ctx.toast(`${rupees(value)} added to your wallet.`);
            await load();
          },
        });
        element.append(cancel);
      } catch (err) {
        topupCard.hidden = false;
        showError(topupError, describe(err, { amount: "Amount" }), topupAmount);
      }
    });
  });

  // ---- sending money to a linked member
  function transferForm() {
    const to = h("select", { id: "transfer-to", name: "member_id" });
    const amount = h("input", { id: "transfer-amount", name: "amount", type: "text",
      inputmode: "decimal", autocomplete: "off", "aria-describedby": "transfer-error" });
    const error = h("p", { class: "field-error", role: "alert", hidden: true, id: "transfer-error" });
    const submit = h("button", { id: "transfer-submit", class: "button", type: "submit" },
      "Send money");
    const form = h("form", { class: "field-form wallet-transfer", id: "transfer-form",
      novalidate: true, hidden: true, "aria-labelledby": "transfer-title" },
    h("h3", { id: "transfer-title" }, "Send money"),
    h("label", { for: "transfer-to" }, "Send to"), to,
    h("label", { for: "transfer-amount" }, "Amount to send (₹)"), amount, error, submit);
    let key = null;
    let keyFor = "";

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      const value = amount.value.trim();
      const problem = amountProblem(value, "0.01", null);
      if (problem) {
        showError(error, `Amount: ${problem}`, amount);
        amount.focus();
        return;
      }
      showError(error, "", amount);
      const body = { member_id: to.value, amount: normalise(value) };
      // One key per transfer the patient means: a retry after a lost answer is done once.
      if (keyFor !== JSON.stringify(body)) {
        key = idempotencyKey();
        keyFor = JSON.stringify(body);
      }
      busy(submit, async () => {
        try {
          await ctx.api.post("/wallet/transfer", body, key);
          key = null;
          keyFor = "";
          amount.value = "";
          const name = to.selectedOptions[0]?.textContent ?? "your family member";
          ctx.toast(`Sent ${rupees(body.amount)} to ${name}.`);
          await load();
        } catch (err) {
          if (err.code === "INSUFFICIENT_FUNDS") {
            key = null;
            keyFor = "";
            const { balance: has, needed } = err.details ?? {};
            showError(error, "Not enough money in your wallet: "
              + `${has ? `you have ${rupees(has)}` : "the balance is too low"}`
              + `${needed ? `, this needs ${rupees(needed)}` : ""}. Nothing was sent.`, amount);
            amount.focus();
            await load();
          } else {
            showError(error, describe(err, { amount: "Amount", member_id: "Send to" }));
          }
        }
      });
    });

    return {
      form,
      setMembers(members) {
        const chosen = to.value;
        to.replaceChildren(...members.map((m) => h("option", { value: m.member_id },
          memberName(m))));
        if (members.some((m) => m.member_id === chosen)) to.value = chosen;
        form.hidden = !members.length;
      },
    };
  }

  // ---- linking a member: their number, then the code they read out
  function linkForm() {
    const phone = h("input", { id: "family-phone", name: "phone", type: "tel", inputmode: "tel",
      autocomplete: "off", "aria-describedby": "family-phone-help family-error" });
    const code = h("input", { id: "family-code", name: "code", type: "text", inputmode: "numeric",
      autocomplete: "off", maxlength: "6", "aria-describedby": "family-code-help family-error" });
    const error = h("p", { class: "field-error", role: "alert", hidden: true, id: "family-error" });
    const ask = h("button", { id: "family-ask", class: "button", type: "submit" }, "Send them a code");
    const confirm = h("button", { id: "family-confirm", class: "button primary", type: "submit" },
      "Add family member");
    const restart = h("button", { id: "family-restart", class: "button quiet", type: "button" },
      "Use another number");
    const phoneStep = h("div", { class: "field-form" },
      h("label", { for: "family-phone" }, "Their mobile number"), phone,
      h("p", { class: "help", id: "family-phone-help" },
        "They must have signed in to Dhanvantri once with this number."), ask);
    const codeHelp = h("p", { class: "help", id: "family-code-help", role: "status" });
    const codeStep = h("div", { class: "field-form", hidden: true },
      codeHelp, h("label", { for: "family-code" }, "The 6-digit code they received"), code,
      h("div", { class: "row" }, confirm, restart));
    const form = h("form", { id: "family-form", novalidate: true }, phoneStep, codeStep, error);
    let challenge = null;

    function reset() {
      challenge = null;
      code.value = "";
      codeStep.hidden = true;
      phoneStep.hidden = false;
      showError(error, "");
    }
    restart.addEventListener("click", () => { reset(); phone.focus(); });

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!challenge) {
        const number = phone.value.trim();
        if (!PHONE.test(number)) {
          showError(error, "Mobile number: enter a 10-digit Indian mobile number.", phone);
          phone.focus();
          return;
        }
        showError(error, "", phone);
        busy(ask, async () => {
          try {
            const asked = await ctx.api.post("/wallet/family", { phone: number });
            challenge = asked.challenge_id;
            codeHelp.textContent = `If ${number} belongs to a patient here, we have sent them a `
              + "code by SMS. Ask them to read it out to you: entering it is their consent to be "
              + "added.";
            phoneStep.hidden = true;
            codeStep.hidden = false;
            code.focus();
          } catch (err) {
            showError(error, describe(err, { phone: "Mobile number" }), phone);
          }
        });
        return;
      }
      const digits = code.value.trim();
      if (!/^[0-9]{6}$/.test(digits)) {
        showError(error, "Code: enter the 6 digits they received.", code);
        code.focus();
        return;
      }
      showError(error, "", code);
      busy(confirm, async () => {
        try {
          const member = await ctx.api.post("/wallet/family/confirm",
            { challenge_id: challenge, code: digits });
          phone.value = "";
          reset();
          ctx.toast(`Added ${member.full_name || "your family member"}. You can now send them money.`);
          await load();
        } catch (err) {
          showError(error, err.code === "OTP_INVALID"
            ? "Code: that code is not right or has expired. Check it with them, or send a new one."
            : describe(err, { code: "Code" }), code);
        }
      });
    });
    return { form };
  }

  await load();
  return {
    onChange(change) {
      if (!change || change.kind === "wallet" || change.kind === "payment") load();
    },
    leave() {
      state.leaving = true;
    },
  };
}

/** Why ``amount`` cannot be used (min and max are decimal strings), or null. */
function amountProblem(amount, min, max) {
  const value = paise(amount);
  if (value === null) return "enter rupees, for example 500 or 250.50.";
  if (value < paise(min)) return `at least ${rupees(min)}.`;
  if (max && value > paise(max)) return `at most ${rupees(max)} at a time.`;
  return null;
}

/** "500" → "500.00" (the API's form), without floats. */
function normalise(amount) {
  const value = paise(amount);
  const text = value.toString().padStart(3, "0");
  return `${text.slice(0, -2)}.${text.slice(-2)}`;
}

function memberName(member) {
  return [member.full_name || "Family member", member.phone_hint].filter(Boolean).join(" · ");
}

const WHAT = {
  "payment+": "Money added",
  "payment-": "Paid from the wallet",
  "refund+": "Refund",
  "refund-": "Refund returned",
  "transfer+": "Received from family",
  "transfer-": "Sent to family",
};

function entry(e, names) {
  const sign = String(e.amount).startsWith("-") ? "-" : "+";
  let what = WHAT[`${e.kind}${sign}`] ?? e.kind.replace(/_/g, " ");
  if (e.kind === "transfer" && sign === "-" && names[e.reference]) {
    what = `Sent to ${names[e.reference]}`;
  }
  return h("li", { class: `wallet-entry ${sign === "-" ? "debit" : "credit"}`,
    dataset: { kind: e.kind } },
  h("span", { class: "title" }, what),
  h("span", { class: "wallet-entry-amount" }, sign === "+" ? `+${rupees(e.amount)}` : rupees(e.amount)),
  h("span", { class: "meta" }, when(e.created_at)));
}
