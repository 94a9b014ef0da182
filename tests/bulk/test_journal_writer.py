"""The journal writer commits the runner's writes behind it, in order, and never hides a failed write."""

import threading

import pytest

from lib.bulk.journal import Journal, appointment_key
from lib.bulk.journal_writer import JournalWriter
from tests.bulk.test_journal import appt


class CountingJournal(Journal):
    """Counts transactions, and can hold the writer inside one until told to go on."""

    def __init__(self, path):
        super().__init__(path)
        self.transactions = 0
        self.hold = threading.Event()
        self.hold.set()
        self.inside = threading.Event()

    def write(self, statements):
        self.inside.set()
        self.hold.wait(5)
        self.transactions += 1
        super().write(statements)


def test_writes_land_in_the_order_given_and_wait_means_committed(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    writer = JournalWriter(journal)
    key = appointment_key("p", "me", appt(1).meeting_external_id)
    writer.pending("r1", "p", "join-link", [(key, "me", appt(1))])
    writer.record(updates=[(key, {"meeting_id": "M1"})])
    writer.record(updates=[(key, {"status": "created", "meeting_id": "M2"})],
                  requests=[dict(run_id="r1", key=key, step="meeting", method="POST", path="/me/x", status=201)])
    writer.wait()
    entry = journal.get(key)
    assert entry.status == "created" and entry.meeting_id == "M2"
    assert [r["status"] for r in journal.requests_for(key)] == [201]
    writer.close()


def test_what_queues_up_during_a_commit_goes_in_one_transaction(tmp_path):
    journal = CountingJournal(tmp_path / "j.sqlite3")
    writer = JournalWriter(journal)
    items = [(appointment_key("p", "me", appt(n).meeting_external_id), "me", appt(n)) for n in range(30)]
    journal.hold.clear()
    writer.pending("r", "p", "join-link", items[:1])
    assert journal.inside.wait(5)  # the writer is inside its first commit, held there
    for key, organizer, a in items[1:]:
        writer.pending("r", "p", "join-link", [(key, organizer, a)])
    journal.hold.set()
    writer.close()
    assert journal.transactions == 2
    assert len(journal.entries()) == 30


def test_unknown_fields_are_refused_in_the_callers_thread(tmp_path):
    writer = JournalWriter(Journal(tmp_path / "j.sqlite3"))
    with pytest.raises(ValueError, match="not journal fields"):
        writer.record(updates=[("k", {"password": "x"})])
    writer.close()


def test_a_write_that_fails_is_reported_and_nothing_after_it_pretends_to_land(tmp_path):
    journal = Journal(tmp_path / "j.sqlite3")
    writer = JournalWriter(journal)
    journal.close()  # the file goes away under the writer (a disk pulled, a folder deleted)
    writer.record(updates=[("k", {"status": "created"})])
    with pytest.raises(Exception):
        writer.wait()
    with pytest.raises(Exception):
        writer.record(updates=[("k", {"status": "failed"})])
    with pytest.raises(Exception):
        writer.close()


def test_writes_close_together_share_a_commit_but_wait_and_close_do_not_linger(tmp_path, monkeypatch):
    monkeypatch.setattr("lib.bulk.journal_writer.GATHER", 30.0)  # far longer than any test may take
    journal = CountingJournal(tmp_path / "j.sqlite3")
    writer = JournalWriter(journal)
    items = [(appointment_key("p", "me", appt(n).meeting_external_id), "me", appt(n)) for n in range(3)]
    for item in items:
        writer.pending("r", "p", "join-link", [item])
    waiter = threading.Thread(target=writer.wait)
    waiter.start()
    waiter.join(10)
    assert not waiter.is_alive(), "wait() must commit at once, not after the gathering time"
    assert journal.transactions == 1 and len(journal.entries()) == 3
    writer.record(updates=[(items[0][0], {"status": "created"})])
    closer = threading.Thread(target=writer.close)
    closer.start()
    closer.join(10)
    assert not closer.is_alive() and journal.get(items[0][0]).status == "created"
