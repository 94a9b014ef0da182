"""Where to book: Microsoft Bookings businesses, their services and staff, read through Graph.

Lists follow ``@odata.nextLink`` (services, staff and appointments page; the business list does not
and stops at 500). ``choose_target`` turns what a person typed (a service name or id, a staff UPN,
name or id) into a :class:`~lib.model.bookings.BookingsTarget`, with messages that list the choices.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from lib.graph.client import GraphClient
from lib.graph.errors import GraphError
from lib.model.bookings import BookingRules, BookingsTarget, business_path, parse_duration

# Delegated permissions the bookings flow asks for, only when it runs (graph-reference §14)
BOOKINGS_PERMISSIONS = ("Bookings.Read.All", "BookingsAppointment.ReadWrite.All")
BUSINESS_LIST_CAP = 500  # Graph returns at most 500 businesses and offers no paging for them
MAX_PAGES = 200          # a server that kept sending nextLinks must not keep us here forever


@dataclass(frozen=True)
class Service:
    """A bookable service as Graph describes it."""

    id: str
    name: str
    duration_minutes: int | None
    anonymous_join: bool
    resource: dict | None = None  # what Graph sent (its scheduling policy overrides the business's)

    @property
    def label(self) -> str:
        length = f"{self.duration_minutes} min" if self.duration_minutes else "length not set"
        return f"{self.name} ({length}{', anonymous join' if self.anonymous_join else ''})"


@dataclass(frozen=True)
class StaffMember:
    """A staff member of a booking business."""

    id: str
    name: str
    email: str


class BookingsChoiceError(ValueError):
    """What a person asked for is not in the business; the message lists what is."""


def list_all(client: GraphClient, path: str) -> list[dict]:
    """Every item of a Graph collection, following ``@odata.nextLink`` on the client's own Graph host."""
    items: list[dict] = []
    base = client.profile.graph_base_url.rstrip("/")
    for _ in range(MAX_PAGES):
        body = client.request("GET", "v1.0", path).body or {}
        items.extend(v for v in body.get("value") or [] if isinstance(v, dict))
        link = body.get("@odata.nextLink")
        if not link:
            return items
        path = _relative(link, base)
    raise GraphError(0, "TooManyPages", f"{path.split('?')[0]}: more than {MAX_PAGES} pages",
                     explanation="Graph kept sending more pages than any booking business holds.",
                     fix="Try again later; if it persists, report it with the request id.")


def _relative(link: str, base: str) -> str:
    """The path of a nextLink under ``/v1.0``; a link to another host is refused (it would carry our token)."""
    parts, root = urlsplit(link), urlsplit(base)
    if (parts.scheme, parts.netloc) != (root.scheme, root.netloc) or not parts.path.startswith(root.path + "/v1.0/"):
        raise GraphError(0, "ForeignNextLink", f"Graph sent a next-page link to another host: {parts.netloc}",
                         explanation="A next-page link must stay on the connection's Graph host; the token is "
                                     "never sent anywhere else.",
                         fix="Check the connection's Graph address (graph_base_url).")
    rest = parts.path[len(root.path + "/v1.0"):]
    return rest + (f"?{parts.query}" if parts.query else "")


def list_businesses(client: GraphClient, query: str = "") -> list[dict]:
    """The booking businesses this connection can see (``id`` = mailbox, ``displayName``); at most 500."""
    path = "/solutions/bookingBusinesses" + (f"?query={quote(query)}" if query else "")
    body = client.request("GET", "v1.0", path).body or {}
    return [b for b in body.get("value") or [] if isinstance(b, dict)]


def list_services(client: GraphClient, business: str) -> list[Service]:
    """The business's services with their length and whether clients may join anonymously."""
    return [Service(id=s.get("id", ""), name=s.get("displayName") or s.get("id", ""),
                    duration_minutes=parse_duration_minutes(s.get("defaultDuration")),
                    anonymous_join=bool(s.get("isAnonymousJoinEnabled")), resource=s)
            for s in list_all(client, business_path(business) + "/services")]


def list_staff(client: GraphClient, business: str) -> list[StaffMember]:
    """The business's staff members."""
    return [StaffMember(id=m.get("id", ""), name=m.get("displayName") or "", email=m.get("emailAddress") or "")
            for m in list_all(client, business_path(business) + "/staffMembers")]


def parse_duration_minutes(value) -> int | None:
    """Minutes of a service's length such as ``PT30M`` or ``PT1H15M`` (a time part only); None if unreadable."""
    span = parse_duration(value) if isinstance(value, str) and value.upper().startswith("PT") else None
    return int(round(span.total_seconds() / 60)) if span is not None else None


def choose_target(client: GraphClient, business: str, service: str = "", staff: tuple[str, ...] = (), *,
                  opt_out_of_customer_email: bool = False, sms_notifications: bool = False) -> BookingsTarget:
    """The target for a run: ``service`` by id or name (default: the first), ``staff`` by id, email or name."""
    services = list_services(client, business)
    if not services:
        raise BookingsChoiceError(f"The booking business {business} has no services: add one in Microsoft "
                                  "Bookings first.")
    chosen = services[0] if not service else _find_service(services, service, business)
    business_doc = client.request("GET", "v1.0", business_path(business)).body or {}
    # Business hours are checked only when Graph names the zone they are in; Graph still enforces them.
    rules = BookingRules.from_graph(business_doc, chosen.resource or {}, business_doc.get("timeZone") or "")
    staff_ids: list[str] = []
    if staff:
        members = list_staff(client, business)
        staff_ids = [_find_staff(members, wanted, business).id for wanted in staff]
    return BookingsTarget(business=business, service_id=chosen.id, service_name=chosen.name,
                          duration_minutes=chosen.duration_minutes, anonymous_join=chosen.anonymous_join,
                          staff_ids=tuple(staff_ids), opt_out_of_customer_email=opt_out_of_customer_email,
                          sms_notifications=sms_notifications, rules=rules)


def _find_service(services: list[Service], wanted: str, business: str) -> Service:
    needle = wanted.strip().lower()
    for s in services:
        if needle in (s.id.lower(), s.name.lower()):
            return s
    names = "; ".join(s.label for s in services)
    raise BookingsChoiceError(f"The booking business {business} has no service {wanted!r}. Its services: {names}.")


def _find_staff(members: list[StaffMember], wanted: str, business: str) -> StaffMember:
    needle = wanted.strip().lower()
    for m in members:
        if needle in (m.id.lower(), m.email.lower(), m.name.lower()):
            return m
    names = "; ".join(f"{m.name} <{m.email}>" for m in members) or "none"
    raise BookingsChoiceError(f"{wanted!r} is not a staff member of {business}. Its staff: {names}.")
