// Family (#family): the patient's own family (adults they invited, dependents they created),
// the families they belong to, invitations waiting for their code, and a dependent's record
// (#family/record/<id>). An adult joins only by entering the code sent to their own phone.
// What each level may do is decided by the server; this screen shows what it allows: an owner or a
// manager may start a consultation for a dependent (the consultation page, /?for=<id>), a viewer
// only reads.

import { describe, when } from "./care_api.js";
import { busy, chip, h, showError } from "./care_dom.js";

const STATUS = { active: "In progress", completed: "Completed", abandoned: "Ended early" };
const LEVELS = { owner: "Owner", manager: "Manager", viewer: "Viewer", dependent: "Dependent" };
const PHONE = /^(\+?91[\s-]*)?[6-9][0-9\s-]{9,12}$/;
const CONSULTS = new Set(["owner", "manager"]); // the levels that may consult for a dependent

/** The link that opens the consultation page for a dependent. */
function consultFor(dependent) {
  const name = dependent.full_name || "them";
  return h("a", { class: "button small primary", href: `/?for=${encodeURIComponent(dependent.member_id)}`,
    dataset: { consultFor: dependent.member_id } }, `Start a consultation for ${name}`);
}

export async function show(ctx, root, params) {
  if (params[0] === "record" && params[1]) return showRecord(ctx, root, params[1]);
  const state = { leaving: false };
  const error = h("p", { class: "field-error", role: "alert", hidden: true, id: "family-error" });
  const members = h("ul", { class: "care-list family-list", id: "family-members" });
  const belongs = h("ul", { class: "care-list family-list", id: "family-memberships" });
  const invited = h("ul", { class: "care-list family-list", id: "family-invitations" });
  const invitedCard = h("section", { class: "card", "aria-labelledby": "invited-title", hidden: true },
    h("h2", { id: "invited-title" }, "Invitations to you"),
    h("p", { class: "help" }, "Enter the code sent to your phone to join. Joining lets the family see "
      + "and act for its dependents at your level; your own record stays yours."), invited);
  root.append(h("h1", {}, "Family"), error, invitedCard,
    h("section", { class: "card", "aria-labelledby": "family-title" },
      h("h2", { id: "family-title" }, "Your family"), members, inviteForm(), dependentForm()),
    h("section", { class: "card", "aria-labelledby": "belongs-title" },
      h("h2", { id: "belongs-title" }, "Families you belong to"), belongs));

  function inviteForm() {
    const phone = h("input", { id: "invite-phone", type: "tel", inputmode: "tel", autocomplete: "off" });
    const level = h("select", { id: "invite-level" },
      h("option", { value: "viewer" }, "Viewer: reads dependents' records"),
      h("option", { value: "manager" }, "Manager: also starts consultations for them"));
    const err = h("p", { class: "field-error", role: "alert", hidden: true, id: "invite-error" });
    const done = h("p", { class: "help", role: "status", id: "invite-done" });
    const button = h("button", { id: "invite-send", class: "button", type: "submit" }, "Send invitation");
    const form = h("form", { class: "field-form", id: "invite-form", novalidate: true },
      h("h3", {}, "Invite someone"), h("label", { for: "invite-phone" }, "Their mobile number"), phone,
      h("label", { for: "invite-level" }, "Their level"), level, err, done, button);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (!PHONE.test(phone.value.trim())) return showError(err, "Enter a 10-digit Indian mobile number.", phone);
      return busy(button, async () => {
        try {
          const answer = await ctx.api.post("/family/invitations", { phone: phone.value.trim(), level: level.value });
          showError(err, "", phone);
          done.textContent = `Sent. ${answer.message[0].toUpperCase()}${answer.message.slice(1)}.`;
          phone.value = "";
        } catch (e) {
          showError(err, describe(e, { phone: "Mobile number" }), phone);
        }
      });
    });
    return form;
  }

  function dependentForm() {
    const name = h("input", { id: "dependent-name", autocomplete: "off", maxlength: 200 });
    const born = h("input", { id: "dependent-born", type: "date" });
    const sex = h("select", { id: "dependent-sex" }, h("option", { value: "" }, "Not given"),
      h("option", { value: "female" }, "Female"), h("option", { value: "male" }, "Male"),
      h("option", { value: "other" }, "Other"));
    const relation = h("input", { id: "dependent-relation", autocomplete: "off", maxlength: 40 });
    const err = h("p", { class: "field-error", role: "alert", hidden: true, id: "dependent-error" });
    const button = h("button", { id: "dependent-add", class: "button", type: "submit" }, "Add dependent");
    const form = h("form", { class: "field-form", id: "dependent-form", novalidate: true },
      h("h3", {}, "Add a dependent without a phone"),
      h("label", { for: "dependent-name" }, "Full name"), name,
      h("label", { for: "dependent-born" }, "Date of birth"), born,
      h("label", { for: "dependent-sex" }, "Sex"), sex,
      h("label", { for: "dependent-relation" }, "Relation (e.g. daughter, father)"), relation, err, button);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(button, async () => {
        try {
          await ctx.api.post("/family/dependents", { full_name: name.value, date_of_birth: born.value,
            sex: sex.value || null, relation: relation.value.trim() || null });
          showError(err, "");
          form.reset();
          await load();
        } catch (e) {
          showError(err, describe(e, { full_name: "Full name", date_of_birth: "Date of birth" }));
        }
      });
    });
    return form;
  }

  function memberItem(m) {
    const item = h("li", { dataset: { id: m.id, level: m.level } },
      h("span", { class: "title" }, m.full_name || "Family member"),
      chip(m.level, LEVELS[m.level]),
      h("span", { class: "help" }, [m.relation, m.phone_hint, m.consented_at && m.level !== "dependent"
        ? `agreed ${when(m.consented_at)}` : null].filter(Boolean).join(" · ")));
    const row = h("div", { class: "row" });
    if (m.level === "dependent") {
      row.append(h("a", { class: "button small", href: `#family/record/${m.member_id}` }, "Record"),
        consultFor(m));
    } else {
      const other = m.level === "manager" ? "viewer" : "manager";
      const change = h("button", { class: "button small", type: "button" }, `Make ${LEVELS[other].toLowerCase()}`);
      change.addEventListener("click", () => act(change, () => ctx.api.patch(`/family/members/${m.id}`, { level: other })));
      const remove = h("button", { class: "button small", type: "button" }, "Remove");
      remove.addEventListener("click", () => act(remove, () => ctx.api.post(`/family/members/${m.id}/revoke`)));
      row.append(change, remove);
    }
    item.append(row);
    return item;
  }

  function familyItem(f) {
    const leave = h("button", { class: "button small", type: "button" }, "Leave");
    leave.addEventListener("click", () => act(leave, () => ctx.api.post(`/family/members/${f.id}/leave`)));
    return h("li", { dataset: { id: f.id } },
      h("span", { class: "title" }, `${f.owner_name || "A patient"}'s family`), chip(f.level, LEVELS[f.level]),
      h("div", { class: "row" }, f.dependents.flatMap((d) => [
        h("a", { class: "button small", href: `#family/record/${d.member_id}` }, `${d.full_name}'s record`),
        ...(CONSULTS.has(f.level) ? [consultFor(d)] : [])]),
      leave));
  }

  function invitationItem(inv) {
    const code = h("input", { id: `accept-code-${inv.id}`, inputmode: "numeric", maxlength: 6, autocomplete: "one-time-code" });
    const err = h("p", { class: "field-error", role: "alert", hidden: true });
    const button = h("button", { class: "button small primary", type: "submit" }, "Join");
    const form = h("form", { class: "row", novalidate: true },
      h("label", { for: code.id }, "Code from your SMS"), code, button);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      busy(button, async () => {
        try {
          await ctx.api.post(`/family/invitations/${inv.id}/accept`, { code: code.value.trim() });
          ctx.toast(`You joined ${inv.owner_name ? `${inv.owner_name}'s` : "the"} family.`);
          await load();
        } catch (e) {
          const left = e.code === "OTP_INVALID" ? e.details?.attempts_left : undefined;
          showError(err, left === undefined ? describe(e, { code: "Code" })
            : `That code is not right. ${left} ${left === 1 ? "try" : "tries"} left.`, code);
        }
      });
    });
    return h("li", { dataset: { id: inv.id } },
      h("span", { class: "title" }, `${inv.owner_name || "A patient"} invites you`),
      chip(inv.level, LEVELS[inv.level]), form, err);
  }

  async function act(button, work) {
    await busy(button, async () => {
      try {
        await work();
        showError(error, "");
        await load();
      } catch (e) {
        showError(error, describe(e));
      }
    });
  }

  async function load() {
    try {
      const family = await ctx.api.get("/family");
      if (state.leaving) return;
      showError(error, "");
      members.replaceChildren(...(family.members.length ? family.members.map(memberItem)
        : [h("li", {}, h("p", { class: "empty-state" }, "No one yet. Invite an adult or add a dependent below."))]));
      belongs.replaceChildren(...(family.memberships.length ? family.memberships.map(familyItem)
        : [h("li", {}, h("p", { class: "empty-state" }, "None."))]));
      invited.replaceChildren(...family.invitations.map(invitationItem));
      invitedCard.hidden = !family.invitations.length;
    } catch (e) {
      showError(error, describe(e));
    }
  }

  await load();
  return { leave() { state.leaving = true; } };
}

async function showRecord(ctx, root, subjectId) {
  const error = h("p", { class: "field-error", role: "alert", hidden: true, id: "family-record-error" });
  root.append(h("a", { class: "back", href: "#family" }, "← Family"), error);
  let record;
  try {
    record = await ctx.api.get(`/family/people/${subjectId}/record`);
  } catch (e) {
    showError(error, describe(e));
    return null;
  }
  const p = record.patient;
  const row = (label, value) => h("div", {}, h("dt", {}, label),
    h("dd", {}, Array.isArray(value) ? (value.join(", ") || "None recorded") : (value || "Not recorded")));
  root.append(h("h1", { id: "family-record-title" }, p.full_name || "Record"),
    h("section", { class: "card" }, h("dl", { class: "card-facts" }, row("Date of birth", p.date_of_birth),
      row("Sex", p.sex), row("Allergies", p.allergies), row("Conditions", p.conditions),
      row("Current medicines", p.medicines))),
    h("section", { class: "card", "aria-labelledby": "family-consultations" },
      h("h2", { id: "family-consultations" }, "Consultations"),
      record.consultations.length ? h("ul", { class: "care-list", id: "family-record-consultations" },
        record.consultations.map((c) => h("li", { dataset: { id: c.id, status: c.status } },
          h("div", { class: "item" }, h("span", { class: "title" }, `Consultation, ${when(c.at)}`),
            chip(c.status, STATUS[c.status] ?? c.status),
            h("span", { class: "meta" }, [`${c.turn_count} message${c.turn_count === 1 ? "" : "s"}`,
              c.prescription_id ? "sent to a doctor for review" : null].filter(Boolean).join(" · "))))))
        : h("p", { class: "empty-state" }, "None yet.")),
    h("section", { class: "card", "aria-labelledby": "family-rx" }, h("h2", { id: "family-rx" }, "Prescriptions"),
      record.prescriptions.length ? h("ul", { class: "care-list" }, record.prescriptions.map((rx) =>
        h("li", {}, h("span", { class: "title" }, rx.content?.diagnosis ?? "Prescription"),
          h("span", { class: "help" }, `Signed ${when(rx.signed_at)}`))))
        : h("p", { class: "empty-state" }, "None yet.")),
    h("section", { class: "card", "aria-labelledby": "family-labs" }, h("h2", { id: "family-labs" }, "Lab reports"),
      record.lab_reports.length ? h("ul", { class: "care-list" }, record.lab_reports.map((lab) =>
        h("li", {}, h("span", { class: "title" }, lab.tests.join(", ")),
          h("span", { class: "help" }, lab.results.map((r) => `${r.analyte} ${r.value} ${r.unit ?? ""}`).join(" · ")))))
        : h("p", { class: "empty-state" }, "None yet.")));
  return null;
}
