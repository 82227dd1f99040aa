// My health record (#record): everything the clinic holds for the patient on one timeline,
// newest first (consultations, what they told the assistant, signed prescriptions, medicine
// orders, lab reports, documents they added), documents they bring from elsewhere, and the
// whole record as a FHIR file for a hospital.
//
// A document is sent as it is; the server decides what it is from its bytes and refuses anything
// but a PDF, JPEG or PNG. A phone photo over the size limit is made smaller here first (a JPEG
// redrawn at most 1600 pixels wide), so a picture of a paper report still fits.

import { ApiError } from "./auth.js";
import { API, describe, rupees, when } from "./care_api.js";
import { busy, chip, downloadButton, h, showError } from "./care_dom.js";

const PAGE = 20;
const MAX_BYTES = 360 * 1024; // DHANVANTRI_RECORD_UPLOAD_MAX_BYTES's default
const MAX_SIDE = 1600; // pixels: still legible for a photographed A4 page
const KIND_TEXT = {
  consultation: "Consultation",
  intake: "What you told the assistant",
  prescription: "Prescription",
  order: "Medicine order",
  lab_report: "Lab report",
  document: "Document",
};
const DOCUMENT_KINDS = [
  ["lab_report", "Lab report"], ["prescription", "Prescription"],
  ["discharge_summary", "Discharge summary"], ["imaging", "Scan or X-ray"],
  ["vaccination", "Vaccination record"], ["other", "Other document"],
];
const LABELS = { content_base64: "File", file: "File", dated: "Date on the document",
  title: "Name", kind: "Kind" };
// Where each kind of entry opens in the care area.
const LINKS = {
  consultation: (item) => `#consultations/${item.id}`,
  intake: (item) => `#consultations/${item.id}`,
  prescription: (item) => `#prescriptions/${item.id}`,
  order: (item) => `#orders/${item.id}`,
  lab_report: (item) => `#labs/${item.id}`,
};

export async function show(ctx, root) {
  const state = { offset: 0, urls: [] };
  const list = h("ol", { class: "care-list record-timeline", id: "record-timeline" });
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const more = h("button", { id: "record-more", class: "button", type: "button", hidden: true },
    "Show older entries");
  root.append(h("h1", {}, "My health record"), uploadCard(ctx, () => reload()),
    exportCard(ctx, state), h("h2", { class: "section-title" }, "Timeline"), error, list, more);

  async function page(offset) {
    const body = await ctx.api.get(`/me/record?limit=${PAGE}&offset=${offset}`);
    state.offset = offset + body.items.length;
    more.hidden = !body.has_more;
    return body.items.map((item) => entry(ctx, item, state, reload));
  }

  async function reload() {
    try {
      const items = await page(0);
      showError(error, "");
      list.replaceChildren(...(items.length ? items : [h("li", {}, h("p",
        { class: "empty-state" }, "Your record is empty. After a consultation, its summary, "
          + "your prescription and reports appear here; you can also add documents above."))]));
    } catch (err) {
      showError(error, describe(err));
    }
  }

  more.addEventListener("click", () => busy(more, async () => {
    try {
      list.append(...await page(state.offset));
    } catch (err) {
      showError(error, describe(err));
    }
  }));
  await reload();
  return {
    onChange(change) {
      if (!change || ["prescription", "order", "lab_booking"].includes(change.kind)) reload();
    },
    leave() {
      state.urls.forEach((url) => URL.revokeObjectURL(url));
    },
  };
}

// ------------------------------------------------------------------ one entry
function entry(ctx, item, state, reload) {
  const link = LINKS[item.kind]?.(item);
  const head = [
    h("span", { class: "record-kind" }, KIND_TEXT[item.kind] ?? item.kind),
    h("span", { class: "title" }, item.title),
    item.status ? chip(item.status, item.status.replace(/_/g, " ")) : null,
    h("span", { class: "meta" }, [when(item.at), ...facts(item)].join(" · ")),
  ];
  if (item.kind === "lab_report") head.push(results(item.detail.results ?? []));
  // A document's buttons sit in its card; other entries are one link to their page.
  if (item.kind === "document") head.push(documentActions(ctx, item, state, reload));
  const body = link ? h("a", { href: link }, head) : h("div", { class: "item" }, head);
  return h("li", { class: `record-entry record-${item.kind}`,
    dataset: { kind: item.kind, id: item.id } }, body);
}

/** A few words of what an entry holds, for its meta line. */
function facts({ kind, detail }) {
  switch (kind) {
    case "intake":
      return [detail.symptoms?.length ? detail.symptoms.join(", ") : null,
        detail.duration].filter(Boolean);
    case "prescription":
      return [detail.physician ? `Dr ${detail.physician}` : null,
        detail.medicines?.length ? detail.medicines.join(", ") : null].filter(Boolean);
    case "order":
      return [detail.medicines?.join(", "), rupees(detail.total)].filter(Boolean);
    case "lab_report":
      return [detail.lab].filter(Boolean);
    case "document":
      return [detail.dated ? `Dated ${detail.dated}` : null, fileKind(detail.media_type),
        `${Math.max(1, Math.round(detail.size / 1024))} KB`].filter(Boolean);
    case "consultation":
      return detail.emergency ? ["Emergency advice given"] : [];
    default:
      return [];
  }
}

function fileKind(mediaType) {
  return { "application/pdf": "PDF", "image/jpeg": "JPEG image", "image/png": "PNG image" }[
    mediaType] ?? mediaType;
}

function results(values) {
  const flagged = values.filter((r) => r.flag && r.flag !== "normal");
  if (!values.length) return null;
  return h("p", { class: "record-results" }, flagged.length
    ? flagged.map((r) => `${r.analyte}: ${r.value} ${r.unit ?? ""} (${r.flag === "high"
      ? "High" : "Low"})`).join("; ")
    : `${values.length} value${values.length === 1 ? "" : "s"}, all in the reference range`);
}

function documentActions(ctx, item, state, reload) {
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const name = `document-${item.id}.${{ "application/pdf": "pdf", "image/jpeg": "jpg",
    "image/png": "png" }[item.detail.media_type] ?? "bin"}`;
  const download = downloadButton(ctx, { id: `document-${item.id}-download`, label: "Download",
    path: `/me/record/documents/${item.id}`, name, error, urls: state.urls });
  const erase = h("button", { id: `document-${item.id}-delete`, class: "button quiet",
    type: "button", "aria-label": `Delete ${item.title}` }, "Delete");
  erase.addEventListener("click", () => busy(erase, async () => {
    if (!window.confirm(`Delete “${item.title}” from your record? This cannot be undone.`)) return;
    try {
      await remove(ctx, `/me/record/documents/${item.id}`);
      ctx.toast("The document was deleted.");
      await reload();
    } catch (err) {
      showError(error, describe(err));
    }
  }));
  download.append(erase);
  return h("div", { class: "record-actions" }, download, error);
}

async function remove(ctx, path) {
  return ctx.session.call(async (auth) => {
    let response;
    try {
      response = await fetch(API + path, { method: "DELETE", headers: auth });
    } catch {
      throw new ApiError(0, { message: "network" });
    }
    if (!response.ok) {
      throw new ApiError(response.status, (await response.json().catch(() => ({}))).error);
    }
  });
}

// ------------------------------------------------------------------ adding a document
function uploadCard(ctx, added) {
  const kind = h("select", { id: "document-kind", name: "kind" },
    DOCUMENT_KINDS.map(([value, text]) => h("option", { value }, text)));
  const title = h("input", { id: "document-title", name: "title", type: "text", maxlength: 120,
    autocomplete: "off", placeholder: "e.g. Blood test, City Hospital" });
  const dated = h("input", { id: "document-date", name: "dated", type: "date",
    max: new Date().toISOString().slice(0, 10) });
  const file = h("input", { id: "document-file", name: "file", type: "file", required: true,
    accept: ".pdf,.jpg,.jpeg,.png,application/pdf,image/jpeg,image/png",
    "aria-describedby": "document-help document-error" });
  const error = h("p", { id: "document-error", class: "field-error", role: "alert",
    hidden: true });
  const submit = h("button", { id: "document-add", class: "button primary", type: "submit" },
    "Add to my record");
  const form = h("form", { id: "document-form", class: "field-form", novalidate: true },
    h("label", { for: "document-file" }, "File"), file,
    h("p", { id: "document-help", class: "help" }, "A PDF, or a photo (JPEG or PNG) of a paper "
      + "report, up to 360 KB; larger photos are made smaller first. Stored encrypted: only you "
      + "can open it."),
    h("label", { for: "document-kind" }, "What is it?"), kind,
    h("label", { for: "document-title" }, "Name (optional)"), title,
    h("label", { for: "document-date" }, "Date on the document (optional)"), dated,
    error, submit);
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    busy(submit, async () => {
      const chosen = file.files?.[0];
      if (!chosen) {
        showError(error, "Choose a file to add.", file);
        return;
      }
      try {
        const data = await fitting(chosen);
        if (data.size > MAX_BYTES) {
          showError(error, `This file is ${Math.round(data.size / 1024)} KB; the most is `
            + `${MAX_BYTES / 1024} KB. Save it smaller, or photograph each page.`, file);
          return;
        }
        await ctx.api.post("/me/record/documents", {
          kind: kind.value, title: title.value.trim(), dated: dated.value || null,
          content_base64: await base64(data),
        });
        showError(error, "", file);
        form.reset();
        ctx.toast("The document was added to your record.");
        await added();
      } catch (err) {
        showError(error, describe(err, LABELS), file);
      }
    });
  });
  // Folded away until wanted: on a phone the timeline is what the patient came for.
  return h("details", { class: "card", id: "record-upload" },
    h("summary", { id: "record-upload-open" }, h("h2", {}, "Add a document")), form);
}

/** ``file``, or a smaller JPEG of it when it is a photo over the limit. */
async function fitting(file) {
  if (file.size <= MAX_BYTES || !/^image\/(jpeg|png)$/.test(file.type)) return file;
  let bitmap;
  try {
    bitmap = await createImageBitmap(file);
  } catch {
    return file; // not a picture after all: the server says what is wrong
  }
  const scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(bitmap.width * scale);
  canvas.height = Math.round(bitmap.height * scale);
  canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
  bitmap.close();
  for (const quality of [0.85, 0.7, 0.5]) {
    const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", quality));
    if (blob && blob.size <= MAX_BYTES) return blob;
  }
  return file;
}

function base64(blob) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(",", 2)[1] ?? "");
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(blob);
  });
}

// ------------------------------------------------------------------ the FHIR file
function exportCard(ctx, state) {
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  return h("section", { class: "card", id: "record-export", "aria-labelledby": "export-title" },
    h("h2", { id: "export-title" }, "Share with a hospital"),
    h("p", { class: "help" }, "Your whole record as one FHIR R4 file, the format hospitals and "
      + "ABDM (your ABHA) exchange. Keep it private: it holds your health information."),
    downloadButton(ctx, { id: "record-fhir", label: "Download my record (FHIR)",
      path: "/me/record/fhir", name: "health-record-fhir.json", error, urls: state.urls }),
    error);
}
