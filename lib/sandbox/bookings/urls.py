"""The Bookings surface (§14) on one screen: method, path (after /{version}/), handler, permissions.

Each route accepts the reference's least-privileged permission first, then the higher ones Graph's
permission tables list for every Bookings call (Bookings.ReadWrite.All, Bookings.Manage.All)."""
from __future__ import annotations

import re

from ..graph.urls import BOTH, Permissions, Route
from . import responses

READ_ANY = ("Bookings.Read.All", "BookingsAppointment.ReadWrite.All", "Bookings.ReadWrite.All", "Bookings.Manage.All")
APPOINTMENTS_RW = ("BookingsAppointment.ReadWrite.All", "Bookings.ReadWrite.All", "Bookings.Manage.All")
BOOKINGS_RW = ("Bookings.ReadWrite.All", "Bookings.Manage.All")

BUSINESS_READ = Permissions(READ_ANY, READ_ANY)
STAFF_READ = Permissions(READ_ANY, APPOINTMENTS_RW)       # services, staff, appointments, calendarView
CUSTOMERS_READ = Permissions(READ_ANY, READ_ANY)
WRITE = Permissions(APPOINTMENTS_RW, APPOINTMENTS_RW)
CANCEL = Permissions(APPOINTMENTS_RW, BOOKINGS_RW)       # app-only cancel needs Bookings.ReadWrite.All

ROOT = r"(?i:solutions/bookingBusinesses)"
BUSINESS = ROOT + r"/(?P<business>[^/]+)"
APPOINTMENT = BUSINESS + r"/(?i:appointments)/(?P<appointment>[^/]+)"


def route(method: str, path: str, handler, permissions: Permissions) -> Route:
    return Route(method, re.compile(path), handler, permissions, BOTH, meeting_path=False, service="bookings")


url_paths = [
    route("GET", ROOT, responses.list_businesses, BUSINESS_READ),
    route("GET", BUSINESS, responses.get_business, BUSINESS_READ),
    route("GET", BUSINESS + r"/(?i:services)", responses.list_services, STAFF_READ),
    route("GET", BUSINESS + r"/(?i:staffMembers)", responses.list_staff, STAFF_READ),
    route("GET", BUSINESS + r"/(?i:customers)", responses.list_customers, CUSTOMERS_READ),
    route("POST", BUSINESS + r"/(?i:customers)", responses.create_customer, WRITE),
    route("POST", BUSINESS + r"/(?i:appointments)", responses.create_appointment, WRITE),
    route("GET", BUSINESS + r"/(?i:appointments)", responses.list_appointments, STAFF_READ),
    route("GET", BUSINESS + r"/(?i:calendarView)", responses.calendar_view, STAFF_READ),
    route("GET", APPOINTMENT, responses.get_appointment, STAFF_READ),
    route("PATCH", APPOINTMENT, responses.update_appointment, WRITE),
    route("DELETE", APPOINTMENT, responses.delete_appointment, WRITE),
    route("POST", APPOINTMENT + r"/(?i:cancel)", responses.cancel_appointment, CANCEL),
]

NAVIGATION = [re.compile(p) for p in (r"(?i:solutions)", ROOT, BUSINESS, BUSINESS + r"/(?i:appointments)")]
