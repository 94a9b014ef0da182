"""The Microsoft clouds a connection can target: Graph root, sign-in host and what each one offers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    from lib.graph.profile import Profile

SANDBOX = "sandbox"


@dataclass(frozen=True)
class Cloud:
    """One national cloud (graph-reference.md §12)."""

    name: str
    graph_root: str
    authority_host: str
    meetings: bool
    join_link_and_sms: bool
    title: str = ""
    # Other sign-in hosts Entra documents for the same cloud.
    other_authority_hosts: tuple[str, ...] = ()

    @property
    def authority_hosts(self) -> tuple[str, ...]:
        return (self.authority_host,) + self.other_authority_hosts

    @property
    def app_scope(self) -> str:
        return f"{self.graph_root}/.default"


CLOUDS: dict[str, Cloud] = {
    "global": Cloud("global", "https://graph.microsoft.com", "https://login.microsoftonline.com",
                    meetings=True, join_link_and_sms=True, title="Global (includes GCC moderate)"),
    "usgov": Cloud("usgov", "https://graph.microsoft.us", "https://login.microsoftonline.us",
                   meetings=True, join_link_and_sms=False, title="US Government L4 (GCC High)"),
    "dod": Cloud("dod", "https://dod-graph.microsoft.us", "https://login.microsoftonline.us",
                 meetings=True, join_link_and_sms=False, title="US Government L5 (DoD)"),
    "china": Cloud("china", "https://microsoftgraph.chinacloudapi.cn", "https://login.chinacloudapi.cn",
                   meetings=False, join_link_and_sms=False, title="China (operated by 21Vianet)",
                   other_authority_hosts=("https://login.partner.microsoftonline.cn",)),
}

# Every value the profile's "cloud" field accepts.
CLOUD_NAMES: tuple[str, ...] = tuple(CLOUDS) + (SANDBOX,)

# Delegated permissions the app asks for; the last two only where join links and SMS exist.
DELEGATED_PERMISSIONS = ("OnlineMeetings.ReadWrite", "User.Read")
DELEGATED_JOIN_LINK_PERMISSIONS = ("VirtualAppointment.ReadWrite", "VirtualAppointmentNotification.Send")


def cloud_for(profile: "Profile") -> Cloud:
    """The cloud row of a profile; the sandbox's row takes its roots from the profile itself."""
    if profile.cloud == SANDBOX:
        root = profile.graph_base_url.rstrip("/")
        return Cloud(SANDBOX, root, root, meetings=True, join_link_and_sms=True, title="Local sandbox")
    return CLOUDS[profile.cloud]


def scopes_for(profile: "Profile") -> list[str]:
    """The scopes to request: ``{root}/.default`` for app-only, full-URI permissions for delegated.

    Full URIs work in every cloud (short names mean Global Graph, which national clouds and the
    sandbox refuse), so delegated scopes always carry the Graph root of the profile.
    """
    root = profile.graph_base_url.rstrip("/")
    if profile.auth == "client_credentials":
        return [f"{root}/.default"]
    names = list(DELEGATED_PERMISSIONS)
    if cloud_for(profile).join_link_and_sms:
        names[1:1] = DELEGATED_JOIN_LINK_PERMISSIONS
    return [f"{root}/{name}" for name in names]
