"""RESULTS.csv: written while sending, the same file the rows would give at the end."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from lib.bulk.export import to_csv_bytes
from lib.bulk.results import COLUMNS, ResultsFile, result_rows
from lib.bulk.runner import Outcome
from lib.model.appointment import Appointment, Client

PARIS = ZoneInfo("Europe/Paris")


def outcome(n: int, *, rows=None, clients=None, status="created") -> Outcome:
    start = datetime(2027, 3, 1, 9, tzinfo=PARIS) + timedelta(hours=n)
    appt = Appointment(f"=HYPERLINK(\"x\") visit {n}", start, start + timedelta(minutes=30), time_zone="Europe/Paris",
                       clients=clients or (Client(f"Zoë, {n}", f"c{n}@example.com", "+33612345678"),),
                       source_rows=rows or (n + 2,)).with_ids()
    return Outcome(key=f"k{n}", appointment=appt, status=status, meeting_id=f"M{n}",
                   join_web_url=f"https://teams.example/{n}", client_join_web_url=f"https://visit.example/{n}",
                   request_id=f"r{n}", error="" if status != "failed" else "Graph said no;\n\"really\"")


def test_lines_written_while_sending_make_the_file_the_rows_would_make():
    group = outcome(5, rows=(9, 7), clients=(Client("A", "a@example.com"), Client("B", "b@example.com")))
    outcomes = [outcome(1), outcome(3, status="failed"), group, outcome(2)]
    invalid = [(4, "Column \"Email\": \"x\" is not an email address."), (30, "=cmd|' /C calc'!A0")]
    columns = COLUMNS + ["notified"]
    lines = ResultsFile(columns)
    for o in outcomes[:3]:
        lines.add(o)  # the last one is never settled while sending (a cancel), and is rendered at the end
    outcomes[1].status, outcomes[1].error = "failed", "Not sent: the run was cancelled."  # changed after it was added
    expected_rows = result_rows(outcomes, invalid)
    expected = to_csv_bytes(columns, [[r.get(c, "") for c in columns] for r in expected_rows])
    assert lines.to_bytes(outcomes, invalid) == expected
    assert [r["row"] for r in expected_rows] == [3, 4, 4, 5, 7, 9, 30]  # outcome 2 and an invalid row share row 4: both kept, in order
