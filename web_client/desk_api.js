// The physician desk's API calls: its tokens (kept for the tab only) and an authorised fetch
// that renews an expired access token once.

export const API = "/api/v1";

export const tokens = {
  get access() { return sessionStorage.getItem("dhv.access"); },
  get refresh() { return sessionStorage.getItem("dhv.refresh"); },
  save(body) {
    sessionStorage.setItem("dhv.access", body.access_token);
    sessionStorage.setItem("dhv.refresh", body.refresh_token);
  },
  clear() {
    sessionStorage.removeItem("dhv.access");
    sessionStorage.removeItem("dhv.refresh");
  },
};

export async function errorText(response) {
  try {
    const body = await response.json();
    return body.error?.message || `HTTP ${response.status}`;
  } catch {
    return `HTTP ${response.status}`;
  }
}

// One renewal at a time: a refresh token is single-use, and presenting it twice (two requests
// renewing at once) ends the whole session as a suspected theft.
let renewing = null;

export function renew() {
  renewing ??= renewOnce().finally(() => { renewing = null; });
  return renewing;
}

async function renewOnce() {
  if (!tokens.refresh) return false;
  const response = await fetch(`${API}/auth/refresh`, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ refresh_token: tokens.refresh }),
  });
  if (!response.ok) return false;
  tokens.save(await response.json());
  return true;
}

// A 401 can be about the request (a wrong signing code), not the token: renewing then would
// send the same code again and spend a second attempt.
const TOKEN_ERRORS = new Set(["UNAUTHORIZED", "TOKEN_EXPIRED", "TOKEN_INVALID"]);

async function tokenRefused(response) {
  try {
    return TOKEN_ERRORS.has((await response.clone().json()).error?.code);
  } catch {
    return true;
  }
}

export async function call(path, options = {}, retry = true) {
  const response = await fetch(`${API}${path}`, {
    ...options, headers: { ...(options.headers || {}), Authorization: `Bearer ${tokens.access}` },
  });
  if (response.status === 401 && retry && await tokenRefused(response) && await renew()) {
    return call(path, options, false);
  }
  return response;
}
