// A light avatar drawn in the page from viseme events, for when no video arrives
// (a network that drops video, or a server without the avatar module).
//
// Viseme events reach the page before their audio plays (speech is synthesised faster than
// real time), so timelines are queued and the queue starts when the server says "speaking".

const OPEN = {
  rest: 0, MBP: 0, FV: 0.15, TH: 0.3, L: 0.45, WQ: 0.35, O: 0.7, E: 0.45, AI: 0.9, EE: 0.25, CDG: 0.35,
};
const WIDTH = {
  rest: 1, MBP: 0.9, FV: 1, TH: 1, L: 1, WQ: 0.55, O: 0.7, E: 1.1, AI: 1.05, EE: 1.2, CDG: 1.05,
};

export class FallbackAvatar {
  /** @param {HTMLCanvasElement} canvas */
  constructor(canvas) {
    this.canvas = canvas;
    this.ctx = canvas.getContext("2d");
    this.queue = []; // [{visemes, duration}]
    this.playing = null; // {visemes, startedAt, duration}
    this.speaking = false;
    this.running = false;
    this.nextBlink = performance.now() + 2500;
    this.open = 0;
    this.width = 1;
    this.draw(performance.now());
  }

  start() {
    if (this.running) return;
    this.running = true;
    const tick = (now) => {
      if (!this.running) return;
      this.draw(now);
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  }

  stop() {
    this.running = false;
    this.clear();
    this.draw(performance.now()); // leave a still face behind
  }

  /** A viseme event: [[viseme, start_ms, dur_ms], ...] for the next piece of reply audio. */
  push(visemes) {
    if (!Array.isArray(visemes) || !visemes.length) return;
    const last = visemes[visemes.length - 1];
    this.queue.push({ visemes, duration: last[1] + last[2] });
  }

  setSpeaking(speaking) {
    this.speaking = speaking;
    if (!speaking) this.clear();
  }

  clear() {
    this.queue = [];
    this.playing = null;
  }

  target(now) {
    if (!this.speaking) return "rest";
    if (this.playing && now - this.playing.startedAt >= this.playing.duration) this.playing = null;
    if (!this.playing && this.queue.length) {
      const next = this.queue.shift();
      this.playing = { ...next, startedAt: now };
    }
    if (!this.playing) return "rest";
    const t = now - this.playing.startedAt;
    let shape = "rest";
    for (const [viseme, start] of this.playing.visemes) {
      if (start > t) break;
      shape = viseme;
    }
    return shape;
  }

  draw(now) {
    const { ctx, canvas } = this;
    const w = canvas.width, h = canvas.height, s = w / 256;
    const shape = this.target(now);
    // Ease towards the target so the mouth moves smoothly at any frame rate.
    this.open += ((OPEN[shape] ?? 0) - this.open) * 0.35;
    this.width += ((WIDTH[shape] ?? 1) - this.width) * 0.35;
    if (now > this.nextBlink + 180) this.nextBlink = now + 2500 + Math.random() * 3000;
    const blinking = now > this.nextBlink;
    const bob = Math.sin(now / 700) * 1.2 * s;

    const sky = ctx.createLinearGradient(0, 0, 0, h);
    sky.addColorStop(0, "#e8f0f1");
    sky.addColorStop(1, "#cbdee2");
    ctx.fillStyle = sky;
    ctx.fillRect(0, 0, w, h);
    ctx.fillStyle = "#f6f8f9"; // coat
    ctx.beginPath();
    ctx.ellipse(w / 2, h + 52 * s, 150 * s, 114 * s, 0, 0, Math.PI * 2);
    ctx.fill();
    ctx.fillStyle = "#267a80"; // scrubs
    ctx.beginPath();
    ctx.moveTo(w / 2 - 22 * s, h - 62 * s);
    ctx.lineTo(w / 2 + 22 * s, h - 62 * s);
    ctx.lineTo(w / 2, h);
    ctx.fill();
    const cy = h / 2 - 14 * s + bob;
    ctx.fillStyle = "#aa7458"; // neck
    ctx.fillRect(w / 2 - 19 * s, cy + 40 * s, 38 * s, 40 * s);
    const cx = w / 2;
    const oval = (x, y, rx, ry, color, alpha = 1) => {
      ctx.globalAlpha = alpha;
      ctx.fillStyle = color;
      ctx.beginPath();
      ctx.ellipse(x, y, rx, ry, 0, 0, Math.PI * 2);
      ctx.fill();
      ctx.globalAlpha = 1;
    };
    oval(cx, cy - 10 * s, 61 * s, 62 * s, "#261e1e"); // hair behind
    oval(cx - 53 * s, cy + 4 * s, 8 * s, 13 * s, "#aa7458"); // ears
    oval(cx + 53 * s, cy + 4 * s, 8 * s, 13 * s, "#aa7458");
    oval(cx, cy, 54 * s, 66 * s, "#c48d6c"); // face
    // Hair on top, above a parabolic hairline with a side parting, and a fringe.
    ctx.save();
    ctx.beginPath();
    ctx.ellipse(cx, cy - 12 * s, 57 * s, 62 * s, 0, 0, Math.PI * 2);
    ctx.clip();
    ctx.fillStyle = "#261e1e";
    ctx.beginPath();
    ctx.moveTo(cx - 70 * s, cy - 80 * s);
    for (let x = -70; x <= 70; x += 4) {
      ctx.lineTo(cx + x * s, cy + (-30 + 0.01 * (x - 8) ** 2) * s);
    }
    ctx.lineTo(cx + 70 * s, cy - 80 * s);
    ctx.fill();
    ctx.restore();
    ctx.save();
    ctx.beginPath();
    ctx.ellipse(cx, cy, 54 * s, 66 * s, 0, 0, Math.PI * 2);
    ctx.clip();
    oval(cx - 20 * s, cy - 32 * s, 30 * s, 11 * s, "#261e1e"); // fringe
    ctx.restore();
    oval(cx - 30 * s, cy + 20 * s, 11 * s, 7 * s, "#d6786e", 0.14); // cheeks
    oval(cx + 30 * s, cy + 20 * s, 11 * s, 7 * s, "#d6786e", 0.14);
    oval(cx, cy + 20 * s, 6.5 * s, 4 * s, "#aa7458", 0.5); // nose
    for (const side of [-1, 1]) {
      const ex = w / 2 + side * 22 * s, ey = cy - 2 * s;
      if (blinking) {
        ctx.strokeStyle = "#281c1a";
        ctx.lineWidth = 2 * s;
        ctx.beginPath();
        ctx.moveTo(ex - 10 * s, ey + 2 * s);
        ctx.quadraticCurveTo(ex, ey + 5 * s, ex + 10 * s, ey + 2 * s);
        ctx.stroke();
      } else {
        ctx.fillStyle = "#f6f4f0";
        ctx.beginPath();
        ctx.ellipse(ex, ey, 10.5 * s, 7 * s, 0, 0, Math.PI * 2);
        ctx.fill();
        ctx.fillStyle = "#543624";
        ctx.beginPath();
        ctx.arc(ex, ey, 5.6 * s, 0, Math.PI * 2);
        ctx.fill();
        ctx.fillStyle = "#18100e";
        ctx.beginPath();
        ctx.arc(ex, ey, 2.6 * s, 0, Math.PI * 2);
        ctx.fill();
      }
      ctx.strokeStyle = "#261e1e"; // brow
      ctx.lineWidth = 3.2 * s;
      ctx.beginPath();
      ctx.moveTo(ex - 11 * s, cy - 14 * s);
      ctx.quadraticCurveTo(ex, cy - 20 * s, ex + 11 * s, cy - 14 * s);
      ctx.stroke();
    }
    const mx = w / 2, my = cy + 38 * s, mw = 15 * s * this.width, mo = 12 * s * this.open;
    ctx.fillStyle = "#a05852"; // lips
    ctx.beginPath();
    ctx.ellipse(mx, my + mo / 3, mw + 2.5 * s, mo / 2 + 3 * s, 0, 0, Math.PI * 2);
    ctx.fill();
    if (mo > 1) {
      ctx.fillStyle = "#481e24";
      ctx.beginPath();
      ctx.ellipse(mx, my + mo / 3, mw, mo / 2, 0, 0, Math.PI * 2);
      ctx.fill();
    } else {
      ctx.strokeStyle = "#602e2c";
      ctx.lineWidth = 1.3 * s;
      ctx.beginPath();
      ctx.moveTo(mx - mw, my - 1.5 * s);
      ctx.quadraticCurveTo(mx, my + 2 * s, mx + mw, my - 1.5 * s);
      ctx.stroke();
    }
  }
}
