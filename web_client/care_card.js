// The emergency card and record shares (#card): what a bystander may read from a QR code, and
// time-limited shares a doctor elsewhere opens with a code the patient reads out.
//
// Links and codes are shown once, when made: the server keeps only their digests. Making a new
// card or revoking it makes every printed copy of the old QR say "revoked".

import { describe, when } from "./care_api.js";
import { busy, chip, h, showError } from "./care_dom.js";

const FIELDS = [
  ["name", "My name"],
  ["blood_group", "Blood group"],
  ["allergies", "Allergies (from my profile)"],
  ["conditions", "Conditions (from my profile)"],
  ["medicines", "Current medicines (from my profile)"],
  ["contacts", "Emergency contacts"],
];
const BLOOD_GROUPS = ["A+", "A-", "B+", "B-", "AB+", "AB-", "O+", "O-"];
const DURATIONS = [[15, "15 minutes"], [60, "1 hour"], [240, "4 hours"], [1440, "1 day"], [10080, "7 days"]];
const SHARE_STATUS = { waiting: "Waiting for the code", open: "Opened", expired: "Expired",
  revoked: "Revoked", locked: "Locked (wrong codes)" };
const LABELS = { blood_group: "Blood group", contacts: "Emergency contact", "contacts.0.phone": "Contact's phone",
  "contacts.0.name": "Contact's name", reference_id: "What to share", minutes: "How long" };

/** An SVG (from our own server) as an image: never parsed into this page's DOM. */
function qrImage(svg, alt) {
  return h("img", { src: `data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`, alt });
}

export async function show(ctx, root) {
  const state = { leaving: false };
  root.append(h("h1", {}, "Emergency card and sharing"));

  // ---- the emergency card
  const cardStatus = h("div", { id: "card-status" });
  const cardMade = h("div", { id: "card-made", hidden: true });
  const cardError = h("p", { class: "field-error", role: "alert", hidden: true, id: "card-error" });
  const checks = FIELDS.map(([name, label]) => h("label", {},
    h("input", { type: "checkbox", name: "fields", value: name, id: `card-field-${name}` }), label));
  const blood = h("select", { id: "card-blood", name: "blood_group" },
    h("option", { value: "" }, "Choose…"), BLOOD_GROUPS.map((g) => h("option", { value: g }, g)));
  const contact = {
    name: h("input", { id: "card-contact-name", autocomplete: "off", maxlength: 100 }),
    relation: h("input", { id: "card-contact-relation", autocomplete: "off", maxlength: 40 }),
    phone: h("input", { id: "card-contact-phone", type: "tel", inputmode: "tel", autocomplete: "off", maxlength: 20 }),
  };
  const makeButton = h("button", { id: "card-make", class: "button primary", type: "submit" }, "Make my card");
  const cardForm = h("form", { id: "card-form", class: "field-form", novalidate: true },
    h("fieldset", { class: "choice-list" }, h("legend", {}, "What the card shows"), checks),
    h("label", { for: "card-blood" }, "Blood group"), blood,
    h("fieldset", { class: "choice-list" }, h("legend", {}, "Emergency contact"),
      h("div", { class: "contact-row" },
        h("label", {}, "Name", contact.name), h("label", {}, "Relation", contact.relation),
        h("label", {}, "Phone", contact.phone))),
    h("p", { class: "help" }, "Only what you tick is shown, to anyone who scans the code. "
      + "Allergies, conditions and medicines come from your profile as they are when scanned."),
    cardError, makeButton);
  const revokeButton = h("button", { id: "card-revoke", class: "button", type: "button", hidden: true },
    "Revoke my card");
  root.append(h("section", { class: "card", "aria-labelledby": "card-title" },
    h("h2", { id: "card-title" }, "Emergency card"), cardStatus, cardMade, revokeButton, cardForm));

  // ---- shares
  const kind = h("select", { id: "share-what", name: "what" });
  const minutes = h("select", { id: "share-minutes", name: "minutes" },
    DURATIONS.map(([m, label]) => h("option", { value: String(m), selected: m === 60 }, label)));
  const shareError = h("p", { class: "field-error", role: "alert", hidden: true, id: "share-error" });
  const shareButton = h("button", { id: "share-make", class: "button primary", type: "submit" }, "Share");
  const shareMade = h("div", { id: "share-made", hidden: true });
  const shareList = h("ul", { class: "care-list share-list", id: "share-list" });
  const shareForm = h("form", { id: "share-form", class: "field-form", novalidate: true },
    h("label", { for: "share-what" }, "What to share"), kind,
    h("label", { for: "share-minutes" }, "For how long"), minutes, shareError, shareButton);
  root.append(h("section", { class: "card", "aria-labelledby": "share-title" },
    h("h2", { id: "share-title" }, "Share with a doctor"),
    h("p", { class: "help" }, "The doctor scans the code, then types the 6 digits you read out to "
      + "them. They see it read-only until the time you choose; you can end it at any time."),
    shareForm, shareMade, h("h3", {}, "Your shares"), shareList));

  async function loadCard() {
    let card = null;
    try {
      card = await ctx.api.get("/emergency-card");
    } catch (err) {
      if (err.status !== 404) showError(cardError, describe(err));
    }
    if (state.leaving) return;
    revokeButton.hidden = !card;
    makeButton.textContent = card ? "Make a new card (the old code stops working)" : "Make my card";
    cardStatus.replaceChildren(card
      ? h("p", {}, chip("live", "Live"), ` Made ${when(card.created_at)}. It shows: `
        + card.fields.map((f) => FIELDS.find(([n]) => n === f)?.[1] ?? f).join(", ") + ".")
      : h("p", { class: "empty-state" }, "No card yet. Choose what it shows below."));
    if (card) {
      for (const box of checks) box.firstChild.checked = card.fields.includes(box.firstChild.value);
      blood.value = card.blood_group ?? "";
      const [first] = card.contacts;
      if (first) Object.entries(contact).forEach(([k, input]) => { input.value = first[k] ?? ""; });
    }
  }

  cardForm.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(makeButton, async () => {
      const fields = checks.map((l) => l.firstChild).filter((c) => c.checked).map((c) => c.value);
      if (!fields.length) return showError(cardError, "Tick at least one thing to show.");
      if (fields.includes("blood_group") && !blood.value) {
        return showError(cardError, "Choose your blood group, or untick it.", blood);
      }
      const person = Object.fromEntries(Object.entries(contact).map(([k, i]) => [k, i.value.trim()]));
      if (fields.includes("contacts") && (!person.name || !person.phone)) {
        return showError(cardError, "Give the contact's name and phone, or untick contacts.", contact.name);
      }
      showError(cardError, "", blood);
      try {
        const card = await ctx.api.put("/emergency-card", {
          fields, blood_group: fields.includes("blood_group") ? blood.value : null,
          contacts: fields.includes("contacts") ? [person] : [],
        });
        cardMade.replaceChildren(h("figure", { class: "share-qr" },
          qrImage(card.qr_svg, "QR code of your emergency card"),
          h("figcaption", {}, "Print it or keep it on your phone's lock screen. Anyone who scans it sees "
            + "only what you ticked. ", h("a", { id: "card-link", href: card.url, target: "_blank",
            rel: "noopener noreferrer" }, "Open the card"))));
        cardMade.hidden = false;
        ctx.toast("Your emergency card is ready.");
        await loadCard();
      } catch (err) {
        showError(cardError, describe(err, LABELS));
      }
      return undefined;
    });
  });

  revokeButton.addEventListener("click", () => busy(revokeButton, async () => {
    try {
      await ctx.api.post("/emergency-card/revoke");
      cardMade.hidden = true;
      cardMade.replaceChildren();
      ctx.toast("Card revoked: its code now says so.");
      await loadCard();
    } catch (err) {
      showError(cardError, describe(err));
    }
  }));

  async function loadShares() {
    try {
      const [{ items }, rx, labs] = await Promise.all([ctx.api.get("/shares"),
        ctx.api.get("/prescriptions?limit=100").catch(() => ({ items: [] })),
        ctx.api.get("/lab-bookings").catch(() => ({ items: [] }))]);
      if (state.leaving) return;
      const chosen = kind.value;
      kind.replaceChildren(h("option", { value: "record" }, "My whole record"),
        ...rx.items.filter((p) => ["acknowledged", "released"].includes(p.status)).map((p) =>
          h("option", { value: `prescription:${p.id}` },
            `Prescription: ${p.content?.diagnosis ?? "signed"} (${when(p.signed_at)})`)),
        ...labs.items.filter((b) => b.status === "reported").map((b) =>
          h("option", { value: `lab_report:${b.id}` }, `Lab report: ${b.tests.join(", ")}`)));
      if ([...kind.options].some((o) => o.value === chosen)) kind.value = chosen;
      shareList.replaceChildren(...(items.length ? items.map(shareItem)
        : [h("li", {}, h("p", { class: "empty-state" }, "Nothing shared."))]));
    } catch (err) {
      showError(shareError, describe(err));
    }
  }

  function shareItem(share) {
    const live = share.status === "waiting" || share.status === "open";
    const end = h("button", { class: "button small", type: "button", id: `share-revoke-${share.id}` }, "End now");
    end.addEventListener("click", () => busy(end, async () => {
      try {
        await ctx.api.post(`/shares/${share.id}/revoke`);
        await loadShares();
      } catch (err) {
        showError(shareError, describe(err));
      }
    }));
    const what = { record: "Whole record", prescription: "A prescription", lab_report: "A lab report" };
    return h("li", { dataset: { id: share.id, status: share.status } },
      h("span", { class: "title" }, what[share.kind]),
      chip(share.status, SHARE_STATUS[share.status]),
      h("span", { class: "help" }, `Until ${when(share.expires_at)}`), live ? end : null);
  }

  shareForm.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(shareButton, async () => {
      const [what, ref] = kind.value.split(":");
      try {
        const share = await ctx.api.post("/shares", {
          kind: what, reference_id: ref ?? null, minutes: Number(minutes.value) });
        showError(shareError, "");
        shareMade.replaceChildren(h("figure", { class: "share-qr" },
          qrImage(share.qr_svg, "QR code of this share"),
          h("figcaption", {}, "Let the doctor scan this, then read out this code:",
            h("p", { class: "share-code", id: "share-code-shown" }, share.code),
            "It works once; three wrong tries lock the share. ",
            h("a", { id: "share-link", href: share.url, target: "_blank", rel: "noopener noreferrer" },
              "The link, to send instead"))));
        shareMade.hidden = false;
        await loadShares();
      } catch (err) {
        showError(shareError, describe(err, LABELS));
      }
    });
  });

  await Promise.all([loadCard(), loadShares()]);
  return { leave() { state.leaving = true; } };
}
