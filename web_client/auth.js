// The patient's sign-in session: phone OTP tokens kept for this tab, refreshed before they expire.
//
// Tokens live in sessionStorage: they survive a reload but not the tab, and no other site can
// read them. Only a masked phone number is kept beside them (the page shows who is signed in;
// the full number is an identifier and stays out of storage).

const AUTH = "/api/v1/auth";
const STORE = "dhanvantri.patient";
// Refresh this long before the access token expires: enough for a slow network, and never more
// than a quarter of a (short) lifetime, so that a fresh token is not refreshed at once.
const REFRESH_MARGIN_MS = 60000;
// The longest delay setTimeout takes (~24.8 days): a token that lives longer is refreshed early.
const MAX_TIMER_MS = 2 ** 31 - 1;
// A refresh that failed on the network is tried again after this long.
const RETRY_REFRESH_MS = 15000;
// 401 codes after which one refresh may help; others (a locked account) need a new sign-in.
const STALE_TOKEN = new Set(["TOKEN_EXPIRED", "TOKEN_INVALID", "UNAUTHORIZED"]);

/** An API failure: the body's ``error`` (code, message, details) with the HTTP status. */
export class ApiError extends Error {
  constructor(status, error = {}, retryAfter = null) {
    super(error.message || `The request failed (${status}).`);
    this.status = status;
    this.code = error.code || (status === 0 ? "NETWORK" : `HTTP_${status}`);
    this.details = error.details ?? null;
    this.retryAfter = retryAfter;
  }

  /** The message for ``field`` from a VALIDATION_ERROR's details, or null. */
  fieldMessage(field) {
    if (!Array.isArray(this.details)) return null;
    const entry = this.details.find((d) => d.field === field);
    return entry ? entry.message : null;
  }
}

/** POST ``body`` as JSON; the parsed answer, or an ``ApiError``. */
export async function postJson(url, body, headers = {}) {
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: { "Content-Type": "application/json", Accept: "application/json", ...headers },
      body: JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { message: "network" });
  }
  if (response.status === 204) return {};
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    const wait = Number(response.headers.get("Retry-After"));
    throw new ApiError(response.status, data.error, Number.isFinite(wait) && wait > 0 ? wait : null);
  }
  return data;
}

/** Mask a phone number to its last four digits, as the server's logs do. */
export function maskPhone(phone) {
  const digits = String(phone).replace(/\D/g, "");
  return digits.length > 4 ? `•••••• ${digits.slice(-4)}` : "your phone";
}

/** The signed-in patient of this tab: sign-in, tokens, refresh, sign-out. */
export class PatientSession {
  /** @param {(reason: string) => void} onSignedOut called when the session ends by itself. */
  constructor(onSignedOut = () => {}) {
    this.onSignedOut = onSignedOut;
    this.tokens = null; // {access_token, refresh_token, expires_at (ms), phone}
    this.refreshing = null; // the refresh in flight: one at a time (refresh tokens rotate)
    this.timer = null;
    this.restore();
  }

  get signedIn() {
    return this.tokens !== null;
  }

  get phone() {
    return this.tokens?.phone ?? "";
  }

  /** Ask for a login code; the challenge id to verify it with. */
  async requestCode(phone) {
    const challenge = await postJson(`${AUTH}/otp/request`, { phone });
    return challenge.challenge_id;
  }

  /** Exchange the code for tokens: the patient is signed in (registered on first sign-in). */
  async verify(challengeId, code, phone) {
    const pair = await postJson(`${AUTH}/otp/verify`, { challenge_id: challengeId, code });
    this.keep(pair, maskPhone(phone));
  }

  /** Revoke the session on the server (best effort) and forget the tokens here. */
  async signOut() {
    const tokens = this.tokens;
    this.forget();
    if (!tokens) return;
    try {
      await postJson(`${AUTH}/logout`, { refresh_token: tokens.refresh_token },
        { Authorization: `Bearer ${tokens.access_token}` });
    } catch { /* the tokens are gone from this tab either way */ }
  }

  /** Headers that name the patient (none for a guest). */
  headers() {
    return this.tokens ? { Authorization: `Bearer ${this.tokens.access_token}` } : {};
  }

  /** The access token for a URL's query (the WebSocket transport cannot send headers). */
  accessToken() {
    return this.tokens?.access_token ?? null;
  }

  /** A valid access token: refreshed first when it is about to expire. */
  async fresh() {
    if (this.tokens && Date.now() >= this.tokens.expires_at - this.margin()) await this.refresh();
  }

  /**
   * ``send(headers)`` with the patient's token; on a 401 for a stale token, refresh once and
   * send again. ``send`` returns a promise that rejects with an ``ApiError``.
   */
  async call(send) {
    await this.fresh();
    try {
      return await send(this.headers());
    } catch (err) {
      if (!this.tokens || !(err instanceof ApiError) || err.status !== 401 ||
          !STALE_TOKEN.has(err.code)) throw err;
      await this.refresh();
      return send(this.headers());
    }
  }

  /** Rotate the refresh token. Ends the session when the server refuses it. */
  refresh() {
    if (!this.refreshing) {
      this.refreshing = this.rotate().finally(() => { this.refreshing = null; });
    }
    return this.refreshing;
  }

  async rotate() {
    const tokens = this.tokens;
    if (!tokens) throw new ApiError(401, { code: "UNAUTHORIZED", message: "signed out" });
    try {
      this.keep(await postJson(`${AUTH}/refresh`, { refresh_token: tokens.refresh_token }),
        tokens.phone);
    } catch (err) {
      if (err.status === 401) {
        this.forget();
        this.onSignedOut("expired");
      } else {
        this.schedule(RETRY_REFRESH_MS);
      }
      throw err;
    }
  }

  margin() {
    const lifetime = this.tokens ? this.tokens.lifetime_ms : 0;
    return Math.min(REFRESH_MARGIN_MS, lifetime / 4);
  }

  keep(pair, phone) {
    const lifetime = Math.max(0, Number(pair.expires_in) || 0) * 1000;
    this.tokens = {
      access_token: pair.access_token, refresh_token: pair.refresh_token,
      expires_at: Date.now() + lifetime, lifetime_ms: lifetime, phone,
    };
    sessionStorage.setItem(STORE, JSON.stringify(this.tokens));
    this.schedule(Math.max(0, lifetime - this.margin()));
  }

  // Refresh ahead of expiry, so that hanging up (a keepalive request that cannot wait for a
  // refresh) still carries a valid token after a long consultation.
  schedule(delay) {
    clearTimeout(this.timer);
    // setTimeout keeps its delay in 32 bits: a longer one wraps round and may fire at once.
    this.timer = setTimeout(() => this.refresh().catch(() => {}), Math.min(delay, MAX_TIMER_MS));
  }

  restore() {
    try {
      const saved = JSON.parse(sessionStorage.getItem(STORE) || "null");
      if (saved?.access_token && saved?.refresh_token) {
        this.tokens = saved;
        this.schedule(Math.max(0, saved.expires_at - this.margin() - Date.now()));
      }
    } catch {
      sessionStorage.removeItem(STORE);
    }
  }

  forget() {
    clearTimeout(this.timer);
    this.tokens = null;
    sessionStorage.removeItem(STORE);
  }
}
