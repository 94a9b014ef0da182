"""What every page shares: the sandbox, the journal, the active connection and flow.

Cached resources (the sandbox process, the journal) live once per server; the connection, the
Graph client and the flow live in each browser session.
"""

from __future__ import annotations

import os

import streamlit as st

from lib.screens.embedded_sandbox import EmbeddedSandbox, SandboxUnavailable, ensure_sandbox
from lib.model.flows import JOIN_LINK, VIRTUAL_APPOINTMENT
from lib.bulk.journal import Journal, default_journal_path
from lib.datafolder import studio_home


@st.cache_resource(show_spinner="Starting the built-in sandbox…")
def _sandbox_for(home: str) -> EmbeddedSandbox:
    return ensure_sandbox(os.path.join(home, "sandbox"))


@st.cache_resource
def _journal_at(path: str) -> Journal:
    return Journal(path)


def home() -> str:
    return str(studio_home())


def sandbox() -> EmbeddedSandbox | None:
    """The embedded sandbox, started on first use; None (with the reason kept) when it cannot run."""
    try:
        found = _sandbox_for(home())
    except SandboxUnavailable as exc:
        st.session_state["sandbox_problem"] = str(exc)
        return None
    if not found.alive():  # stopped behind our back: start it again
        _sandbox_for.clear()
        try:
            found = _sandbox_for(home())
        except SandboxUnavailable as exc:
            st.session_state["sandbox_problem"] = str(exc)
            return None
    st.session_state.pop("sandbox_problem", None)
    return found


def journal() -> Journal:
    return _journal_at(str(default_journal_path()))


@st.cache_resource
def running_runs() -> dict:
    """Bulk runs of this server by run id: a reloaded page (a new session) finds its run still going."""
    return {}


# -- the active connection --------------------------------------------------------------------------
def profile():
    """The active connection profile; the sandbox's signed-in profile until the user picks another."""
    from lib.graph.profile import Profile, ProfileError

    current = st.session_state.get("profile")
    if current is not None:
        return current
    box = sandbox()
    if box is None:
        return None
    try:
        current = Profile.load(box.profile_path)
    except ProfileError as exc:
        st.session_state["sandbox_problem"] = f"The sandbox's connection profile cannot be read: {exc}"
        return None
    use_profile(current)
    return current


def use_profile(new_profile, client=None) -> None:
    """Make ``new_profile`` the active connection (and its signed-in client, when there is one)."""
    old = st.session_state.get("profile")
    st.session_state["profile"] = new_profile
    st.session_state["graph_client"] = client
    if old is None or old.key != new_profile.key or "flow" not in st.session_state:
        st.session_state["flow"] = default_flow(new_profile)


def default_flow(p) -> str:
    """The documented beta flow on the sandbox; the join-link flow on a real tenant (beta was retired)."""
    return VIRTUAL_APPOINTMENT if p is not None and p.is_sandbox else JOIN_LINK


def flow() -> str:
    if "flow" not in st.session_state:
        st.session_state["flow"] = default_flow(profile())
    return st.session_state["flow"]


def set_flow(value: str) -> None:
    st.session_state["flow"] = value


# -- where the bookings flow books ------------------------------------------------------------------
def bookings_choice() -> dict:
    """{"business", "service", "staff"} chosen on the Connection page, else the profile's ``bookings`` object."""
    chosen = st.session_state.get("bookings_choice")
    if chosen is not None:
        return chosen
    p = profile()
    return dict(p.bookings) if p is not None and p.bookings else {}


def bookings_client():
    """A client whose delegated sign-in also carries the Bookings permissions (asked for only for Bookings)."""
    p = profile()
    if p is None:
        return None
    if p.auth == "client_credentials":
        return client()  # an app's token already holds what it was granted
    current = st.session_state.get("bookings_client")
    if current is not None and current.profile.key == p.key:
        return current
    from lib.graph import open_client
    from lib.graph.bookings import BOOKINGS_PERMISSIONS
    from lib.graph.signin import token_provider_with

    tokens = token_provider_with(p, BOOKINGS_PERMISSIONS, "bookings", on_device_code=_quiet if p.is_sandbox else None)
    current = open_client(p, tokens)
    st.session_state["bookings_client"] = current
    return current


def set_bookings_choice(business: str, service: str = "", staff: list[str] | None = None) -> None:
    """Remember where to book for this session (the next ``bookings_target`` reads it through Graph)."""
    st.session_state["bookings_choice"] = {"business": business, "service": service, "staff": list(staff or [])}
    st.session_state.pop("bookings_target", None)


def bookings_target():
    """The BookingsTarget for the active connection and choice, read through Graph once per choice.

    Without a chosen business, the sandbox's first business is used; on a real tenant a business must
    be chosen (raises ``BookingsChoiceError`` saying so). Raises GraphError/AuthError like ``client()``.
    """
    from lib.graph.bookings import BookingsChoiceError, choose_target, list_businesses

    c = bookings_client()
    choice = bookings_choice()
    key = (c.profile.key, repr(sorted(choice.items())))
    cached = st.session_state.get("bookings_target")
    if cached is not None and cached[0] == key:
        return cached[1]
    business = choice.get("business", "")
    if not business:
        found = list_businesses(c) if c.profile.is_sandbox else []
        if not found:
            raise BookingsChoiceError("Choose the booking business on the Connection page (Bookings flow).")
        business = found[0]["id"]
    target = choose_target(c, business, choice.get("service", ""), tuple(choice.get("staff") or ()))
    st.session_state["bookings_target"] = (key, target)
    return target


def is_sandbox() -> bool:
    p = profile()
    return bool(p is not None and p.is_sandbox)


def client():
    """The Graph client of the active connection, created on first use (raises AuthError/GraphError)."""
    p = profile()
    if p is None:
        return None
    current = st.session_state.get("graph_client")
    if current is not None and current.profile.key == p.key:
        return current
    # The sandbox approves device codes by itself; a real tenant signs in on the Connection page first.
    current = build_client(p, on_device_code=_quiet if p.is_sandbox else None)
    st.session_state["graph_client"] = current
    return current


def build_client(p, *, on_device_code=None, cancel=None):
    """A Graph client for profile ``p``: its sign-in and its pace. The one place the app builds one."""
    from lib.graph import open_client
    from lib.graph.signin import token_provider_for

    return open_client(p, token_provider_for(p, on_device_code=on_device_code, cancel=cancel), cancel=cancel)


def _quiet(flow: dict) -> None:
    """Nothing to show: the sandbox approves the code at once."""


def user_path(organizer: str = "") -> str:
    """``/me`` (signed in) or ``/users/{organizer}`` (app-only; the profile's organizer by default)."""
    from lib.model.flows import organizer_path

    p = profile()
    if p is None:
        return "/me"
    return organizer_path(p.auth, organizer or p.organizer)


def keep_widget_values(prefixes: tuple[str, ...]) -> None:
    """Let widget values survive a visit to another page (Streamlit forgets widgets it did not draw).

    Only plain value widgets use these prefixes; uploaders, editors and buttons have other keys.
    """
    for key in list(st.session_state.keys()):
        if isinstance(key, str) and key.startswith(prefixes):
            st.session_state[key] = st.session_state[key]


def browser_zone() -> str:
    """The browser's IANA time zone, or UTC when the browser did not say."""
    from zoneinfo import ZoneInfo

    zone = getattr(st.context, "timezone", None)
    if isinstance(zone, str) and zone:
        try:
            ZoneInfo(zone)
            return zone
        except Exception:  # an unknown name from an old browser
            pass
    return "UTC"
