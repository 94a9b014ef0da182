"""Appointments: the journal across restarts, filters, links, exports and per-appointment actions."""

from __future__ import annotations

from datetime import time

from tests.app.driver import assert_clean, button, open_app, restart_app, texts, wait_until
from tests.helpers import clients_csv, unique_tag


def create_from_csv(tag: str, n: int = 3):
    at = open_app("pages/bulk.py")
    at.file_uploader(key="upload_bulk").set_value((f"{tag}.csv", clients_csv(n, tag), "text/csv")).run()
    button(at, f"Create {n} appointment").click().run()
    wait_until(at, lambda at: f"{n} created" in texts(at))


def table(at):
    frames = [d.value for d in at.dataframe if "externalAppointmentId" in getattr(d.value, "columns", [])]
    assert frames, "no appointments table"
    return frames[0]


def mine(at, tag):
    frame = table(at)
    return frame[frame["externalAppointmentId"].str.startswith(tag)]


def test_appointments_are_listed_after_the_app_restarts():
    tag = unique_tag("RST")
    create_from_csv(tag)
    at = restart_app("pages/appointments.py")
    assert_clean(at)
    rows = mine(at, tag)
    assert len(rows) == 3
    assert set(rows["status"]) == {"created"}
    assert all(u.startswith("https://visit.teams.microsoft.com/") for u in rows["clientJoinWebUrl"])
    assert {b.label for b in at.get("download_button")} >= {"Download CSV", "Download Excel"}


def test_filters_narrow_the_list_by_run_and_status():
    tag = unique_tag("FLT")
    create_from_csv(tag, 2)
    at = open_app("pages/appointments.py")
    runs = at.selectbox(key="apf_run").options  # labels such as "2026-11-24 05:10 UTC · FLT….csv · 2 created"
    at.selectbox(key="apf_run").select_index(next(i for i, label in enumerate(runs) if f"{tag}.csv" in label)).run()
    assert_clean(at)
    frame = table(at)
    assert len(frame) == 2 and frame["externalAppointmentId"].str.startswith(tag).all()
    at.selectbox(key="apf_status").set_value("failed").run()
    assert "No appointment matches these filters" in texts(at)


def select_row(at, tag):
    frame = table(at)
    position = int(frame.index[frame["externalAppointmentId"].str.startswith(tag)][0])
    at.session_state[at.session_state["ap_table_key"]] = {"selection": {"rows": [position], "columns": [], "cells": []}}
    at.run()
    assert_clean(at)
    return at


def test_a_selected_appointment_can_be_refreshed_texted_changed_and_deleted():
    tag = unique_tag("ACT")
    create_from_csv(tag, 1)
    at = select_row(open_app("pages/appointments.py"), tag)
    assert "Client 0" in texts(at)

    button(at, "Refresh join links").click().run()
    assert "Join links refreshed." in texts(at)

    button(at, "Text the join link").click().run()
    assert "Text message sent to 1 phone number." in texts(at)
    assert "Teams Premium" in texts(at)

    at.text_input(key=[k for k in at.session_state if str(k).startswith("ap_subject_")][0]).set_value("Moved").run()
    button(at, "Save").click().run()
    assert "Meeting updated." in texts(at)
    assert table(at).loc[lambda f: f["externalAppointmentId"].str.startswith(tag), "subject"].iloc[0] == "Moved"

    button(at, "Delete the meeting").click().run()
    assert "Meeting deleted." in texts(at)
    assert table(at).loc[lambda f: f["externalAppointmentId"].str.startswith(tag), "status"].iloc[0] == "deleted"


def selected_heading(at) -> str:
    return " ".join(str(h.value) for h in at.subheader)


def test_the_selection_follows_the_appointment_through_a_re_sort_and_says_what_was_done_to_whom():
    tag = unique_tag("SRT")
    create_from_csv(tag, 2)  # Client 0 at 09:00, Client 1 at 09:30 (2027-03-01)
    at = select_row(open_app("pages/appointments.py"), tag)
    assert "Client 0" in selected_heading(at)
    key = at.session_state["ap_selected"]
    at.time_input(key=f"ap_start_{key}").set_value(time(10, 15)).run()
    button(at, "Save").click().run()
    assert_clean(at)
    assert at.session_state["ap_selected"] == key
    assert "2027-03-01 10:15" in selected_heading(at) and "Client 0" in selected_heading(at)
    said = texts(at)
    assert "Meeting updated. For Client 0, 2027-03-01 10:15" in said
    mine_now = mine(at, tag)
    assert list(mine_now["clients"]) == ["Client 1", "Client 0"]  # re-sorted: Client 0 moved below Client 1
    # The table's tick is on Client 0's new position, not on the row Client 0 used to have.
    frame = table(at)
    position = int(frame.index[frame["clients"].eq("Client 0") & frame["externalAppointmentId"].str.startswith(tag)][0])
    assert at.session_state[at.session_state["ap_table_key"]]["selection"]["rows"] == [position]


def test_delete_disarms_and_the_request_log_grows_with_every_action():
    tag = unique_tag("DEL")
    create_from_csv(tag, 1)
    at = select_row(open_app("pages/appointments.py"), tag)
    button(at, "Refresh join links").click().run()
    button(at, "Delete the meeting").click().run()
    assert_clean(at)
    assert "Meeting deleted. For Client 0" in texts(at)
    deletes = [b for b in at.button if b.label == "Delete the meeting"]
    assert len(deletes) == 1 and deletes[0].disabled  # a greyed button, no confirmation box to click again
    assert all(b.disabled for b in at.button if b.label in ("Change subject or time", "Refresh join links"))
    row = mine(at, tag).iloc[0]
    assert row["status"] == "deleted" and row["clientJoinWebUrl"] == "" and row["joinWebUrl"] == ""
    log = [d.value for d in at.dataframe if "method" in getattr(d.value, "columns", [])][0]
    sent = list(zip(log["method"], log["step"]))
    assert ("POST", "meeting") in sent  # the creation
    assert ("GET", "meeting") in sent and ("GET", "virtualAppointment") in sent  # the refresh
    assert sent[-1] == ("DELETE", "delete") and log["status"].iloc[-1] == 204
