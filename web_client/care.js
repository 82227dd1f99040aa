// The patient's care area (/care): sign in by phone as on the consultation page, then
// consultations, prescriptions (sign before viewing), medicine orders, lab tests and the wallet.
//
// The URL's hash names the screen (#orders/<id>); each section is a module exporting
// ``show(ctx, root, params)``, which draws into ``root`` and may return
// ``{onChange(change), leave()}``: ``onChange`` hears the server's pushes for this patient
// (an order's status, a report ready; null when pushes resumed after a gap, so refetch all).

import { PatientSession } from "./auth.js";
import { CareApi } from "./care_api.js";
import { h } from "./care_dom.js";
import { SignIn } from "./signin.js";

const SECTIONS = {
  consultations: "./care_consultations.js",
  appointments: "./care_appointments.js",
  prescriptions: "./care_prescriptions.js",
  orders: "./care_orders.js",
  labs: "./care_labs.js",
  wallet: "./care_wallet.js",
  record: "./care_record.js",
  family: "./care_family.js",
  card: "./care_card.js",
};
const DEFAULT_SECTION = "prescriptions";
const POLL_MS = 15000; // only while pushes cannot arrive
const TOAST_MS = 6000;

const $ = (id) => document.getElementById(id);
const session = new PatientSession(() => showSignIn("Your sign-in has ended. Please sign in again."));
const api = new CareApi(session);
const care = { active: null, live: null, poll: null, toastTimer: null, screen: 0 };
window.dhanvantriCare = care; // tests read how many changes arrived

/** What a section gets: the API, navigation and a status line. */
const ctx = {
  api,
  session,
  go(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
  toast(text) {
    const box = $("care-toast");
    box.textContent = text;
    box.hidden = false;
    clearTimeout(care.toastTimer);
    care.toastTimer = setTimeout(() => { box.hidden = true; }, TOAST_MS);
  },
};

function parseHash() {
  const [section, ...params] = location.hash.replace(/^#/, "").split("/").filter(Boolean);
  return SECTIONS[section] ? { section, params } : { section: DEFAULT_SECTION, params: [] };
}

async function route() {
  if (!session.signedIn) return;
  const { section, params } = parseHash();
  const screen = ++care.screen; // a newer navigation wins over a slow one
  care.active?.leave?.();
  care.active = null;
  for (const link of document.querySelectorAll(".care-nav a")) {
    if (link.dataset.section === section) {
      link.setAttribute("aria-current", "page");
      // On a phone the tabs scroll sideways: keep the current one in sight.
      link.scrollIntoView({ block: "nearest", inline: "nearest" });
    } else link.removeAttribute("aria-current");
  }
  const root = $("care-main");
  root.replaceChildren(h("p", { class: "help" }, "Loading…"));
  try {
    const module = await import(SECTIONS[section]);
    if (screen !== care.screen) return;
    root.replaceChildren();
    care.active = (await module.show(ctx, root, params)) ?? null;
  } catch (err) {
    if (screen !== care.screen) return;
    console.error(err);
    root.replaceChildren(h("p", { class: "field-error", role: "alert" },
      "This page could not be shown. Please reload."));
  }
  document.title = `Dhanvantri · ${section[0].toUpperCase()}${section.slice(1)}`;
}

function changed(change) {
  care.changes = (care.changes ?? 0) + 1;
  care.active?.onChange?.(change);
}

function setLive(live) {
  $("live").dataset.live = live ? "on" : "off";
  $("live-text").textContent = live ? "Live" : "Offline";
  clearInterval(care.poll);
  care.poll = live ? null : setInterval(() => changed(null), POLL_MS);
  if (live) changed(null); // anything missed while offline
}

async function startLive() {
  stopLive();
  try {
    const { connectLive } = await import("./live_updates.js");
    care.live = connectLive({
      token: async () => { await session.fresh(); return session.accessToken(); },
      onChange: changed,
      onState: setLive,
    });
  } catch {
    setLive(false); // no push channel: poll
  }
}

function stopLive() {
  care.live?.close();
  care.live = null;
  clearInterval(care.poll);
  care.poll = null;
}

function showCare() {
  $("signin-view").hidden = true;
  $("care-view").hidden = false;
  $("account-who").textContent = `Signed in · ${session.phone}`;
  startLive();
  route();
}

function showSignIn(notice = "", options = {}) {
  stopLive();
  care.active?.leave?.();
  care.active = null;
  $("care-main").replaceChildren();
  $("care-view").hidden = true;
  $("signin-view").hidden = false;
  signIn.reset(notice, options);
}

const signIn = new SignIn(session, { signedIn: showCare, guest: () => {} });
$("signout").addEventListener("click", async () => {
  await session.signOut();
  showSignIn();
});
window.addEventListener("hashchange", route);

if (session.signedIn) showCare();
else showSignIn("", { focus: false });
