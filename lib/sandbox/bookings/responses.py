"""HTTP layer of the Bookings surface: read parameters, call the backend, format the reply."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ..graph.request import GraphRequest, GraphResponse
from .models import BookingsBackend
from .paging import page
from .times import parse_query_instant

ROOT = "solutions/bookingBusinesses"


def _business_path(req: GraphRequest) -> str:
    return f"{ROOT}('{req.params['business']}')"


def _collection(req: GraphRequest, items: list[dict[str, Any]], name: str, odata_type: str) -> GraphResponse:
    link_base = f"{req.base_url}/{req.version}/{ROOT}/{quote(req.params['business'])}/{name}"
    value, next_link = page(items, req.query, name, link_base)
    body: dict[str, Any] = {"@odata.context": req.context(f"{_business_path(req)}/{name}"),
                            "value": [{"@odata.type": odata_type, **item} for item in value]}
    if next_link:
        body["@odata.nextLink"] = next_link
    return GraphResponse(200, body)


def _appointment(req: GraphRequest, status: int, appointment: dict[str, Any]) -> GraphResponse:
    return GraphResponse(status, {"@odata.context": req.context(f"{_business_path(req)}/appointments/$entity"),
                                  "@odata.type": "#microsoft.graph.bookingAppointment", **appointment})


# -- businesses -----------------------------------------------------------------------------------
def list_businesses(b: BookingsBackend, req: GraphRequest) -> GraphResponse:
    found = b.list_businesses(req.query.get("query"))
    return GraphResponse(200, {"@odata.context": req.context(ROOT), "value": found})


def get_business(b: BookingsBackend, req: GraphRequest) -> GraphResponse:
    business = b.business(req.params["business"])
    return GraphResponse(200, {"@odata.context": req.context(f"{ROOT}/$entity"),
                               "@odata.type": "#microsoft.graph.bookingBusiness", **business.resource()})


def list_services(b: BookingsBackend, req: GraphRequest) -> GraphResponse:
    return _collection(req, b.services(req.params["business"]), "services", "#microsoft.graph.bookingService")


def list_staff(b: BookingsBackend, req: GraphRequest) -> GraphResponse:
    return _collection(req, b.staff(req.params["business"]), "staffMembers", "#microsoft.graph.bookingStaffMember")


def list_customers(b: BookingsBackend, req: GraphRequest) -> GraphResponse:
    return _collection(req, b.customers(req.params["business"]), "customers", "#microsoft.graph.bookingCustomer")


def create_customer(b: BookingsBackend, req: GraphRequest) -> GraphResponse:
    customer = b.create_customer(req.params["business"], req.json())
    return GraphResponse(201, {"@odata.context": req.context(f"{_business_path(req)}/customers/$entity"),
                               **customer})


# -- appointments ---------------------------------------------------------------------------------
def create_appointment(b: BookingsBackend, req: GraphRequest) -> GraphResponse:
    return _appointment(req, 201, b.create_appointment(req.caller, req.params["business"], req.json()))


def list_appointments(b: BookingsBackend, req: GraphRequest) -> GraphResponse:
    return _collection(req, b.appointments(req.params["business"]), "appointments",
                       "#microsoft.graph.bookingAppointment")


def get_appointment(b: BookingsBackend, req: GraphRequest) -> GraphResponse:
    return _appointment(req, 200, b.appointment(req.params["business"], req.params["appointment"]))


def calendar_view(b: BookingsBackend, req: GraphRequest) -> GraphResponse:
    start = parse_query_instant(req.query.get("start"), "start")
    end = parse_query_instant(req.query.get("end"), "end")
    found = b.calendar_view(req.params["business"], start, end)
    return GraphResponse(200, {"@odata.context": req.context(f"{_business_path(req)}/calendarView"),
                               "value": [{"@odata.type": "#microsoft.graph.bookingAppointment", **a}
                                         for a in found]})


def update_appointment(b: BookingsBackend, req: GraphRequest) -> GraphResponse:
    b.update_appointment(req.caller, req.params["business"], req.params["appointment"], req.json())
    return GraphResponse(204)


def cancel_appointment(b: BookingsBackend, req: GraphRequest) -> GraphResponse:
    b.cancel(req.params["business"], req.params["appointment"], req.json())
    return GraphResponse(204)


def delete_appointment(b: BookingsBackend, req: GraphRequest) -> GraphResponse:
    b.delete(req.params["business"], req.params["appointment"])
    return GraphResponse(204)
