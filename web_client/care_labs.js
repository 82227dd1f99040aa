// Lab tests at home: the patient's bookings, one booking (pay, collection, the flagged report)
// and booking the tests a released prescription orders (care_labs_book.js).
//
// Results are flagged by the server against the reference range for the patient's sex; the page
// shows each flag in words (High/Low), never by colour alone.

import { describe, rupees, when } from "./care_api.js";
import { chip, downloadButton, h, showError } from "./care_dom.js";

/** What each booking status means to the patient. */
export const STATUS_TEXT = {
  placed: "Awaiting payment",
  paid: "Booked",
  sample_collected: "Collected",
  reported: "Report ready",
  cancelled: "Cancelled",
  refunded: "Refunded",
};
// What the status line says when a booking moves on while its page is open.
const NEWS = {
  paid: "Paid. Your home collection is booked.",
  sample_collected: "The lab has collected your sample.",
  reported: "Your lab report is ready.",
  refunded: "This booking was refunded.",
};
const STEPS = [["placed", "Booked"], ["paid", "Paid"], ["sample_collected", "Sample collected"],
  ["reported", "Report ready"]];

export function statusChip(status) {
  return chip(status, STATUS_TEXT[status] ?? status.replace(/_/g, " "));
}

export async function show(ctx, root, params) {
  if (params[0] === "new") {
    const { book } = await import("./care_labs_book.js");
    return book(ctx, root, params[1]);
  }
  return params[0] ? detail(ctx, root, params[0]) : list(ctx, root);
}

/** Catalogue names by code ("complete-blood-count" → "Complete blood count"), fetched once. */
let names = null;
export async function testNames(ctx) {
  if (!names) {
    names = ctx.api.get("/lab-tests").then(
      ({ items }) => Object.fromEntries(items.map((t) => [t.code, t.name])),
      (err) => { names = null; throw err; });
  }
  return names;
}

function titleOf(booking, known) {
  return booking.tests.map((code) => known[code] ?? code.replace(/-/g, " ")).join(", ");
}

// ------------------------------------------------------------------ the list
async function list(ctx, root) {
  const items = h("ul", { class: "care-list", id: "lab-list" });
  const ordered = h("ul", { class: "care-list", id: "lab-ordered" });
  const orderedCard = h("section", { class: "card", "aria-labelledby": "lab-ordered-title",
    hidden: true }, h("h2", { id: "lab-ordered-title" }, "Tests your doctor ordered"), ordered);
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  root.append(h("h1", {}, "Lab tests"), error, orderedCard,
    h("h2", { class: "section-title" }, "Your bookings"), items);

  async function load() {
    try {
      const [{ items: bookings }, known, prescriptions] = await Promise.all([
        ctx.api.get("/lab-bookings?limit=100"), testNames(ctx),
        ctx.api.get("/prescriptions?limit=100").catch(() => ({ items: [] }))]);
      showError(error, "");
      items.replaceChildren(...bookings.map((b) => listItem(b, known)));
      if (!bookings.length) {
        items.replaceChildren(h("li", {}, h("p", { class: "empty-state" },
          "No lab tests booked yet. When a doctor orders tests on your prescription, you can "
          + "book a home collection here.")));
      }
      // Released prescriptions with tests not yet booked (or whose booking was refunded).
      const booked = new Set(bookings.filter((b) => !["refunded", "cancelled"].includes(b.status))
        .map((b) => b.prescription_id));
      const open = prescriptions.items.filter((rx) => rx.status === "released"
        && rx.content?.lab_tests?.length && !booked.has(rx.id));
      ordered.replaceChildren(...open.map((rx) => h("li", {},
        h("a", { href: `#labs/new/${rx.id}` },
          h("span", { class: "title" }, rx.content.lab_tests.join(", ")),
          h("span", { class: "chip" }, "Book"),
          h("span", { class: "meta" }, rx.content.diagnosis
            ? `For ${rx.content.diagnosis} · ${when(rx.released_at ?? rx.created_at)}`
            : when(rx.released_at ?? rx.created_at))))));
      orderedCard.hidden = !open.length;
    } catch (err) {
      showError(error, describe(err));
    }
  }
  await load();
  return {
    onChange(change) {
      if (!change || ["lab_booking", "payment", "prescription"].includes(change.kind)) load();
    },
  };
}

function listItem(booking, known) {
  const meta = [booking.starts_at && `Collection ${when(booking.starts_at)}`, booking.lab,
    rupees(booking.total)].filter(Boolean).join(" · ");
  return h("li", { class: "lab-booking", dataset: { id: booking.id, status: booking.status } },
    h("a", { href: `#labs/${booking.id}` },
      h("span", { class: "title" }, titleOf(booking, known)), statusChip(booking.status),
      h("span", { class: "meta" }, meta)));
}

// ------------------------------------------------------------------ one booking
async function detail(ctx, root, id) {
  const state = { booking: null, known: {}, urls: [], leaving: false };
  const path = `/lab-bookings/${encodeURIComponent(id)}`;
  const back = () => h("a", { class: "button small back", href: "#labs" }, "← All lab tests");

  async function load() {
    const [booking, known] = await Promise.all([ctx.api.get(path),
      testNames(ctx).catch(() => ({}))]);
    if (state.leaving) return;
    state.booking = booking;
    state.known = known;
    render();
  }

  function render() {
    const booking = state.booking;
    root.replaceChildren(back(), header(booking, state.known), steps(booking.status),
      ...body(booking));
  }

  function body(booking) {
    switch (booking.status) {
      case "placed":
        return [payCard(booking)];
      case "paid":
        return [h("p", { class: "notice-box", role: "status", id: "lab-state" },
          `Paid. The lab collects your sample at home on ${when(booking.starts_at)}. `
          + "Follow the preparation your tests need (for example fasting).")];
      case "sample_collected":
        return [h("p", { class: "notice-box", role: "status", id: "lab-state" },
          "Collected: your sample is at the lab. Your report appears here when it is ready; "
          + "we let you know.")];
      case "reported":
        return [report(booking)];
      case "refunded":
        return [h("p", { class: "notice-box", role: "status", id: "lab-state" },
          "This booking was refunded (for example the slot filled up before your payment). "
          + "Book again from your prescription to choose another slot.")];
      default:
        return [];
    }
  }

  function payCard(booking) {
    const pay = h("div", { id: "lab-pay", class: "lab-pay" },
      h("p", { class: "help" }, "Loading the payment step…"));
    import("./care_checkout.js").then(({ checkout }) => {
      if (state.leaving) return;
      checkout(ctx, pay, {
        title: "Pay to confirm the collection",
        amount: booking.total,
        start: (method, key) => ctx.api.post(`${path}/pay`, { method }, key),
        done: async () => {
          ctx.toast(NEWS.paid);
          await load().catch(() => {});
        },
      });
    }).catch((err) => {
      console.error(err);
      pay.replaceChildren(h("p", { class: "field-error", role: "alert" },
        "Payment could not be started here. Please reload the page."));
    });
    return pay;
  }

  function report(booking) {
    const error = h("p", { class: "field-error", role: "alert", hidden: true, id: "lab-report-error" });
    const card = h("section", { class: "card lab-report", id: "lab-report",
      "aria-labelledby": "lab-report-title" },
      h("h2", { id: "lab-report-title" }, "Your report"));
    const flagged = booking.results.filter((r) => r.flag !== "normal").length;
    card.append(h("p", { class: flagged ? "notice-box" : "help", id: "lab-summary", role: "status" },
      flagged
        ? `${flagged} of ${booking.results.length} values are outside the reference range. `
          + "Please show this report to your doctor; a flagged value is not a diagnosis."
        : "All values are within the reference range."));
    if (booking.results.length) card.append(resultsTable(booking.results));
    if (booking.report) card.append(pdfDownload(booking), error);
    return card;

    function pdfDownload(b) {
      return downloadButton(ctx, {
        id: "lab-pdf", label: "Download report (PDF)", path: `${path}/report`, error,
        urls: state.urls, name: `lab-report-${b.id.slice(0, 8)}.pdf`,
      });
    }
  }

  try {
    await load();
  } catch (err) {
    root.replaceChildren(back(), h("p", { class: "field-error", role: "alert" },
      err.status === 404 ? "This booking was not found." : describe(err)));
  }

  return {
    async onChange(change) {
      if (change && !(["lab_booking", "payment"].includes(change.kind))) return;
      if (change?.kind === "lab_booking" && change.id !== id) return;
      try {
        const booking = await ctx.api.get(path);
        // Same status: nothing to redraw (and a checkout in progress is left alone).
        if (state.leaving || booking.status === state.booking?.status) return;
        state.booking = booking;
        render();
        if (NEWS[booking.status]) ctx.toast(NEWS[booking.status]);
      } catch {
        // keep what is shown; the next change or poll tries again
      }
    },
    leave() {
      state.leaving = true;
      for (const url of state.urls) URL.revokeObjectURL(url);
    },
  };
}

function header(booking, known) {
  const facts = h("dl", { class: "facts" });
  const add = (term, value) => { if (value) facts.append(h("dt", {}, term), h("dd", {}, value)); };
  add("Tests", titleOf(booking, known));
  add("Collection", booking.starts_at && when(booking.starts_at));
  add("Lab", booking.lab);
  add("Address", booking.address);
  add("Total", rupees(booking.total));
  return h("header", { class: "card lab-head" },
    h("div", { class: "lab-head-line" },
      h("h1", { id: "lab-title", tabindex: "-1" }, "Lab tests at home"),
      statusChip(booking.status)),
    facts);
}

function steps(status) {
  const at = STEPS.findIndex(([s]) => s === status);
  if (at < 0) return null;
  return h("ol", { class: "lab-steps", "aria-label": "Progress" }, STEPS.map(([, label], i) =>
    h("li", { class: i < at ? "done" : i === at ? "current" : "", "aria-current":
      i === at ? "step" : null }, label)));
}

// ------------------------------------------------------------------ results
const FLAG_TEXT = { high: "High", low: "Low", normal: "Normal" };

function resultsTable(results) {
  const columns = ["Test", "Result", "Reference range", "Flag"];
  return h("table", { class: "care-table lab-results", id: "lab-results" },
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h("tbody", {}, results.map((r) => h("tr", { dataset: { analyte: r.analyte, flag: r.flag } },
      h("td", { "data-label": "Test" }, capital(r.analyte)),
      h("td", { "data-label": "Result", class: "num" },
        h("span", { class: r.flag === "normal" ? "" : `flag-${r.flag}` },
          `${number(r.value)} ${unit(r.unit)}`)),
      h("td", { "data-label": "Reference range" },
        h("span", { class: "range" }, range(r),
          h("span", { class: "population" }, `for ${r.population}`))),
      h("td", { "data-label": "Flag" }, r.flag === "normal"
        ? h("span", { class: "flag-normal" }, FLAG_TEXT.normal)
        : h("span", { class: `flag-${r.flag}` },
          h("span", { "aria-hidden": "true" }, r.flag === "high" ? "▲ " : "▼ "),
          FLAG_TEXT[r.flag]))))));
}

/** A reference range in words: "4–11", "13 and above", "up to 99". */
export function range({ low, high, unit: written }) {
  const u = unit(written);
  if (low != null && high != null) return `${number(low)}–${number(high)} ${u}`;
  if (low != null) return `${number(low)} ${u} and above`;
  if (high != null) return `up to ${number(high)} ${u}`;
  return "see report";
}

/** A unit as printed on reports ("10^3/uL" → "×10³/µL"). */
function unit(text) {
  return String(text ?? "").replace(/^10\^3/, "×10³").replace(/\buL\b/, "µL");
}

function number(value) {
  return typeof value === "number" ? value.toLocaleString("en-IN", { maximumFractionDigits: 3 })
    : String(value);
}

function capital(text) {
  return text ? text[0].toUpperCase() + text.slice(1) : text;
}
