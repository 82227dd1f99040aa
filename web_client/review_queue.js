// The review queue: records awaiting a physician, urgent first (the server's order).
//
// Pushed, not polled: the dashboard WebSocket (physician.js) says when the queue changed and
// this list refetches it ("dhv:review-queue" window events; the push carries ids and states
// only, the list comes over HTTP with its permission check). While that socket is down
// ("dhv:desk-socket" with live false) the list polls slowly instead, and it refetches once when
// the socket is back, for what it may have missed.

import { $, el, readError, showAlert } from "./review_view.js";

// Only while the dashboard socket is down: a new record then shows within half a minute.
const FALLBACK_POLL_MS = 30000;

export class ReviewQueue {
  /**
   * @param {(path: string) => Promise<Response>} call the authorised fetch of the API.
   * @param {(id: string) => void} onOpen called when the physician opens a record.
   */
  constructor(call, onOpen) {
    Object.assign(this, { call, onOpen, running: false, live: false, busy: false, again: false,
                          failed: false, timer: null, items: [], shown: "", openId: null,
                          names: new Map() });
    document.addEventListener("visibilitychange", () => this.update());
    window.addEventListener("dhv:review-queue", () => this.update());
    window.addEventListener("dhv:desk-socket", (event) => {
      this.live = Boolean(event.detail?.live);
      if (this.live) this.update(); // catch up on what passed while it was down
      else this.schedule();
    });
  }

  start() {
    this.running = true;
    this.update();
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

  /** Refetch now; asks that come during a fetch are answered by one more fetch after it. */
  async update() {
    clearTimeout(this.timer);
    // A hidden tab asks nothing; it catches up the moment it is shown again.
    if (!this.running || document.visibilityState !== "visible") return;
    if (this.busy) {
      this.again = true;
      return;
    }
    this.busy = true;
    try {
      do {
        this.again = false;
        await this.refresh();
      } while (this.again && this.running);
    } finally {
      this.busy = false;
    }
    this.schedule();
  }

  /** The fallback poll, only while the dashboard socket is down (or the last fetch failed). */
  schedule() {
    clearTimeout(this.timer);
    if (this.running && (!this.live || this.failed)) {
      this.timer = setTimeout(() => this.update(), FALLBACK_POLL_MS);
    }
  }

  async refresh() {
    let response;
    try {
      response = await this.call("/prescriptions/queue?limit=50");
    } catch {
      this.failed = true;
      showAlert("review-error", "The review queue cannot be reached; trying again.");
      return;
    }
    this.failed = !response.ok;
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
