"""Tokenising folded text into the terms the matcher indexes.

Emails, domains and enhanced status codes become placeholder terms so that
``jo@example.com`` and ``sam@example.org`` look alike to the matcher::

    >>> terms("550 5.7.1 relaying denied for jo@example.com")
    ['550', 'x5_7_1', 'relay', 'deni', 'for', 'zzemail']
"""

from __future__ import annotations

import re

# One pass: runs of word characters joined by . @ + - (so addresses and host
# names stay whole); each chunk is then classified.
_CHUNK = re.compile(r"[a-z0-9_]+(?:[.@+-][a-z0-9_]+)*")
_ENHANCED = re.compile(r"([245])\.(\d{1,3})\.(\d{1,3})")
_HOST = re.compile(r"(?:[a-z0-9-]+\.)+[a-z]{2,24}")
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


def words(folded: str) -> list[str]:
    """The words of folded text, with emails, hosts and enhanced codes as placeholders."""
    result: list[str] = []
    for chunk in _CHUNK.findall(folded):
        if chunk.isalnum():
            result.append(chunk)
        elif "@" in chunk:
            result.append("zzemail")
        elif (code := _ENHANCED.fullmatch(chunk)) is not None:
            result.append(f"x{code[1]}_{code[2]}_{code[3]}")
        elif "." in chunk and _HOST.fullmatch(chunk):
            result.append("zzdomain")
        else:
            result.extend(_WORD.findall(chunk))
    return result


def terms(folded: str) -> list[str]:
    """Stemmed words of folded text."""
    return [stem(word) for word in words(folded)]
