"""The Connection page's "Where to book" box: booking businesses, their services and staff, read through Graph.

What is chosen goes to ``state.set_bookings_choice``; the designer and bulk pages book there.
"""

from __future__ import annotations

import threading

import streamlit as st

from lib.graph.bookings import BUSINESS_LIST_CAP, BookingsChoiceError, choose_target, list_businesses, list_services, \
    list_staff
from lib.graph.errors import GraphError
from lib.screens import connection_form
from lib.screens.background import BackgroundTask
from ui import messages, state


def read_once(key, reader):
    """What ``reader()`` returns, read once per signed-in client and key; a GraphError is kept and re-raised.

    Connecting again makes a new client, so a permission granted since is seen at once.
    """
    client = state.bookings_client() if state.is_sandbox() else state.client()
    cache = st.session_state.setdefault("cx_bookings_cache", {})
    held = cache.get(key)
    if held is None or held[0] is not client:
        try:
            held = cache[key] = (client, "ok", reader())
        except (GraphError, BookingsChoiceError) as exc:
            held = cache[key] = (client, "error", exc)
    _, kind, value = held
    if kind == "error":
        raise value
    return value


def where_to_book() -> None:
    """Search and choose the business, its service and (when the business allows it) staff; remember them."""
    p = state.profile()
    st.markdown("#### :material/storefront: Where to book")
    if p is None:
        st.info("Connect first: the booking businesses are read from the connection.", icon=":material/link_off:")
        return
    try:  # the sandbox approves a sign-in by itself: no need to ask for the Bookings permissions by hand
        client = state.bookings_client() if p.is_sandbox else state.client()
    except Exception as exc:  # AuthError / GraphError explain themselves
        messages.show_error(exc, what="The booking businesses cannot be read")
        return
    if connection_form.lacks_bookings_sign_in(client):
        st.info("This sign-in did not ask for the Bookings permissions (Bookings.Read.All, "
                "BookingsAppointment.ReadWrite.All). Sign in once more to add them; the meetings' sign-in stays "
                "as it is.", icon=":material/key:")
        if st.button("Sign in with the Bookings permissions", icon=":material/login:", type="primary",
                     disabled="cx_signin" in st.session_state):
            _sign_in_again(p)
        return
    query = st.text_input("Search businesses by name or address", key="cx_bk_query",
                          placeholder="contoso", help=connection_form.BUSINESS_LIST_NOTE)
    try:
        businesses = read_once(("businesses", query.strip()), lambda: list_businesses(client, query.strip()))
    except GraphError as exc:
        messages.show_error(connection_form.bookings_error(exc, p.auth), what="The booking businesses cannot be read")
        return
    if not businesses:
        st.warning(connection_form.no_businesses_message(query, p.auth), icon=":material/storefront:")
        return
    if len(businesses) >= BUSINESS_LIST_CAP:
        st.caption(f":material/info: {connection_form.BUSINESS_LIST_NOTE}")
    chosen = state.bookings_choice()
    ids = [b["id"] for b in businesses]
    names = {b["id"]: f"{b.get('displayName') or b['id']} ({b['id']})" for b in businesses}
    business = st.selectbox("Booking business", ids, format_func=names.get, key="cx_bk_business",
                            index=ids.index(chosen["business"]) if chosen.get("business") in ids else 0)
    try:
        services = read_once(("services", business), lambda: list_services(client, business))
    except GraphError as exc:
        messages.show_error(connection_form.bookings_error(exc, p.auth), what="The services cannot be read")
        return
    if not services:
        st.warning(f"{names[business]} has no services: add one in Microsoft Bookings, then reload this page.",
                   icon=":material/warning:")
        return
    service_ids = [s.id for s in services]
    labels = {s.id: s.label for s in services}
    service = st.selectbox("Service", service_ids, format_func=labels.get, key=f"cx_bk_service_{business}",
                           index=service_ids.index(chosen["service"]) if chosen.get("service") in service_ids else 0)
    try:
        target = read_once(("target", business, service), lambda: choose_target(client, business, service))
        allowed = target.rules is None or target.rules.allow_staff_selection
        staff = read_once(("staff", business), lambda: list_staff(client, business)) if allowed else []
    except (GraphError, BookingsChoiceError) as exc:
        messages.show_error(connection_form.bookings_error(exc, p.auth) if isinstance(exc, GraphError) else exc,
                            what="The business cannot be read")
        return
    picked: list[str] = []
    if allowed and staff:
        who = {m.id: f"{m.name} <{m.email}>" for m in staff}
        picked = st.multiselect("Staff (optional)", list(who), format_func=who.get, key=f"cx_bk_staff_{business}",
                                default=[s for s in chosen.get("staff") or [] if s in who],
                                help="Blank: Bookings assigns the appointment as the business is set up.")
    elif not allowed:
        st.caption(f":material/group_off: {names[business]} does not let bookings choose a staff member.")
    current = chosen.get("business") == business and chosen.get("service") == service and \
        list(chosen.get("staff") or []) == picked
    if st.button("Book here", icon=":material/check:", type="primary", disabled=current, key="cx_bk_use"):
        state.set_bookings_choice(business, service, picked)
        st.rerun()
    if current:
        st.success(f"Bookings go to **{names[business]}**, service **{labels[service]}**"
                   + (f", staff {len(picked)} chosen" if picked else "") + ".", icon=":material/event_available:")


def _sign_in_again(p) -> None:
    """The same connection with Bookings permissions, signed in through the page's device-code box."""
    from lib.graph import open_client

    shown: dict = {}
    cancel = threading.Event()

    def connect(p=p, shown=shown, cancel=cancel):
        tokens = connection_form.bookings_token_provider(p, on_device_code=shown.update, cancel=cancel)
        client = open_client(p, tokens, cancel=cancel)
        return client, client.whoami()

    st.session_state.pop("cx_test", None)
    st.session_state.pop("cx_bookings_cache", None)
    st.session_state["cx_signin"] = (BackgroundTask(connect, name="sign-in").start(), shown, cancel, p)
    st.rerun()
