"""The Appointments page's table (lib/screens/appointments_view.py): rows, labels, the selection by key."""

from __future__ import annotations

from lib.screens.appointments_view import entry_rows, run_label, selected_key, selection_for, table_key
from tests.screens.test_actions import journal_entry


def test_the_appointments_table_shows_local_times_and_runs_read_in_words(tmp_path):
    journal, entry = journal_entry(tmp_path)
    row = entry_rows([entry])[0]
    assert row["start"] == "2027-02-01 14:00" and row["clients"] == "Ann" and row["organizer"] == "signed-in user"
    label = run_label({"started_at": "2026-11-24T05:10:00Z", "source": "/tmp/x/clients.csv",
                       "summary": {"created": 48, "failed": 2}, "state": "finished"})
    assert label == "2026-11-24 05:10 UTC · clients.csv · 48 created, 2 failed"


def test_the_selection_is_an_appointment_key_and_a_re_sort_gives_a_new_table_key():
    rows = [{"key": "a"}, {"key": "b"}, {"key": "c"}]
    resorted = [{"key": "b"}, {"key": "c"}, {"key": "a"}]
    assert selected_key(rows, [0]) == "a" and selected_key(rows, []) is None and selected_key(rows, [7]) is None
    assert selection_for(resorted, "a") == {"selection": {"rows": [2], "columns": []}}
    assert selection_for(resorted, "gone") is None
    assert table_key(rows) != table_key(resorted) and table_key(rows) == table_key(list(rows))


def test_a_deleted_meetings_links_are_not_offered(tmp_path):
    journal, entry = journal_entry(tmp_path)
    journal.update("k1", join_web_url="https://teams.microsoft.com/x", client_join_web_url="https://visit/x")
    assert entry_rows([journal.get("k1")])[0]["clientJoinWebUrl"] == "https://visit/x"
    journal.update("k1", status="deleted")
    row = entry_rows([journal.get("k1")])[0]
    assert row["clientJoinWebUrl"] == "" and row["joinWebUrl"] == ""


def test_bookings_appointments_are_told_from_meetings_and_filtered(tmp_path):
    from lib.model.flows import BOOKINGS
    from lib.screens.appointments_view import BOOKINGS_KIND, TEAMS, of_kind

    _, meeting = journal_entry(tmp_path / "m")
    _, booking = journal_entry(tmp_path / "b", organizer="clinic@contoso.onmicrosoft.com", flow=BOOKINGS)
    assert [r["kind"] for r in entry_rows([meeting, booking])] == [TEAMS, BOOKINGS_KIND]
    assert of_kind([meeting, booking], BOOKINGS_KIND) == [booking]
    assert of_kind([meeting, booking], TEAMS) == [meeting] and of_kind([meeting, booking], "") == [meeting, booking]
