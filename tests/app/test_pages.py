"""Every page opens without an exception and says what it is for, with the Sandbox badge."""

from __future__ import annotations

import pytest

from tests.app.driver import PAGES, assert_clean, button, open_app, texts


@pytest.mark.parametrize("page", PAGES)
def test_every_page_opens_without_exception_and_shows_the_sandbox_badge(page):
    at = open_app(page)
    assert_clean(at)
    assert not at.error, [e.value for e in at.error]
    assert "Sandbox" in texts(at)  # the badge, on the page itself
    assert any("Sandbox" in str(m.value) for m in at.sidebar.get("markdown"))  # and in the sidebar


def test_the_sidebar_shows_the_sandbox_badge_and_the_connection():
    at = open_app()
    said = [str(m.value) for m in at.sidebar.get("markdown")] + [str(c.value) for c in at.sidebar.get("caption")]
    assert any("Sandbox" in s for s in said)
    assert any("virtual-appointment" in s for s in said)


def test_home_offers_the_two_doors_and_the_sample():
    at = open_app()
    labels = [b.label for b in at.button]
    assert "Create from a spreadsheet" in labels and "Design one appointment" in labels
    assert "Try with sample clients" in labels


def test_try_with_sample_clients_opens_the_bulk_page_filled_in():
    at = open_app()
    button(at, "Try with sample clients").click().run()
    assert_clean(at)
    said = texts(at)
    assert "sample-clients.csv" in said and "**12 ready**" in said
    assert button(at, "Create ").label == "Create 11 appointments"
    # Why 12 ready rows make 11 appointments: two rows share an appointment id.
    assert "rows 5, 6 share the appointment id BK-1004, so they are one appointment with 2 clients" in said


def test_empty_states_say_what_will_appear_and_how():
    at = open_app("pages/bulk.py")
    assert "Try with sample clients" in texts(at)
