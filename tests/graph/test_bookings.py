"""Reading where to book: paging through Graph, durations, and links that must stay on the Graph host."""

from __future__ import annotations

import pytest

from lib.graph.bookings import _relative, list_services, list_staff, parse_duration_minutes
from lib.graph.client import GraphClient
from lib.graph.errors import GraphError
from lib.graph.pacing import Throttle
from lib.graph.profile import Profile
from lib.graph.signin import token_provider_for


@pytest.mark.parametrize("text,minutes", [("PT30M", 30), ("PT1H15M", 75), ("PT15M", 15), ("PT90S", 2),
                                          ("P1D", None), ("", None), (None, None), ("PTxM", None)])
def test_iso_durations_are_read_as_minutes(text, minutes):
    assert parse_duration_minutes(text) == minutes


def test_a_next_link_stays_on_the_connection_s_graph_host():
    base = "https://graph.microsoft.com"
    assert _relative(base + "/v1.0/solutions/bookingBusinesses/x/services?$skiptoken=2", base) == \
        "/solutions/bookingBusinesses/x/services?$skiptoken=2"
    with pytest.raises(GraphError) as info:
        _relative("https://evil.example.com/v1.0/solutions/x", base)
    assert info.value.code == "ForeignNextLink"


def test_services_and_staff_are_read_across_pages(sandbox):
    profile = Profile.load(sandbox.app_profile_path)
    client = GraphClient(profile, token_provider_for(profile), throttle=Throttle())
    business = sandbox.bookings()["value"][0]["id"]
    before = sandbox.stats()["requests"]
    services = list_services(client, business)
    assert [(s.name, s.duration_minutes, s.anonymous_join) for s in services] == [
        ("Initial consultation", 30, True), ("Follow-up", 15, False)]
    assert sandbox.stats()["requests"] - before >= 2  # one service a page in the sandbox: paging really ran
    staff = list_staff(client, business)
    assert len(staff) >= 3 and all(m.email for m in staff)
