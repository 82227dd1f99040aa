// The care area's API calls as the signed-in patient: JSON in and out, the token refreshed once
// on a stale 401, an Idempotency-Key on every payment-like POST so that a double click or a
// retried request is done once, and the message to show for a failure.

import { ApiError } from "./auth.js";

export const API = "/api/v1";

const NETWORK = "Could not reach the clinic. Check your internet connection and try again.";

/** A fresh Idempotency-Key: one per user action, reused if that action is retried. */
export function idempotencyKey() {
  return `care-${crypto.randomUUID()}`;
}

async function send(method, path, { body, headers = {}, raw = false } = {}) {
  let response;
  try {
    response = await fetch(API + path, {
      method,
      headers: {
        Accept: raw ? "*/*" : "application/json",
        ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        ...headers,
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { message: "network" });
  }
  if (!response.ok) {
    const data = await response.json().catch(() => ({}));
    const wait = Number(response.headers.get("Retry-After"));
    throw new ApiError(response.status, data.error, Number.isFinite(wait) && wait > 0 ? wait : null);
  }
  if (raw) return response.blob();
  if (response.status === 204) return {};
  return response.json().catch(() => ({}));
}

/** API calls as ``session``'s patient (see auth.js ``PatientSession.call``). */
export class CareApi {
  constructor(session) {
    this.session = session;
  }

  get(path) {
    return this.session.call((auth) => send("GET", path, { headers: auth }));
  }

  /** POST ``body``; ``key`` (an ``idempotencyKey()``) makes a retry of one action safe. */
  post(path, body = {}, key = null) {
    const extra = key ? { "Idempotency-Key": key } : {};
    return this.session.call((auth) => send("POST", path, { body, headers: { ...auth, ...extra } }));
  }

  put(path, body) {
    return this.session.call((auth) => send("PUT", path, { body, headers: auth }));
  }

  patch(path, body) {
    return this.session.call((auth) => send("PATCH", path, { body, headers: auth }));
  }

  /** A file (a PDF) as a Blob. */
  download(path) {
    return this.session.call((auth) => send("GET", path, { headers: auth, raw: true }));
  }
}

/**
 * What to tell the patient about a failed call. ``labels`` names the form's fields
 * ({field: "PIN code"}) so that a validation error says which one to fix.
 */
export function describe(err, labels = {}) {
  if (!(err instanceof ApiError)) return "Something went wrong. Please try again.";
  if (err.code === "NETWORK") return NETWORK;
  if (err.code === "VALIDATION_ERROR" && Array.isArray(err.details) && err.details.length) {
    const { field, message } = err.details[0];
    const name = labels[field] ?? String(field).replace(/_/g, " ");
    return `${name}: ${message}.`;
  }
  if (err.status === 429) {
    return `Too many attempts.${err.retryAfter ? ` Try again in ${err.retryAfter} seconds.` : ""}`;
  }
  if (err.status >= 500) return "The clinic's server had a problem. Please try again.";
  return err.message;
}

/** Indian rupees from the API's decimal string ("1234.50" → "₹1,234.50"). */
export function rupees(amount) {
  const [whole, paise = "00"] = String(amount ?? "0").split(".");
  const digits = whole.replace("-", "");
  // Indian grouping: the last three digits, then pairs (12,34,567).
  const grouped = digits.length > 3
    ? `${digits.slice(0, -3).replace(/\B(?=(\d{2})+(?!\d))/g, ",")},${digits.slice(-3)}`
    : digits;
  return `${whole.startsWith("-") ? "−" : ""}₹${grouped}.${paise.padEnd(2, "0").slice(0, 2)}`;
}

// A decimal amount of rupees as the API writes it and a patient types it: at most 10 whole
// digits (what the server's Numeric(12, 2) holds) and 2 of paise.
const AMOUNT = /^(-?)([0-9]{1,10})(?:\.([0-9]{1,2}))?$/;

/**
 * Whole paise of a decimal amount ("500" → 50000n, "12.5" → 1250n), a BigInt so that amounts
 * are compared exactly, never as floats; null when ``text`` is not such an amount. A leading "-"
 * is taken only with ``signed`` (a balance from the server may be negative; what a patient
 * types to pay or send never is).
 */
export function paise(text, { signed = false } = {}) {
  const match = AMOUNT.exec(String(text ?? "").trim());
  if (!match || (match[1] && !signed)) return null;
  const value = BigInt(match[2]) * 100n + BigInt((match[3] ?? "").padEnd(2, "0"));
  return match[1] ? -value : value;
}

/** A date-time for people ("30 Nov 2026, 14:05"), in the browser's zone. */
export function when(iso) {
  if (!iso) return "–";
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? "–" : date.toLocaleString("en-IN", {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
  });
}
