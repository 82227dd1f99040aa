"""Every protected route for every role: allowed roles pass the check, others get 403."""

from __future__ import annotations

import uuid

import pytest
from aiohttp.test_utils import TestClient

from dhanvantri.http.principal import Role
from dhanvantri.platform.bootstrap import Services
from dhanvantri.platform.notifier import OutboxNotifier
from dhanvantri.platform.web import ENDPOINTS

from .helpers import login_patient, make_staff

P, D, PH, L, A, S = (Role.PATIENT, Role.PHYSICIAN, Role.PHARMACY, Role.LAB, Role.ADMIN,
                     Role.SUPPORT)
EVERYONE = {P, D, PH, L, A, S}
STAFF = EVERYONE - {P}

# Written out by hand (not derived from permissions.py) so a change to the table shows up here.
MATRIX: dict[tuple[str, str], set[Role] | None] = {
    ("POST", "/auth/otp/request"): None,
    ("POST", "/auth/otp/verify"): None,
    ("POST", "/auth/login"): None,
    ("POST", "/auth/refresh"): None,
    ("POST", "/auth/logout"): EVERYONE,
    ("GET", "/me"): EVERYONE,
    ("PATCH", "/me/patient-profile"): {P},
    ("POST", "/auth/mfa/setup"): STAFF,
    ("POST", "/auth/mfa/confirm"): STAFF,
    ("POST", "/users"): {A},
    ("GET", "/users"): {A, S},
    ("GET", "/users/{id}"): {A, S},
    ("DELETE", "/users/{id}"): {A},
    ("GET", "/prescriptions/queue"): {D},
    ("GET", "/consultations"): {P, D, A},
    ("GET", "/consultations/{id}"): {P, D, A},
    ("GET", "/prescriptions/consent"): None,
    ("GET", "/prescriptions"): {P, D, PH, L, A},
    ("GET", "/prescriptions/{id}"): {P, D, PH, L, A},
    ("PUT", "/prescriptions/{id}"): {D},
    ("POST", "/prescriptions/{id}/approve"): {D},
    ("POST", "/prescriptions/{id}/reject"): {D},
    ("POST", "/prescriptions/{id}/profile"): {D},
    ("POST", "/prescriptions/{id}/sign"): {D},
    ("POST", "/prescriptions/{id}/sign/complete"): {D},
    ("GET", "/prescriptions/{id}/verify"): None,
    ("GET", "/prescriptions/{id}/pdf"): {P, D, PH, L, A},
    ("GET", "/prescriptions/{id}/qr.svg"): {P, D, PH, L, A},
    ("POST", "/prescriptions/{id}/acknowledge"): {P},
    ("POST", "/prescriptions/{id}/release"): {P, D, A},
    ("GET", "/audit/events"): {A},
    ("GET", "/audit/verify"): {A},
    # commerce
    ("GET", "/medicines"): None,
    ("GET", "/medicines/{id}"): None,
    ("POST", "/pharmacies"): {A},
    ("PUT", "/pharmacies/{id}/stock"): {PH, A},
    ("POST", "/carts/from-prescription"): {P},
    ("POST", "/orders"): {P},
    ("POST", "/orders/quote"): {P},
    ("GET", "/orders/{id}/delivery-code"): {P},
    ("GET", "/orders"): {P, PH, A, S},
    ("GET", "/orders/{id}"): {P, PH, A, S},
    ("POST", "/orders/{id}/pay"): {P},
    ("POST", "/orders/{id}/pack"): {PH, A},
    ("POST", "/orders/{id}/ship"): {PH, A},
    ("POST", "/orders/{id}/dispatch"): {PH, A},
    ("POST", "/orders/{id}/deliver"): {PH, A},
    ("POST", "/orders/{id}/delivery-otp"): {PH, A, S},
    ("POST", "/orders/{id}/cancel"): {P, PH, A, S},
    ("GET", "/lab-tests"): None,
    ("POST", "/labs"): {A},
    ("POST", "/labs/{id}/slots"): {L, A},
    ("GET", "/lab-slots"): None,
    ("POST", "/lab-bookings"): {P},
    ("GET", "/lab-bookings"): {P},
    ("GET", "/prescriptions/{id}/lab-tests"): {P},
    ("GET", "/lab-bookings/{id}"): {P, L, A, S},
    ("POST", "/lab-bookings/{id}/pay"): {P},
    ("POST", "/lab-bookings/{id}/collected"): {L, A},
    ("POST", "/lab-bookings/{id}/report"): {L, A},
    ("GET", "/lab-bookings/{id}/report"): {P, L, A, S},
    ("GET", "/payments/{id}"): {P, A, S},
    ("POST", "/payments/{id}/confirm"): {P},
    ("POST", "/payments/{id}/sandbox-checkout"): {P},
    ("POST", "/payments/webhook"): None,
    ("POST", "/payments/{id}/refund"): {A, S},
    ("GET", "/settlements"): {PH, L, A},
    ("GET", "/wallet"): {P},
    ("POST", "/wallet/topup"): {P},
    ("POST", "/wallet/family"): {P},
    ("GET", "/wallet/family"): {P},
    ("POST", "/wallet/family/confirm"): {P},
    ("POST", "/wallet/transfer"): {P},
    # emergency card, family, shares (a family member's rights per person: test_family_access)
    ("GET", "/emergency-card"): {P},
    ("PUT", "/emergency-card"): {P},
    ("POST", "/emergency-card/revoke"): {P},
    ("POST", "/emergency-card/view"): None,
    ("GET", "/family"): {P},
    ("POST", "/family/invitations"): {P},
    ("POST", "/family/invitations/{id}/accept"): {P},
    ("POST", "/family/dependents"): {P},
    ("PATCH", "/family/members/{id}"): {P},
    ("POST", "/family/members/{id}/revoke"): {P},
    ("POST", "/family/members/{id}/leave"): {P},
    ("GET", "/family/people/{id}/record"): {P},
    ("POST", "/family/people/{id}/consultations/authorise"): {P},
    ("GET", "/shares"): {P},
    ("POST", "/shares"): {P},
    ("POST", "/shares/{id}/revoke"): {P},
    ("POST", "/shares/open"): None,
    ("POST", "/shares/unlock"): None,
    ("POST", "/shares/view"): None,
    # appointments
    ("GET", "/physicians"): None,
    ("GET", "/physicians/{id}/hours"): None,
    ("GET", "/appointment-slots"): None,
    ("PUT", "/availability"): {D, A},
    ("POST", "/availability/leave"): {D, A},
    ("GET", "/availability/leave"): {D, A},
    ("DELETE", "/availability/leave/{id}"): {D, A},
    ("POST", "/appointments"): {P, D, A, S},
    ("GET", "/appointments"): {P, D, A, S},
    ("GET", "/appointments/calendar.ics"): {P, D, A, S},
    ("GET", "/appointments/{id}"): {P, D, A, S},
    ("POST", "/appointments/{id}/reschedule"): {P, D, A, S},
    ("POST", "/appointments/{id}/cancel"): {P, D, A, S},
    ("POST", "/appointments/{id}/no-show"): {D, A},
    ("POST", "/appointments/{id}/complete"): {D, A},
    ("POST", "/appointments/{id}/pay"): {P},
    # the health record (a physician's export is of a patient they treat: test_fhir_export)
    ("GET", "/me/record"): {P},
    ("POST", "/me/record/documents"): {P},
    ("GET", "/me/record/documents/{id}"): {P},
    ("DELETE", "/me/record/documents/{id}"): {P},
    ("GET", "/me/record/fhir"): {P},
    ("GET", "/patients/{id}/record/fhir"): {D},
}


def test_matrix_covers_every_route() -> None:
    assert {(e.method, e.path) for e in ENDPOINTS} == set(MATRIX)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
async def test_role_route_matrix(client: TestClient, services: Services,
                                 outbox: OutboxNotifier) -> None:
    people = {Role.PATIENT: await login_patient(client, outbox)}
    for role in STAFF:
        people[role] = await make_staff(client, services, role)
    missing = str(uuid.uuid4())
    failures = []
    for endpoint in ENDPOINTS:
        allowed = MATRIX[(endpoint.method, endpoint.path)]
        path = "/api/v1" + endpoint.path.replace("{id}", missing)
        if allowed is None:
            response = await client.request(endpoint.method, path, json={})
            if response.status in (401, 403) and endpoint.path != "/auth/login":
                failures.append(f"{endpoint.method} {path}: public route said {response.status}")
            continue
        response = await client.request(endpoint.method, path, json={})
        if response.status != 401:
            failures.append(f"{endpoint.method} {path} without token: {response.status}")
        for role, person in people.items():
            # An empty body: allowed roles fail later (422/404/409...), never with 401/403.
            response = await client.request(endpoint.method, path, json={},
                                            headers=person.headers)
            # Errors are JSON; a success may be a file (a calendar) or empty (204).
            body = await response.json() if response.content_type == "application/json" else {}
            forbidden = response.status == 403 and body["error"]["code"] == "FORBIDDEN"
            if forbidden == (role in allowed) or response.status == 401:
                failures.append(f"{endpoint.method} {path} as {role.value}: {response.status}")
    assert failures == []
