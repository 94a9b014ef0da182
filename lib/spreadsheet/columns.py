"""Which spreadsheet column holds which appointment field, guessed from the header names.

The guesses cover the exports people really have: Outlook and Google contacts, scheduling systems
(Calendly, Acuity, Bookings-like), and plain hand-made sheets. Matching ignores case, spaces and
punctuation; each header is used at most once and the best match wins. The caller can override any
of it (the app shows a dropdown per field).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    key: str
    label: str  # for people
    question: str  # asked when no column matches
    required: bool = False
    help: str = ""


FIELDS: tuple[Field, ...] = (
    Field("email", "Client email", "Which column holds the client's email?", True,
          "Needed unless the row has a mobile phone number."),
    Field("name", "Client name", "Which column holds the client's full name?"),
    Field("first_name", "First name", "Which column holds the client's first name?"),
    Field("last_name", "Last name", "Which column holds the client's last name?"),
    Field("phone", "Mobile phone", "Which column holds the client's mobile phone number?", False,
          "For text-message (SMS) invitations; written in any common format."),
    Field("start", "Start (date and time)", "Which column holds the appointment's start date and time?"),
    Field("date", "Date", "Which column holds the appointment date?"),
    Field("time", "Start time", "Which column holds the appointment's start time?"),
    Field("end", "End time", "Which column holds the appointment's end time?"),
    Field("duration", "Length (minutes)", "Which column holds the appointment's length in minutes?"),
    Field("subject", "Subject", "Which column holds the appointment's subject or type?"),
    Field("time_zone", "Time zone", "Which column holds the time zone (such as America/New_York)?"),
    Field("organizer", "Organizer", "Which column holds the organizer's sign-in address?"),
    Field("appointment_id", "Appointment ID", "Which column holds the appointment or booking ID?", False,
          "Rows with the same ID become one appointment with several clients."),
    Field("appointment_url", "Appointment link", "Which column holds the link to the booking in your system?"),
    Field("browser_join", "Join in browser", "Which column says whether clients may join in a web browser?"),
)
FIELD_BY_KEY: dict[str, Field] = {f.key: f for f in FIELDS}
FIELD_KEYS: tuple[str, ...] = tuple(f.key for f in FIELDS)

# Header names per field, best first. Compared after normalise(): lower case, letters and digits only.
_SYNONYMS: dict[str, tuple[str, ...]] = {
    "email": (
        "email", "e-mail", "email address", "e-mail address", "emailaddress", "mail", "e-mail 1 - value",
        "email 1 - value", "client email", "customer email", "invitee email", "patient email", "contact email",
        "attendee email", "guest email", "participant email", "primary email", "email 1", "email address 1",
        "work email", "business email", "personal email", "home email", "e-mail 2 address", "e-mail 2 - value",
        "courriel", "e-mail adresse",
    ),
    "phone": (
        "mobile", "mobile phone", "mobile number", "mobile phone number", "cell", "cell phone", "cellphone",
        "cell number", "sms", "sms number", "sms phone", "text reminder number", "phone", "phone number",
        "telephone", "tel", "client phone", "customer phone", "invitee phone", "patient phone", "contact phone",
        "attendee phone", "client mobile", "customer mobile", "phone 1 - value", "primary phone",
        "business phone", "work phone", "home phone", "phone 2 - value", "business phone 2", "other phone",
    ),
    "name": (
        "name", "full name", "client name", "customer name", "invitee name", "patient name", "contact name",
        "attendee name", "guest name", "participant name", "display name", "client", "customer", "attendee",
        "contact", "patient", "invitee", "guest",
    ),
    "first_name": (
        "first name", "given name", "firstname", "first", "forename", "invitee first name",
        "customer first name", "client first name", "patient first name", "contact first name",
    ),
    "last_name": (
        "last name", "family name", "surname", "lastname", "last", "invitee last name", "customer last name",
        "client last name", "patient last name", "contact last name",
    ),
    "start": (
        "start", "start date & time", "start date and time", "start datetime", "start date time",
        "start date/time", "starts", "starts at", "start at", "appointment date & time", "appointment datetime",
        "appointment start", "meeting start", "event start", "booking start", "date & time", "date and time",
        "datetime", "date time", "date/time", "when", "start time",
    ),
    "date": (
        "date", "appointment date", "start date", "meeting date", "booking date", "event date", "day",
        "visit date",
    ),
    "time": (
        "time", "appointment time", "meeting time", "booking time", "event time", "visit time", "hour",
    ),
    "end": (
        "end", "end time", "end date & time", "end date and time", "end datetime", "end date time",
        "end date/time", "ends", "ends at", "end at", "finish", "finish time", "appointment end", "meeting end",
    ),
    "duration": (
        "duration", "duration (minutes)", "duration (min)", "duration (mins)", "duration minutes",
        "duration in minutes", "length", "length (minutes)", "length (min)", "minutes", "mins",
        "appointment length", "appointment duration", "meeting length", "meeting duration",
    ),
    "subject": (
        "subject", "meeting subject", "appointment subject", "meeting title", "appointment title", "event title",
        "topic", "event type name", "event type", "appointment type", "service", "service name", "event name",
        "meeting name", "appointment name", "reason", "reason for visit", "purpose", "type",
    ),
    "time_zone": (
        "time zone", "timezone", "tz", "time zone (iana)", "iana time zone", "zone", "appointment time zone",
        "meeting time zone",
    ),
    "organizer": (
        "organizer", "organiser", "organizer email", "organiser email", "organizer upn", "host email",
        "staff email", "organizer id", "host upn",
    ),
    "appointment_id": (
        "appointment id", "booking id", "appointment key", "external appointment id", "external id",
        "appointment number", "booking number", "booking reference", "appointment reference", "confirmation number",
        "confirmation code", "reservation id", "event id", "meeting key", "group", "group id", "id",
    ),
    "appointment_url": (
        "appointment url", "appointment link", "booking url", "booking link", "external appointment url",
        "appointment page", "booking page", "url", "link",
    ),
    "browser_join": (
        "browser join", "allow browser join", "join in browser", "join from browser", "join using browser",
        "allow client to join using browser", "allowclienttojoinusingbrowser", "browser",
    ),
}

# The same fields in the languages of the people who use the app, compared the same way (case and
# accents ignored). A header found only here also tells the check the file's language (see dates.py).
_FOREIGN: dict[str, dict[str, tuple[str, ...]]] = {
    "fr": {
        "email": ("courriel", "adresse e-mail", "adresse email", "adresse courriel", "adresse mail", "mel"),
        "phone": ("portable", "telephone portable", "tel portable", "numero de portable", "mobile", "cellulaire",
                  "gsm", "telephone", "tel", "numero de telephone"),
        "name": ("nom", "nom complet", "nom et prenom", "nom prenom", "nom du client", "nom du patient"),
        "first_name": ("prenom",),
        "last_name": ("nom de famille",),
        "date": ("date du rendez-vous", "date rdv", "date de rendez-vous", "date de debut", "jour"),
        "time": ("heure", "heure du rendez-vous", "heure rdv", "heure de debut"),
        "start": ("debut", "date et heure", "date et heure de debut", "rendez-vous"),
        "end": ("fin", "heure de fin", "date et heure de fin"),
        "duration": ("duree", "duree (minutes)", "duree (min)", "duree en minutes"),
        "subject": ("objet", "sujet", "motif", "titre", "type de rendez-vous", "prestation"),
        "time_zone": ("fuseau horaire", "fuseau"),
        "appointment_id": ("id rendez-vous", "identifiant du rendez-vous", "numero de rendez-vous",
                           "numero de reservation", "reference", "identifiant"),
    },
    "de": {
        "email": ("e-mail-adresse", "email-adresse", "mail-adresse", "e-mail adresse"),
        "phone": ("handy", "handynummer", "mobil", "mobilnummer", "mobiltelefon", "mobilfunknummer", "telefon",
                  "telefonnummer"),
        "name": ("vollstandiger name", "kundenname", "kunde", "patientenname"),
        "first_name": ("vorname",),
        "last_name": ("nachname", "familienname"),
        "date": ("datum", "termindatum", "termin datum", "tag"),
        "time": ("uhrzeit", "zeit", "terminzeit", "beginn uhrzeit"),
        "start": ("beginn", "termin", "datum und uhrzeit", "termin beginn", "terminbeginn"),
        "end": ("ende", "endzeit", "terminende", "bis"),
        "duration": ("dauer", "dauer (minuten)", "dauer (min)", "dauer in minuten", "minuten"),
        "subject": ("betreff", "thema", "titel", "grund", "terminart", "leistung"),
        "time_zone": ("zeitzone",),
        "appointment_id": ("termin-id", "terminnummer", "buchungsnummer", "referenz", "termin id"),
    },
    "es": {
        "email": ("correo", "correo electronico", "email del cliente", "direccion de correo"),
        "phone": ("movil", "telefono movil", "celular", "numero de movil", "telefono", "numero de telefono"),
        "name": ("nombre completo", "nombre y apellidos", "cliente", "paciente", "nombre del cliente"),
        "first_name": ("nombre",),
        "last_name": ("apellido", "apellidos"),
        "date": ("fecha", "fecha de la cita", "fecha cita", "dia"),
        "time": ("hora", "hora de la cita", "hora cita", "hora de inicio"),
        "start": ("inicio", "fecha y hora", "comienzo"),
        "end": ("fin", "hora de fin", "hora final", "final"),
        "duration": ("duracion", "duracion (minutos)", "duracion (min)", "minutos"),
        "subject": ("asunto", "motivo", "titulo", "servicio", "tipo de cita"),
        "time_zone": ("zona horaria",),
        "appointment_id": ("id de cita", "id cita", "numero de cita", "numero de reserva", "referencia"),
    },
    "it": {
        "email": ("posta elettronica", "indirizzo email", "indirizzo e-mail"),
        "phone": ("cellulare", "telefono cellulare", "numero di cellulare", "telefono", "numero di telefono"),
        "name": ("nome completo", "nome e cognome", "paziente", "nominativo"),
        "first_name": ("nome",),
        "last_name": ("cognome",),
        "date": ("data", "data appuntamento", "data dell'appuntamento", "giorno"),
        "time": ("ora", "orario", "ora appuntamento", "ora di inizio"),
        "start": ("inizio", "data e ora", "data e ora di inizio"),
        "end": ("fine", "ora di fine", "ora fine"),
        "duration": ("durata", "durata (minuti)", "durata (min)", "minuti"),
        "subject": ("oggetto", "titolo", "servizio", "tipo di appuntamento"),
        "time_zone": ("fuso orario",),
        "appointment_id": ("id appuntamento", "numero appuntamento", "numero prenotazione", "riferimento"),
    },
    "nl": {
        "email": ("e-mailadres", "emailadres", "mailadres"),
        "phone": ("mobiel", "mobiel nummer", "mobiele telefoon", "mobiel telefoonnummer", "telefoon",
                  "telefoonnummer"),
        "name": ("naam", "volledige naam", "klant", "klantnaam"),
        "first_name": ("voornaam",),
        "last_name": ("achternaam",),
        "date": ("afspraakdatum", "datum afspraak", "dag"),
        "time": ("tijd", "tijdstip", "begintijd", "aanvangstijd"),
        "start": ("begin", "aanvang", "datum en tijd"),
        "end": ("einde", "eindtijd", "tot"),
        "duration": ("duur", "duur (minuten)", "duur (min)"),
        "subject": ("onderwerp", "reden", "dienst", "soort afspraak"),
        "time_zone": ("tijdzone",),
        "appointment_id": ("afspraak-id", "afspraaknummer", "boekingsnummer", "referentie"),
    },
    "pt": {
        "email": ("correio eletronico", "endereco de email", "endereco de e-mail"),
        "phone": ("telemovel", "celular", "telefone celular", "numero de telemovel", "telefone",
                  "numero de telefone"),
        "name": ("nome completo", "paciente", "nome do cliente"),
        "last_name": ("sobrenome", "apelido"),
        "date": ("data da consulta", "data do agendamento", "dia"),
        "time": ("hora", "horario", "hora de inicio"),
        "start": ("inicio", "data e hora"),
        "end": ("fim", "hora de fim", "termino"),
        "duration": ("duracao", "duracao (minutos)", "duracao (min)", "minutos"),
        "subject": ("assunto", "motivo", "titulo", "servico"),
        "time_zone": ("fuso horario",),
        "appointment_id": ("id da consulta", "numero da marcacao", "numero de reserva", "referencia"),
    },
}

# Words a scheduling system puts before a field name ("Customer Email", "Invitee Phone").
_PREFIXES = ("client", "customer", "invitee", "patient", "contact", "attendee", "guest", "participant",
             "primary", "your", "appointment", "booking", "meeting")


def normalise(header: str) -> str:
    """'E-mail Address' -> 'emailaddress': lower case, accents off, letters and digits only, & as 'and'."""
    text = unicodedata.normalize("NFKD", str(header)).encode("ascii", "ignore").decode("ascii").lower()
    text = text.replace("&", "and")
    return re.sub(r"[^a-z0-9]+", "", text)


_EXACT: dict[str, list[tuple[str, int]]] = {}
for _key, _names in _SYNONYMS.items():
    for _rank, _name in enumerate(_names):
        _EXACT.setdefault(normalise(_name), []).append((_key, _rank))
_ENGLISH = set(_EXACT)
_LANGUAGE_OF: dict[str, set[str]] = {}  # normalised header -> the languages it is a word of (English excluded)
for _language, _fields in _FOREIGN.items():
    for _key, _names in _fields.items():
        for _rank, _name in enumerate(_names):
            _norm = normalise(_name)
            if _key not in {k for k, _ in _EXACT.get(_norm, ())}:
                _EXACT.setdefault(_norm, []).append((_key, 10 + _rank))  # after the English names
            if _norm not in _ENGLISH:
                _LANGUAGE_OF.setdefault(_norm, set()).add(_language)


def header_language(headers: list[str]) -> str | None:
    """The language ("fr", "de", ...) most headers are written in, when some are not English; else None."""
    votes: dict[str, int] = {}
    for header in headers:
        for language in _LANGUAGE_OF.get(normalise(header or ""), ()):
            votes[language] = votes.get(language, 0) + 1
    return max(sorted(votes), key=votes.get) if votes else None


def _candidates(header: str) -> list[tuple[float, str]]:
    """(score, field key) guesses for one header, best first; empty when nothing fits."""
    norm = normalise(header)
    if not norm:
        return []
    found: dict[str, float] = {}

    def offer(key: str, score: float) -> None:
        if score > found.get(key, 0):
            found[key] = score

    for key, rank in _EXACT.get(norm, ()):
        offer(key, 100 - rank)
    # "Client Email Address", "Customer Mobile Number", "Email 2": strip a prefix or a trailing digit.
    stripped = norm
    for prefix in _PREFIXES:
        if stripped.startswith(prefix) and len(stripped) > len(prefix) + 2:
            stripped = stripped[len(prefix):]
            break
    for variant in {stripped, re.sub(r"\d+$", "", stripped), re.sub(r"\d+$", "", norm)}:
        if variant and variant != norm:
            for key, rank in _EXACT.get(variant, ()):
                if key != "time_zone":  # "Invitee Time Zone" is the client's zone, not the one the times are in
                    offer(key, 60 - rank / 2)
    # Loose words, for headers nobody listed ("Email of the client", "Mobile no.").
    if not found:
        noisy = any(w in norm for w in ("type", "label", "display", "status", "verified", "optin", "consent"))
        if not noisy:
            if "email" in norm or norm.endswith("mail"):
                offer("email", 30)
            elif any(w in norm for w in ("mobile", "phone", "cell", "sms")):
                offer("phone", 29)
    return sorted(((s, k) for k, s in found.items()), reverse=True)


def header_matches(header: str) -> bool:
    """True when a header names a known field: used to find the header row in a sheet."""
    return bool(_candidates(header))


def auto_map(headers: list[str]) -> dict[str, str | None]:
    """Field key -> header (or None) for every field in FIELDS; each header is used once, best match wins."""
    options: list[tuple[float, int, str, str]] = []
    for position, header in enumerate(headers):
        if header is None or not str(header).strip():
            continue
        for score, key in _candidates(header):
            options.append((score, -position, key, header))
    options.sort(reverse=True)
    mapping: dict[str, str | None] = {key: None for key in FIELD_KEYS}
    used: set[str] = set()
    for score, _, key, header in options:
        if mapping[key] is None and header not in used:
            mapping[key] = header
            used.add(header)
    _tidy(mapping, headers)
    return mapping


def _tidy(mapping: dict[str, str | None], headers: list[str]) -> None:
    """Fix the combinations header names alone get wrong."""
    # Acuity-style "Start Time" next to a "Date" column is the time of day, not a full date-time.
    if mapping["start"] and mapping["date"] and not mapping["time"]:
        if normalise(mapping["start"]) in ("starttime", "time", "appointmenttime"):
            mapping["time"], mapping["start"] = mapping["start"], None
    # "Vorname" + "Name", "Prénom" + "Nom": beside a first name, a bare "name" column is the family name.
    if mapping["first_name"] and mapping["name"] and not mapping["last_name"]:
        if normalise(mapping["name"]) in ("name", "nom", "naam"):
            mapping["last_name"], mapping["name"] = mapping["name"], None
    # "Name" plus First/Last: keep all three; the check prefers the full name.


def missing_required(mapping: dict[str, str | None]) -> list[str]:
    """The questions to ask for required fields with no column; a phone column can stand in for email."""
    questions = []
    for f in FIELDS:
        if not f.required or mapping.get(f.key):
            continue
        if f.key == "email" and mapping.get("phone"):
            continue
        if f.key == "email":
            questions.append("Which column holds the client's email (or mobile phone number)?")
        else:
            questions.append(f.question)
    return questions


def mapping_key(headers: list[str]) -> str:
    """A stable key for a set of headers, to remember the user's mapping for files shaped the same way."""
    names = sorted(normalise(h) or str(h).strip().lower() for h in headers if h is not None and str(h).strip())
    return "cols-" + hashlib.sha256("\x1f".join(names).encode("utf-8")).hexdigest()[:16]


def describe(mapping: dict[str, str | None]) -> list[tuple[Field, str | None]]:
    """(field, header) pairs in FIELDS order, for a mapping table."""
    return [(f, mapping.get(f.key)) for f in FIELDS]
