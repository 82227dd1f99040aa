// Small DOM helpers for the care area: elements built with text nodes (patient data is never
// parsed as HTML), buttons busy while their request is in flight, form error boxes and file
// downloads.

import { describe } from "./care_api.js";

/**
 * An element: ``h("p", {class: "help"}, "text", child)``. Attributes starting with "on" are
 * listeners; ``hidden``/``disabled`` take booleans; null/false children are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") {
      node.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === "dataset") {
      Object.assign(node.dataset, value);
    } else if (value === true) {
      node.setAttribute(name, "");
    } else {
      node.setAttribute(name, String(value));
    }
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/**
 * Run ``work`` with ``button`` disabled (and marked busy): a second click while the first is
 * in flight does nothing. Returns what ``work`` returns.
 */
export async function busy(button, work) {
  if (button.disabled) return undefined;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  try {
    return await work();
  } finally {
    button.disabled = false;
    button.removeAttribute("aria-busy");
  }
}

/** Show ``message`` in ``box`` (a ``.field-error`` with role=alert), or hide it when empty. */
export function showError(box, message, input = null) {
  box.textContent = message || "";
  box.hidden = !message;
  if (input) {
    if (message) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
  }
}

/** A labelled status chip ("Out for delivery"). */
export function chip(status, text) {
  return h("span", { class: "chip", "data-status": status }, text ?? status.replace(/_/g, " "));
}

/**
 * A button that downloads the file at API ``path`` as ``name`` (a PDF), and a link to save it
 * again. Object URLs go into ``urls`` for the screen to revoke when it is left; a failure is
 * shown in ``error``.
 */
export function downloadButton(ctx, { id, label, path, name, error, urls, rowClass = "row" }) {
  const button = h("button", { id, class: "button", type: "button" }, label);
  const saved = h("a", { id: `${id}-link`, download: name, hidden: true }, `Save ${name} again`);
  button.addEventListener("click", () => busy(button, async () => {
    try {
      const url = URL.createObjectURL(await ctx.api.download(path));
      urls.push(url);
      saved.href = url;
      saved.hidden = false;
      saved.click();
    } catch (err) {
      showError(error, describe(err));
    }
  }));
  return h("div", { class: rowClass }, button, saved);
}

/**
 * A list screen: ``title``, an error box and ``<ul class="care-list" id=listId>`` filled with
 * ``item(x)`` for each of ``await fetch()`` (``empty`` — the children of a note — when there is
 * none). Returns the section's ``{onChange}``: it refetches on a push of one of ``kinds``, or on
 * ``null`` (pushes resumed, or a poll tick).
 */
export async function listScreen(root, { title, listId, fetch, item, empty, kinds }) {
  const items = h("ul", { class: "care-list", id: listId });
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  root.append(h("h1", {}, title), error, items);

  async function load() {
    try {
      const found = await fetch();
      showError(error, "");
      items.replaceChildren(...(found.length ? found.map(item)
        : [h("li", {}, h("p", { class: "empty-state" }, ...empty))]));
    } catch (err) {
      showError(error, describe(err));
    }
  }
  await load();
  return {
    onChange(change) {
      if (!change || kinds.includes(change.kind)) load();
    },
  };
}
