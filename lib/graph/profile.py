"""Connection profiles (contract.md §3): which cloud, tenant, app and sign-in a run uses.

A profile is validated field by field when it is read, so a mistake is reported as "field: what is
wrong and how to fix it" before anything is sent. The secret itself is never part of the repr.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from lib.graph.clouds import CLOUD_NAMES, CLOUDS, SANDBOX
from lib.model.ids import is_guid

AUTH_KINDS = ("client_credentials", "device_code")
FIELDS = ("name", "cloud", "graph_base_url", "authority", "tenant_id", "client_id", "auth", "client_secret",
          "client_secret_env", "organizer", "ca_bundle")
OPTIONAL_FIELDS = ("max_requests_per_second", "bookings")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TENANT_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]{2,}$")  # contoso.onmicrosoft.com


class ProfileError(ValueError):
    """A connection profile that cannot be used; ``field`` names the culprit ("" for the file)."""

    def __init__(self, field_name: str, message: str):
        super().__init__(f"{field_name}: {message}" if field_name else message)
        self.field = field_name
        self.message = message


@dataclass
class Profile:
    """One connection: the contract's fields plus an optional request-rate ceiling."""

    name: str
    cloud: str
    graph_base_url: str
    authority: str
    tenant_id: str
    client_id: str
    auth: str
    client_secret: str = field(default="", repr=False)
    client_secret_env: str = ""
    organizer: str = ""
    ca_bundle: str = ""
    max_requests_per_second: float | None = None
    bookings: dict = field(default_factory=dict)  # {"business", "service", "staff"} for the bookings flow

    # -- reading --------------------------------------------------------------------------------
    @classmethod
    def load(cls, path: str | os.PathLike) -> "Profile":
        """Read and validate a profile JSON file; a relative ``ca_bundle`` is relative to the file."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            raise ProfileError("", f"connection profile {path} does not exist; check the path") from None
        except OSError as exc:
            raise ProfileError("", f"cannot read connection profile {path}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise ProfileError("", f"{path} is not a text file; a connection profile is JSON") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProfileError("", f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: "
                                   f"{exc.msg}); a connection profile looks like "
                                   '{"cloud": "global", "tenant_id": "...", "client_id": "...", '
                                   '"auth": "device_code"}') from None
        return cls.from_dict(data, base_dir=path.parent)

    @classmethod
    def from_dict(cls, d: dict, *, base_dir: str | os.PathLike | None = None) -> "Profile":
        """Validate a profile document; fills the Graph URL and authority of real clouds when omitted."""
        if not isinstance(d, dict):
            raise ProfileError("", "a connection profile must be a JSON object with cloud, tenant_id, "
                                   "client_id and auth")
        _check_unknown(d)
        get = lambda name: _text(d, name)  # noqa: E731

        cloud = get("cloud").lower()
        if not cloud:
            raise ProfileError("cloud", f"missing; choose one of {', '.join(CLOUD_NAMES)}")
        if cloud not in CLOUD_NAMES:
            raise ProfileError("cloud", f"unknown cloud {cloud!r}; choose one of {', '.join(CLOUD_NAMES)}")

        auth = get("auth").lower()
        if not auth:
            raise ProfileError("auth", "missing; use \"device_code\" (sign in as a person) or "
                                       "\"client_credentials\" (an app with a client secret)")
        if auth not in AUTH_KINDS:
            raise ProfileError("auth", f"unknown sign-in kind {auth!r}; use \"device_code\" (sign in as a person) "
                                       "or \"client_credentials\" (an app with a client secret)")

        tenant_id = get("tenant_id")
        if not tenant_id:
            raise ProfileError("tenant_id", "missing; copy the Directory (tenant) ID from Entra admin center → "
                                            "Overview, or use your domain such as contoso.onmicrosoft.com")
        if not (is_guid(tenant_id) or _TENANT_NAME.match(tenant_id)
                or tenant_id.lower() in ("organizations", "common") or cloud == SANDBOX):
            raise ProfileError("tenant_id", f"{tenant_id!r} is neither a tenant id (a GUID) nor a domain name "
                                            "such as contoso.onmicrosoft.com")
        if auth == "client_credentials" and tenant_id.lower() in ("organizations", "common"):
            raise ProfileError("tenant_id", f"{tenant_id!r} cannot be used with client_credentials; an app signs in "
                                            "to one tenant: use its Directory (tenant) ID")

        client_id = get("client_id")
        if not client_id:
            raise ProfileError("client_id", "missing; copy the Application (client) ID from Entra admin center → "
                                            "App registrations → your app → Overview")
        if cloud != SANDBOX and not is_guid(client_id):
            raise ProfileError("client_id", f"{client_id!r} is not an Application (client) ID, which looks like "
                                            "00000000-0000-0000-0000-000000000000")

        graph_base_url, authority = _endpoints(cloud, tenant_id, get("graph_base_url"), get("authority"))

        organizer = get("organizer")
        if auth == "client_credentials" and not organizer:
            raise ProfileError("organizer", "required with client_credentials: the object id (or UPN) of the user "
                                            "whose meetings the app creates; find it in Entra admin center → Users")
        if organizer and not is_guid(organizer) and "@" not in organizer:
            raise ProfileError("organizer", f"{organizer!r} is neither a user object id (a GUID) nor a user "
                                            "principal name such as ana@contoso.com")

        client_secret, secret_env = _secret_fields(d, auth)
        ca_bundle = _ca_bundle(get("ca_bundle"), base_dir)
        rate = _rate(d.get("max_requests_per_second"))
        bookings = _bookings(d.get("bookings"))

        name = get("name") or f"{cloud} {auth.replace('_', ' ')}"
        return cls(name=name, cloud=cloud, graph_base_url=graph_base_url, authority=authority, tenant_id=tenant_id,
                   client_id=client_id, auth=auth, client_secret=client_secret, client_secret_env=secret_env,
                   organizer=organizer, ca_bundle=ca_bundle, max_requests_per_second=rate, bookings=bookings)

    # -- using ----------------------------------------------------------------------------------
    def secret(self) -> str:
        """The client secret: the environment variable named by ``client_secret_env`` first, then the profile."""
        if self.client_secret_env:
            value = os.environ.get(self.client_secret_env, "")
            if value:
                return value
        if self.client_secret:
            return self.client_secret
        if self.client_secret_env:
            raise ProfileError("client_secret_env",
                               f"the environment variable {self.client_secret_env} is not set; set it to the client "
                               f"secret's Value (Entra admin center → App registrations → your app → Certificates & "
                               f"secrets), e.g. export {self.client_secret_env}=...")
        raise ProfileError("client_secret", "this profile has no client secret; set client_secret_env to the name "
                                            "of an environment variable holding it")

    def to_dict(self, include_secret: bool = False) -> dict:
        """The profile document (contract field names); the secret only when asked for."""
        doc = {"name": self.name, "cloud": self.cloud, "graph_base_url": self.graph_base_url,
               "authority": self.authority, "tenant_id": self.tenant_id, "client_id": self.client_id,
               "auth": self.auth}
        if include_secret and self.client_secret:
            doc["client_secret"] = self.client_secret
        for name in ("client_secret_env", "organizer", "ca_bundle"):
            if getattr(self, name):
                doc[name] = getattr(self, name)
        if self.max_requests_per_second is not None:
            doc["max_requests_per_second"] = self.max_requests_per_second
        if self.bookings:
            doc["bookings"] = dict(self.bookings)
        return doc

    @property
    def key(self) -> str:
        """A stable id of this connection for journal rows: cloud, tenant, client, sign-in kind, organizer."""
        parts = [self.cloud, self.tenant_id, self.client_id, self.auth,
                 self.organizer if self.auth == "client_credentials" else ""]
        digest = hashlib.sha256("|".join(p.lower() for p in parts).encode()).hexdigest()[:16]
        return f"{self.cloud}-{self.auth}-{digest}"

    @property
    def verify(self) -> str | bool:
        """What requests' ``verify`` gets: the CA bundle path, or True (never False)."""
        return self.ca_bundle or True

    @property
    def is_sandbox(self) -> bool:
        return self.cloud == SANDBOX

    @property
    def graph_host(self) -> str:
        """``scheme://host[:port]`` of the Graph root, the only place a token is ever sent."""
        return origin(self.graph_base_url)


def origin(url: str) -> str:
    """``scheme://host[:port]`` in a normal form (lowercase, default port omitted)."""
    parts = urlsplit(url)
    scheme = (parts.scheme or "").lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port
    except ValueError:
        port = None
    if ":" in host:
        host = f"[{host}]"
    if port is None or (scheme, port) in (("https", 443), ("http", 80)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def _text(d: dict, name: str) -> str:
    value = d.get(name)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ProfileError(name, f"must be text, not {type(value).__name__}")
    return value.strip()


def _bookings(value) -> dict:
    """The optional ``bookings`` object: the booking mailbox, the service (id or name) and staff (ids or UPNs)."""
    if value in (None, ""):
        return {}
    if not isinstance(value, dict):
        raise ProfileError("bookings", 'must be an object like {"business": "virtualcare@contoso.com", '
                                       '"service": "Initial consultation", "staff": ["adele@contoso.com"]}')
    unknown = sorted(set(value) - {"business", "service", "staff"})
    if unknown:
        raise ProfileError("bookings", f"unknown field {unknown[0]!r}; use business, service and staff")
    for name in ("business", "service"):
        if value.get(name) is not None and not isinstance(value.get(name), str):
            raise ProfileError(f"bookings.{name}", "must be text")
    staff = value.get("staff") or []
    if isinstance(staff, str):
        staff = [staff]
    if not isinstance(staff, list) or not all(isinstance(s, str) and s.strip() for s in staff):
        raise ProfileError("bookings.staff", "must be a list of staff member ids or email addresses")
    business = (value.get("business") or "").strip()
    if business and "@" not in business:
        raise ProfileError("bookings.business", f"{business!r} is not a booking mailbox; it looks like "
                                                "virtualcare@contoso.onmicrosoft.com (Bookings → Business information)")
    return {"business": business, "service": (value.get("service") or "").strip(),
            "staff": [s.strip() for s in staff]}


def _check_unknown(d: dict) -> None:
    known = set(FIELDS) | set(OPTIONAL_FIELDS)
    for name in d:
        if name in known or not isinstance(name, str) or name.startswith(("_", "$", "@")):
            continue
        close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.75)
        if close:
            raise ProfileError(name, f"unknown field; did you mean {close[0]!r}?")


def _url(name: str, value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise ProfileError(name, f"{value!r} must be an https:// address (Graph and sign-in are HTTPS only)")
    if parts.query or parts.fragment:
        raise ProfileError(name, f"{value!r} must not have a query or fragment")
    return value.rstrip("/")


def _secret_fields(d: dict, auth: str) -> tuple[str, str]:
    """(client_secret, client_secret_env), checked: an app needs one of them."""
    client_secret = d.get("client_secret") or ""
    if not isinstance(client_secret, str):
        raise ProfileError("client_secret", "must be text")
    secret_env = _text(d, "client_secret_env")
    if secret_env and not _ENV_NAME.match(secret_env):
        raise ProfileError("client_secret_env", f"{secret_env!r} is not an environment variable name; it names "
                                                "the variable holding the secret (e.g. GRAPH_CLIENT_SECRET), "
                                                "not the secret itself")
    if auth == "client_credentials" and not (client_secret or secret_env):
        raise ProfileError("client_secret_env", "client_credentials needs a client secret: name the environment "
                                                "variable holding it in client_secret_env (recommended), or put "
                                                "it in client_secret")
    return client_secret, secret_env


def _ca_bundle(ca_bundle: str, base_dir) -> str:
    """The CA file's absolute path (relative to the profile's folder), which must exist; "" for none."""
    if ca_bundle:
        ca_path = Path(ca_bundle).expanduser()
        if not ca_path.is_absolute() and base_dir is not None:
            ca_path = Path(base_dir) / ca_path
        if not ca_path.is_file():
            raise ProfileError("ca_bundle", f"file {ca_path} not found; it must be the PEM file of the "
                                            "certificate authority to trust (the sandbox writes ca.pem "
                                            "into its data folder)")
        ca_bundle = str(ca_path)
    return ca_bundle


def _rate(rate) -> float | None:
    """The optional request-rate ceiling, a number above 0."""
    if rate is not None and rate != "":
        if isinstance(rate, bool) or not isinstance(rate, (int, float, str)):
            raise ProfileError("max_requests_per_second", "must be a number of requests per second, e.g. 20")
        try:
            rate = float(rate)
        except ValueError:
            raise ProfileError("max_requests_per_second",
                               f"{rate!r} is not a number; use e.g. 20 requests per second") from None
        if not rate > 0:
            raise ProfileError("max_requests_per_second", "must be more than 0 (leave it out for no ceiling)")
    else:
        rate = None
    return rate


def _endpoints(cloud: str, tenant_id: str, graph_base_url: str, authority: str) -> tuple[str, str]:
    """The Graph root and authority: given ones are checked against the cloud, missing ones filled."""
    if cloud == SANDBOX:
        if not graph_base_url:
            raise ProfileError("graph_base_url", "required for the sandbox: the address it printed when it "
                                                 "started, such as https://127.0.0.1:8765")
        graph_base_url = _url("graph_base_url", graph_base_url)
        if urlsplit(graph_base_url).path not in ("", "/"):
            raise ProfileError("graph_base_url", "give the sandbox's root address without /v1.0 or any other path")
        authority = _url("authority", authority) if authority else f"{graph_base_url}/{tenant_id}"
        return graph_base_url, authority

    row = CLOUDS[cloud]
    if graph_base_url:
        graph_base_url = _url("graph_base_url", graph_base_url)
        if urlsplit(graph_base_url).path not in ("", "/"):
            raise ProfileError("graph_base_url", f"give the root only ({row.graph_root}); the version (v1.0, beta) "
                                                 "is added per request")
        if origin(graph_base_url) != origin(row.graph_root):
            raise ProfileError("graph_base_url", f"{graph_base_url} is not Microsoft Graph of the {cloud} cloud "
                                                 f"({row.graph_root}); fix the cloud or remove graph_base_url")
        graph_base_url = row.graph_root
    else:
        graph_base_url = row.graph_root
    if authority:
        authority = _url("authority", authority)
        if origin(authority) not in {origin(h) for h in row.authority_hosts}:
            raise ProfileError("authority", f"{authority} is not a sign-in address of the {cloud} cloud; use "
                                            f"{row.authority_host}/{tenant_id} or remove authority")
        if urlsplit(authority).path.strip("/") == "":
            authority = f"{authority}/{tenant_id}"
    else:
        authority = f"{row.authority_host}/{tenant_id}"
    return graph_base_url, authority
