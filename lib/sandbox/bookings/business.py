"""The sandbox's one booking business (§14 Sandbox decision): fixed data built from the directory."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from ..directory import Directory

TIME_ZONE = "America/New_York"
WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday")
DAYS = WEEKDAYS + ("saturday", "sunday")
OPEN, CLOSE = "08:00:00.0000000", "18:00:00.0000000"
_IDS = uuid.UUID("6f1f0b8e-3a43-4c1e-9d35-0d6b7a7f5c21")   # namespace for stable sandbox ids


@dataclass(frozen=True)
class Service:
    id: str
    name: str
    minutes: int
    anonymous_join: bool

    def resource(self) -> dict[str, Any]:
        return {
            "id": self.id, "displayName": self.name, "defaultDuration": f"PT{self.minutes}M",
            "defaultLocation": None, "defaultPrice": 0.0, "defaultPriceType": "free", "defaultReminders": [],
            "description": f"{self.name} ({self.minutes} minutes, online).", "isHiddenFromCustomers": False,
            "isLocationOnline": True, "isAnonymousJoinEnabled": self.anonymous_join, "languageTag": "en-US",
            "maximumAttendeesCount": 1, "notes": None, "postBuffer": "PT0S", "preBuffer": "PT0S",
            "schedulingPolicy": None, "smsNotificationsEnabled": False, "staffMemberIds": [],
            "isCustomerAllowedToManageBooking": False, "customQuestions": [], "webUrl": None,
        }


def business_hours() -> list[dict[str, Any]]:
    """bookingWorkHours for the week: Mon-Fri 08:00-18:00, closed at the weekend."""
    return [{"day": day, "timeSlots": [{"startTime": OPEN, "endTime": CLOSE}] if day in WEEKDAYS else []}
            for day in DAYS]


def stable_id(*parts: str) -> str:
    return str(uuid.uuid5(_IDS, "/".join(parts)))


@dataclass(frozen=True)
class Business:
    """The business, its services and staff; `policy` is its bookingSchedulingPolicy."""
    id: str
    display_name: str
    services: tuple[Service, ...]
    staff: tuple[dict[str, Any], ...]
    policy: dict[str, Any]

    def service(self, service_id: str) -> Service | None:
        return next((s for s in self.services if s.id == service_id), None)

    def staff_ids(self) -> set[str]:
        return {s["id"] for s in self.staff}

    def hours(self) -> list[dict[str, Any]]:
        return business_hours()

    def summary(self) -> dict[str, Any]:
        return {"id": self.id, "displayName": self.display_name}

    def resource(self) -> dict[str, Any]:
        return {
            "id": self.id, "displayName": self.display_name, "businessType": "Healthcare",
            "phone": "206-555-0100", "email": self.id, "webSiteUrl": "https://www.contoso.com/virtualcare",
            "defaultCurrencyIso": "USD", "languageTag": "en-US", "isPublished": True,
            "publicUrl": f"https://outlook.office365.com/owa/calendar/{self.id}/bookings/",
            "address": {"type": "business", "street": "4567 Main Street", "city": "Buffalo", "state": "NY",
                        "countryOrRegion": "USA", "postalCode": "98052"},
            "businessHours": self.hours(), "schedulingPolicy": dict(self.policy),
        }


def default_business(directory: Directory) -> Business:
    """`virtualcare@{tenant domain}`, "Contoso Virtual Care", the two services, the sandbox users as staff."""
    business_id = f"virtualcare@{directory.tenant_domain}"
    services = (Service(stable_id(business_id, "service", "initial"), "Initial consultation", 30, True),
                Service(stable_id(business_id, "service", "follow-up"), "Follow-up", 15, False))
    staff = tuple({
        "id": stable_id(business_id, "staff", user.id), "displayName": user.display_name,
        "emailAddress": user.mail, "role": "administrator" if i == 0 else "teamMember",
        "timeZone": TIME_ZONE, "useBusinessHours": True, "workingHours": business_hours(),
        "availabilityIsAffectedByPersonalCalendar": False, "isEmailNotificationEnabled": True,
        "membershipStatus": "active", "colorIndex": i,
    } for i, user in enumerate(directory.users))
    policy = {"timeSlotInterval": "PT30M", "minimumLeadTime": "PT1H", "maximumAdvance": "P365D",
              "sendConfirmationsToOwner": True, "allowStaffSelection": True}
    return Business(business_id, "Contoso Virtual Care", services, staff, policy)
