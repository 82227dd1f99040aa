// Staff sign-in (physician desk, pharmacy desk): e-mail, password and, for accounts that use
// one, the authenticator app's code. The tokens are kept for the tab (desk_api.js).
//
// The server answers every wrong factor alike ("wrong e-mail, password or TOTP code"): telling
// that a code is needed only after a right password would confirm the password. So the page
// cannot ask for the code on its own; the field is always there and the message names it.

import { API, tokens } from "./desk_api.js";

const FIELDS = { email: "e-mail", password: "password", totp_code: "authenticator code" };

/** What to tell the person signing in about a refused sign-in. */
async function refusal(response, gaveCode) {
  const body = await response.json().catch(() => ({}));
  const error = body.error || {};
  if (response.status === 401) {
    return gaveCode ? "Wrong e-mail, password or authenticator code."
      : "Wrong e-mail or password. If your account uses an authenticator app, enter its code too.";
  }
  if (error.code === "MFA_SETUP_REQUIRED") {
    return "This account must set up an authenticator app before signing in: ask an administrator.";
  }
  if (response.status === 429) {
    const wait = Number(response.headers.get("Retry-After") || error.details?.retry_after);
    return Number.isFinite(wait) && wait > 0
      ? `Too many sign-in attempts. Try again in ${Math.ceil(wait)} seconds.`
      : "Too many sign-in attempts. Try again in a minute.";
  }
  if (response.status === 422 && Array.isArray(error.details) && error.details.length) {
    const field = String(error.details[0].field || "").split(".").pop();
    return `Check the ${FIELDS[field] || field}: ${error.details[0].message}.`;
  }
  if (response.status === 403) return error.message || "This account may not sign in here.";
  return error.message || `The server could not sign you in (HTTP ${response.status}).`;
}

/**
 * Sign a staff member in; on success the tokens are saved.
 *
 * @param {{email: string, password: string, totp?: string}} form what was typed.
 * @returns {Promise<string|null>} null when signed in, else the message to show.
 */
export async function staffSignIn({ email, password, totp }) {
  const body = { email: email.trim(), password };
  const code = (totp || "").replace(/\s+/g, "");
  if (code) body.totp_code = code;
  let response;
  try {
    response = await fetch(`${API}/auth/login`, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
  } catch {
    return "Could not reach the server. Check the connection and try again.";
  }
  if (!response.ok) return refusal(response, Boolean(code));
  tokens.save(await response.json());
  return null;
}
