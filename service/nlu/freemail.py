"""Is a domain a free-mail or ISP mailbox provider (Gmail, Hotmail, BT ...), not the customer's own?

>>> is_free_mail("gmail.com"), is_free_mail("yahoo.co.uk"), is_free_mail("example.com")
(True, True, False)

Subdomains count (``smtp.mail.yahoo.com``); an address may be passed whole.
"""

from __future__ import annotations

FREE_MAIL_DOMAINS: frozenset[str] = frozenset(
    """
    gmail.com googlemail.com outlook.com msn.com passport.com windowslive.com ymail.com
    rocketmail.com aim.com icloud.com me.com mac.com web.de freenet.de t-online.de arcor.de
    proton.me pm.me protonmail.com protonmail.ch tutanota.com tutanota.de tuta.io
    fastmail.com fastmail.fm hushmail.com zoho.com zohomail.com zoho.eu mail.com email.com
    usa.com post.com ya.ru mail.ru inbox.ru list.ru bk.ru rambler.ru
    btinternet.com btopenworld.com talk21.com sky.com virginmedia.com virgin.net
    ntlworld.com blueyonder.co.uk talktalk.net tiscali.co.uk plus.com
    comcast.net verizon.net att.net sbcglobal.net bellsouth.net charter.net cox.net
    earthlink.net optonline.net frontier.com roadrunner.com rr.com twc.com spectrum.net
    windstream.net centurylink.net juno.com netzero.net
    shaw.ca rogers.com sympatico.ca telus.net bigpond.com bigpond.net.au
    optusnet.com.au telstra.com iinet.net.au
    orange.fr wanadoo.fr free.fr sfr.fr laposte.net libero.it virgilio.it tiscali.it
    alice.it ziggo.nl kpnmail.nl xs4all.nl seznam.cz wp.pl o2.pl onet.pl interia.pl
    qq.com 163.com 126.com sina.com naver.com daum.net hanmail.net
    """.split()
)
"""Registrable domains whose mailboxes anyone can sign up for (or get with a broadband line)."""

FREE_MAIL_BRANDS: frozenset[str] = frozenset(
    {"hotmail", "live", "outlook", "yahoo", "gmx", "yandex", "aol"}
)
"""Brands registered under many suffixes: ``hotmail.co.uk``, ``yahoo.com.au``, ``gmx.de``."""

_GENERIC_SUFFIXES = frozenset({"com", "net", "org"})
_SECOND_LEVELS = frozenset({"co", "com", "net", "org", "ne", "or"})


def _is_public_suffix(labels: list[str]) -> bool:
    """``com``, any two-letter ccTLD, or a second level under one (``co.uk``, ``com.au``)."""
    if len(labels) == 1:
        label = labels[0]
        return label in _GENERIC_SUFFIXES or (len(label) == 2 and label.isalpha())
    if len(labels) == 2:
        return labels[0] in _SECOND_LEVELS and len(labels[1]) == 2 and labels[1].isalpha()
    return False


def is_free_mail(domain: str) -> bool:
    """True when ``domain`` (or an address's domain) belongs to a free-mail or ISP provider."""
    name = domain.strip().rpartition("@")[2].rstrip(".").lower()
    labels = [label for label in name.split(".") if label]
    if len(labels) < 2:
        return False
    for index in range(len(labels) - 1):
        if ".".join(labels[index:]) in FREE_MAIL_DOMAINS:
            return True
        if labels[index] in FREE_MAIL_BRANDS and _is_public_suffix(labels[index + 1 :]):
            return True
    return False
