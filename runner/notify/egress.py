"""Where the HTTP channels may connect: every address a target host resolves to is checked first.

Refused always: unspecified, multicast and reserved addresses. Refused unless the allow-list names
them by CIDR: link-local addresses and cloud metadata endpoints. Refused unless
CAMPAIGN_GUARD_ALLOW_PRIVATE_TARGETS allows them (`1`/`true`, or a list of hosts and CIDRs):
loopback, private ranges (10/8, 172.16/12, 192.168/16, fc00::/7, 100.64/10) and any other
address that is not globally reachable. See docs/notifications.md, "Egress policy".
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from runner.notify.message import DeliveryError

ALLOW_VARIABLE = "CAMPAIGN_GUARD_ALLOW_PRIVATE_TARGETS"
_ALL = frozenset({"1", "true", "yes", "on"})
_NONE = frozenset({"", "0", "false", "no", "off"})
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
METADATA = frozenset(ipaddress.ip_address(a) for a in ("169.254.169.254", "fd00:ec2::254", "100.100.100.200"))
_LINK_LOCAL = (ipaddress.ip_network("169.254.0.0/16"), ipaddress.ip_network("fe80::/10"))
_PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "100.64.0.0/10")
)
LINK_LOCAL = "link-local / cloud metadata"
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class Allowed:
    """What CAMPAIGN_GUARD_ALLOW_PRIVATE_TARGETS allows: every private address, or these hosts and networks."""

    everything: bool = False
    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()


def allowed(environ: Mapping[str, str]) -> Allowed:
    value = environ.get(ALLOW_VARIABLE, "").strip()
    if value.lower() in _ALL:
        return Allowed(everything=True)
    if value.lower() in _NONE:
        return Allowed()
    hosts: set[str] = set()
    networks: list[Network] = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        host = entry.lower().rstrip(".")
        if "/" in host or not _HOSTNAME.match(host):
            raise DeliveryError(
                f"{ALLOW_VARIABLE}: {entry!r} is neither a host name nor an address or CIDR", retryable=False
            )
        hosts.add(host)
    return Allowed(hosts=frozenset(hosts), networks=tuple(networks))


def kind(address: Address) -> str | None:
    """Why an address is not an ordinary public one (None: it is)."""
    if isinstance(address, ipaddress.IPv6Address):  # IPv4 inside IPv6: mapped, 6to4, NAT64
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return kind(embedded)
    if address.is_unspecified:
        return "unspecified"
    if address.is_multicast:
        return "multicast"
    if address in METADATA or any(address in network for network in _LINK_LOCAL):
        return LINK_LOCAL
    if address.is_loopback:
        return "loopback"
    if any(address in network for network in _PRIVATE):
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "private"
    return None


def verdict(host: str, address: Address, policy: Allowed) -> str | None:
    """None if `host` may be reached at `address`, else the reason for refusing it."""
    reason = kind(address)
    if reason is None:
        return None
    if reason in ("unspecified", "multicast", "reserved"):
        return reason
    if reason == LINK_LOCAL:  # only an explicit CIDR inside the link-local ranges opens these
        listed = any(
            address in network and (_inside_link_local(network) or network.num_addresses == 1)
            for network in policy.networks
            if network.version == address.version
        )
        return None if listed else reason
    if policy.everything or host.lower().rstrip(".") in policy.hosts:
        return None
    if any(address in network for network in policy.networks if network.version == address.version):
        return None
    return reason


def _inside_link_local(network: Network) -> bool:
    if isinstance(network, ipaddress.IPv4Network):
        return network.subnet_of(ipaddress.IPv4Network("169.254.0.0/16"))
    return network.subnet_of(ipaddress.IPv6Network("fe80::/10"))


Resolver = Callable[..., Sequence[tuple[object, ...]]]


def check(host: str, port: int, *, what: str, environ: Mapping[str, str], resolve: Resolver | None = None) -> list[str]:
    """The addresses `host` resolves to, all of them allowed; else a DeliveryError (not retryable if refused)."""
    policy = allowed(environ)
    try:
        answers = (resolve or socket.getaddrinfo)(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as error:  # socket.gaierror is an OSError
        raise DeliveryError(f"{what}: cannot resolve {host}: {error}", retryable=True) from None
    addresses: list[str] = []
    for answer in answers:
        sockaddr = answer[4]
        assert isinstance(sockaddr, tuple)
        text = str(sockaddr[0])
        address = ipaddress.ip_address(text.split("%", 1)[0])
        reason = verdict(host, address, policy)
        if reason is not None:
            raise DeliveryError(refusal(what, host, address, reason), retryable=False)
        if text not in addresses:
            addresses.append(text)
    if not addresses:
        raise DeliveryError(f"{what}: {host} has no address", retryable=True)
    return addresses


def refusal(what: str, host: str, address: Address, reason: str) -> str:
    target = str(address) if host.strip("[]") == str(address) else f"{host} ({address})"
    hint = (
        f"list its CIDR in {ALLOW_VARIABLE} to allow it"
        if reason == LINK_LOCAL
        else f"set {ALLOW_VARIABLE} to allow private targets"
        if reason in ("loopback", "private")
        else "such addresses are never allowed"
    )
    return f"{what}: refused target {target} ({reason}); {hint}"
