"""The official msgraph-sdk's v1.0 Bookings models drive the sandbox unchanged: list businesses, create,
get, calendarView, cancel (skipped when msgraph-sdk is not installed; it is not a project requirement)."""
from __future__ import annotations

import asyncio
import ssl
from datetime import timedelta, timezone

import pytest

pytest.importorskip("msgraph")

import httpx  # noqa: E402  (msgraph-sdk brings it)
from kiota_abstractions.authentication import AnonymousAuthenticationProvider  # noqa: E402
from kiota_abstractions.base_request_configuration import RequestConfiguration  # noqa: E402
from msgraph import GraphRequestAdapter, GraphServiceClient  # noqa: E402
from msgraph.generated.models.booking_appointment import BookingAppointment  # noqa: E402
from msgraph.generated.models.booking_customer_information import BookingCustomerInformation  # noqa: E402
from msgraph.generated.models.date_time_time_zone import DateTimeTimeZone  # noqa: E402
from msgraph.generated.solutions.booking_businesses.item.appointments.item.cancel.cancel_post_request_body import (  # noqa: E402,E501
    CancelPostRequestBody)
from msgraph.generated.solutions.booking_businesses.item.calendar_view.calendar_view_request_builder import (  # noqa: E402,E501
    CalendarViewRequestBuilder)
from msgraph_core import GraphClientFactory  # noqa: E402

from .conftest import app_token  # noqa: E402
from .test_bookings import BUSINESS, at, bookings_mail, next_day, services  # noqa: E402

pytestmark = pytest.mark.timeout(60)


def _client(sb, token: str) -> GraphServiceClient:
    """The SDK's own client and middleware, pointed at the sandbox and trusting its CA."""
    tls = ssl.create_default_context(cafile=sb.ca_path)
    http = httpx.AsyncClient(verify=tls, trust_env=False, headers={"Authorization": f"Bearer {token}"})
    http = GraphClientFactory.create_with_default_middleware(client=http)
    adapter = GraphRequestAdapter(AnonymousAuthenticationProvider(), client=http)
    adapter.base_url = f"{sb.url}/v1.0"
    return GraphServiceClient(request_adapter=adapter)


def _utc(moment) -> DateTimeTimeZone:
    return DateTimeTimeZone(date_time=moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.0000000+00:00"),
                            time_zone="UTC")


def test_msgraph_sdk_lists_creates_gets_views_and_cancels(sb, app_graph):
    initial = services(app_graph)["Initial consultation"]
    start = at(next_day(), 10, 30)

    async def run():
        client = _client(sb, app_token(sb))
        businesses = await client.solutions.booking_businesses.get()
        assert [b.id for b in businesses.value] == [BUSINESS]
        business = client.solutions.booking_businesses.by_booking_business_id(BUSINESS)
        created = await business.appointments.post(BookingAppointment(
            service_id=initial["id"], start_date_time=_utc(start), end_date_time=_utc(start + timedelta(minutes=30)),
            customers=[BookingCustomerInformation(name="Sam SDK", email_address="sam@example.com",
                                                  time_zone="America/New_York")],
            customer_time_zone="America/New_York", is_location_online=True, opt_out_of_customer_email=False))
        assert created.id and created.join_web_url and created.anonymous_join_web_url
        assert created.service_name == "Initial consultation" and created.start_date_time.time_zone == "UTC"
        assert created.customers[0].email_address == "sam@example.com"
        fetched = await business.appointments.by_booking_appointment_id(created.id).get()
        assert fetched.join_web_url == created.join_web_url
        window = CalendarViewRequestBuilder.CalendarViewRequestBuilderGetQueryParameters(
            start=_utc(start - timedelta(hours=1)).date_time, end=_utc(start + timedelta(hours=1)).date_time)
        view = await business.calendar_view.get(request_configuration=RequestConfiguration(query_parameters=window))
        assert created.id in [a.id for a in view.value]
        await business.appointments.by_booking_appointment_id(created.id).cancel.post(
            CancelPostRequestBody(cancellation_message="Cancelled by the SDK test."))
        return created.id

    appointment_id = asyncio.run(run())
    kinds = [m["bookingsKind"] for m in bookings_mail(sb) if m["bookingAppointmentId"] == appointment_id]
    assert kinds == ["confirmation", "cancellation"]
