"""The address guard: every refused range, both families, and IPv6 forms embedding IPv4."""

from __future__ import annotations

import ipaddress

import pytest

from service.diagnostics.config import parse_networks
from service.diagnostics.guard import AddressGuard, embedded_ipv4, refusal_reason
from service.errors import AddressRefused

REFUSED = [
    # IPv4
    ("0.0.0.0", "unspecified"),
    ("0.1.2.3", "unspecified"),
    ("10.0.0.1", "private"),
    ("100.64.0.1", "carrier-grade NAT"),
    ("100.127.255.254", "carrier-grade NAT"),
    ("127.0.0.1", "loopback"),
    ("127.255.0.9", "loopback"),
    ("169.254.169.254", "link-local"),
    ("172.16.0.1", "private"),
    ("172.31.255.255", "private"),
    ("192.0.0.8", "IETF protocol"),
    ("192.0.2.10", "documentation"),
    ("192.88.99.1", "6to4 relay"),
    ("192.168.1.1", "private"),
    ("198.18.0.1", "benchmarking"),
    ("198.19.255.255", "benchmarking"),
    ("198.51.100.7", "documentation"),
    ("203.0.113.9", "documentation"),
    ("224.0.0.251", "multicast"),
    ("239.255.255.250", "multicast"),
    ("240.0.0.1", "reserved"),
    ("255.255.255.255", "reserved"),
    # IPv6
    ("::", "unspecified"),
    ("::1", "loopback"),
    ("fe80::1", "link-local"),
    ("fec0::1", "site-local"),
    ("fc00::1", "unique local"),
    ("fd12:3456::1", "unique local"),
    ("ff02::1", "multicast"),
    ("100::1", "discard"),
    ("2001:db8::25", "documentation"),
    ("3fff::1", "documentation"),
    ("2001:2::1", "benchmarking"),
    ("2001:10::1", "ORCHID"),
    ("64:ff9b:1::1", "local NAT64"),
    ("2001::1", "Teredo"),
    ("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo"),
    # IPv6 forms that embed refused IPv4
    ("::ffff:127.0.0.1", "loopback address embedded in an IPv6 address (IPv4-mapped)"),
    ("::ffff:169.254.169.254", "link-local address embedded in an IPv6 address (IPv4-mapped)"),
    ("::ffff:10.0.0.1", "private network address embedded in an IPv6 address (IPv4-mapped)"),
    ("64:ff9b::7f00:1", "loopback address embedded in an IPv6 address (NAT64)"),
    ("64:ff9b::a9fe:a9fe", "link-local address embedded in an IPv6 address (NAT64)"),
    ("64:ff9b::6440:1", "carrier-grade NAT address embedded in an IPv6 address (NAT64)"),
    ("2002:7f00:1::1", "loopback address embedded in an IPv6 address (6to4)"),
    ("2002:a9fe:a9fe::", "link-local address embedded in an IPv6 address (6to4)"),
    ("2002:c0a8:101::1", "private network address embedded in an IPv6 address (6to4)"),
    ("::127.0.0.1", "loopback address embedded in an IPv6 address (IPv4-compatible)"),
    ("::10.0.0.1", "private network address embedded in an IPv6 address (IPv4-compatible)"),
    ("::5.45.9.17", "deprecated IPv4-compatible"),
]

ALLOWED = [
    # Public addresses (the guard only classifies them; nothing is sent anywhere).
    "5.45.9.17",
    "81.2.69.160",
    "93.184.216.34",
    "100.63.255.255",  # just below CGNAT
    "100.128.0.0",  # just above CGNAT
    "172.32.0.1",  # just above 172.16/12
    "2606:4700:4700::1111",
    "2a00:1450:4001:80b::200e",
    "64:ff9b::52d:911",  # NAT64 of a public address (5.45.9.17)
    "::ffff:5.45.9.17",  # IPv4-mapped public address
    "2002:52d:911::1",  # 6to4 of a public address
]


@pytest.mark.parametrize(("address", "why"), REFUSED)
def test_refused_ranges(address: str, why: str) -> None:
    reason = AddressGuard().refusal(address)
    assert reason is not None and why in reason
    with pytest.raises(AddressRefused):
        AddressGuard().vet(address)


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_pass(address: str) -> None:
    assert AddressGuard().refusal(address) is None
    assert AddressGuard().vet(address) == ipaddress.ip_address(address)


def test_is_global_alone_is_not_enough() -> None:
    # Python calls this NAT64 form of 10.0.0.1 global; the guard unwraps it.
    nat64_private = ipaddress.ip_address("64:ff9b::a00:1")
    assert nat64_private.is_global
    assert refusal_reason(nat64_private) is not None


@pytest.mark.parametrize(
    ("address", "embedded", "form"),
    [
        ("::ffff:10.0.0.1", "10.0.0.1", "IPv4-mapped"),
        ("64:ff9b::a00:1", "10.0.0.1", "NAT64"),
        ("2002:a00:1::", "10.0.0.1", "6to4"),
        ("::a00:1", "10.0.0.1", "IPv4-compatible"),
    ],
)
def test_embedded_ipv4_is_unwrapped(address: str, embedded: str, form: str) -> None:
    found = embedded_ipv4(ipaddress.IPv6Address(address))
    assert found == (ipaddress.IPv4Address(embedded), form)


def test_allow_list_exempts_its_networks_only() -> None:
    guard = AddressGuard(parse_networks(["127.0.0.0/8", "fd00::/8"]))
    assert guard.refusal("127.0.0.20") is None
    assert guard.refusal("::ffff:127.0.0.1") is None  # the same address, mapped
    assert guard.refusal("fd00::25") is None
    assert guard.refusal("10.0.0.1") is not None
    assert guard.refusal("169.254.169.254") is not None
    assert guard.refusal("::1") is not None


@pytest.mark.parametrize("text", ["mail.example.com", "", "1.2.3", "fe80::1%eth0"])
def test_non_literals_and_zone_indices_are_refused(text: str) -> None:
    assert AddressGuard().refusal(text) is not None


@pytest.mark.parametrize("port", [25, 53, 465, 587])
def test_mail_and_dns_ports_only(port: int) -> None:
    assert AddressGuard.vet_port(port) == port


@pytest.mark.parametrize("port", [22, 80, 443, 2525, 6379, 8080])
def test_other_ports_are_refused(port: int) -> None:
    with pytest.raises(AddressRefused):
        AddressGuard.vet_port(port)
