"""Guessing which column holds which field, for the exports people really have."""

from __future__ import annotations

from pathlib import Path

import pytest

from lib.spreadsheet.columns import FIELD_KEYS, FIELDS, auto_map, mapping_key, missing_required, normalise
from lib.spreadsheet.read import read_table

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def headers_of(name: str) -> list[str]:
    return read_table((FIXTURES / name).read_bytes(), name).headers


def matched(mapping: dict) -> dict:
    return {k: v for k, v in mapping.items() if v}


def test_fields_are_ordered_and_each_asks_a_plain_question():
    assert [f.key for f in FIELDS] == [
        "email", "name", "first_name", "last_name", "phone", "start", "date", "time", "end", "duration",
        "subject", "time_zone", "organizer", "appointment_id", "appointment_url", "browser_join"]
    assert all(f.label and f.question.startswith("Which column") and f.question.endswith("?") for f in FIELDS)
    assert [f.key for f in FIELDS if f.required] == ["email"]


def test_the_mapping_has_every_field_key_even_when_nothing_matches():
    mapping = auto_map(["Colour", "Size"])
    assert set(mapping) == set(FIELD_KEYS) and not matched(mapping)


def test_matching_ignores_case_spaces_punctuation_and_accents():
    assert normalise(" E-mail  Address ") == "emailaddress" and normalise("Téléphone") == "telephone"
    mapping = auto_map(["EMAIL_ADDRESS", "full-name", "Téléphone", "start date/time"])
    assert matched(mapping) == {"email": "EMAIL_ADDRESS", "name": "full-name", "phone": "Téléphone",
                                "start": "start date/time"}


def test_outlook_contacts_export_maps_first_last_email_and_mobile():
    mapping = auto_map(headers_of("outlook_contacts.csv"))
    assert matched(mapping) == {"first_name": "First Name", "last_name": "Last Name", "email": "E-mail Address",
                                "phone": "Mobile Phone"}


def test_outlook_mobile_wins_over_business_and_home_phones():
    mapping = auto_map(["Business Phone", "Home Phone", "Mobile Phone", "E-mail Address"])
    assert mapping["phone"] == "Mobile Phone"
    assert auto_map(["Business Phone", "Home Phone", "E-mail Address"])["phone"] == "Business Phone"


def test_google_contacts_export_maps_name_and_the_first_email_and_phone():
    mapping = auto_map(headers_of("google_contacts.csv"))
    assert matched(mapping) == {"name": "Name", "first_name": "Given Name", "last_name": "Family Name",
                                "email": "E-mail 1 - Value", "phone": "Phone 1 - Value",
                                "subject": "Subject"}  # Google's own (usually empty) Subject column


def test_newer_google_contacts_export_maps_first_and_last_name_but_not_phonetic_ones():
    mapping = auto_map(headers_of("google_contacts_new.csv"))
    assert matched(mapping) == {"first_name": "First Name", "last_name": "Last Name",
                                "email": "E-mail 1 - Value", "phone": "Phone 1 - Value"}


def test_calendly_export_maps_invitee_fields_and_start_and_end_but_not_the_invitee_time_zone():
    mapping = auto_map(headers_of("calendly_export.csv"))
    assert matched(mapping) == {
        "name": "Invitee Name", "first_name": "Invitee First Name", "last_name": "Invitee Last Name",
        "email": "Invitee Email", "phone": "Text Reminder Number", "subject": "Event Type Name",
        "start": "Start Date & Time", "end": "End Date & Time"}


def test_acuity_export_maps_start_time_as_a_full_start_and_the_appointment_id():
    mapping = auto_map(headers_of("acuity_export.csv"))
    assert matched(mapping) == {
        "start": "Start Time", "end": "End Time", "first_name": "First Name", "last_name": "Last Name",
        "phone": "Phone", "email": "Email", "subject": "Type", "appointment_id": "Appointment ID"}


def test_a_bookings_like_export_maps_date_time_duration_customer_and_booking_id():
    mapping = auto_map(headers_of("bookings_export.csv"))
    assert matched(mapping) == {
        "date": "Date", "time": "Time", "duration": "Duration (minutes)", "name": "Customer Name",
        "email": "Customer Email", "phone": "Client Phone", "subject": "Service Name", "appointment_id": "Booking ID"}


def test_start_time_next_to_a_date_column_is_the_time_of_day():
    mapping = auto_map(["Date", "Start Time", "End Time", "Customer Email"])
    assert mapping["date"] == "Date" and mapping["time"] == "Start Time" and mapping["start"] is None


def test_plain_hand_made_headers_map_every_field():
    headers = ["Email", "Name", "First", "Last", "Phone", "Start", "Date", "Time", "End", "Duration", "Subject",
               "Time Zone", "Organizer", "Appointment ID", "Appointment URL", "Browser Join"]
    assert auto_map(headers) == dict(zip(FIELD_KEYS, headers))


@pytest.mark.parametrize("header, key", [
    ("Customer Email", "email"), ("Invitee Email", "email"), ("E-mail", "email"), ("Client E-mail Address", "email"),
    ("Email of the client", "email"), ("Client Phone", "phone"), ("Cell", "phone"), ("SMS number", "phone"),
    ("Customer Name", "name"), ("Invitee Name", "name"), ("Surname", "last_name"), ("Given Name", "first_name"),
    ("Start Date & Time", "start"), ("Date/Time", "start"), ("Appointment Date", "date"), ("Duration (min)", "duration"),
    ("Length", "duration"), ("Event Type Name", "subject"), ("Service", "subject"), ("Timezone", "time_zone"),
    ("Booking ID", "appointment_id"), ("Organiser email", "organizer"), ("Booking Link", "appointment_url"),
    ("Allow browser join", "browser_join"),
])
def test_common_header_names_map_to_their_field(header, key):
    assert auto_map([header])[key] == header


@pytest.mark.parametrize("header", ["E-mail Display Name", "E-mail Type", "Phone 1 - Type", "Date Scheduled",
                                    "Event Created Date & Time", "Invitee Time Zone", "Title", "Notes", "Company"])
def test_lookalike_columns_are_left_unmatched(header):
    assert not matched(auto_map([header]))


def test_each_header_is_used_once_and_the_best_match_wins():
    mapping = auto_map(["Email 2", "Email"])
    assert mapping["email"] == "Email"
    mapping = auto_map(["Name", "Client"])  # both are names; the better one wins, the other stays free
    assert mapping["name"] == "Name" and list(mapping.values()).count("Name") == 1


def test_empty_headers_are_ignored():
    assert matched(auto_map(["", "  ", "Email"])) == {"email": "Email"}


def test_missing_required_asks_for_the_email_column_in_plain_words():
    assert missing_required(auto_map(["Colour", "Size"])) == [
        "Which column holds the client's email (or mobile phone number)?"]
    assert missing_required(auto_map(["Email"])) == []


def test_a_phone_column_is_enough_when_there_is_no_email_column():
    assert missing_required(auto_map(["Name", "Mobile"])) == []


def test_the_mapping_key_is_the_same_for_the_same_headers_in_any_order_or_spelling():
    assert mapping_key(["Name", "E-mail"]) == mapping_key(["email", "NAME"])
    assert mapping_key(["Name", "Email"]) != mapping_key(["Name", "Email", "Phone"])
    assert mapping_key(["Name"]).startswith("cols-")


# -- headers in the languages of the people who use the app -------------------------------------------
@pytest.mark.parametrize("headers, expected, language", [
    (["Nom", "Prénom", "Courriel", "Portable", "Date", "Heure", "Durée", "Objet", "Fuseau horaire", "Référence"],
     {"last_name": "Nom", "first_name": "Prénom", "email": "Courriel", "phone": "Portable", "date": "Date",
      "time": "Heure", "duration": "Durée", "subject": "Objet", "time_zone": "Fuseau horaire",
      "appointment_id": "Référence"}, "fr"),
    (["Vorname", "Nachname", "E-Mail-Adresse", "Handy", "Datum", "Uhrzeit", "Ende", "Betreff", "Zeitzone", "Termin-ID"],
     {"first_name": "Vorname", "last_name": "Nachname", "email": "E-Mail-Adresse", "phone": "Handy", "date": "Datum",
      "time": "Uhrzeit", "end": "Ende", "subject": "Betreff", "time_zone": "Zeitzone", "appointment_id": "Termin-ID"},
     "de"),
    (["Nombre", "Apellidos", "Correo electrónico", "Teléfono móvil", "Fecha", "Hora", "Duración", "Asunto"],
     {"first_name": "Nombre", "last_name": "Apellidos", "email": "Correo electrónico", "phone": "Teléfono móvil",
      "date": "Fecha", "time": "Hora", "duration": "Duración", "subject": "Asunto"}, "es"),
    (["Nome", "Cognome", "Indirizzo email", "Cellulare", "Data", "Ora", "Inizio", "Durata"],
     {"first_name": "Nome", "last_name": "Cognome", "email": "Indirizzo email", "phone": "Cellulare", "date": "Data",
      "time": "Ora", "start": "Inizio", "duration": "Durata"}, "it"),
    (["Voornaam", "Achternaam", "E-mailadres", "Mobiel", "Datum", "Tijd", "Duur", "Onderwerp", "Tijdzone"],
     {"first_name": "Voornaam", "last_name": "Achternaam", "email": "E-mailadres", "phone": "Mobiel", "date": "Datum",
      "time": "Tijd", "duration": "Duur", "subject": "Onderwerp", "time_zone": "Tijdzone"}, "nl"),
    (["Nome completo", "E-mail", "Telemóvel", "Data e hora", "Fim", "Assunto", "Fuso horário"],
     {"name": "Nome completo", "email": "E-mail", "phone": "Telemóvel", "start": "Data e hora", "end": "Fim",
      "subject": "Assunto", "time_zone": "Fuso horário"}, "pt"),
    (["Name", "Email", "Mobile", "Date", "Time"],
     {"name": "Name", "email": "Email", "phone": "Mobile", "date": "Date", "time": "Time"}, None),
])
def test_headers_in_seven_languages_match_case_and_accent_insensitively(headers, expected, language):
    from lib.spreadsheet.columns import header_language

    assert matched(auto_map(headers)) == expected
    assert header_language(headers) == language
    shouted = [h.upper() for h in headers]
    assert matched(auto_map(shouted)) == {k: v.upper() for k, v in expected.items()}


def test_a_bare_name_beside_a_first_name_is_the_family_name():
    assert matched(auto_map(["Vorname", "Name", "E-Mail"])) == {"first_name": "Vorname", "last_name": "Name",
                                                                "email": "E-Mail"}
