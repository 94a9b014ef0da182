"""The designer page's session: its callbacks (load JSON or a template, save one, start afresh), the draft.

The form's logic lives in ``lib.screens.designer``; this moves it in and out of the widgets.
"""

from __future__ import annotations

from datetime import time

import streamlit as st

from lib.datafolder import studio_home
from lib.model.appointment import ModelError
from lib.screens.designer import DesignerForm, DraftStore, Templates, fresh_copy
from ui import state

TEMPLATES = Templates(studio_home() / "templates")
DRAFTS = DraftStore(studio_home() / "jobs" / "designer.json")  # a reload keeps the form
FIELDS = ("subject", "day", "start", "duration", "end", "time_zone", "organizer", "allow_browser_join",
          "external_appointment_id", "external_appointment_url", "external_id")


def load_form(form: DesignerForm) -> None:
    """Put ``form`` into the widgets (runs in callbacks, before the widgets are drawn)."""
    st.session_state["designer_form"] = form
    for name in FIELDS:
        st.session_state[f"dz_{name}"] = getattr(form, name)
    st.session_state["dz_use_end"] = form.end is not None
    if form.end is None:
        st.session_state["dz_end"] = time(form.start.hour, form.start.minute)
    st.session_state["dz_clients_version"] = st.session_state.get("dz_clients_version", 0) + 1
    st.session_state.pop("designer_sent", None)


def load_document(text: str | bytes, source: str) -> None:
    try:
        form = DesignerForm.from_document(text, preferred_zone=state.browser_zone())
    except ModelError as exc:
        st.session_state["designer_load_error"] = (source, exc)
        return
    st.session_state.pop("designer_load_error", None)
    if not form.clients and "designer_form" in st.session_state:  # a meeting body alone: keep the clients
        form.clients = list(st.session_state["designer_form"].clients)
    load_form(form)
    st.session_state["designer_loaded"] = f"Loaded {source}: {form.summary()}."


def on_paste() -> None:
    load_document(st.session_state.get("dz_paste", ""), "the pasted JSON")


def on_upload() -> None:
    upload = st.session_state.get("upload_dz_json")
    if upload is not None:
        load_document(upload.getvalue(), upload.name)


def on_template_load() -> None:
    name = st.session_state.get("dz_template")
    if not name:
        return
    try:
        form = DesignerForm.from_appointment(TEMPLATES.load(name))
        load_form(form)
        st.session_state["designer_loaded"] = f"Loaded template “{name}”: {form.summary()}."
    except ModelError as exc:
        st.session_state["designer_load_error"] = (f"template {name}", exc)


def on_new_id() -> None:
    form = st.session_state["designer_form"]
    try:
        st.session_state["dz_external_appointment_id"] = fresh_copy(form.appointment()).external_appointment_id
        st.session_state["dz_external_id"] = ""
    except ModelError:
        pass


def on_save_template() -> None:
    """Save before the page is drawn, so the Templates tab lists the new template in this same run."""
    name = st.session_state.get("dz_template_name", "")
    try:
        TEMPLATES.save(name, st.session_state["designer_form"].appointment())
    except (ModelError, OSError) as exc:
        st.session_state["designer_saved"] = ("error", exc)
        return
    st.session_state["designer_saved"] = ("ok", name)
    st.session_state["dz_template"] = TEMPLATES.path_for(name).stem


def fresh_form() -> DesignerForm:
    p = state.profile()
    return DesignerForm(time_zone=state.browser_zone(),
                        organizer=p.organizer if p is not None and p.auth == "client_credentials" else "")


def on_start_afresh() -> None:
    DRAFTS.clear()
    load_form(fresh_form())
