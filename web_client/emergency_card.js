// The public emergency card (/emergency#<token>): what its patient chose to show someone
// helping them, with no sign-in. The token is in the URL's fragment, which the browser never
// sends to a server; the page posts it to the API. A revoked card says so.

import { h } from "./care_dom.js";

const API = "/api/v1/emergency-card/view";
const LABELS = {
  name: "Name",
  blood_group: "Blood group",
  allergies: "Allergies",
  conditions: "Conditions",
  medicines: "Current medicines",
  contacts: "Emergency contacts",
};
const $ = (id) => document.getElementById(id);

function list(values, none) {
  if (!values.length) return h("span", {}, none);
  return h("ul", {}, values.map((v) => h("li", {}, v)));
}

function contacts(people) {
  return h("ul", { class: "card-contacts" }, people.map((c) => h("li", {},
    `${c.name}${c.relation ? ` (${c.relation})` : ""} · `,
    h("a", { href: `tel:${c.phone.replace(/[^0-9+]/g, "")}` }, c.phone))));
}

function fact(name, value) {
  let shown;
  if (name === "contacts") shown = contacts(value);
  else if (Array.isArray(value)) shown = list(value, "None recorded");
  else shown = value || "Not recorded";
  return h("div", { dataset: { field: name } }, h("dt", {}, LABELS[name]),
    h("dd", { class: name === "blood_group" ? "blood" : null }, shown));
}

function ended(message) {
  const state = $("card-state");
  state.replaceChildren(h("span", { class: "ended-box", id: "card-ended" }, message));
  $("card-facts").hidden = true;
}

async function open() {
  const token = location.hash.replace(/^#/, "");
  history.replaceState(null, "", location.pathname + location.hash); // no query to leak
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) {
    ended("This link is not complete. Scan the QR code again.");
    return;
  }
  let response;
  try {
    response = await fetch(API, {
      method: "POST", cache: "no-store", referrerPolicy: "no-referrer",
      headers: { "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify({ token }),
    });
  } catch {
    ended("Could not reach the server. Check the internet connection and try again.");
    return;
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) {
    const code = body.error?.code;
    if (code === "CARD_REVOKED") ended("This card was revoked by its owner.");
    else if (code === "RATE_LIMITED") ended("Too many cards opened from here. Wait a minute and try again.");
    else ended("No such card. Scan the QR code again.");
    return;
  }
  const names = Object.keys(LABELS).filter((name) => name in body);
  const facts = $("card-facts");
  facts.replaceChildren(...names.map((name) => fact(name, body[name])));
  facts.hidden = false;
  $("card-state").textContent = names.length ? "" : "The card shows nothing.";
  $("card-state").hidden = names.length > 0;
  if (body.name) $("card-title").textContent = `Emergency card · ${body.name}`;
}

open();
