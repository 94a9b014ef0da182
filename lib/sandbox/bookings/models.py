"""Bookings backend: the business, customers and appointments, their rules and ids (no HTTP here)."""
from __future__ import annotations

import base64
import re
import uuid
from datetime import datetime, timezone
from typing import Any, Callable
from zoneinfo import ZoneInfo

from ..directory import Directory
from ..graph import odata
from ..graph.exceptions import BadRequest, NotFound
from ..graph.models import Caller
from ..state import State
from .business import TIME_ZONE, Business, Service, default_business
from .exceptions import UnknownError
from .rules import check_app_booking
from .store import BookingsStore
from .times import date_time_zone, format_duration, iso_utc, parse_date_time_zone, zone

APPOINTMENT_TYPE = "microsoft.graph.bookingAppointment"
CUSTOMER_INFO_TYPES = ("#microsoft.graph.bookingCustomerInformation", "microsoft.graph.bookingCustomerInformation")
CUSTOMER_TYPES = ("#microsoft.graph.bookingCustomer", "microsoft.graph.bookingCustomer")
APPOINTMENT_PROPERTIES = frozenset({
    "additionalInformation", "anonymousJoinWebUrl", "appointmentLabel", "createdDateTime", "customerEmailAddress",
    "customerName", "customerNotes", "customerPhone", "customers", "customerTimeZone", "duration", "end",
    "endDateTime", "filledAttendeesCount", "id", "isCustomerAllowedToManageBooking", "isLocationOnline",
    "joinWebUrl", "lastUpdatedDateTime", "maximumAttendeesCount", "optOutOfCustomerEmail", "postBuffer",
    "preBuffer", "price", "priceType", "reminders", "selfServiceAppointmentId", "serviceId", "serviceLocation",
    "serviceName", "serviceNotes", "smsNotificationsEnabled", "staffMemberIds", "start", "startDateTime",
})
SERVER_SET = ("id", "duration", "filledAttendeesCount", "selfServiceAppointmentId", "joinWebUrl",
              "anonymousJoinWebUrl", "createdDateTime", "lastUpdatedDateTime", "start", "end", "startDateTime",
              "endDateTime", "customers", "staffMemberIds")
CUSTOMER_INFO_PROPERTIES = ("customerId", "name", "emailAddress", "phone", "timeZone", "notes", "location",
                            "customQuestionAnswers", "smsNotificationsEnabled")
CUSTOMER_PROPERTIES = ("id", "displayName", "emailAddress", "addresses", "phones", "createdDateTime",
                       "lastUpdatedDateTime")
EMAIL = re.compile(r"[^@\s]+@[^@\s.]+(?:\.[^@\s.]+)+")
NO_SELF_SERVICE = "00000000-0000-0000-0000-000000000000"
BOOLEANS = ("isLocationOnline", "optOutOfCustomerEmail", "smsNotificationsEnabled", "isCustomerAllowedToManageBooking")


def _new_id() -> str:
    return "AAMkAGI2" + base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=") + "AAA="


def _now() -> datetime:
    return datetime.now(timezone.utc)


class BookingsBackend:
    """All Bookings rules; every write is one SQLite transaction."""

    def __init__(self, state: State, directory: Directory, send_mail: Callable[[str, dict], None]):
        self.state = state
        self.directory = directory
        self.store = BookingsStore(state)
        self.send_mail = send_mail  # the sandbox's sent-mail log (`/_sandbox/mail`): (mailbox, message)
        self.businesses = (default_business(directory),)

    # -- businesses, services, staff, customers -------------------------------------------------
    def list_businesses(self, query: str | None) -> list[dict[str, Any]]:
        """`id` and `displayName` of each business whose name or address contains `query`."""
        text = (query or "").strip().lower()
        return [b.summary() for b in self.businesses if text in b.id.lower() or text in b.display_name.lower()]

    def business(self, business_id: str) -> Business:
        for b in self.businesses:
            if b.id.lower() == business_id.lower():
                return b
        raise NotFound(f"The booking business '{business_id}' was not found. Its id is the booking mailbox's "
                       "SMTP address, e.g. virtualcare@contoso.onmicrosoft.com.")

    def services(self, business_id: str) -> list[dict[str, Any]]:
        return [s.resource() for s in self.business(business_id).services]

    def staff(self, business_id: str) -> list[dict[str, Any]]:
        return [dict(s) for s in self.business(business_id).staff]

    def customers(self, business_id: str) -> list[dict[str, Any]]:
        return self.store.customers(self.business(business_id).id)

    def create_customer(self, business_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """A bookingCustomer; the body must say `@odata.type` (the type is abstract without it)."""
        business = self.business(business_id)
        if body.get("@odata.type") not in CUSTOMER_TYPES:
            raise BadRequest("A customer needs \"@odata.type\": \"#microsoft.graph.bookingCustomer\"; without it "
                             "the service cannot tell which kind of customer to create.")
        odata.check_properties(body, CUSTOMER_PROPERTIES, "microsoft.graph.bookingCustomer")
        name = odata.expect_string(body.get("displayName"), "displayName")
        if not name:
            raise BadRequest("The displayName property is required when you create a booking customer.")
        email = odata.expect_string(body.get("emailAddress"), "emailAddress")
        if email and not EMAIL.fullmatch(email):
            raise BadRequest(f"The emailAddress '{email}' is not a valid email address.")
        now = iso_utc(_now())
        resource = {"@odata.type": "#microsoft.graph.bookingCustomer", "id": str(uuid.uuid4()),
                    "displayName": name, "emailAddress": email, "addresses": body.get("addresses") or [],
                    "phones": body.get("phones") or [], "createdDateTime": now, "lastUpdatedDateTime": now}
        with self.state.write():
            self.store.insert_customer(business.id, resource)
        return resource

    # -- appointments: reads ---------------------------------------------------------------------
    def appointments(self, business_id: str) -> list[dict[str, Any]]:
        return self.store.appointments(self.business(business_id).id)

    def appointment(self, business_id: str, appointment_id: str) -> dict[str, Any]:
        found = self.store.appointment(self.business(business_id).id, appointment_id)
        if found is None:
            raise NotFound(f"The booking appointment '{appointment_id}' was not found in '{business_id}' "
                           "(it may have been cancelled or deleted).")
        return found

    def calendar_view(self, business_id: str, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Appointments overlapping [start, end)."""
        if end <= start:
            raise BadRequest("The calendarView 'end' must be later than 'start'.")
        return self.store.appointments(self.business(business_id).id, iso_utc(start), iso_utc(end))

    # -- appointments: writes --------------------------------------------------------------------
    def create_appointment(self, caller: Caller, business_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """Validate, apply the app-only rules, refuse a taken slot, store, and email each customer."""
        business = self.business(business_id)
        odata.check_properties(body, APPOINTMENT_PROPERTIES, APPOINTMENT_TYPE)
        service = self._service(business, body.get("serviceId"))
        start, end = self._times(body, None)
        staff_ids = self._staff_ids(business, body.get("staffMemberIds"))
        customers = [self._customer_info(business, c, i) for i, c in enumerate(_list(body.get("customers"),
                                                                                      "customers"))]
        if caller.is_app:
            check_app_booking(business, service, start, end, staff_ids, _now())
        resource = _writable(body)
        now = iso_utc(_now())
        resource.update({"id": _new_id(), "selfServiceAppointmentId": NO_SELF_SERVICE, "serviceId": service.id,
                         "serviceName": body.get("serviceName") or service.name, "customers": customers,
                         "staffMemberIds": staff_ids, "filledAttendeesCount": len(customers),
                         "createdDateTime": now, "lastUpdatedDateTime": now})
        resource.setdefault("isLocationOnline", True)
        resource.setdefault("optOutOfCustomerEmail", False)
        resource.setdefault("smsNotificationsEnabled", False)
        resource.setdefault("maximumAttendeesCount", 1)
        resource.setdefault("preBuffer", "PT0S")
        resource.setdefault("postBuffer", "PT0S")
        self._set_times(resource, start, end)
        self._set_links(resource, service, staff_ids)
        with self.state.write():
            self._check_slot(business, start, end, staff_ids, None)
            self.store.insert_appointment(business.id, resource, iso_utc(start), iso_utc(end))
            self.state.bump("bookingAppointments")
            if not resource["optOutOfCustomerEmail"]:
                for customer in customers:
                    record_business_email(self.send_mail, business, resource, customer, "confirmation")
        return resource

    def update_appointment(self, caller: Caller, business_id: str, appointment_id: str,
                           body: dict[str, Any]) -> None:
        """PATCH: reschedule, change staff, service or customers; the same rules as create."""
        business = self.business(business_id)
        current = self.appointment(business_id, appointment_id)
        odata.check_properties(body, APPOINTMENT_PROPERTIES, APPOINTMENT_TYPE)
        service = self._service(business, body.get("serviceId", current["serviceId"]))
        start, end = self._times(body, current)
        staff_ids = (self._staff_ids(business, body["staffMemberIds"]) if "staffMemberIds" in body
                     else current["staffMemberIds"])
        updated = dict(current)
        if "customers" in body:
            updated["customers"] = [self._customer_info(business, c, i)
                                    for i, c in enumerate(_list(body["customers"], "customers"))]
            updated["filledAttendeesCount"] = len(updated["customers"])
        if caller.is_app and any(k in body for k in ("start", "end", "startDateTime", "endDateTime", "serviceId",
                                                     "staffMemberIds")):
            check_app_booking(business, service, start, end, staff_ids, _now())
        updated.update(_writable(body))
        if "serviceId" in body and "serviceName" not in body:
            updated["serviceName"] = service.name
        updated.update({"staffMemberIds": staff_ids, "lastUpdatedDateTime": iso_utc(_now())})
        self._set_times(updated, start, end)
        self._set_links(updated, service, staff_ids)
        with self.state.write():
            self._check_slot(business, start, end, staff_ids, appointment_id)
            self.store.update_appointment(appointment_id, updated, iso_utc(start), iso_utc(end))

    def cancel(self, business_id: str, appointment_id: str, body: dict[str, Any]) -> None:
        """Cancel (the appointment leaves the calendar) and email each customer the message."""
        business = self.business(business_id)
        odata.check_properties(body, ("cancellationMessage",), "microsoft.graph.bookingAppointment.cancel")
        message = odata.expect_string(body.get("cancellationMessage"), "cancellationMessage")
        if not message:
            raise BadRequest("The cancellationMessage parameter is required to cancel a booking appointment.")
        current = self.appointment(business_id, appointment_id)
        with self.state.write():
            self.store.cancel(appointment_id, message)
            for customer in current.get("customers") or []:
                record_business_email(self.send_mail, business, current, customer, "cancellation", message)

    def delete(self, business_id: str, appointment_id: str) -> None:
        self.appointment(business_id, appointment_id)
        with self.state.write():
            self.store.delete(appointment_id)

    # -- inspection ------------------------------------------------------------------------------
    def inspect(self) -> dict[str, Any]:
        """Every business with its services, staff, customers and appointments (cancelled ones flagged)."""
        return {"value": [{**b.resource(), "timeZone": TIME_ZONE, "services": self.services(b.id),
                           "staffMembers": self.staff(b.id), "customers": self.store.customers(b.id),
                           "appointments": self.store.all_appointments(b.id)} for b in self.businesses],
                }

    # -- validation helpers ----------------------------------------------------------------------
    def _service(self, business: Business, service_id: Any) -> Service:
        if not service_id:
            raise BadRequest("The serviceId property is required: the id of one of the business's services "
                             "(GET .../services).")
        service = business.service(odata.expect_string(service_id, "serviceId"))
        if service is None:
            raise BadRequest(f"The serviceId '{service_id}' is not a service of '{business.id}'.")
        return service

    def _times(self, body: dict[str, Any], current: dict[str, Any] | None) -> tuple[datetime, datetime]:
        values = {}
        for name, alias in (("startDateTime", "start"), ("endDateTime", "end")):
            raw = body.get(name, body.get(alias))
            if raw is None and current is not None:
                raw = current[name]
            if raw is None:
                raise BadRequest(f"The {name} property is required (a dateTimeTimeZone, e.g. "
                                 "{\"dateTime\": \"2027-05-03T14:00:00.0000000+00:00\", \"timeZone\": \"UTC\"}).")
            values[name] = parse_date_time_zone(raw, name)
        if values["endDateTime"] <= values["startDateTime"]:
            raise BadRequest("The endDateTime must be later than the startDateTime.")
        return values["startDateTime"], values["endDateTime"]

    def _staff_ids(self, business: Business, value: Any) -> list[str]:
        ids = _list(value, "staffMemberIds")
        if not all(isinstance(i, str) for i in ids):
            raise BadRequest("staffMemberIds must be a list of staff member ids (strings).")
        if set(ids) - business.staff_ids():
            raise UnknownError()    # what the service answers for an invalid staff id
        return list(dict.fromkeys(ids))

    def _customer_info(self, business: Business, value: Any, index: int) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise BadRequest(f"customers[{index}] must be a bookingCustomerInformation object.")
        if value.get("@odata.type") not in CUSTOMER_INFO_TYPES:
            raise BadRequest(f"customers[{index}] needs \"@odata.type\": \"#microsoft.graph."
                             "bookingCustomerInformation\"; without it the customer cannot be read.")
        odata.check_properties(value, CUSTOMER_INFO_PROPERTIES, "microsoft.graph.bookingCustomerInformation")
        email = odata.expect_string(value.get("emailAddress"), "emailAddress")
        if email and not EMAIL.fullmatch(email):
            raise BadRequest(f"customers[{index}].emailAddress '{email}' is not a valid email address.")
        customer_id = odata.expect_string(value.get("customerId"), "customerId")
        if customer_id and not self.store.customer_exists(business.id, customer_id):
            raise BadRequest(f"customers[{index}].customerId '{customer_id}' is not a customer of "
                             f"'{business.id}' (create it with POST .../customers, or leave customerId out).")
        if value.get("timeZone"):
            zone(value["timeZone"], f"customers[{index}].timeZone")
        return {"@odata.type": CUSTOMER_INFO_TYPES[0], **{k: v for k, v in value.items() if not k.startswith("@")}}

    def _check_slot(self, business: Business, start: datetime, end: datetime, staff_ids: list[str],
                    own_id: str | None) -> None:
        """A staff member already booked in an overlapping slot → the opaque 500."""
        for other in self.store.appointments(business.id, iso_utc(start), iso_utc(end)):
            if other["id"] != own_id and set(other.get("staffMemberIds") or []) & set(staff_ids):
                raise UnknownError()

    @staticmethod
    def _set_times(resource: dict[str, Any], start: datetime, end: datetime) -> None:
        resource.pop("start", None)
        resource.pop("end", None)
        resource["startDateTime"] = {"@odata.type": "#microsoft.graph.dateTimeTimeZone", **date_time_zone(start)}
        resource["endDateTime"] = {"@odata.type": "#microsoft.graph.dateTimeTimeZone", **date_time_zone(end)}
        resource["duration"] = format_duration(end - start)

    def _set_links(self, resource: dict[str, Any], service: Service, staff_ids: list[str]) -> None:
        """`joinWebUrl` for an online appointment; `anonymousJoinWebUrl` when the service allows it."""
        if not resource.get("isLocationOnline"):
            resource["joinWebUrl"] = None
            resource["anonymousJoinWebUrl"] = None
            return
        if not resource.get("joinWebUrl"):
            thread = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
            organizer = self.directory.users[0].id
            resource["joinWebUrl"] = (
                f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_{thread}%40thread.v2/0?context=%7b%22Tid"
                f"%22%3a%22{self.directory.tenant_id}%22%2c%22Oid%22%3a%22{organizer}%22%7d")
        thread = resource["joinWebUrl"].split("19%3ameeting_", 1)[1].split("%40", 1)[0]
        resource["anonymousJoinWebUrl"] = (
            f"https://visit.teams.microsoft.com/webrtc-svc/api/route?tid={self.directory.tenant_id}"
            f"&convId=19:meeting_{thread}@thread.v2" if service.anonymous_join else None)


def _writable(body: dict[str, Any]) -> dict[str, Any]:
    """The client-settable properties of a body, booleans checked (a JSON boolean, as Graph wants)."""
    out = {k: v for k, v in body.items() if k not in SERVER_SET and not k.startswith("@")}
    for name in BOOLEANS:
        if name in out:
            out[name] = odata.expect_bool(out[name], name)
    return out


def _list(value: Any, name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise BadRequest(f"The {name} property must be a JSON array.")
    return value


def record_business_email(send_mail: Callable[[str, dict], None], business: Business, appointment: dict[str, Any],
                          customer: dict[str, Any], kind: str, message: str | None = None) -> dict[str, Any] | None:
    """The email Bookings sends a customer from the business mailbox (`confirmation` or `cancellation`).

    It goes into the sandbox's sent-mail log beside what mailboxes send (`/_sandbox/mail`), marked with
    the appointment's id and the kind. Customers without an email address get nothing (None)."""
    address = customer.get("emailAddress")
    if not address:
        return None
    tz_name = customer.get("timeZone") or appointment.get("customerTimeZone") or TIME_ZONE
    try:
        tz = zone(tz_name, "timeZone")
    except BadRequest:
        tz, tz_name = ZoneInfo(TIME_ZONE), TIME_ZONE
    start = parse_date_time_zone(appointment["startDateTime"], "startDateTime").astimezone(tz)
    when = f"{start:%A, %B %d, %Y at %H:%M} ({tz_name})"
    service = appointment.get("serviceName") or "appointment"
    link = appointment.get("anonymousJoinWebUrl") or appointment.get("joinWebUrl")
    if kind == "confirmation":
        subject = f"Your {service} with {business.display_name} is confirmed: {when}"
        lines = [f"Hello {customer.get('name') or address},", "",
                 f"Your {service} with {business.display_name} is booked for {when}."]
        if link:
            lines += ["", f"Join the Microsoft Teams meeting: {link}"]
        if appointment.get("additionalInformation"):
            lines += ["", appointment["additionalInformation"]]
    else:
        subject = f"Cancelled: your {service} with {business.display_name} on {when}"
        lines = [f"Hello {customer.get('name') or address},", "",
                 f"Your {service} with {business.display_name} on {when} has been cancelled."]
        if message:
            lines += ["", message]
    email = {"id": "AAMk" + uuid.uuid4().hex, "mailboxId": business.id, "from": business.id,
             "fromName": business.display_name, "toRecipients": [address],
             "recipients": [{"name": customer.get("name") or address, "address": address}],
             "ccRecipients": [], "bccRecipients": [], "subject": subject,
             "body": {"contentType": "text", "content": "\n".join(lines)},
             "sentDateTime": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"), "attachments": [],
             "bookingAppointmentId": appointment["id"], "bookingsKind": kind}
    send_mail(business.id, email)
    return email
