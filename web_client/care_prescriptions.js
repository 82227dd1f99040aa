// My prescriptions: the list, and one prescription. A signed prescription is read only after the
// patient accepts the consent text and signs in the box (the server holds back its content and
// PDF until then); an acknowledged one can be released to a pharmacy, a released one
// downloaded as the signed PDF, verified by its QR code, and ordered or booked from.

import { describe, when } from "./care_api.js";
import { busy, downloadButton, h, listScreen, showError } from "./care_dom.js";
import {
  doctorLine, header, prescriptionView, rejected, statusChip,
} from "./care_prescription_view.js";
import { SignaturePad } from "./signature_pad.js";

const EMPTY_SIGNATURE = "Please sign in the box, or type your full name below it.";

export async function show(ctx, root, params) {
  return params[0] ? detail(ctx, root, params[0]) : list(ctx, root);
}

// ------------------------------------------------------------------ the list
function list(ctx, root) {
  return listScreen(root, {
    title: "My prescriptions",
    listId: "rx-list",
    fetch: async () => (await ctx.api.get("/prescriptions?limit=100")).items,
    item: listItem,
    empty: ["No prescriptions yet. After a consultation, a doctor reviews it and your "
      + "prescription appears here."],
    kinds: ["prescription"],
  });
}

function listItem(rx) {
  // The diagnosis is part of the content: shown only once the server gives it (acknowledged).
  const title = rx.content?.diagnosis ? `Prescription: ${rx.content.diagnosis}` : "Prescription";
  const meta = [when(rx.signed_at ?? rx.created_at), rx.physician?.full_name && doctorLine(rx)]
    .filter(Boolean).join(" · ");
  return h("li", { class: "rx", dataset: { id: rx.id, status: rx.status } },
    h("a", { href: `#prescriptions/${rx.id}` },
      h("span", { class: "title" }, title), statusChip(rx.status),
      h("span", { class: "meta" }, meta)));
}

// ------------------------------------------------------------------ one prescription
async function detail(ctx, root, id) {
  const state = { rx: null, pad: null, urls: [], leaving: false };
  const path = `/prescriptions/${encodeURIComponent(id)}`;

  async function load() {
    const rx = await ctx.api.get(path);
    if (state.leaving) return;
    state.rx = rx;
    render();
  }

  function render() {
    state.pad?.destroy();
    state.pad = null;
    const rx = state.rx;
    root.replaceChildren(
      h("a", { class: "button small back", href: "#prescriptions" }, "← All prescriptions"),
      header(rx),
      ...body(rx),
    );
  }

  function body(rx) {
    switch (rx.status) {
      case "pending_review":
      case "approved":
        return [h("p", { class: "notice-box", role: "status" },
          "A doctor is reviewing your consultation. Your prescription appears here once they "
          + "have signed it.")];
      case "rejected":
        return [rejected(rx)];
      case "signed":
        return [signCard(rx)];
      default:
        return [prescriptionView(rx), actions(rx)];
    }
  }

  // ---- signed: consent and signature first
  function signCard(rx) {
    const consentBox = h("div", { class: "consent-text", id: "consent-text", tabindex: "0",
      role: "region", "aria-label": "Consent text" }, h("p", { class: "help" }, "Loading…"));
    const accept = h("input", { type: "checkbox", id: "consent-accept" });
    const canvas = h("canvas", { id: "signature-pad", class: "signature-pad", role: "img",
      "aria-label": "Signature box: draw your signature here with a finger, pen or mouse",
      "aria-describedby": "signature-help" });
    const typed = h("input", { id: "signature-typed", type: "text", autocomplete: "name",
      maxlength: "80", "aria-describedby": "signature-help" });
    const error = h("p", { id: "sign-error", class: "field-error", role: "alert", hidden: true });
    const submit = h("button", { id: "sign-submit", class: "button primary", type: "submit" },
      "Sign and view prescription");
    const clear = h("button", { id: "signature-clear", class: "button small", type: "button" },
      "Clear");
    let consent = null;

    const form = h("form", { class: "card sign-card field-form", id: "sign-form", novalidate: true,
      "aria-labelledby": "sign-title" },
      h("h2", { id: "sign-title" }, "Sign to view your prescription"),
      h("p", { class: "help" },
        `${doctorLine(rx)} signed your prescription${rx.signed_at ? ` on ${when(rx.signed_at)}` : ""}.`
        + " Read the consent below and sign in the box; your prescription opens straight after."),
      consentBox,
      h("label", { class: "check", for: "consent-accept" }, accept,
        h("span", {}, "I have read and accept this consent")),
      h("div", { class: "signature-head" },
        h("span", { class: "label", id: "signature-label" }, "Your signature"), clear),
      canvas,
      h("p", { id: "signature-help", class: "help" },
        "Draw with your finger, a pen or the mouse. Using a keyboard or screen reader? Type your "
        + "full name in the field below instead; it is written into the box as your signature."),
      h("label", { for: "signature-typed" }, "Or type your full name to sign"),
      typed, error, submit);

    state.pad = new SignaturePad(canvas, { onChange: () => {
      if (!state.pad.isEmpty()) showError(error, "");
    } });
    clear.addEventListener("click", () => {
      typed.value = "";
      state.pad.clear();
    });
    typed.addEventListener("input", () => state.pad.setTyped(typed.value));
    accept.addEventListener("change", () => { if (accept.checked) showError(error, ""); });

    ctx.api.get("/prescriptions/consent").then((text) => {
      consent = text;
      consentBox.replaceChildren(...text.text.trim().split(/\n\s*\n/).map(
        (para) => h("p", {}, para)), h("p", { class: "help" }, `Version ${text.version}`));
    }).catch((err) => {
      consentBox.replaceChildren(h("p", { class: "field-error", role: "alert" }, describe(err)));
    });

    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!consent) {
        showError(error, "The consent text has not loaded yet. Please wait a moment.");
        return;
      }
      if (!accept.checked) {
        showError(error, "Please tick the box to accept the consent.", accept);
        accept.focus();
        return;
      }
      accept.removeAttribute("aria-invalid");
      if (state.pad.isEmpty()) {
        showError(error, EMPTY_SIGNATURE);
        typed.focus();
        return;
      }
      showError(error, "");
      busy(submit, async () => {
        try {
          const done = await ctx.api.post(`${path}/acknowledge`, {
            consent: true, consent_sha256: consent.sha256,
            signature_png: state.pad.toDataURL(),
            device_info: navigator.userAgent.slice(0, 500),
          });
          if (state.leaving) return;
          state.rx = done;
          render();
          ctx.toast("Signed. Your prescription is open below.");
          root.querySelector("#rx-title")?.focus();
        } catch (err) {
          if (err.status === 409) {
            await load(); // acknowledged meanwhile (another tab): show what it is now
            return;
          }
          showError(error, describe(err, { signature_png: "Signature", consent_sha256: "Consent" }));
        }
      });
    });
    return form;
  }

  // ---- acknowledged and released: what to do with it
  function actions(rx) {
    const error = h("p", { class: "field-error", role: "alert", hidden: true, id: "rx-error" });
    const card = h("section", { class: "card rx-actions", "aria-labelledby": "rx-actions-title" },
      h("h2", { id: "rx-actions-title" }, "What next"));
    const content = rx.content ?? {};
    if (rx.status === "acknowledged") {
      const release = h("button", { id: "rx-release", class: "button primary", type: "button" },
        "Release to pharmacy");
      release.addEventListener("click", () => busy(release, async () => {
        try {
          state.rx = await ctx.api.post(`${path}/release`, {});
          render();
          ctx.toast("Released. You can now order these medicines from a pharmacy.");
        } catch (err) {
          showError(error, describe(err));
        }
      }));
      card.append(h("p", { class: "help" },
        "Releasing lets you order these medicines or book these tests. A pharmacy or lab sees "
        + "your prescription only when you order from it."), release);
    } else {
      const go = h("div", { class: "row rx-go" });
      if (content.medications?.length) {
        go.append(h("a", { class: "button primary", href: `#orders/new/${rx.id}`,
          id: "rx-order" }, "Order medicines"));
      }
      if (content.lab_tests?.length) {
        go.append(h("a", { class: "button", href: `#labs/new/${rx.id}`, id: "rx-labs" },
          "Book lab tests"));
      }
      if (go.childElementCount) card.append(go);
    }
    card.append(pdfDownload(rx, error), error, verification(rx));
    return card;
  }

  function pdfDownload(rx, error) {
    return downloadButton(ctx, {
      id: "rx-pdf", label: "Download PDF", path: `${path}/pdf`, error, urls: state.urls,
      name: `prescription-${rx.id.slice(0, 8)}.pdf`, rowClass: "row rx-pdf",
    });
  }

  function verification(rx) {
    const figure = h("figure", { class: "rx-qr", id: "rx-qr" },
      h("p", { class: "help" }, "Loading the verification code…"));
    ctx.api.download(`${path}/qr.svg`).then((blob) => {
      if (state.leaving) return;
      const url = URL.createObjectURL(blob);
      state.urls.push(url);
      figure.replaceChildren(
        h("img", { src: url, width: "132", height: "132",
          alt: "QR code that opens this prescription's signature check" }),
        h("figcaption", {},
          "Pharmacies scan this code (it is on the PDF too) to check the doctor's signature. ",
          h("a", { href: `/api/v1/prescriptions/${rx.id}/verify`, target: "_blank",
            rel: "noopener", id: "rx-verify" }, "Check the signature yourself")));
    }).catch(() => figure.replaceChildren(h("p", { class: "help" },
      "The verification code could not be loaded; it is printed on the PDF.")));
    return figure;
  }

  try {
    await load();
  } catch (err) {
    root.replaceChildren(
      h("a", { class: "button small back", href: "#prescriptions" }, "← All prescriptions"),
      h("p", { class: "field-error", role: "alert" },
        err.status === 404 ? "This prescription was not found." : describe(err)));
  }

  return {
    async onChange(change) {
      if (change && !(change.kind === "prescription" && change.id === id)) return;
      if (state.rx?.status === "signed" && state.pad && !state.pad.isEmpty()) return; // signing
      try {
        const brief = await briefOf(ctx.api, id);
        if (state.leaving || !brief || brief.status === state.rx?.status) return;
        await load();
      } catch {
        // keep what is shown; the next change or poll tries again
      }
    },
    leave() {
      state.leaving = true;
      state.pad?.destroy();
      for (const url of state.urls) URL.revokeObjectURL(url);
    },
  };
}
