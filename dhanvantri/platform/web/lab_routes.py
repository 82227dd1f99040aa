"""Lab tests at home: catalogue, partner labs, slots, bookings, reports and results."""

from __future__ import annotations

import base64
import binascii

from aiohttp import web

from ...http.auth import caller
from ...http.endpoint import Endpoint, ok, parse_body, parse_query, path_uuid
from ...http.errors import ValidationFailed
from ...http.permissions import Perm
from ..commerce import lab_tests, labs, pharmacy
from ..domain.catalog import MerchantKind
from . import idempotent
from .commerce_responses import (
    BookingOut,
    BookingPaymentOut,
    BookingsOut,
    LabTestsOut,
    MerchantOut,
    OpenSlotsOut,
    PrescribedTestsOut,
    ReportedBookingOut,
    SlotOut,
)
from .commerce_schemas import (
    BookingIn,
    ListQuery,
    MerchantIn,
    PayIn,
    ReportIn,
    SlotIn,
    SlotQuery,
)
from .common import actor_for, services


async def tests(request: web.Request) -> web.Response:
    return ok({"items": await lab_tests.catalog(services(request).uow())})


async def prescribed(request: web.Request) -> web.Response:
    principal = caller(request)
    return ok(await lab_tests.prescribed(services(request).uow(), principal.user_id,
                                         path_uuid(request)))


async def create_lab(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, MerchantIn)
    return ok(await pharmacy.create_merchant(
        services(request).uow(), actor_for(request, principal), MerchantKind.LAB, body.name,
        body.user_id, body.pin_codes), status=201)


async def add_slot(request: web.Request) -> web.Response:
    principal = caller(request)
    lab_id = path_uuid(request)
    body = await parse_body(request, SlotIn)
    return ok(await labs.add_slot(services(request).uow(), actor_for(request, principal), lab_id,
                                  body.pin_code, body.starts_at, body.capacity), status=201)


async def slots(request: web.Request) -> web.Response:
    query = parse_query(request, SlotQuery)
    return ok({"items": await labs.slots(services(request).uow(), query.pin_code)})


async def book(request: web.Request) -> web.Response:
    principal = caller(request)
    body = await parse_body(request, BookingIn)
    return ok(await labs.book(services(request).uow(), actor_for(request, principal),
                              body.slot_id, body.tests, body.address, body.prescription_id),
              status=201)


async def mine(request: web.Request) -> web.Response:
    principal = caller(request)
    query = parse_query(request, ListQuery)
    return ok({"items": await labs.mine(services(request).uow(), actor_for(request, principal),
                                        query.limit, query.offset)})


async def get_one(request: web.Request) -> web.Response:
    principal = caller(request)
    return ok(await labs.view(services(request).uow(), actor_for(request, principal),
                              path_uuid(request)))


async def pay(request: web.Request) -> web.Response:
    principal = caller(request)
    booking_id = path_uuid(request)
    body = await parse_body(request, PayIn)
    actor, svc = actor_for(request, principal), services(request)
    return await idempotent.respond(
        request, principal, "lab_pay", {"booking": str(booking_id), "method": body.method},
        lambda uow: labs.pay(uow, svc.cashier, actor, booking_id, body.method))


async def collected(request: web.Request) -> web.Response:
    principal = caller(request)
    return ok(await labs.collected(services(request).uow(), actor_for(request, principal),
                                   path_uuid(request)))


async def upload(request: web.Request) -> web.Response:
    principal = caller(request)
    booking_id = path_uuid(request)
    body = await parse_body(request, ReportIn)
    try:
        pdf = base64.b64decode(body.pdf_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed.field("pdf_base64", "not base64") from exc
    svc = services(request)
    return ok(await labs.upload_report(
        svc.uow(), actor_for(request, principal), booking_id, pdf,
        [r.model_dump() for r in body.results], svc.settings.platform_commission_percent))


async def report(request: web.Request) -> web.Response:
    principal = caller(request)
    data = await labs.report_pdf(services(request).uow(), actor_for(request, principal),
                                 path_uuid(request))
    return web.Response(body=data, content_type="application/pdf")


TAG = "labs"
ENDPOINTS = [
    Endpoint("GET", "/lab-tests", tests, "Lab tests with preparation and price", TAG, None,
             responses={200: "tests"}, response=LabTestsOut),
    Endpoint("GET", "/prescriptions/{id}/lab-tests", prescribed,
             "The lab tests a released prescription orders, with prices", TAG, Perm.SHOP,
             responses={200: "tests"}, response=PrescribedTestsOut,
             description="Tests the prescription names that are not on sale are listed under "
                         "unmatched."),
    Endpoint("POST", "/labs", create_lab, "Register a partner lab", TAG, Perm.MERCHANTS_MANAGE,
             MerchantIn, responses={201: "lab"}, response=MerchantOut),
    Endpoint("POST", "/labs/{id}/slots", add_slot, "Add a home-collection slot", TAG,
             Perm.LABS_OPERATE, SlotIn, responses={201: "slot"}, response=SlotOut),
    Endpoint("GET", "/lab-slots", slots, "Free home-collection slots at a PIN code", TAG, None,
             query=SlotQuery, responses={200: "slots"}, response=OpenSlotsOut),
    Endpoint("POST", "/lab-bookings", book, "Book tests in a slot", TAG, Perm.SHOP, BookingIn,
             responses={201: "booking"}, response=BookingOut),
    Endpoint("GET", "/lab-bookings", mine, "The patient's own bookings, newest first", TAG,
             Perm.SHOP, query=ListQuery, responses={200: "bookings"}, response=BookingsOut),
    Endpoint("GET", "/lab-bookings/{id}", get_one, "A booking with flagged results", TAG,
             Perm.LAB_BOOKINGS_READ, responses={200: "booking"}, response=BookingOut),
    Endpoint("POST", "/lab-bookings/{id}/pay", pay, "Pay a booking (gateway or wallet)", TAG,
             Perm.SHOP, PayIn, responses={201: "payment"}, response=BookingPaymentOut,
             headers=(idempotent.HEADER,)),
    Endpoint("POST", "/lab-bookings/{id}/collected", collected, "Sample collected", TAG,
             Perm.LABS_OPERATE, responses={200: "booking"}, response=BookingOut),
    Endpoint("POST", "/lab-bookings/{id}/report", upload,
             "Upload the PDF report and values; the lab is paid", TAG, Perm.LABS_OPERATE,
             ReportIn, responses={200: "booking with payout"}, response=ReportedBookingOut),
    Endpoint("GET", "/lab-bookings/{id}/report", report, "The PDF report", TAG,
             Perm.LAB_BOOKINGS_READ, responses={200: "PDF"}, content_type="application/pdf"),
]
