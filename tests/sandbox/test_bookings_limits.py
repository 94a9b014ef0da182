"""Bookings under pressure: 4 concurrent requests per app + mailbox, injected faults, restarts,
and a sandbox started with fewer permissions (`--permissions-of`)."""
from __future__ import annotations

import threading

import pytest
import requests

from lib.sandbox import start_sandbox_process
from lib.sandbox.cli import main

from .conftest import Graph, app_token, assert_graph_error, http, user_token
from .test_bookings import (APPTS, BUSINESS, ROOT, appointment_body, at, book, dtz, next_day, services,
                            staff_ids)

pytestmark = pytest.mark.timeout(120)


def _view(graph: Graph, day) -> list[dict]:
    r = graph.get(f"{ROOT}/{BUSINESS}/calendarView", params={"start": dtz(at(day, 0))["dateTime"],
                                                             "end": dtz(at(day, 23))["dateTime"]})
    assert r.status_code == 200, r.text
    return r.json()["value"]


def test_fifth_concurrent_request_for_one_app_and_mailbox_is_429_retry_after_1(tmp_path):
    with start_sandbox_process(tmp_path) as sb:
        app, user = app_token(sb), user_token(sb)
        callers = [app] * 5 + [user, app]
        paths = [f"{ROOT}/{BUSINESS}/services"] * 6 + [ROOT]    # the last names no mailbox
        sessions = [http(sb.ca_path) for _ in callers]
        for s, token in zip(sessions, callers):    # warm TLS connections, so only the latency overlaps
            assert s.get(f"{sb.url}/v1.0/{ROOT}", headers={"Authorization": f"Bearer {token}"}).status_code == 200
        sb.configure(latency=1500)
        barrier = threading.Barrier(len(callers))
        results: list = [None] * len(callers)

        def call(i):
            barrier.wait()
            results[i] = sessions[i].get(f"{sb.url}/v1.0/{paths[i]}",
                                         headers={"Authorization": f"Bearer {callers[i]}"}, timeout=30)

        threads = [threading.Thread(target=call, args=(i,)) for i in range(len(callers))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        app_statuses = sorted(r.status_code for r in results[:5])
        assert app_statuses == [200, 200, 200, 200, 429]
        refused = next(r for r in results[:5] if r.status_code == 429)
        assert_graph_error(refused, 429, "TooManyRequests", "4 at a time per app and booking mailbox")
        assert refused.headers["Retry-After"] == "1"
        assert results[5].status_code == 200 and results[6].status_code == 200   # other app; no mailbox
        assert sb.stats()["throttled"] == 1
        sb.configure(latency=None)
        assert Graph(sb, app).get(f"{ROOT}/{BUSINESS}/services").status_code == 200   # slots were released


def test_lost_create_has_booked_the_appointment_and_503_has_not(sb, app_graph, clean_faults):
    svc = services(app_graph)["Follow-up"]
    day = next_day()
    sb.configure(faults="lost=1")
    with pytest.raises(requests.exceptions.RequestException):
        app_graph.post(APPTS, json=appointment_body(svc, at(day, 10), email="lost@example.com"))
    sb.configure(faults="503=1")
    r = app_graph.post(APPTS, json=appointment_body(svc, at(day, 12)))
    assert_graph_error(r, 503, "ServiceUnavailable")
    assert r.headers["Retry-After"] == "1"
    sb.configure(faults=None)
    [found] = _view(app_graph, day)
    assert found["customers"][0]["emailAddress"] == "lost@example.com" and found["joinWebUrl"]
    assert any(m["bookingAppointmentId"] == found["id"] for m in bookings_mail(sb))


def test_bookings_state_survives_restart(tmp_path):
    with start_sandbox_process(tmp_path) as sb:
        g = Graph(sb, app_token(sb))
        svc = services(g)["Initial consultation"]
        day = next_day()
        customer = g.post(f"{ROOT}/{BUSINESS}/customers", json={
            "@odata.type": "#microsoft.graph.bookingCustomer", "displayName": "Kept", "emailAddress": "k@example.com"})
        assert customer.status_code == 201
        kept = book(g, appointment_body(svc, at(day, 10), staff=[staff_ids(g)[0]]))
        gone = book(g, appointment_body(svc, at(day, 11)))
        assert g.post(f"{APPTS}/{gone['id']}/cancel", json={"cancellationMessage": "Sorry"}).status_code == 204
        port = int(sb.url.rsplit(":", 1)[1])
    with start_sandbox_process(tmp_path, port=port) as sb:
        g = Graph(sb, app_token(sb))
        assert g.get(f"{APPTS}/{kept['id']}").json()["joinWebUrl"] == kept["joinWebUrl"]
        assert_graph_error(g.get(f"{APPTS}/{gone['id']}"), 404, "NotFound")
        assert customer.json()["id"] in {c["id"] for c in g.get(f"{ROOT}/{BUSINESS}/customers").json()["value"]}
        assert sb.stats()["bookingAppointments"] == 2
        assert [m["bookingsKind"] for m in bookings_mail(sb)] == ["confirmation", "confirmation", "cancellation"]
        taken = appointment_body(svc, at(day, 10), staff=kept["staffMemberIds"])
        assert_graph_error(g.post(APPTS, json=taken), 500, "UnknownError")   # the slot is still taken


def test_app_with_only_bookings_appointment_permission_books_but_cannot_cancel(tmp_path):
    limited = {"app": ["BookingsAppointment.ReadWrite.All"], "user": ["Bookings.Read.All"]}
    with start_sandbox_process(tmp_path, permissions_of=limited) as sb:
        app = Graph(sb, app_token(sb))
        assert app.get(ROOT).status_code == 200
        a = book(app, appointment_body(services(app)["Follow-up"], at(next_day(), 10)))
        r = app.post(f"{APPTS}/{a['id']}/cancel", json={"cancellationMessage": "No"})
        assert_graph_error(r, 403, "Forbidden", r"API requires one of 'Bookings\.ReadWrite\.All")
        assert app.delete(f"{APPTS}/{a['id']}").status_code == 204
        user = Graph(sb, user_token(sb))
        assert user.get(APPTS).status_code == 200
        r = user.post(APPTS, json=appointment_body(services(user)["Follow-up"], at(next_day(), 11)))
        assert_graph_error(r, 403, "Forbidden", r"Scopes on the request 'Bookings\.Read\.All'")


def test_app_with_only_bookings_read_lists_businesses_and_customers_not_services(tmp_path):
    with start_sandbox_process(tmp_path, permissions_of={"app": ["Bookings.Read.All"]}) as sb:
        app = Graph(sb, app_token(sb))
        assert app.get(ROOT).status_code == 200 and app.get(f"{ROOT}/{BUSINESS}").status_code == 200
        assert app.get(f"{ROOT}/{BUSINESS}/customers").status_code == 200
        for path in ("services", "staffMembers", "appointments"):
            assert_graph_error(app.get(f"{ROOT}/{BUSINESS}/{path}"), 403, "Forbidden",
                               "BookingsAppointment.ReadWrite.All")


@pytest.mark.parametrize("value, message", [("app=Nope.Read", "Nope.Read is not an application permission"),
                                            ("robot=Bookings.Read.All", "expected app=NAME,NAME"),
                                            ("user=Bookings.Read.All,User.Read.All", "User.Read.All is not a "
                                                                                     "delegated permission")])
def test_permissions_of_rejects_unknown_names_with_exit_2(tmp_path, capsys, value, message):
    assert main(["--permissions-of", value, "--data", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def bookings_mail(sb) -> list[dict]:
    """What Bookings emailed customers, from the sandbox's sent-mail log (`/_sandbox/mail`)."""
    return [m for m in sb._call("GET", "/_sandbox/mail")["value"] if "bookingAppointmentId" in m]
