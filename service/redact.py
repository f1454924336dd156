"""Mask passwords that customers paste before anything is stored or logged.

::

    >>> mask_secrets("my password is hunter2, what now?")
    'my password is ********, what now?'
    >>> mask_secrets("I forgot my password")
    'I forgot my password'

What counts as a secret (the rest of the text is kept as it is):

- the word after a password keyword and a separator: ``password: x``,
  ``pwd=x``, ``pass: x``, ``my password is x``, ``Passwort ist x``,
  ``contraseña es x``, ``mot de passe : x``, ``senha é x``, ``wachtwoord is x``;
- after a password keyword and only a space, a word that looks like a secret
  (has a digit or a symbol: ``password Hunter2!``) — or any word after the
  abbreviations ``pw``/``pwd``;
- SMTP ``AUTH PLAIN``/``AUTH LOGIN`` arguments and the password in a URL's
  ``user:password@``.

Ordinary words after "is" ("my password is wrong", "the password is not
accepted") are left alone: the transcript must still read well for an agent.
Quoted secrets (``password is "correct horse"``) are masked whole.
"""

from __future__ import annotations

import re

MASK = "********"

# Keywords that name a password; "pass" alone only counts before ":" or "=".
_KEYWORDS = (
    r"password|passwd|passcode|passphrase|pwd|pw"
    r"|passwort|kennwort|contrase(?:ñ|n)a|clave|mot\s+de\s+passe|mdp"
    r"|wachtwoord|senha|has(?:ł|l)o"
)
_ABBREVIATIONS = frozenset({"pw", "pwd", "mdp"})
_VERB = r"(?:is|was|ist|war|es|era|est|é|è)"
# Separators that announce a value: the next word is masked unless ordinary.
_SEPARATOR = rf"\s*[:=]\s*|\s+{_VERB}(?:\s*:\s*|\s+)|\s+[-–]\s+|\s*->\s*"
# "password for bob@example.com is ...", "password of my account: ..."
_QUALIFIER = r"(?:\s+(?:for|of|für|de|para|voor)(?:\s+[^\s:=]+?){1,3}?)?"
_VALUE = r"\"[^\"\n]+\"|'[^'\n]+'|“[^”\n]+”|\S+"

_PASSWORD = re.compile(
    rf"""\b(?:
        (?P<keyword>{_KEYWORDS})(?:{_QUALIFIER}(?P<separator>{_SEPARATOR})|(?P<space>\s+))
        | pass\s*[:=]\s*
    )(?P<value>{_VALUE})""",
    re.IGNORECASE | re.VERBOSE,
)
_SMTP_AUTH = re.compile(r"\bAUTH\s+(?:PLAIN|LOGIN)\s+(?P<value>[A-Za-z0-9+/=]{4,})", re.IGNORECASE)
_URL_USERINFO = re.compile(
    r"\b[a-z][a-z0-9+.-]*://[^\s:/@]+:(?P<value>[^\s@/]+)(?=@)", re.IGNORECASE
)

# Words that, right after "password is", describe the password, not spell it.
_ORDINARY = frozenset(
    """
    wrong right correct incorrect invalid valid not no definitely fine ok okay
    good bad the a an my your our same different too very really still just
    being been now expired rejected accepted saved stored changed reset new old
    blank empty missing there here in on at it that this what which working
    broken locked unknown required needed set for of to and or but
    falsch richtig nicht korrekt ungültig abgelaufen
    incorrecta correcta muy
    faux bon
    """.split()
)
_TRAILING = ".,;:?)]}"

# Text in which one of these occurs (after casefolding) may hold a secret; most
# text holds none, and a substring test is far cheaper than the patterns.
_PASSWORD_HINTS = (
    "pass",
    "pw",
    "kennwort",
    "contrase",
    "clave",
    "mdp",
    "wachtwoord",
    "senha",
    "has",
)


def mask_secrets(text: str) -> str:
    """Return ``text`` with pasted passwords replaced by ``********``."""
    folded = text.casefold()
    if "auth" in folded:
        text = _SMTP_AUTH.sub(_mask_value, text)
    if "://" in folded:
        text = _URL_USERINFO.sub(_mask_value, text)
    if any(hint in folded for hint in _PASSWORD_HINTS):
        text = _PASSWORD.sub(_mask_password, text)
    return text


def _mask_value(match: re.Match[str]) -> str:
    start, end = match.span("value")
    return match[0][: start - match.start()] + MASK + match[0][end - match.start() :]


def _mask_password(match: re.Match[str]) -> str:
    value = match["value"]
    quoted = value[0] in "\"'“"
    secret = value if quoted else value.rstrip(_TRAILING) or value
    if secret == MASK:
        return match[0]
    keyword = (match["keyword"] or "pass").lower()
    if match["space"] is not None:
        # "password reset", "pw hunter2": only secret-looking words are masked.
        wanted = keyword in _ABBREVIATIONS or quoted or _looks_secret(secret)
        if not wanted or secret.lower() in _ORDINARY:
            return match[0]
    elif _spelled_out(match["separator"]) and not quoted and secret.lower() in _ORDINARY:
        # "password is wrong" describes it; "password: wrong" would spell it.
        return match[0]
    head = match[0][: match.start("value") - match.start()]
    return head + MASK + value[len(secret) :]


def _spelled_out(separator: str | None) -> bool:
    return separator is not None and any(c.isalpha() for c in separator)


def _looks_secret(word: str) -> bool:
    """A word with a digit or an inner symbol in it, as passwords usually have."""
    core = word.strip("([{\"'")
    return any(c.isdigit() for c in core) or any(not c.isalnum() for c in core)
