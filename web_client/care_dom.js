// Small DOM helpers for the care area: elements built with text nodes (patient data is never
// parsed as HTML), buttons busy while their request is in flight, and form error boxes.

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
