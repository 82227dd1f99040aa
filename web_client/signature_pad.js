// A signature drawn on a canvas with a finger, a pen or a mouse (pointer events), or typed by
// someone who cannot draw (keyboard users, screen-reader users): the typed name is written
// into the same box in a handwriting face, so what is sent is always one PNG image.
//
// Strokes are kept as points in CSS pixels and redrawn when the box changes size, so turning
// a phone does not lose a signature; the PNG is drawn afresh at export, on white.

// Less ink than this (CSS px of line) is a slip of the finger, not a signature.
const MIN_INK_PX = 24;
// Pen and touch report pressure; a mouse reports 0.5 while a button is down.
const WIDTH_PX = 2.4;
const INK = "#14213d";
const EXPORT_SCALE = 2; // sharp enough to read, small enough for the server's 256 KB limit
const TYPED_FONT = "'Segoe Script', 'Brush Script MT', 'URW Chancery L', cursive";

export class SignaturePad {
  /**
   * @param {HTMLCanvasElement} canvas the box (sized by CSS; its backing store follows).
   * @param {{onChange?: () => void}} options ``onChange`` runs after each stroke and clear.
   */
  constructor(canvas, { onChange = () => {} } = {}) {
    this.canvas = canvas;
    this.onChange = onChange;
    this.strokes = []; // [{points: [{x, y, w}]}]
    this.typed = "";
    this.active = null; // the pointer drawing now, by id
    this.listeners = [
      ["pointerdown", (e) => this.down(e)],
      ["pointermove", (e) => this.move(e)],
      ["pointerup", (e) => this.up(e)],
      ["pointercancel", (e) => this.up(e)],
    ];
    for (const [type, fn] of this.listeners) canvas.addEventListener(type, fn);
    this.resizer = new ResizeObserver(() => this.redraw());
    this.resizer.observe(canvas);
  }

  /** Stop listening (the page is leaving). */
  destroy() {
    for (const [type, fn] of this.listeners) this.canvas.removeEventListener(type, fn);
    this.resizer.disconnect();
  }

  /** True until there is enough ink, or a typed name, to count as a signature. */
  isEmpty() {
    if (this.typed.trim().length >= 2) return false;
    let ink = 0;
    for (const { points } of this.strokes) {
      for (let i = 1; i < points.length; i += 1) {
        ink += Math.hypot(points[i].x - points[i - 1].x, points[i].y - points[i - 1].y);
      }
    }
    return ink < MIN_INK_PX;
  }

  clear() {
    this.strokes = [];
    this.typed = "";
    this.redraw();
    this.onChange();
  }

  /** Sign by typing: ``name`` is written into the box (drawn strokes are kept under it). */
  setTyped(name) {
    this.typed = String(name ?? "");
    this.redraw();
    this.onChange();
  }

  /** The signature as a ``data:image/png;base64,...`` URL, on white. */
  toDataURL() {
    const { width, height } = this.canvas.getBoundingClientRect();
    const out = document.createElement("canvas");
    out.width = Math.max(1, Math.round(width * EXPORT_SCALE));
    out.height = Math.max(1, Math.round(height * EXPORT_SCALE));
    const g = out.getContext("2d");
    g.fillStyle = "#fff";
    g.fillRect(0, 0, out.width, out.height);
    this.paint(g, EXPORT_SCALE, width, height);
    return out.toDataURL("image/png");
  }

  // ---------------------------------------------------------------- pointer input
  point(event) {
    const box = this.canvas.getBoundingClientRect();
    // A mouse has no pressure worth using; pens and some touch screens do.
    const pressure = event.pointerType === "mouse" || !event.pressure ? 0.5 : event.pressure;
    return { x: event.clientX - box.left, y: event.clientY - box.top, w: 0.6 + pressure };
  }

  down(event) {
    if (this.active !== null || (event.pointerType === "mouse" && event.button !== 0)) return;
    event.preventDefault();
    this.active = event.pointerId;
    try {
      this.canvas.setPointerCapture(event.pointerId); // keep the stroke if it leaves the box
    } catch {
      // a pointer the browser no longer tracks: the stroke still draws while it is inside
    }
    this.strokes.push({ points: [this.point(event)] });
    this.redraw();
  }

  move(event) {
    if (event.pointerId !== this.active) return;
    event.preventDefault();
    const stroke = this.strokes[this.strokes.length - 1];
    // Coalesced events keep a fast stroke smooth where the browser batches moves per frame.
    const events = event.getCoalescedEvents?.() ?? [];
    for (const e of events.length ? events : [event]) stroke.points.push(this.point(e));
    this.redraw();
  }

  up(event) {
    if (event.pointerId !== this.active) return;
    this.active = null;
    if (this.canvas.hasPointerCapture?.(event.pointerId)) {
      this.canvas.releasePointerCapture(event.pointerId);
    }
    this.onChange();
  }

  // ---------------------------------------------------------------- drawing
  redraw() {
    const { width, height } = this.canvas.getBoundingClientRect();
    const ratio = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(width * ratio));
    const hgt = Math.max(1, Math.round(height * ratio));
    if (this.canvas.width !== w || this.canvas.height !== hgt) {
      this.canvas.width = w;
      this.canvas.height = hgt;
    }
    const g = this.canvas.getContext("2d");
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, w, hgt);
    this.paint(g, ratio, width, height);
  }

  paint(g, scale, width, height) {
    g.save();
    g.scale(scale, scale);
    g.strokeStyle = INK;
    g.fillStyle = INK;
    g.lineCap = "round";
    g.lineJoin = "round";
    for (const { points } of this.strokes) {
      if (points.length === 1) {
        g.beginPath();
        g.arc(points[0].x, points[0].y, (WIDTH_PX * points[0].w) / 2, 0, Math.PI * 2);
        g.fill();
        continue;
      }
      for (let i = 1; i < points.length; i += 1) {
        g.beginPath();
        g.lineWidth = WIDTH_PX * (points[i - 1].w + points[i].w) / 2;
        g.moveTo(points[i - 1].x, points[i - 1].y);
        g.lineTo(points[i].x, points[i].y);
        g.stroke();
      }
    }
    const name = this.typed.trim();
    if (name) {
      let size = Math.min(44, height * 0.4);
      g.font = `${size}px ${TYPED_FONT}`;
      while (size > 12 && g.measureText(name).width > width - 24) {
        size -= 2;
        g.font = `${size}px ${TYPED_FONT}`;
      }
      g.textBaseline = "middle";
      g.fillText(name, 12, height / 2);
    }
    g.restore();
  }
}
