"""The one input: a domain name, checked and normalised before anything is asked.

normalise_domain(" Bücher.Example. ")  # "xn--bcher-kva.example"
normalise_domain("192.0.2.1")          # raises InvalidDomain: an IP address
"""

from __future__ import annotations

import ipaddress
import re

import dns.exception
import dns.name

from service.errors import InvalidDomain

MAX_LENGTH = 253
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalise_domain(text: str) -> str:
    """The domain in lower-case ASCII (IDNA), no trailing dot; raises ``InvalidDomain``."""
    candidate = text.strip().rstrip(".")
    if not candidate:
        raise InvalidDomain("a domain name is needed, like example.com")
    if len(candidate) > MAX_LENGTH * 2:
        raise InvalidDomain("that is too long to be a domain name")
    try:
        ipaddress.ip_address(candidate.strip("[]"))
    except ValueError:
        pass
    else:
        raise InvalidDomain("that is an IP address; please give the domain name instead")
    if any(c in candidate for c in "@/:\\ \t") or ".." in candidate:
        raise InvalidDomain(f"{candidate!r} is not a domain name")
    try:
        ascii_name = dns.name.from_unicode(candidate).to_text(omit_final_dot=True).lower()
    except (dns.exception.DNSException, UnicodeError, ValueError) as exc:
        raise InvalidDomain(f"{candidate!r} is not a valid domain name") from exc
    labels = ascii_name.split(".")
    if len(labels) < 2:
        raise InvalidDomain("a domain needs at least two parts, like example.com")
    if len(ascii_name) > MAX_LENGTH or not all(_LABEL.match(label) for label in labels):
        raise InvalidDomain(f"{candidate!r} is not a valid domain name")
    if labels[-1].isdigit():
        raise InvalidDomain(f"{candidate!r} does not end in a real top-level domain")
    return ascii_name
