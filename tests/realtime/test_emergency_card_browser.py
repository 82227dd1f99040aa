"""The emergency card, record shares and family screens in headless Chromium, full server.

Card: the patient ticks blood group and allergies only and makes a card; a second browser (no
sign-in, nothing shared with the first) opens the QR's link and sees exactly those two, not the
conditions or medicines the profile also holds; the view is audited. The patient revokes the
card and the same link then says it was revoked.

Share: the patient shares the whole record for an hour; the doctor's browser opens the link,
a wrong code says how many tries are left, the right one shows the record read-only; the patient
ends the share and the doctor's next look says so.

Family: a dependent added on the family screen, and their record opened from it.
Screenshots of every screen at phone and desktop sizes go under the test's tmp dir.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.realtime.care_app import CareWorld, care_world, login_patient, open_as_patient
from tests.realtime.physician_app import cheap_passwords
from tests.support.browser import (
    PHONE_SIZE,
    accessible,
    both_sizes,
    launch,
    script_errors,
    shows,
)
from tests.support.codes import codes, new_code

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]
__all__ = ["care_world", "cheap_passwords"]

AUNT_PHONE = "9988776655"
PROFILE = {"full_name": "Meera Iyer", "allergies": ["Penicillin"], "conditions": ["Asthma"],
           "medicines": ["Salbutamol inhaler"]}


def audited(world: CareWorld, entity_type: str, action: str) -> int:
    async def count() -> int:
        async with world.services.uow() as uow:
            events = await uow.audit.events(entity_type=entity_type)
            return sum(e.action == action for e in events)

    return world.server.call(count())


def stranger_page(browser: Any) -> Any:
    """A page in a fresh context: no tokens, no storage shared with the patient's."""
    return browser.new_context(viewport=PHONE_SIZE).new_page()


def test_card_shows_only_chosen_fields_then_says_revoked(
        care_world: CareWorld, playwright_instance: Any, tmp_path: Path) -> None:
    world = care_world
    world.call("PATCH", "/me/patient-profile", world.patient, json=PROFILE)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    browser = launch(playwright_instance)
    try:
        page = open_as_patient(browser, world, PHONE_SIZE, "/care#card")
        errors = script_errors(page)
        shows(page, "#card-status", "No card yet")
        both_sizes(page, shots, "card-empty")
        # Blood group chosen but not given is refused before anything is sent.
        page.check("#card-field-blood_group")
        page.check("#card-field-allergies")
        page.click("#card-make")
        shows(page, "#card-error", "blood group")
        page.select_option("#card-blood", "B+")
        page.click("#card-make")
        page.wait_for_selector("#card-link")
        shows(page, "#card-status", "Blood group, Allergies")
        assert page.get_attribute("#card-made img", "src").startswith("data:image/svg+xml")
        both_sizes(page, shots, "card-made")
        url = page.get_attribute("#card-link", "href")
        assert url.startswith(world.url + "/emergency#")

        second = launch(playwright_instance)  # a second browser: no tokens, nothing shared
        bystander = second.new_page(viewport=PHONE_SIZE)
        stranger_errors = script_errors(bystander)
        response = bystander.goto(url)
        assert response.headers["cache-control"] == "no-store"
        assert "noindex" in response.headers["x-robots-tag"]
        bystander.wait_for_selector("#card-facts dt")
        fields = bystander.eval_on_selector_all("#card-facts > div",
                                                "ds => ds.map(d => d.dataset.field)")
        assert fields == ["blood_group", "allergies"]
        text = bystander.inner_text("#card")
        assert "B+" in text and "Penicillin" in text
        for hidden in ("Asthma", "Salbutamol", "Meera"):
            assert hidden not in bystander.content()
        accessible(bystander)
        both_sizes(bystander, shots, "card-public")
        assert audited(world, "emergency_card", "emergency_card_viewed") == 1

        page.click("#card-revoke")
        shows(page, "#card-status", "No card yet")
        bystander.reload()
        shows(bystander, "#card-state", "This card was revoked")
        assert bystander.query_selector("#card-facts dt") is None
        both_sizes(bystander, shots, "card-revoked")
        both_sizes(page, shots, "card-after-revoke")
        assert errors == [] and stranger_errors == []
        second.close()
    finally:
        browser.close()


def test_share_record_with_a_code_then_end_it(
        care_world: CareWorld, playwright_instance: Any, tmp_path: Path) -> None:
    world = care_world
    world.call("PATCH", "/me/patient-profile", world.patient, json=PROFILE)
    shots = tmp_path / "screenshots"
    shots.mkdir()
    browser = launch(playwright_instance)
    try:
        page = open_as_patient(browser, world, PHONE_SIZE, "/care#card")
        errors = script_errors(page)
        shows(page, "#share-list", "Nothing shared")
        page.select_option("#share-what", "record")
        page.click("#share-make")
        page.wait_for_selector("#share-code-shown")
        code = page.inner_text("#share-code-shown").strip()
        assert code.isdigit() and len(code) == 6
        shows(page, "#share-list", "Waiting for the code")
        both_sizes(page, shots, "share-made")
        url = page.get_attribute("#share-link", "href")

        doctor = stranger_page(browser)
        doctor_errors = script_errors(doctor)
        doctor.goto(url)
        doctor.wait_for_selector("#share-code", state="visible")
        shows(doctor, "#share-title", "their health record")
        accessible(doctor)
        both_sizes(doctor, shots, "share-code")
        doctor.fill("#share-code", f"{(int(code) + 1) % 10**6:06d}")
        doctor.click("#share-open")
        shows(doctor, "#share-code-error", "2 tries left")
        doctor.fill("#share-code", code)
        doctor.click("#share-open")
        shows(doctor, "#shared", "Meera Iyer")
        shows(doctor, "#shared", "Penicillin")
        shows(doctor, "#share-state", "Read-only until")
        both_sizes(doctor, shots, "share-open")

        page.reload()
        shows(page, "#share-list", "Opened")
        page.click("#share-list button")
        shows(page, "#share-list", "Revoked")
        doctor.reload()
        shows(doctor, "#share-state", "ended this share")
        assert doctor.inner_text("#shared") == ""
        both_sizes(doctor, shots, "share-ended")
        assert audited(world, "record_share", "record_share_viewed") == 1
        assert errors == [] and doctor_errors == []
    finally:
        browser.close()


def test_family_dependent_and_their_record(
        care_world: CareWorld, playwright_instance: Any, tmp_path: Path) -> None:
    world = care_world
    shots = tmp_path / "screenshots"
    shots.mkdir()
    browser = launch(playwright_instance)
    try:
        page = open_as_patient(browser, world, PHONE_SIZE, "/care#family")
        errors = script_errors(page)
        shows(page, "#family-members", "No one yet")
        both_sizes(page, shots, "family-empty")
        page.fill("#invite-phone", "12345")
        page.click("#invite-send")
        shows(page, "#invite-error", "10-digit")
        page.fill("#dependent-name", "Anu Iyer")
        page.fill("#dependent-born", "2018-04-02")
        page.select_option("#dependent-sex", "female")
        page.fill("#dependent-relation", "daughter")
        page.click("#dependent-add")
        shows(page, "#family-members", "Anu Iyer")
        shows(page, "#family-members", "Dependent")
        both_sizes(page, shots, "family-dependent")
        page.click("#family-members a")
        shows(page, "#family-record-title", "Anu Iyer")
        shows(page, "#care-main", "2018-04-02")
        both_sizes(page, shots, "family-record")

        # Another patient invites this one as viewer of their family: the invitation waits for
        # the code sent to this patient's phone; joining opens their dependent's record.
        aunt = login_patient(world.server, world.caplog, AUNT_PHONE)
        world.call("PATCH", "/me/patient-profile", aunt, json={"full_name": "Lata Rao"})
        world.call("POST", "/family/dependents", aunt, 201,
                   json={"full_name": "Ravi Rao", "date_of_birth": "1940-01-09"})
        before = len(codes(world.caplog, "family_link"))
        world.call("POST", "/family/invitations", aunt, 202,
                   json={"phone": world.patient.phone, "level": "viewer"})
        code = new_code(world.caplog, before, "family_link")
        page.goto(world.url + "/care#family")
        shows(page, "#family-invitations", "Lata Rao invites you")
        both_sizes(page, shots, "family-invited")
        page.fill("#family-invitations input", f"{(int(code) + 1) % 10**6:06d}")
        page.click("#family-invitations button")
        shows(page, "#family-invitations", "tries left")
        page.fill("#family-invitations input", code)
        page.click("#family-invitations button")
        shows(page, "#family-memberships", "Lata Rao's family")
        both_sizes(page, shots, "family-joined")
        page.click("#family-memberships a")
        shows(page, "#family-record-title", "Ravi Rao")
        assert errors == []
    finally:
        browser.close()
