"""Assemble the sandbox (state, identity, Graph, faults) and serve it over HTTPS with uvicorn."""
from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from . import inspection
from .bookings import concurrency as bookings_concurrency
from .bookings import urls as bookings_urls
from .bookings.models import BookingsBackend
from .certs import ensure_certificates, write_private
from .directory import CONFIDENTIAL_APP, DEFAULT_SIGN_IN_USER, PUBLIC_APP, Directory, with_permissions
from .faults import DroppedConnectionFilter, FaultPolicy, FaultsMiddleware, Stats
from .graph.asgi import GraphApp
from .graph.batch import BatchRunner
from .graph.dispatch import Dispatcher
from .graph.models import GraphBackend
from .identity.models import IdentityService
from .identity.tokens import SigningKey, TokenIssuer, TokenVerifier
from .identity.urls import url_paths as identity_routes
from .mail import inbox
from .mail import urls as mail_urls
from .mailbox_gate import MailboxGate, refused_item
from .mail.models import MailBackend
from .state import State

PROFILE_FILE = "connection.json"
APP_PROFILE_FILE = "connection-app.json"


def default_data_dir() -> Path:
    """`$APPOINTMENT_STUDIO_HOME/sandbox`, else `${XDG_DATA_HOME:-~/.local/share}/appointment-studio/sandbox`."""
    home = os.environ.get("APPOINTMENT_STUDIO_HOME")
    if home:
        return Path(home).expanduser() / "sandbox"
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg).expanduser() / "appointment-studio" / "sandbox"


def base_url_for(host: str, port: int) -> str:
    if host in ("", "0.0.0.0"):
        host = "127.0.0.1"
    elif host == "::":
        host = "::1"
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"


@dataclass
class Sandbox:
    """Every part of one running sandbox, shared by its handlers through `app.state.sandbox`."""
    data_dir: Path
    base_url: str
    directory: Directory
    state: State
    signing_key: SigningKey
    verifier: TokenVerifier
    identity: IdentityService
    backend: GraphBackend
    mail: MailBackend
    policy: FaultPolicy
    stats: Stats
    ca_path: Path
    bookings: BookingsBackend | None = None


def build_sandbox(data_dir: Path, base_url: str, *, auto_approve: bool = False, latency=None, rate_limit=None,
                  faults=None, seed=None, ca_path: Path | None = None, permissions_of=None) -> Sandbox:
    directory = Directory(apps=with_permissions(permissions_of)) if permissions_of else Directory()
    state = State(data_dir)
    with state.write():
        for user in directory.users:
            if state.access_policy(CONFIDENTIAL_APP.client_id, user.id) is None:
                state.set_access_policy(CONFIDENTIAL_APP.client_id, user.id, True)
    key = SigningKey(data_dir)
    issuer = TokenIssuer(key, base_url, directory.tenant_id)
    verifier = TokenVerifier(key, base_url, state.token_known, directory.tenant_id)
    stats = Stats()
    mail = MailBackend(state, directory)
    return Sandbox(data_dir=data_dir, base_url=base_url, directory=directory, state=state, signing_key=key,
                   verifier=verifier,
                   identity=IdentityService(directory, state, issuer, base_url, auto_approve=auto_approve),
                   backend=GraphBackend(state, directory), mail=mail,
                   policy=FaultPolicy(stats, latency=latency, rate_limit=rate_limit, faults=faults, seed=seed),
                   stats=stats, ca_path=ca_path or data_dir / "ca.pem", bookings=BookingsBackend(state, directory, mail.store.log_sent))


def build_app(sandbox: Sandbox) -> Starlette:
    """The ASGI app: identity and inspection routes, and one catch-all mount per Graph version."""
    dispatcher = Dispatcher(sandbox.backend)
    dispatcher.register(mail_urls.SERVICE, sandbox.mail, mail_urls.url_paths, mail_urls.NAVIGATION)
    dispatcher.register("bookings", sandbox.bookings, bookings_urls.url_paths, bookings_urls.NAVIGATION)
    dispatcher.batch_runner = BatchRunner(dispatcher, sandbox.policy, sandbox.stats)
    dispatcher.batch_runner.item_checks.append(refused_item)
    graph = FaultsMiddleware(GraphApp(dispatcher, sandbox.verifier, sandbox.base_url), sandbox.policy,
                             sandbox.verifier)
    finders = [mail_urls.mailbox_finder(sandbox.directory), bookings_concurrency.find]
    graph = MailboxGate(graph, finders, sandbox.stats, sandbox.verifier)
    app = Starlette(routes=[Mount("/v1.0", app=graph), Mount("/beta", app=graph),
                            *inspection.routes, *inbox.routes, *identity_routes])
    app.state.sandbox = sandbox
    return app


def profiles(sandbox: Sandbox) -> tuple[dict[str, Any], dict[str, Any]]:
    """(delegated connection.json, app-only connection-app.json) for this sandbox."""
    common = {"cloud": "sandbox", "graph_base_url": sandbox.base_url,
              "authority": f"{sandbox.base_url}/{sandbox.directory.tenant_id}",
              "tenant_id": sandbox.directory.tenant_id}
    ca = str(sandbox.ca_path.resolve())
    delegated = {"name": f"Sandbox (signed in as {DEFAULT_SIGN_IN_USER.display_name})", **common,
                 "client_id": PUBLIC_APP.client_id, "auth": "device_code", "ca_bundle": ca}
    app_only = {"name": f"Sandbox (app-only, organizer {DEFAULT_SIGN_IN_USER.display_name})", **common,
                "client_id": CONFIDENTIAL_APP.client_id, "auth": "client_credentials",
                "client_secret": CONFIDENTIAL_APP.secret, "organizer": DEFAULT_SIGN_IN_USER.id, "ca_bundle": ca}
    return delegated, app_only


def open_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose proto says TCP,
    # and without it every reply waits ~40 ms on Nagle + delayed ACK.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    return sock


def configure_logging() -> None:
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("uvicorn.error").addFilter(DroppedConnectionFilter())


async def serve(data_dir: Path, host: str, port: int, *, auto_approve=False, latency=None, rate_limit=None,
                faults=None, seed=None, permissions_of=None) -> None:
    """Run until stopped; when listening, write both profiles and print connection.json as one line."""
    data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    ca_path, cert, key = ensure_certificates(data_dir, host)
    sock = open_socket(host, port)
    base_url = base_url_for(host, sock.getsockname()[1])
    sandbox = build_sandbox(data_dir, base_url, auto_approve=auto_approve, latency=latency,
                            rate_limit=rate_limit, faults=faults, seed=seed, ca_path=ca_path,
                            permissions_of=permissions_of)
    config = uvicorn.Config(build_app(sandbox), ssl_certfile=str(cert), ssl_keyfile=str(key), access_log=False,
                            log_level="warning", lifespan="off", server_header=False, timeout_keep_alive=30,
                            http="h11",  # the connection-drop faults are verified against h11's behaviour
                            timeout_graceful_shutdown=1,  # idle TLS keep-alives would hold shutdown for 30 s
                            log_config=None)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            await task
            return
        await asyncio.sleep(0.01)
    delegated, app_only = profiles(sandbox)
    write_private(data_dir / PROFILE_FILE, json.dumps(delegated, indent=2).encode())
    write_private(data_dir / APP_PROFILE_FILE, json.dumps(app_only, indent=2).encode())
    sys.stdout.write(json.dumps(delegated) + "\n")
    sys.stdout.flush()
    try:
        await task
    finally:
        sandbox.state.close()
