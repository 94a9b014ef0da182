"""Appointments: the journal across restarts, filters, links, exports and per-appointment actions."""

from __future__ import annotations

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
    at.session_state["ap_table"] = {"selection": {"rows": [position], "columns": [], "cells": []}}
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
    button(at, "Save changes").click().run()
    assert "Meeting updated." in texts(at)
    assert table(at).loc[lambda f: f["externalAppointmentId"].str.startswith(tag), "subject"].iloc[0] == "Moved"

    button(at, "Delete the meeting").click().run()
    assert "Meeting deleted." in texts(at)
    assert table(at).loc[lambda f: f["externalAppointmentId"].str.startswith(tag), "status"].iloc[0] == "deleted"
