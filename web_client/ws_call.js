// The WebSocket fallback: the consultation's audio as 16-bit PCM over a WebSocket, for browsers
// without WebRTC and networks that block it (UDP). No video comes this way: the page draws the
// avatar itself from the viseme events.
//
// A browser cannot set headers on a WebSocket, so a signed-in patient's token goes in the start
// message (``access_token``), never the URL: URLs reach access logs and proxies.

// Captures the microphone's samples on the audio thread and hands them to the page.
const CAPTURE = new URL("./pcm_capture.js", import.meta.url);
// 20 ms per message, as the server paces its own frames: fewer, larger messages than the audio
// thread's 128-sample blocks, and still small enough that the assistant hears speech at once.
const FRAME_S = 0.02;

function opened(ws) {
  return new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error("websocket")), { once: true });
  });
}

/** One consultation over the WebSocket transport. */
export class WsCall {
  /**
   * @param {(raw: string) => void} onEvent receives each JSON event, as the data channel does.
   * @param {() => void} onClosed called when the server or the network ends the call.
   */
  constructor(onEvent, onClosed) {
    this.onEvent = onEvent;
    this.onClosed = onClosed;
    this.ws = null;
    this.ctx = null;
    this.pending = [];
    this.pendingLength = 0;
    this.playhead = 0;
    this.closed = false;
  }

  /** Connect to ``wsUrl`` (with ``token`` if signed in) and stream ``stream``'s audio. */
  async open(wsUrl, token, stream) {
    this.ctx = new AudioContext();
    const rate = this.ctx.sampleRate; // 44.1 or 48 kHz: within what the server accepts
    this.ws = new WebSocket(wsUrl);
    this.ws.binaryType = "arraybuffer";
    this.ws.onmessage = (e) => this.receive(e.data);
    this.ws.onclose = () => { if (!this.closed) this.onClosed(); };
    await opened(this.ws);
    const start = { type: "start", sample_rate: rate, encoding: "pcm_s16le" };
    if (token) start.access_token = token;
    this.ws.send(JSON.stringify(start));
    this.frame = Math.round(rate * FRAME_S);

    await this.ctx.audioWorklet.addModule(CAPTURE);
    const capture = new AudioWorkletNode(this.ctx, "pcm-capture");
    capture.port.onmessage = (e) => this.capture(e.data);
    const mute = this.ctx.createGain(); // the graph must reach the output to be processed
    mute.gain.value = 0;
    this.ctx.createMediaStreamSource(stream).connect(capture).connect(mute)
      .connect(this.ctx.destination);
  }

  capture(samples) {
    this.pending.push(samples);
    this.pendingLength += samples.length;
    if (this.pendingLength < this.frame || this.ws.readyState !== WebSocket.OPEN) return;
    const pcm = new Int16Array(this.pendingLength);
    let at = 0;
    for (const block of this.pending) {
      for (const v of block) pcm[at++] = Math.max(-1, Math.min(1, v)) * 0x7fff;
    }
    this.pending = [];
    this.pendingLength = 0;
    this.ws.send(pcm.buffer);
  }

  receive(data) {
    if (typeof data === "string") {
      this.onEvent(data);
      return;
    }
    const pcm = new Int16Array(data);
    const buffer = this.ctx.createBuffer(1, pcm.length, this.ctx.sampleRate);
    const out = buffer.getChannelData(0);
    for (let i = 0; i < pcm.length; i++) out[i] = pcm[i] / 0x8000;
    const source = this.ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.ctx.destination);
    // Frames arrive at real-time pace; queue each after the last so they play without gaps.
    this.playhead = Math.max(this.playhead, this.ctx.currentTime);
    source.start(this.playhead);
    this.playhead += buffer.duration;
  }

  /** Hang up and release the audio. */
  close() {
    if (this.closed) return;
    this.closed = true;
    try {
      if (this.ws?.readyState === WebSocket.OPEN) {
        this.ws.send(JSON.stringify({ type: "hangup" }));
      }
      this.ws?.close();
    } catch { /* closing anyway */ }
    this.ctx?.close().catch(() => {});
  }
}
