"""Microsoft Bookings (§14) against a real sandbox: every endpoint, the app-only business rules,
the untyped customer, the same-slot 500, paging, `$batch`, the emails and the inspection view."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from lib.sandbox.directory import TENANT_DOMAIN, USERS

from .conftest import ADELE, Graph, assert_graph_error, user_token

pytestmark = pytest.mark.timeout(60)
BUSINESS = f"virtualcare@{TENANT_DOMAIN}"
ROOT = "solutions/bookingBusinesses"
APPTS = f"{ROOT}/{BUSINESS}/appointments"
NEW_YORK = ZoneInfo("America/New_York")
INFO = "#microsoft.graph.bookingCustomerInformation"
_days = itertools.count(0)


# -- helpers shared by the other test_bookings_* files ---------------------------------------------
def next_day() -> datetime:
    """A fresh weekday (New York) 8+ days ahead, so each test books its own day and no slot is shared."""
    day = datetime.now(NEW_YORK).date() + timedelta(days=8)
    n = next(_days)
    while True:
        if day.weekday() < 5:
            if n == 0:
                return datetime(day.year, day.month, day.day, tzinfo=NEW_YORK)
            n -= 1
        day += timedelta(days=1)


def at(day: datetime, hour: int, minute: int = 0) -> datetime:
    return day.replace(hour=hour, minute=minute)


def dtz(moment: datetime) -> dict:
    utc = moment.astimezone(timezone.utc)
    return {"dateTime": utc.strftime("%Y-%m-%dT%H:%M:%S.0000000+00:00"), "timeZone": "UTC"}


def collect(graph: Graph, path: str, **params) -> tuple[list[dict], int]:
    """Every item of a paged collection and the number of pages it took."""
    r = graph.get(path, params=params or None)
    assert r.status_code == 200, r.text
    items, pages = list(r.json()["value"]), 1
    while "@odata.nextLink" in r.json():
        link = r.json()["@odata.nextLink"]
        assert link.startswith(graph.url(""))
        r = graph.s.get(link, headers={"Authorization": f"Bearer {graph.token}"}, timeout=30)
        assert r.status_code == 200, r.text
        items += r.json()["value"]
        pages += 1
    return items, pages


def services(graph: Graph) -> dict[str, dict]:
    return {s["displayName"]: s for s in collect(graph, f"{ROOT}/{BUSINESS}/services")[0]}


def staff_ids(graph: Graph) -> list[str]:
    return [s["id"] for s in collect(graph, f"{ROOT}/{BUSINESS}/staffMembers")[0]]


def appointment_body(service: dict, start: datetime, minutes: int | None = None, *, staff=None,
                     email="client@example.com", **extra) -> dict:
    minutes = minutes if minutes is not None else int(service["defaultDuration"][2:-1])
    body = {"serviceId": service["id"], "startDateTime": dtz(start),
            "endDateTime": dtz(start + timedelta(minutes=minutes)),
            "customers": [{"@odata.type": INFO, "name": "Pat Client", "emailAddress": email,
                           "timeZone": "America/New_York"}],
            "customerTimeZone": "America/New_York", "isLocationOnline": True, **extra}
    if staff:
        body["staffMemberIds"] = staff
    return body


def book(graph: Graph, body: dict) -> dict:
    r = graph.post(APPTS, json=body)
    assert r.status_code == 201, r.text
    return r.json()


@pytest.fixture(scope="module")
def svc(app_graph) -> dict[str, dict]:
    return services(app_graph)


@pytest.fixture(scope="module")
def staff(app_graph) -> list[str]:
    return staff_ids(app_graph)


# -- businesses, services, staff ----------------------------------------------------------------------
def test_list_businesses_gives_id_and_display_name_only_and_filters_by_query(app_graph, me_graph):
    for graph in (app_graph, me_graph):
        r = graph.get(ROOT)
        assert r.status_code == 200, r.text
        assert r.json()["value"] == [{"id": BUSINESS, "displayName": "Contoso Virtual Care"}]
        assert "@odata.nextLink" not in r.json()
    assert app_graph.get(ROOT, params={"query": "virtual"}).json()["value"][0]["id"] == BUSINESS
    assert app_graph.get(ROOT, params={"query": "no such business"}).json()["value"] == []


def test_get_business_has_hours_and_scheduling_policy_and_id_is_case_insensitive(app_graph):
    r = app_graph.get(f"{ROOT}/{BUSINESS.upper()}")
    assert r.status_code == 200, r.text
    b = r.json()
    assert b["id"] == BUSINESS and b["displayName"] == "Contoso Virtual Care" and b["email"] == BUSINESS
    hours = {h["day"]: h["timeSlots"] for h in b["businessHours"]}
    assert hours["monday"] == [{"startTime": "08:00:00.0000000", "endTime": "18:00:00.0000000"}]
    assert hours["friday"] == hours["monday"] and hours["saturday"] == hours["sunday"] == []
    assert b["schedulingPolicy"]["allowStaffSelection"] is True
    assert b["schedulingPolicy"]["minimumLeadTime"] == "PT1H"
    assert_graph_error(app_graph.get(f"{ROOT}/nobody@{TENANT_DOMAIN}"), 404, "NotFound", "booking mailbox")


def test_services_page_by_next_link_with_durations_and_anonymous_join(app_graph, me_graph):
    for graph in (app_graph, me_graph):
        items, pages = collect(graph, f"{ROOT}/{BUSINESS}/services")
        assert pages == 2
        by_name = {s["displayName"]: s for s in items}
        assert set(by_name) == {"Initial consultation", "Follow-up"}
        assert by_name["Initial consultation"]["defaultDuration"] == "PT30M"
        assert by_name["Initial consultation"]["isAnonymousJoinEnabled"] is True
        assert by_name["Follow-up"]["defaultDuration"] == "PT15M"
        assert by_name["Follow-up"]["isAnonymousJoinEnabled"] is False
        assert all(s["@odata.type"] == "#microsoft.graph.bookingService" for s in items)


def test_staff_members_are_the_sandbox_users_over_two_pages(app_graph):
    items, pages = collect(app_graph, f"{ROOT}/{BUSINESS}/staffMembers")
    assert pages == 2
    assert [s["emailAddress"] for s in items] == [u.mail for u in USERS]
    assert all(s["timeZone"] == "America/New_York" and s["id"] not in {u.id for u in USERS} for s in items)


def test_top_returns_that_many_and_no_next_link(app_graph):
    r = app_graph.get(f"{ROOT}/{BUSINESS}/staffMembers", params={"$top": "3"})
    assert len(r.json()["value"]) == 3 and "@odata.nextLink" not in r.json()
    assert_graph_error(app_graph.get(f"{ROOT}/{BUSINESS}/staffMembers", params={"$skiptoken": "bogus!"}),
                       400, "BadRequest", "skiptoken")


# -- customers ----------------------------------------------------------------------------------------
def test_post_customer_201_and_list_follows_next_link(app_graph, me_graph):
    made = []
    for i, graph in enumerate((app_graph, me_graph, app_graph)):
        r = graph.post(f"{ROOT}/{BUSINESS}/customers", json={
            "@odata.type": "#microsoft.graph.bookingCustomer", "displayName": f"Customer {i}",
            "emailAddress": f"customer{i}@example.com"})
        assert r.status_code == 201, r.text
        assert r.json()["displayName"] == f"Customer {i}" and r.json()["id"]
        made.append(r.json()["id"])
    items, pages = collect(app_graph, f"{ROOT}/{BUSINESS}/customers")
    assert set(made) <= {c["id"] for c in items} and pages >= 2
    assert all(c["@odata.type"] == "#microsoft.graph.bookingCustomer" for c in items)


def test_customer_without_odata_type_is_400(app_graph, svc):
    r = app_graph.post(f"{ROOT}/{BUSINESS}/customers", json={"displayName": "No Type", "emailAddress": "n@example.com"})
    assert_graph_error(r, 400, "BadRequest", "@odata.type")
    body = appointment_body(svc["Initial consultation"], at(next_day(), 10))
    del body["customers"][0]["@odata.type"]
    assert_graph_error(app_graph.post(APPTS, json=body), 400, "BadRequest", r"customers\[0\].*@odata.type")


# -- appointments -------------------------------------------------------------------------------------
def test_create_appointment_201_with_join_links_utc_times_and_computed_service_name(app_graph, svc, staff):
    start = at(next_day(), 10)
    a = book(app_graph, appointment_body(svc["Initial consultation"], start, staff=[staff[1]]))
    assert a["@odata.type"] == "#microsoft.graph.bookingAppointment" and a["id"]
    assert a["serviceName"] == "Initial consultation" and a["duration"] == "PT30M"
    assert a["startDateTime"]["timeZone"] == "UTC"
    assert a["startDateTime"]["dateTime"] == start.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")
    assert a["joinWebUrl"].startswith("https://teams.microsoft.com/l/meetup-join/")
    assert a["anonymousJoinWebUrl"].startswith("https://visit.teams.microsoft.com/")
    assert a["selfServiceAppointmentId"] == "00000000-0000-0000-0000-000000000000"
    assert a["customers"][0]["@odata.type"] == INFO and a["staffMemberIds"] == [staff[1]]
    got = app_graph.get(f"{APPTS}/{a['id']}")
    assert got.status_code == 200 and {k: v for k, v in got.json().items() if k != "@odata.context"} == \
        {k: v for k, v in a.items() if k != "@odata.context"}


def test_follow_up_has_no_anonymous_join_link(app_graph, svc):
    a = book(app_graph, appointment_body(svc["Follow-up"], at(next_day(), 9, 15)))
    assert a["joinWebUrl"] and a["anonymousJoinWebUrl"] is None and a["duration"] == "PT15M"


def test_start_and_end_aliases_and_local_times_are_read_and_returned_in_utc(me_graph, svc):
    start = at(next_day(), 11)
    body = appointment_body(svc["Follow-up"], start)
    del body["startDateTime"], body["endDateTime"]
    body["start"] = {"dateTime": start.strftime("%Y-%m-%dT%H:%M:%S"), "timeZone": "America/New_York"}
    body["end"] = {"dateTime": (start + timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%S"),
                   "timeZone": "Eastern Standard Time"}
    a = book(me_graph, body)
    assert a["startDateTime"] == {"@odata.type": "#microsoft.graph.dateTimeTimeZone", "timeZone": "UTC",
                                  "dateTime": start.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.0000000Z")}
    assert "start" not in a and a["duration"] == "PT15M"


def test_create_errors_missing_service_unknown_service_bad_times_unknown_property(app_graph, svc):
    good = appointment_body(svc["Follow-up"], at(next_day(), 9))
    cases = [({k: v for k, v in good.items() if k != "serviceId"}, "serviceId property is required"),
             ({**good, "serviceId": "nope"}, "not a service"),
             ({**good, "endDateTime": good["startDateTime"]}, "later than"),
             ({**good, "startDateTime": {"dateTime": "tomorrow", "timeZone": "UTC"}}, "Cannot convert"),
             ({**good, "startDateTime": {"dateTime": "2030-01-01T10:00:00", "timeZone": "Mars/Olympus"}},
              "not a known time zone"),
             ({**good, "isLocationOnline": "yes"}, "Edm.Boolean"),
             ({**good, "colour": "blue"}, "does not exist on type")]
    for body, message in cases:
        assert_graph_error(app_graph.post(APPTS, json=body), 400, "BadRequest", message)


def test_list_appointments_follows_next_link_and_calendar_view_finds_the_slot(app_graph, me_graph, svc):
    day = next_day()
    made = [book(app_graph, appointment_body(svc["Follow-up"], at(day, 8 + i)))["id"] for i in range(4)]
    items, pages = collect(me_graph, APPTS)
    assert set(made) <= {a["id"] for a in items} and pages >= 2
    window = {"start": at(day, 9).astimezone(timezone.utc).isoformat(),
              "end": at(day, 10, 30).astimezone(timezone.utc).isoformat()}
    r = app_graph.get(f"{ROOT}/{BUSINESS}/calendarView", params=window)
    assert r.status_code == 200, r.text
    assert {a["id"] for a in r.json()["value"]} == {made[1], made[2]}
    assert r.json()["value"][0]["serviceName"] == "Follow-up"


def test_calendar_view_needs_both_start_and_end(app_graph):
    view = f"{ROOT}/{BUSINESS}/calendarView"
    assert_graph_error(app_graph.get(view, params={"start": "2030-01-01T00:00:00Z"}), 400, "BadRequest", "'end'")
    assert_graph_error(app_graph.get(view, params={"end": "2030-01-01T00:00:00Z"}), 400, "BadRequest", "'start'")
    assert_graph_error(app_graph.get(view, params={"start": "x", "end": "y"}), 400, "BadRequest")


def test_unknown_appointment_is_404_and_unknown_segment_400_and_put_405(app_graph):
    assert_graph_error(app_graph.get(f"{APPTS}/nope"), 404, "NotFound")
    assert_graph_error(app_graph.patch(f"{APPTS}/nope", json={"serviceNotes": "x"}), 404, "NotFound")
    assert_graph_error(app_graph.delete(f"{APPTS}/nope"), 404, "NotFound")
    assert_graph_error(app_graph.get(f"{ROOT}/{BUSINESS}/appointment"), 400, "BadRequest", "segment 'appointment'")
    assert_graph_error(app_graph.put(f"{APPTS}/nope", json={}), 405, "MethodNotAllowed")


# -- business rules (application tokens only) ------------------------------------------------------------
@pytest.mark.parametrize("when, minutes, rule", [
    ("saturday", None, "businessHours"), ("evening", None, "businessHours"), ("early", None, "businessHours"),
    ("weekday", 45, "duration"), ("soon", None, "minimumLeadTime"), ("far", None, "maximumAdvance")])
def test_app_tokens_are_bound_by_business_rules_delegated_are_not(app_graph, me_graph, svc, when, minutes, rule):
    day = next_day()
    start = {"saturday": at(day + timedelta(days=(5 - day.weekday()) % 7 or 7), 10), "evening": at(day, 17, 45),
             "early": at(day, 7, 30), "weekday": at(day, 10),
             "soon": datetime.now(timezone.utc) + timedelta(minutes=20),
             "far": at(day + timedelta(days=400), 10)}[when]
    body = appointment_body(svc["Initial consultation"], start, minutes)
    err = assert_graph_error(app_graph.post(APPTS, json=body), 400, "BadRequest", f"Business rule '{rule}'")
    assert "appointment" in err["message"]
    assert me_graph.post(APPTS, json=body).status_code == 201


def test_app_reschedule_outside_hours_is_refused_delegated_patch_is_204(app_graph, me_graph, svc):
    day = next_day()
    a = book(app_graph, appointment_body(svc["Follow-up"], at(day, 10)))
    late = {"startDateTime": dtz(at(day, 20)), "endDateTime": dtz(at(day, 20, 15))}
    assert_graph_error(app_graph.patch(f"{APPTS}/{a['id']}", json=late), 400, "BadRequest", "businessHours")
    r = me_graph.patch(f"{APPTS}/{a['id']}", json=late)
    assert r.status_code == 204 and r.content == b""
    got = app_graph.get(f"{APPTS}/{a['id']}").json()
    assert got["startDateTime"]["dateTime"].startswith(at(day, 20).astimezone(timezone.utc).strftime("%Y-%m-%dT%H"))
    assert got["joinWebUrl"] == a["joinWebUrl"]


# -- slot conflicts and staff ids ---------------------------------------------------------------------
def test_second_appointment_for_same_staff_in_overlapping_slot_is_500_unknown_error(app_graph, me_graph, svc, staff):
    day = next_day()
    first = book(app_graph, appointment_body(svc["Initial consultation"], at(day, 14), staff=[staff[0]]))
    overlapping = appointment_body(svc["Initial consultation"], at(day, 14, 15), 30, staff=[staff[0]])
    for graph in (app_graph, me_graph):
        err = assert_graph_error(graph.post(APPTS, json=overlapping), 500, "UnknownError")
        assert err["message"] == ""
    book(app_graph, {**overlapping, "staffMemberIds": [staff[2]]})        # someone else is free
    book(app_graph, appointment_body(svc["Initial consultation"], at(day, 14, 30), staff=[staff[0]]))  # adjacent
    assert app_graph.post(f"{APPTS}/{first['id']}/cancel", json={"cancellationMessage": "Moved"}).status_code == 204
    book(app_graph, appointment_body(svc["Follow-up"], at(day, 14), staff=[staff[0]]))   # the slot is free again


def test_patch_into_a_taken_slot_is_500(app_graph, svc, staff):
    day = next_day()
    book(app_graph, appointment_body(svc["Follow-up"], at(day, 9), staff=[staff[3]]))
    other = book(app_graph, appointment_body(svc["Follow-up"], at(day, 11), staff=[staff[3]]))
    r = app_graph.patch(f"{APPTS}/{other['id']}", json={"startDateTime": dtz(at(day, 9)),
                                                        "endDateTime": dtz(at(day, 9, 15))})
    assert_graph_error(r, 500, "UnknownError")


def test_invalid_staff_id_is_500_unknown_error_with_empty_message(app_graph, svc):
    body = appointment_body(svc["Follow-up"], at(next_day(), 9), staff=["00000000-1111-2222-3333-444444444444"])
    assert assert_graph_error(app_graph.post(APPTS, json=body), 500, "UnknownError")["message"] == ""


# -- cancel, delete, emails ---------------------------------------------------------------------------
def test_cancel_204_removes_the_appointment_and_emails_the_customer(sb, app_graph, me_graph, svc):
    a = book(app_graph, appointment_body(svc["Initial consultation"], at(next_day(), 13), email="cancel.me@example.com"))
    path = f"{APPTS}/{a['id']}/cancel"
    assert_graph_error(app_graph.post(path, json={}), 400, "BadRequest", "cancellationMessage")
    r = me_graph.post(path, json={"cancellationMessage": "The clinic is closed that day."})
    assert r.status_code == 204 and r.content == b""
    assert_graph_error(app_graph.get(f"{APPTS}/{a['id']}"), 404, "NotFound")
    assert_graph_error(app_graph.post(path, json={"cancellationMessage": "again"}), 404, "NotFound")
    mails = [m for m in bookings_mail(sb) if m["bookingAppointmentId"] == a["id"]]
    assert [m["bookingsKind"] for m in mails] == ["confirmation", "cancellation"]
    assert all(m["from"] == BUSINESS and m["toRecipients"][0] == "cancel.me@example.com" for m in mails)
    assert a["anonymousJoinWebUrl"] in mails[0]["body"]["content"] and "The clinic is closed that day." in mails[1]["body"]["content"]
    [stored] = [x for x in sb.bookings()["value"][0]["appointments"] if x["id"] == a["id"]]
    assert stored["cancelled"] is True and stored["cancellationMessage"] == "The clinic is closed that day."


def test_opt_out_of_customer_email_records_no_confirmation_and_each_customer_gets_one(sb, app_graph, svc):
    day = next_day()
    quiet = book(app_graph, appointment_body(svc["Follow-up"], at(day, 9), optOutOfCustomerEmail=True))
    body = appointment_body(svc["Follow-up"], at(day, 10))
    body["customers"].append({"@odata.type": INFO, "name": "Second", "emailAddress": "second@example.com"})
    body["customers"].append({"@odata.type": INFO, "name": "No address"})
    both = book(app_graph, body)
    mails = bookings_mail(sb)
    assert not [m for m in mails if m["bookingAppointmentId"] == quiet["id"]]
    assert sorted(m["toRecipients"][0] for m in mails if m["bookingAppointmentId"] == both["id"]) == \
        ["client@example.com", "second@example.com"]


def test_delete_204_then_404(app_graph, svc):
    a = book(app_graph, appointment_body(svc["Follow-up"], at(next_day(), 16)))
    r = app_graph.delete(f"{APPTS}/{a['id']}")
    assert r.status_code == 204 and r.content == b""
    assert_graph_error(app_graph.get(f"{APPTS}/{a['id']}"), 404, "NotFound")
    assert_graph_error(app_graph.delete(f"{APPTS}/{a['id']}"), 404, "NotFound")


# -- permissions, versions, batch, inspection ----------------------------------------------------------
def test_delegated_read_only_scope_can_read_but_not_book(sb, svc):
    reader = Graph(sb, user_token(sb, ADELE, scope=f"{sb.url}/Bookings.Read.All"))
    assert reader.get(APPTS).status_code == 200
    assert reader.get(f"{ROOT}/{BUSINESS}/services").status_code == 200
    r = reader.post(APPTS, json=appointment_body(svc["Follow-up"], at(next_day(), 9)))
    assert_graph_error(r, 403, "Forbidden", "BookingsAppointment.ReadWrite.All")


def test_unauthenticated_is_401(sb):
    assert_graph_error(Graph(sb, None).get(ROOT), 401, "InvalidAuthenticationToken")


def test_beta_serves_bookings_too(app_graph, svc):
    beta = app_graph.with_version("beta")
    assert beta.get(ROOT).json()["value"][0]["id"] == BUSINESS
    a = book(beta, appointment_body(svc["Follow-up"], at(next_day(), 12)))
    assert app_graph.get(f"{APPTS}/{a['id']}").status_code == 200


def test_batch_items_reach_bookings_routes(app_graph, svc):
    json_type = {"Content-Type": "application/json"}
    body = appointment_body(svc["Follow-up"], at(next_day(), 15))
    r = app_graph.post("$batch", json={"requests": [
        {"id": "1", "method": "POST", "url": f"/{APPTS}", "headers": json_type, "body": body},
        {"id": "2", "method": "POST", "url": f"/{APPTS}", "headers": json_type,
         "body": {**body, "customers": [{"name": "untyped"}]}},
        {"id": "3", "method": "GET", "url": f"/{ROOT}/{BUSINESS}/services"},
    ]})
    assert r.status_code == 200, r.text
    items = {i["id"]: i for i in r.json()["responses"]}
    assert items["1"]["status"] == 201 and items["1"]["body"]["joinWebUrl"]
    assert items["2"]["status"] == 400 and items["2"]["body"]["error"]["code"] == "BadRequest"
    assert items["3"]["status"] == 200 and "@odata.nextLink" in items["3"]["body"]
    assert app_graph.get(f"{APPTS}/{items['1']['body']['id']}").status_code == 200


def test_inspection_lists_business_services_staff_customers_appointments_and_stats_count(sb, app_graph, svc):
    before = sb.stats()["bookingAppointments"]
    a = book(app_graph, appointment_body(svc["Follow-up"], at(next_day(), 17)))
    view = sb.bookings()
    [business] = view["value"]
    assert business["id"] == BUSINESS and business["timeZone"] == "America/New_York"
    assert [s["displayName"] for s in business["services"]] == ["Initial consultation", "Follow-up"]
    assert len(business["staffMembers"]) == len(USERS) and isinstance(business["customers"], list)
    assert a["id"] in {x["id"] for x in business["appointments"]}
    assert sb.stats()["bookingAppointments"] == before + 1


def bookings_mail(sb) -> list[dict]:
    """What Bookings emailed customers, from the sandbox's sent-mail log (`/_sandbox/mail`)."""
    return [m for m in sb._call("GET", "/_sandbox/mail")["value"] if "bookingAppointmentId" in m]
