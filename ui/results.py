"""The results of a run as the bulk page shows them: the table, and the exports for a mail merge."""

from __future__ import annotations

import streamlit as st

from lib.bulk.export import to_csv_bytes, to_xlsx_bytes
from lib.bulk.results import (LINK_COLUMNS, MAIL_MERGE_COLUMNS, TECHNICAL_COLUMNS, mail_merge_rows, result_rows,
                              technical_rows)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def table_and_downloads(outcomes: list, invalid: list) -> None:
    """One line per spreadsheet row (each with its client's name beside the links), then CSV and Excel."""
    rows = [{**r, "when": f"{r['Date']} {r['Start']}–{r['End']} ({r['Time zone']})" if r["Date"] else ""}
            for r in result_rows(outcomes, invalid)]
    st.dataframe(
        rows, hide_index=True, width="stretch", key="bulk_results_table",
        column_order=["row", "Client", "status", "when", "clientJoinWebUrl", "joinWebUrl", "error", "subject",
                      "externalAppointmentId"],
        column_config={
            "row": st.column_config.NumberColumn("Row", width=60, format="%d", pinned=True),
            "Client": st.column_config.TextColumn("Client", pinned=True),
            "status": st.column_config.TextColumn("Status", width="small"),
            "when": st.column_config.TextColumn("When (the appointment's time zone)"),
            "subject": st.column_config.TextColumn("Subject"),
            "externalAppointmentId": st.column_config.TextColumn("Appointment id"),
            "clientJoinWebUrl": st.column_config.LinkColumn("Client join link", display_text="Open client link"),
            "joinWebUrl": st.column_config.LinkColumn("Organizer join link", display_text="Open organizer link"),
            "error": st.column_config.TextColumn("Problem", width="large"),
        },
    )
    downloads(lambda: outcomes, invalid, "RESULTS")


def downloads(outcomes, invalid: list, stem: str) -> None:
    """CSV and Excel for a mail merge: one row per client, plain headings; Graph's ids on a sheet of their own.

    ``outcomes`` is called when a button is clicked (10,000 journal entries take a while to turn into rows).
    """
    csv_col, xlsx_col, _ = st.columns([1, 1, 2])
    # Made when clicked, not on every rerun: an Excel file of 10,000 rows takes seconds to write.
    csv_col.download_button("Download CSV", lambda: _csv(outcomes, invalid), f"{stem}.csv", "text/csv",
                            icon=":material/download:", width="stretch", on_click="ignore",
                            help="One row per client, with plain headings for a mail merge.")
    xlsx_col.download_button("Download Excel", lambda: _xlsx(outcomes, invalid), f"{stem}.xlsx", XLSX,
                             icon=":material/download:", width="stretch", on_click="ignore",
                             help="One row per client with clickable links; Graph's ids on the “Technical” sheet.")


def _csv(outcomes, invalid: list) -> bytes:
    rows = mail_merge_rows(outcomes(), invalid)
    return to_csv_bytes(MAIL_MERGE_COLUMNS, [[r[c] for c in MAIL_MERGE_COLUMNS] for r in rows])


def _xlsx(outcomes, invalid: list) -> bytes:
    found = outcomes()
    rows = mail_merge_rows(found, invalid)
    technical = technical_rows(found)
    return to_xlsx_bytes(MAIL_MERGE_COLUMNS, [[r[c] for c in MAIL_MERGE_COLUMNS] for r in rows], "Appointments",
                         links=LINK_COLUMNS,
                         more_sheets=[("Technical", TECHNICAL_COLUMNS,
                                       [[r[c] for c in TECHNICAL_COLUMNS] for r in technical])])
