"""How pages speak: the page header with the Sandbox badge, errors in plain words, empty states."""

from __future__ import annotations

import streamlit as st

from ui import state


def header(title: str, line: str = "") -> None:
    """The page title, the Sandbox badge when connected to it, and one line on what the page is for."""
    left, right = st.columns([5, 1], vertical_alignment="center")
    left.title(title)
    if state.is_sandbox():
        right.badge("Sandbox", icon=":material/science:", color="orange", help=(
            "Connected to the built-in sandbox: a local twin of Microsoft Graph. Nothing reaches a real "
            "Teams tenant. Switch on the Connection page."))
    if line:
        st.caption(line)
    problem = st.session_state.get("sandbox_problem")
    if problem:
        st.error(problem, icon=":material/error:")


def sidebar_badge() -> None:
    """In the sidebar: which connection and flow are active, with the badge for the sandbox."""
    p = state.profile()
    with st.sidebar:
        if p is None:
            st.warning("Not connected. Open **Connection** to choose where appointments go.")
            return
        if p.is_sandbox:
            st.badge("Sandbox", icon=":material/science:", color="orange")
        else:
            st.badge(getattr(p, "cloud", "tenant"), icon=":material/cloud:", color="blue")
        st.caption(f"Connection: **{p.name}**  \nFlow: **{state.flow()}**")


def show_error(exc: BaseException, *, what: str = "") -> None:
    """Any error a user can cause, as a message with the field or row and the fix; never a traceback."""
    prefix = f"{what}: " if what else ""
    explanation = getattr(exc, "explanation", "") or ""
    fix = getattr(exc, "fix", "") or ""
    request_id = getattr(exc, "request_id", "") or ""
    field = getattr(exc, "field", "") or ""
    message = getattr(exc, "message", "") or ""
    if explanation or fix:
        text = f"{prefix}{explanation or exc}"
        if fix:
            text += f"\n\n**How to fix it:** {fix}"
        if request_id:
            text += f"\n\n`request-id: {request_id}`"
        status = getattr(exc, "status", None)
        code = getattr(exc, "code", "")
        if status or code:
            text += f"  ·  HTTP {status or '—'} {code or ''}"
        st.error(text, icon=":material/error:")
    elif field and message:
        st.error(f"{prefix}**{field}** — {message}", icon=":material/error:")
    else:
        st.error(f"{prefix}{exc}", icon=":material/error:")


def empty_state(text: str, icon: str = ":material/info:") -> None:
    """What will appear here, and how to get it."""
    st.info(text, icon=icon)
