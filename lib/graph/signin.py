"""Sign-in through MSAL: client credentials (app-only) or device code (a person), with a persisted cache.

The token cache is one file per connection under ``token_cache_dir()``, readable by its owner only,
so a second run signs in silently. Tokens are never logged or put in an exception's text.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable

import msal
import requests

from lib.graph.clouds import scopes_for
from lib.graph.explain import aadsts_in, explain_sign_in
from lib.datafolder import token_cache_dir
from lib.graph.profile import Profile, ProfileError

log = logging.getLogger("appointment_studio.auth")

# Refresh a little before expiry so a token never dies in flight.
EXPIRY_MARGIN_SECONDS = 300
HTTP_TIMEOUT = (10, 30)


class AuthError(Exception):
    """Sign-in failed; ``explanation`` says what happened and ``fix`` what to do, in plain words."""

    def __init__(self, explanation: str, fix: str = "", *, code: str = "", aadsts: int | None = None):
        super().__init__(explanation)
        self.explanation = explanation
        self.fix = fix
        self.code = code
        self.aadsts = aadsts

    def __str__(self) -> str:
        return f"{self.explanation} {self.fix}".strip()

    def to_dict(self) -> dict:
        return {"explanation": self.explanation, "fix": self.fix, "code": self.code, "aadsts": self.aadsts}


class TokenProvider:
    """Hands out access tokens for one connection: ``kind`` is "app" or "delegated"."""

    kind: str = ""

    def get_token(self, force_refresh: bool = False) -> str:  # pragma: no cover - interface
        raise NotImplementedError

    def prefetch(self) -> threading.Thread | None:
        """Start getting a token in the background where that saves time later (nothing to do here)."""
        return None

    @property
    def account_name(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} kind={self.kind!r} account={self.account_name!r}>"


class _TimeoutSession(requests.Session):
    """A requests session with a default timeout and a fixed CA choice (MSAL's http_client)."""

    def __init__(self, verify, timeout, authority: str = ""):
        super().__init__()
        self.verify = verify
        self._timeout = timeout
        # As the Graph client's: the environment's proxy read once, and no ~/.netrc Basic auth on token requests.
        if authority:
            self.proxies.update(requests.utils.get_environ_proxies(authority))
        self.trust_env = False

    def request(self, method, url, **kwargs):
        kwargs.setdefault("timeout", self._timeout)
        if kwargs.get("verify") is None:
            kwargs["verify"] = self.verify  # REQUESTS_CA_BUNDLE must not replace the profile's CA
        return super().request(method, url, **kwargs)


class MsalTokenProvider(TokenProvider):
    """MSAL-backed tokens with a persisted ``SerializableTokenCache``."""

    def __init__(self, profile: Profile, *, on_device_code: Callable[[dict], None] | None = None,
                 cancel: threading.Event | None = None, cache_path: Path | None = None):
        self.profile = profile
        self.kind = "app" if profile.auth == "client_credentials" else "delegated"
        self.scopes = scopes_for(profile)
        self.on_device_code = on_device_code
        self.cancel = cancel
        self.cache_path = cache_path or token_cache_path(profile)
        self._lock = threading.RLock()
        self._token = ""
        self._expires_at = 0.0
        self._account_name = ""
        self._cache = msal.SerializableTokenCache()
        self._cache_mtime: int | None = None
        self._session = _TimeoutSession(profile.verify, HTTP_TIMEOUT, profile.authority)
        self._app = None  # built on first use: building it may fetch the authority's metadata

    # -- public ---------------------------------------------------------------------------------
    def get_token(self, force_refresh: bool = False) -> str:
        """A valid access token: from memory, then the cache, then a new sign-in."""
        with self._lock:
            if not force_refresh and self._fresh():
                return self._token
            self._load_cache()  # tokens the other process got since are used, not fetched again
            result = self._acquire(force_refresh)
            self._keep(result)
            if "access_token" not in result:
                raise _auth_error(result, self.profile)
            return self._token

    def prefetch(self) -> threading.Thread:
        """Get a token on another thread while the caller reads its spreadsheet: from memory, the cache, or
        a refresh token, never by asking the user (a device code waits for ``get_token``, as before).

        ``get_token`` then finds it in memory, or waits for this to finish. Failures are left for it to report.
        """
        def work():
            try:
                with self._lock:
                    if not self._fresh():
                        self._load_cache()
                        self._keep(self._acquire(False, interactive=False))
            except Exception as exc:  # get_token tries again in the caller's thread and explains what failed
                log.debug("token prefetch failed: %s", type(exc).__name__)

        thread = threading.Thread(target=work, name="sign-in", daemon=True)
        thread.start()
        return thread

    def _fresh(self) -> bool:
        return bool(self._token) and time.time() < self._expires_at - EXPIRY_MARGIN_SECONDS

    def _keep(self, result: dict) -> None:
        """Save the cache if MSAL changed it, and hold a token MSAL returned."""
        if self._cache.has_state_changed:  # nothing to write (the usual case): no lock, not even its import
            with self._shared_cache():
                self._save_cache()
        if "access_token" not in result:
            return
        self._token = result["access_token"]
        self._expires_at = time.time() + float(result.get("expires_in") or 3600)
        claims = result.get("id_token_claims") or {}
        if claims.get("preferred_username"):
            self._account_name = claims["preferred_username"]

    @property
    def account_name(self) -> str:
        if self.kind == "app":
            return f"app {self.profile.client_id}"
        return self._account_name

    # -- MSAL -----------------------------------------------------------------------------------
    def _application(self):
        if self._app is not None:
            return self._app
        p = self.profile
        options = dict(authority=p.authority, token_cache=self._cache, http_client=self._session,
                       app_name="Appointment Studio")
        if p.is_sandbox:
            options["instance_discovery"] = False
        try:
            if self.kind == "app":
                try:
                    secret = p.secret()
                except ProfileError as exc:
                    raise AuthError("The app's client secret is not available: " + exc.message,
                                    "Set the environment variable named in client_secret_env, then try again.",
                                    code="missing_secret") from None
                from lib.graph.redaction import register_secret

                register_secret(secret)
                self._app = msal.ConfidentialClientApplication(p.client_id, client_credential=secret, **options)
            else:
                self._app = msal.PublicClientApplication(p.client_id, **options)
        except AuthError:
            raise
        except requests.RequestException as exc:
            raise _unreachable(exc, p) from None
        except ValueError as exc:  # MSAL: authority unknown or its metadata unusable
            raise AuthError(f"The sign-in address {p.authority} was not accepted: {_clean(str(exc), p)}",
                            "Check the profile's authority and tenant_id (for the sandbox: is it running?).",
                            code="invalid_authority") from None
        return self._app

    def _acquire(self, force_refresh: bool, *, interactive: bool = True) -> dict:
        try:
            app = self._application()
            if self.kind == "app":
                if force_refresh:
                    app.remove_tokens_for_client()
                return app.acquire_token_for_client(self.scopes) or {}
            return self._acquire_delegated(app, force_refresh, interactive)
        except AuthError:
            raise
        except requests.RequestException as exc:
            raise _unreachable(exc, self.profile) from None

    def _acquire_delegated(self, app, force_refresh: bool, interactive: bool = True) -> dict:
        accounts = app.get_accounts()
        if accounts:
            account = accounts[0]
            result = app.acquire_token_silent_with_error(self.scopes, account=account, force_refresh=force_refresh)
            if result and "access_token" in result:
                self._account_name = account.get("username") or self._account_name
                log.debug("token for %s from the cache", self._account_name)
                return result
            if result:
                log.debug("silent sign-in failed (%s); asking for a device code", result.get("error"))
        if not interactive:  # ahead of time: nobody is asked for a device code
            return {}
        if self.cancel is not None and self.cancel.is_set():
            raise AuthError("Sign-in was cancelled.", "Start it again when you are ready.", code="cancelled")
        flow = app.initiate_device_flow(scopes=self.scopes)
        if "user_code" not in flow:
            raise _auth_error(flow, self.profile)
        (self.on_device_code or _print_device_code)(flow)
        stop = threading.Event()
        if self.cancel is not None:
            def watch():
                while not stop.is_set():
                    if self.cancel.wait(0.2):
                        flow["expires_at"] = 0  # MSAL's documented way to end the polling loop
                        return
            threading.Thread(target=watch, name="device-code-cancel", daemon=True).start()
        try:
            result = app.acquire_token_by_device_flow(flow)
        finally:
            stop.set()
        if self.cancel is not None and self.cancel.is_set() and "access_token" not in result:
            raise AuthError("Sign-in was cancelled.", "Start it again when you are ready.", code="cancelled")
        if "access_token" in result:
            claims = result.get("id_token_claims") or {}
            self._account_name = claims.get("preferred_username") or self._account_name
        return result

    # -- cache file -----------------------------------------------------------------------------
    def _load_cache(self) -> None:
        """Read the cache file if another process (the app, the CLI) changed it since we last did.

        No lock is needed to read: every write swaps a whole new file in (``write_private``).
        """
        try:
            changed = self.cache_path.stat().st_mtime_ns
        except OSError:
            return
        if changed == self._cache_mtime:
            return
        try:
            text = self.cache_path.read_text(encoding="utf-8")
        except OSError as exc:
            log.warning("token cache %s unreadable (%s); signing in afresh", self.cache_path, exc.strerror)
            return
        try:
            self._cache.deserialize(text)
        except ValueError:
            log.warning("token cache %s is damaged; signing in afresh", self.cache_path)
        self._cache_mtime = changed

    def _save_cache(self) -> None:
        if not self._cache.has_state_changed:
            return
        write_private(self.cache_path, self._cache.serialize())
        self._cache.has_state_changed = False
        try:
            self._cache_mtime = self.cache_path.stat().st_mtime_ns
        except OSError:
            self._cache_mtime = None

    @contextlib.contextmanager
    def _shared_cache(self):
        """The lock the app and the CLI take around reading and writing one cache file (an OS lock, so a
        killed process never leaves it held)."""
        from filelock import FileLock, Timeout

        self.cache_path.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(str(self.cache_path) + ".lock", timeout=30)
        try:
            lock.acquire()
        except Timeout:
            raise AuthError(f"The sign-in cache {self.cache_path} stayed locked by another Appointment Studio "
                            "window or command for 30 seconds.",
                            "Wait for the other sign-in to finish (or close it), then try again.",
                            code="cache_locked") from None
        try:
            yield
        finally:
            lock.release()


class StaticTokenProvider(TokenProvider):
    """A fixed token (pasted by a user or made by a test); ``refresh`` supplies a new one when asked."""

    def __init__(self, token: str, kind: str = "delegated", *, refresh: Callable[[], str] | None = None,
                 account: str = ""):
        self._token = token
        self.kind = kind
        self._refresh = refresh
        self._account = account
        self.refreshes = 0

    def get_token(self, force_refresh: bool = False) -> str:
        if force_refresh and self._refresh is not None:
            self.refreshes += 1
            self._token = self._refresh()
        return self._token

    @property
    def account_name(self) -> str:
        return self._account


def token_provider_for(profile: Profile, *, on_device_code: Callable[[dict], None] | None = None,
                       cancel: threading.Event | None = None) -> TokenProvider:
    """The token provider for a profile: client credentials or device code, cache on disk."""
    return MsalTokenProvider(profile, on_device_code=on_device_code, cancel=cancel)


def token_provider_with(profile: Profile, permissions: tuple[str, ...], purpose: str, *,
                        on_device_code: Callable[[dict], None] | None = None,
                        cancel: threading.Event | None = None) -> TokenProvider:
    """Tokens that also carry delegated ``permissions`` (mail, Bookings), asked for only when that work is done.

    Kept in a cache file of its own (``…-{purpose}.json``), so the meetings' sign-in is never widened behind
    the user's back. App-only ``.default`` tokens already hold whatever the app was granted.
    """
    path = token_cache_path(profile)
    provider = MsalTokenProvider(profile, on_device_code=on_device_code, cancel=cancel,
                                 cache_path=path.with_name(f"{path.stem}-{purpose}.json"))
    if profile.auth != "client_credentials":
        root = profile.graph_base_url.rstrip("/")
        provider.scopes = [*provider.scopes, *(f"{root}/{name}" for name in permissions)]
    return provider


def token_cache_path(profile: Profile) -> Path:
    """This profile's cache file; the sandbox's address and CA are part of the name (each sandbox differs)."""
    parts = [profile.key, profile.graph_base_url.lower(), profile.authority.lower()]
    if profile.is_sandbox:
        parts.append(profile.ca_bundle)
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:24]
    return token_cache_dir() / f"{digest}.json"


def write_private(path: Path, text: str) -> None:
    """Write ``text`` atomically to a file only its owner can read, where the OS has such permissions.

    ``mkstemp`` creates the file readable by its owner only (0600 on POSIX); ``os.replace`` swaps it in
    whole, so a reader in another process never sees half a cache.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=str(path.parent))
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    if os.name == "posix":
        os.chmod(path, 0o600)


def _print_device_code(flow: dict) -> None:
    print(flow.get("message") or f"Open {flow.get('verification_uri')} and enter {flow.get('user_code')}",
          file=sys.stderr, flush=True)


# -- MSAL error dicts to plain words -----------------------------------------------------------------
def _auth_error(result: dict, profile: Profile) -> AuthError:
    """An ``AuthError`` worded by the one explanation table (``lib.graph.explain``)."""
    error = (result or {}).get("error") or "unknown_error"
    description = _clean((result or {}).get("error_description") or "", profile)
    codes = (result or {}).get("error_codes") or []
    aadsts = codes[0] if codes else aadsts_in(description)
    secret_place = (f"the environment variable {profile.client_secret_env}" if profile.client_secret_env
                    else "the profile's client_secret")
    explanation, fix = explain_sign_in(error, description, aadsts, client_id=profile.client_id,
                                       tenant_id=profile.tenant_id, cloud=profile.cloud, secret_place=secret_place)
    return AuthError(explanation, fix, code=error, aadsts=aadsts)


def _unreachable(exc: Exception, profile: Profile) -> AuthError:
    text = _clean(str(exc), profile)
    if isinstance(exc, requests.exceptions.SSLError) or "certificate" in text.lower():
        return AuthError(f"The secure connection to {profile.authority} failed: the certificate is not trusted.",
                         "For the sandbox, set ca_bundle to its ca.pem; behind a TLS-inspecting proxy, set "
                         "ca_bundle to the proxy's certificate authority.", code="tls")
    if profile.is_sandbox:
        fix = "Is the sandbox running? Start it with: python -m lib sandbox, and check graph_base_url."
    else:
        fix = "Check the network connection and proxy settings (HTTPS_PROXY, NO_PROXY), then try again."
    return AuthError(f"The sign-in service at {profile.authority} could not be reached.", fix, code="unreachable")


def _clean(text: str, profile: Profile) -> str:
    """Remove the secret from any text that might carry it."""
    from lib.graph.redaction import redact

    try:
        secret = profile.secret() if profile.auth == "client_credentials" else ""
    except ProfileError:
        secret = ""
    return redact(text, secrets=(secret,) if secret else ())
