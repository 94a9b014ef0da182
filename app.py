"""Appointment Studio: turn spreadsheets of clients into Teams virtual appointments.

Declares the pages and what they share; each page in ``pages/`` describes one screen.
"""

import streamlit as st

from ui import messages, state

st.set_page_config(page_title="Appointment Studio", page_icon=":material/event_available:", layout="wide")

HOME = st.Page("pages/home.py", title="Home", icon=":material/home:", default=True)
BULK = st.Page("pages/bulk.py", title="Bulk from spreadsheet", icon=":material/table_view:", url_path="bulk")
DESIGNER = st.Page("pages/designer.py", title="Designer", icon=":material/design_services:", url_path="designer")
APPOINTMENTS = st.Page("pages/appointments.py", title="Appointments", icon=":material/event_note:",
                       url_path="appointments")
CONNECTION = st.Page("pages/connection.py", title="Connection", icon=":material/settings_ethernet:",
                     url_path="connection")

page = st.navigation({"": [HOME], "Create": [BULK, DESIGNER], "Review": [APPOINTMENTS],
                      "Settings": [CONNECTION]})
state.keep_widget_values(("bulk_", "dz_", "apf_"))
state.profile()  # starts the sandbox on the first visit, so every page finds it running
messages.sidebar_badge()
page.run()
