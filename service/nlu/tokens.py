"""Tokenising folded text into the terms the matcher indexes.

Emails, domains and enhanced status codes become placeholder terms so that
``jo@example.com`` and ``sam@example.org`` look alike to the matcher::

    >>> terms("550 5.7.1 relaying denied for jo@example.com")
    ['550', 'x5_7_1', 'relay', 'deni', 'for', 'zzemail']
"""

from __future__ import annotations

import re

_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63}){1,8}")
_DOMAIN = re.compile(r"\b(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.){1,8}[a-z]{2,24}\b")
_ENHANCED = re.compile(r"\b([245])\.(\d{1,3})\.(\d{1,3})\b")
_WORD = re.compile(r"[a-z0-9_]+")
_SUFFIXES = ("ing", "ed", "es", "s")


def stem(word: str) -> str:
    """A deliberately light stemmer: enough to join send/sends/sending."""
    if word.isdigit() or len(word) <= 4:
        return word
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def placeholders(folded: str) -> str:
    """Replace emails, enhanced codes and domains with placeholder words."""
    folded = _EMAIL.sub(" zzemail ", folded)
    folded = _ENHANCED.sub(lambda m: f" x{m[1]}_{m[2]}_{m[3]} ", folded)
    return _DOMAIN.sub(" zzdomain ", folded)


def words(folded: str) -> list[str]:
    """The raw words of folded text, after placeholders."""
    return _WORD.findall(placeholders(folded))


def terms(folded: str) -> list[str]:
    """Stemmed words of folded text."""
    return [stem(word) for word in words(folded)]
