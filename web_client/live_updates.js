// Live updates for a signed-in user's pages (the care area, the pharmacy and lab desks): one
// WebSocket to /api/v1/me/events that says when one of the user's records changed on the
// server, whichever server process changed it.
//
//   const live = connectLive({ token, onChange, onState });
//   live.close();
//
// token()        async; the current access token, or null once signed out. Asked before every
//                connection, so a reconnect uses a refreshed token.
// onChange(c)    one committed change: { kind, id, status }, kind "order" | "lab_booking" |
//                "payment" | "prescription" | "wallet" (id: the owner's user id; status
//                "credited" | "debited" | "moved"). Ids and states only: the page refetches.
// onState(live)  true once subscribed: refetch then, as anything may have changed while down;
//                false once the connection is lost: poll slowly until it is true again.
//                Called on each change of state only, the first time when the first attempt
//                succeeds or fails.
//
// Reconnects after 500 ms, 1 s, 2 s, then every 5 s. Stops for good on close() (onState is not
// called then), and with onState(false) when token() gives null, when the server refuses the
// role (4403), or when it refused a token (4401: signed out, expired) and token() then gives
// that same token again: the page signs the user in again and calls connectLive anew.

const EVENTS = "/api/v1/me/events";
const BACKOFF_MS = [500, 1000, 2000, 5000];
const PING_MS = 25000; // keeps idle proxies from cutting a quiet socket (the server pings too)
// A socket that has not answered two pings is dead even if the browser has not noticed (a
// laptop waking up, a network change): closed here, so the page polls and it reconnects.
const STALE_MS = 2 * PING_MS + 5000;
const KINDS = new Set(["order", "lab_booking", "payment", "prescription", "wallet"]);
const UNAUTHORIZED = 4401;
const FORBIDDEN = 4403;

/**
 * Open the live-updates socket and keep it open until ``close()``.
 * @param {{token: () => Promise<string|null>, onChange: (change: {kind: string, id: string,
 *   status: string}) => void, onState?: (live: boolean) => void}} options
 * @returns {{close: () => void}}
 */
export function connectLive({ token, onChange, onState = () => {} }) {
  let socket = null;
  let stopped = false;
  let live = null; // unknown until the first attempt ends
  let attempt = 0;
  let retry = null;
  let ping = null;
  let sent = null; // the token the open socket was given
  let refused = null; // the token the server last refused
  let heardAt = 0; // when the open socket last said anything

  function report(state) {
    if (live === state) return;
    live = state;
    onState(state);
  }

  /** Stop for good; ``down``: tell the page (not when it asked, through close()). */
  function stop(down) {
    stopped = true;
    clearTimeout(retry);
    clearInterval(ping);
    if (socket) {
      const closing = socket;
      socket = null;
      closing.close(1000);
    }
    if (down) report(false);
  }

  async function connect() {
    retry = null;
    let access = null;
    try {
      access = await token();
    } catch {
      access = undefined; // the token could not be had now (offline): try again later
    }
    if (stopped) return;
    if (access === null || (access !== undefined && access === refused)) {
      stop(true); // signed out, or the same token refused again
      return;
    }
    if (access === undefined) {
      report(false);
      again();
      return;
    }
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    const opened = new WebSocket(`${scheme}://${location.host}${EVENTS}`);
    socket = opened;
    sent = access;
    // The token goes in the first message, not the URL (URLs end up in access logs).
    opened.onopen = () => opened.send(JSON.stringify({ type: "auth", token: access }));
    opened.onmessage = (message) => {
      if (socket !== opened) return;
      heardAt = Date.now();
      onMessage(message.data);
    };
    opened.onclose = (event) => {
      if (socket === opened) lost(event.code); // else closed by us
    };
  }

  /** The open socket is gone (closed by the server, the network, or found dead). */
  function lost(code) {
    const gone = socket;
    socket = null;
    clearInterval(ping);
    gone?.close(); // no-op once closed; a dead one is not waited for
    report(false);
    if (code === FORBIDDEN) {
      stop(true);
      return;
    }
    refused = code === UNAUTHORIZED ? sent : null;
    again();
  }

  function onMessage(data) {
    let message;
    try {
      message = JSON.parse(data);
    } catch {
      return;
    }
    if (message.type === "ready") {
      attempt = 0;
      refused = null;
      clearInterval(ping);
      ping = setInterval(() => {
        if (socket?.readyState !== WebSocket.OPEN) return;
        if (Date.now() - heardAt > STALE_MS) lost(null);
        else socket.send(JSON.stringify({ type: "ping" }));
      }, PING_MS);
      report(true);
    } else if (message.type === "change" && KINDS.has(message.kind)) {
      onChange({ kind: message.kind, id: message.id, status: message.status });
    }
  }

  function again() {
    if (stopped) return;
    const wait = BACKOFF_MS[Math.min(attempt, BACKOFF_MS.length - 1)];
    attempt += 1;
    retry = setTimeout(connect, wait);
  }

  connect();
  return { close: () => stop(false) };
}
