// The review queue: records awaiting a physician, urgent first (the server's order).
//
// Polled while the tab is visible: the dashboard WebSocket does not carry prescriptions yet
// (a push over it is the next step, and would replace this timer).

import { $, el, readError, showAlert } from "./review_view.js";

// Often enough that a new record shows within seconds, rarely enough that an idle desk costs
// the server one small query per physician every few seconds.
const POLL_MS = 4000;

export class ReviewQueue {
  /**
   * @param {(path: string) => Promise<Response>} call the authorised fetch of the API.
   * @param {(id: string) => void} onOpen called when the physician opens a record.
   */
  constructor(call, onOpen) {
    Object.assign(this, { call, onOpen, running: false, polling: false, timer: null,
                          items: [], shown: "", openId: null, names: new Map() });
    document.addEventListener("visibilitychange", () => this.poll());
  }

  start() {
    this.running = true;
    this.poll();
  }

  stop() {
    this.running = false;
    clearTimeout(this.timer);
    Object.assign(this, { items: [], shown: "", openId: null });
    $("reviews").replaceChildren(el("li", "empty", "Loading…"));
  }

  /** The patient's name as the queue gave it (the record view does not carry it). */
  name(id) {
    return this.names.get(id) || "";
  }

  /** Mark the open record (``null``: none) in the list. */
  select(id) {
    this.openId = id;
    this.draw();
  }

  async poll() {
    clearTimeout(this.timer);
    // A hidden tab asks nothing; it catches up the moment it is shown again.
    if (!this.running || document.visibilityState !== "visible") return;
    if (!this.polling) {
      this.polling = true;
      try {
        await this.refresh();
      } finally {
        this.polling = false;
      }
    }
    if (this.running) this.timer = setTimeout(() => this.poll(), POLL_MS);
  }

  async refresh() {
    let response;
    try {
      response = await this.call("/prescriptions/queue?limit=50");
    } catch {
      showAlert("review-error", "The review queue cannot be reached; trying again.");
      return;
    }
    if (!response.ok) {
      showAlert("review-error", (await readError(response)).text);
      return;
    }
    showAlert("review-error", "");
    this.items = (await response.json()).items;
    for (const item of this.items) this.names.set(item.id, item.patient?.full_name || "");
    $("review-updated").textContent = `Updated ${new Date().toLocaleTimeString()}`;
    this.draw();
  }

  item(rx) {
    const li = el("li", rx.urgent ? "emergency" : "");
    li.dataset.id = rx.id;
    const open = el("button", "review-open");
    open.type = "button";
    open.setAttribute("aria-current", String(this.openId === rx.id));
    const head = el("span", "row");
    head.append(el("span", "tag kind", rx.urgent ? "URGENT" : "Review"),
                el("strong", "", rx.diagnosis || "Needs assessment"));
    if (rx.safety_blocked) head.append(el("span", "tag blocked", "Safety check blocked"));
    const when = new Date(rx.created_at).toLocaleString();
    open.append(head, el("span", "meta", `${rx.patient?.full_name || "Patient"} · ${when}`));
    open.addEventListener("click", () => this.onOpen(rx.id));
    li.append(open);
    return li;
  }

  draw() {
    const key = JSON.stringify([this.items, this.openId]);
    if (key === this.shown) return; // redrawing an unchanged list would move the focus
    this.shown = key;
    const list = $("reviews");
    const focused = document.activeElement?.closest?.("#reviews li")?.dataset.id;
    list.replaceChildren(...(this.items.length ? this.items.map((rx) => this.item(rx))
      : [el("li", "empty", "Nothing to review.")]));
    this.focus(focused);
  }

  /** Put the keyboard focus back on a record's entry (after a redraw or closing it). */
  focus(id) {
    if (id) $("reviews").querySelector(`li[data-id="${CSS.escape(id)}"] button`)?.focus();
  }
}
