"""The bulk page's session: the file in use, the kept job put back after a reload, the cached check.

Callbacks and caches the page calls; what they decide lives in ``lib.screens.bulk_job``.
"""

from __future__ import annotations

from datetime import date, time, timedelta

import streamlit as st

from lib.bulk.runner import Runner
from lib.datafolder import studio_home
from lib.model.flows import BOOKINGS, plan
from lib.screens import bulk_job
from lib.screens import check_grid as grid
from lib.screens.background import BackgroundRun
from lib.screens.bulk_job import JobStore, ScheduleChoice
from lib.screens.designer import preview
from lib.spreadsheet.read import read_table
from lib.spreadsheet.samples import sample_clients_csv
from ui import messages, state


def kept_jobs() -> JobStore:
    """Where the current bulk job is kept, so a browser reload loses nothing."""
    return JobStore(studio_home() / "jobs" / "current")


@st.cache_data(show_spinner="Reading the file…", max_entries=6)
def read(data: bytes, name: str, sheet: str | None):
    return read_table(data, name, sheet=sheet)


# One CheckSession per file, mapping, schedule and options, never per edit: an edit re-checks only its
# rows (and their appointment groups) on the session. cache_resource hands back the same object.
@st.cache_resource(show_spinner="Checking every row…", max_entries=6)
def check_session(data: bytes, name: str, sheet: str | None, mapping: tuple, choice: ScheduleChoice,
                  organizer: str, date_order: tuple) -> grid.CheckSession:
    """The check of this file under these settings, kept without the edits (a ModelError names a bad setting)."""
    return grid.CheckSession.start(read(data, name, sheet), dict(mapping), choice.schedule(), organizer=organizer,
                                   date_order=dict(date_order) or "auto")


def check(data: bytes, name: str, sheet: str | None, mapping: dict, choice: ScheduleChoice, edits: dict,
          organizer: str):
    """(report, check grid, timeline) for the edited sheet; read-only, shared by reruns."""
    session = check_session(data, name, sheet, tuple(sorted(mapping.items())), choice, organizer,
                            tuple(sorted(date_orders().items())))
    st.session_state["bulk_check_session"] = session
    return session.check(edits, zone=choice.time_zone)


def date_orders() -> dict[str, str]:
    """{header: "DMY" | "MDY"}: the user's answers for the date columns the file could not decide."""
    return {h: q["order"] for h, q in st.session_state.get("bulk_dates", {}).items() if q.get("order")}


def ask_date_orders(report) -> None:
    """Ask once per date column that reads both ways; the answer re-checks the column and is kept with the job."""
    asked = st.session_state.setdefault("bulk_dates", {})
    for column in report.undecided_dates:
        if not asked.get(column.header, {}).get("order"):
            asked[column.header] = {"question": column.question, "readings": column.readings, "order": None,
                                    "rows": column.ambiguous_rows}
    in_file = {c.header for c in report.date_columns}
    for header, q in asked.items():
        if header not in in_file or not q.get("question"):
            continue
        choices = [o for o in ("DMY", "MDY") if o in q["readings"]]
        st.radio(q["question"], choices, index=choices.index(q["order"]) if q["order"] in choices else None,
                 key=f"bulk_date_order_{header}", horizontal=True, on_change=_answer_date, args=(header,),
                 format_func=lambda o, r=q["readings"]: f"{r[o]} ({'day' if o == 'DMY' else 'month'} first)",
                 help="Until you answer, every row whose date reads both ways keeps its warning.")
        if not q["order"]:
            rows = q.get("rows", 0)
            st.caption(f"Until you answer, {rows:,} row{'s' if rows != 1 else ''} of column “{header}” "
                       f"keep{'s' if rows == 1 else ''} a warning (⚠) and the date as first guessed.")


def _answer_date(header: str) -> None:
    st.session_state["bulk_dates"][header]["order"] = st.session_state.get(f"bulk_date_order_{header}")


def use_source(name: str, data: bytes | str) -> None:
    """A new file: forget the previous file's sheet choice, edits and results."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    st.session_state["bulk_source"] = {"name": name, "data": data}
    for key in ("bulk_sheet", "bulk_edits", "bulk_results", "bulk_job", "bulk_run_ids", "bulk_dates"):
        st.session_state.pop(key, None)


def on_upload() -> None:
    upload = st.session_state.get("upload_bulk")
    if upload is not None:
        use_source(upload.name, upload.getvalue())


def on_sample() -> None:
    use_source("sample-clients.csv", sample_clients_csv())


def on_continue() -> None:
    """Put the kept job back: file, sheet, column matching, schedule, cell fixes, the runs' results."""
    job = kept_jobs().load()
    if job is None:
        return
    use_source(job.name, job.data)
    if job.sheet:
        st.session_state["bulk_sheet"] = job.sheet
    for key in [k for k in st.session_state if str(k).startswith("bulk_map_")]:
        del st.session_state[key]
    st.session_state["bulk_restored_mapping"] = job.mapping
    st.session_state["bulk_edits"] = {row: dict(cells) for row, cells in job.edits.items()}
    st.session_state["bulk_edits_for"] = bulk_job.source_key(job.data, job.sheet)
    st.session_state["bulk_run_ids"] = list(job.run_ids)
    st.session_state["bulk_duration_for"] = "kept"  # the kept length is the user's, not the service's
    st.session_state["bulk_dates"] = {h: dict(q) for h, q in job.dates.items()}
    for key in [k for k in st.session_state if str(k).startswith("bulk_date_order_")]:
        del st.session_state[key]
    if job.schedule is not None:
        s = job.schedule
        st.session_state.update(bulk_day=s.first_day, bulk_time=s.first_start, bulk_duration=s.duration,
                                bulk_gap=s.gap, bulk_tz=s.time_zone, bulk_subject=s.subject,
                                bulk_hours_on=s.hours is not None, bulk_weekdays=s.weekdays_only)
        if s.hours:
            st.session_state["bulk_hours"] = s.hours


SCHEDULE_DEFAULTS = {"bulk_time": time(9, 0), "bulk_duration": 30, "bulk_gap": 0, "bulk_hours_on": True,
                     "bulk_hours": (time(9, 0), time(17, 0)), "bulk_weekdays": True,
                     "bulk_subject": "Virtual appointment"}


def schedule_defaults(zone: str) -> None:
    """First visit: the next day at 09:00 in the browser's zone, 30 minutes, working hours, weekdays."""
    st.session_state.setdefault("bulk_tz", zone)
    st.session_state.setdefault("bulk_day", date.today() + timedelta(days=1))
    for key, value in SCHEDULE_DEFAULTS.items():
        st.session_state.setdefault(key, value)


def schedule_choice(hours_on: bool) -> ScheduleChoice:
    """The Schedule step's widgets as one value (a cache key, kept with the job)."""
    s = st.session_state
    return ScheduleChoice(first_day=s["bulk_day"], first_start=s["bulk_time"], duration=int(s["bulk_duration"]),
                          gap=int(s["bulk_gap"]), time_zone=s["bulk_tz"], subject=s["bulk_subject"],
                          hours=tuple(s["bulk_hours"]) if hours_on else None, weekdays_only=bool(s["bulk_weekdays"]))


def current_edits(source_id: str) -> dict:
    """The cell fixes for this file, with the grid's latest edits folded in before checking again."""
    edits = st.session_state.setdefault("bulk_edits", {})
    if st.session_state.get("bulk_edits_for") != source_id:
        edits.clear()
        st.session_state["bulk_edits_for"] = source_id
    shown = st.session_state.get("bulk_shown")
    if shown and shown["source"] == source_id:
        grid.merge_grid_edits(edits, (st.session_state.get(shown["key"]) or {}).get("edited_rows", {}),
                              shown["rows"], shown["columns"])
    return edits


def start_run(name: str, source_id: str, appointments: list, invalid: list, retry: bool, target=None) -> None:
    """Start a run on its own thread (kept by file, so a reloaded page finds it); or keep why it did not start.

    ``target`` (a BookingsTarget) books through Microsoft Bookings; otherwise the meeting flow runs."""
    try:
        if target is not None:
            from lib.bulk.bookings_runner import BookingsRunner
            runner = BookingsRunner(state.client(), state.journal(), target)
            st.session_state["bulk_quota"] = []
        else:
            runner = Runner(state.client(), state.journal(), flow=state.flow(), concurrency=8)
            st.session_state["bulk_quota"] = runner.quota_warnings(appointments)  # Graph's 2,000 a month per organizer
        started = {"run": BackgroundRun(runner, appointments, source=name, invalid_rows=invalid).start(),
                   "source": source_id, "retry": retry, "invalid": invalid}
        st.session_state["bulk_job"] = state.running_runs()[source_id] = started
    except Exception as exc:  # AuthError / GraphError: say why nothing started
        st.session_state["bulk_start_error"] = exc


def run_and_results(source_id: str, run_ids: list, save) -> tuple[dict | None, dict | None]:
    """The run of this file (still going, perhaps started before a reload) and the results to show.

    A finished run's outcomes are collected once (``save`` keeps the job with its run ids); after a
    reload the last runs' results are read back from the journal.
    """
    runs = state.running_runs()
    if "bulk_job" not in st.session_state and source_id in runs and not runs[source_id].get("collected"):
        st.session_state["bulk_job"] = runs[source_id]
    job = st.session_state.get("bulk_job")
    store = st.session_state.get("bulk_results")
    if store and store.get("source") != source_id:
        store = None
    if store is None and run_ids and not (job and not job["run"].done):
        outcomes, skipped = bulk_job.outcomes_from_journal(state.journal(), run_ids)
        if outcomes or skipped:
            store = st.session_state["bulk_results"] = {"source": source_id, "outcomes": outcomes,
                                                        "invalid": skipped, "cancelled": False}
    if job and job["run"].done and not job.get("collected"):
        job["collected"] = True
        if job["run"].error is not None:
            st.session_state["bulk_start_error"] = job["run"].error
        else:
            store = st.session_state["bulk_results"] = bulk_job.collect(
                job["run"].result, retry=job["retry"], previous=store, source=job["source"], invalid=job["invalid"],
                run_ids=run_ids)
            save()
    return job, store


@st.fragment(run_every=0.5)
def progress_panel() -> None:
    """The running job's bar (with Graph's wait notice when it holds the run back) and its Cancel button."""
    current = st.session_state.get("bulk_job")
    if not current or current.get("collected"):
        return
    run = current["run"]
    if run.done:
        st.rerun(scope="app")
    p = run.progress
    st.progress(p.done / (p.total or run.total) if (p.total or run.total) else 0.0,
                text=bulk_job.progress_line(p, run.total))
    if run.cancelling:
        st.caption("Cancelling: finishing the requests already sent…")
    elif st.button("Cancel", icon=":material/cancel:"):
        run.cancel()


def check_editor(view, key: str, zone: str, columns: dict, attention: int) -> None:
    """The check grid: status, row, client, time and problem read-only; the file's mapped cells editable."""
    st.data_editor(
        view, key=key, hide_index=True, width="stretch", num_rows="fixed",
        height=min(560, 38 + 35 * max(1, len(view))),
        disabled=[grid.STATUS, grid.ROW, grid.CLIENT, grid.TIME, grid.PROBLEM],
        column_config={
            grid.STATUS: st.column_config.TextColumn("Status", width=80, pinned=True,
                                                     help="✓ ready · ⚠ ready, with a note to read · ✗ needs a fix"),
            grid.ROW: st.column_config.NumberColumn("Row", width=60, help="The row number in your spreadsheet",
                                                    format="%d", pinned=True),
            grid.CLIENT: st.column_config.TextColumn("Client", width="small"),
            grid.TIME: st.column_config.TextColumn(f"Time ({zone})", width="medium"),
            grid.PROBLEM: st.column_config.TextColumn("Problem", width="large" if attention else "small"),
            **{cid: st.column_config.TextColumn(header) for cid, header in columns.items()},
        },
    )


def request_preview(report, frame, profile, target=None) -> None:
    """The exact requests one row sends: the meeting flow's steps, or the Bookings POST for ``target``."""
    first = int(frame[grid.ROW].iloc[0]) if len(frame) else 2
    last = max(first, int(frame[grid.ROW].iloc[-1]) if len(frame) else 2)
    if not first <= st.session_state.get("bulk_preview_row", 0) <= last:
        st.session_state["bulk_preview_row"] = first
    wanted = st.number_input("Row", first, last, key="bulk_preview_row")
    chosen = next((r for r in report.rows if r.row == wanted), None)
    if chosen is None:
        st.caption("No such row in the file.")
    elif chosen.appointment is None:
        st.error(f"Row {wanted} needs attention first: {grid.problem_text(chosen)}", icon=":material/error:")
    elif profile is not None:
        if target is not None:
            from lib.model.bookings import create_spec
            steps = [create_spec(chosen.appointment, target)]
        else:
            steps = plan(chosen.appointment, state.flow(), user_path=state.user_path(chosen.appointment.organizer))
        for number, request in enumerate(preview(steps, profile.graph_base_url), start=1):
            st.markdown(f"**{number}. {request.title}**")
            st.code(request.as_text(), language="http", wrap_lines=True)


# -- the Bookings flow -----------------------------------------------------------------------------
def bookings_target():
    """Where the Bookings flow books, or None after saying in plain words why not, with the way to fix it."""
    if state.flow() != BOOKINGS:
        return None
    from lib.graph.bookings import BookingsChoiceError
    from lib.graph.errors import GraphError
    from lib.graph.signin import AuthError

    try:
        target = state.bookings_target()
    except (BookingsChoiceError, GraphError, AuthError) as exc:
        messages.show_error(exc, what="Microsoft Bookings cannot be used yet")
        st.page_link("pages/connection.py", label="Choose where to book on the Connection page",
                     icon=":material/settings_ethernet:")
        st.stop()
    if target.duration_minutes and st.session_state.get("bulk_duration_for") != target.service_id:
        if st.session_state.get("bulk_duration_for") != "kept":
            st.session_state["bulk_duration"] = int(target.duration_minutes)  # the service's length by default
        st.session_state["bulk_duration_for"] = target.service_id
    return target
