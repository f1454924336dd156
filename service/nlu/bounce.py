"""Find the SMTP reply in a message (a pasted bounce, a client's error dialog, free text) and
say what it is about.

>>> reply = find_reply("host mx.example.org said: 554 5.7.1 <a@example.org>: Relay access denied")
>>> reply.code, reply.enhanced, reply.kind.value
('554', '5.7.1', 'relay')

The reply's own words decide its kind, not its number: ``554 5.7.1`` is a relay refusal in one
message and a Spamhaus listing in the next. Every pattern is linear-time (no nested quantifiers
over the same characters, bounded windows) and loops stop after a fixed number of hits, so a
hostile 10,000-character paste costs milliseconds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Generic, NamedTuple, TypeVar

from service.nlu.anchors import AnchorScanner, anchors
from service.nlu.understanding import ReplyKind

MAX_REPLY_TEXT = 300
_MAX_CANDIDATES = 40
_MAX_HITS = 200
_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")

T = TypeVar("T")


def fold_case(text: str) -> str:
    """Lower-case ``text`` keeping every character where it was (``İ`` lowers to two)."""
    low = text.lower()
    return low if len(low) == len(text) else text.translate(_ASCII_LOWER)


class Lexicon(Generic[T]):
    """Named, lower-case patterns found in one scan of case-folded text.

    Every entry starts with literal text; one Aho-Corasick pass (``AnchorScanner``) finds
    where any entry's literal start occurs, and only those entries are tried there. A hit
    starts a word: the character before it is neither a letter, a digit, nor one of
    ``joiners``; with ``whole_words`` it also ends one.

    >>> Lexicon([("greeting", "hello"), ("greeting", "hi")]).first("oh, hi there")
    ('greeting', 4, 6)
    """

    def __init__(
        self, entries: Iterable[tuple[T, str]], *, joiners: str = "", whole_words: bool = False
    ) -> None:
        self._entries: list[tuple[T, re.Pattern[str]]] = []
        by_anchor: dict[str, list[int]] = {}
        for value, pattern in entries:
            starts = anchors(pattern)
            if starts is None:
                raise ValueError(f"lexicon entry must start with literal text: {pattern!r}")
            for anchor in starts:
                by_anchor.setdefault(anchor, []).append(len(self._entries))
            self._entries.append((value, re.compile(pattern)))
        self._scanner = AnchorScanner({anchor: tuple(at) for anchor, at in by_anchor.items()})
        self._joiners = joiners
        self._whole_words = whole_words

    def _joined(self, text: str, index: int, step: int) -> bool:
        """Whether the character at ``index`` continues the word (towards ``step``)."""
        if not 0 <= index < len(text):
            return False
        char = text[index]
        if char.isalnum() or char == "_":
            return True
        if char not in self._joiners:
            return False
        after = index + step
        return step < 0 or (0 <= after < len(text) and text[after].isalnum())

    def hits(self, low: str) -> Iterator[tuple[T, int, int]]:
        """Every (value, start, end) in ``low``, by position and then by entry order."""
        candidates: dict[int, set[int]] = {}
        for at, indices in self._scanner.find(low):
            candidates.setdefault(at, set()).update(indices)
        matched = 0
        for at in sorted(candidates):
            if matched >= _MAX_HITS:
                break
            if self._joined(low, at - 1, -1):
                continue
            found = False
            for index in sorted(candidates[at]):
                value, pattern = self._entries[index]
                hit = pattern.match(low, at)
                found = found or hit is not None
                if hit and not (self._whole_words and self._joined(low, hit.end(), 1)):
                    yield value, at, hit.end()
            matched += found

    def first(self, low: str) -> tuple[T, int, int] | None:
        """The first hit, by position and then by entry order."""
        return next(self.hits(low), None)


@dataclass(frozen=True, slots=True)
class Reply:
    """One SMTP reply; ``text`` and ``kind`` are ``None`` for a bare mention ("error 550")."""

    code: str | None
    enhanced: str | None
    text: str | None
    kind: ReplyKind | None
    start: int = 0
    end: int = 0


# -- what a reply is about ---------------------------------------------------------------------


class _Cue(NamedTuple):
    rank: int  # lower decides first
    kind: ReplyKind
    coded_only: bool = False  # means this only beside a code ("authentication required")
    phrase: bool = False  # is a reply on its own, with no code ("relaying denied")


def _cues(cue: _Cue, *patterns: str) -> list[tuple[_Cue, str]]:
    return [(cue, pattern) for pattern in patterns]


_NOT_NUMBER = r"(?![\d.]\d|\d)"
_RELAY = _Cue(1, ReplyKind.RELAY, phrase=True)
_CUES = Lexicon(
    _cues(
        _Cue(0, ReplyKind.BLOCKED, phrase=True),
        "spamhaus", "spamcop", "barracuda", "sorbs", "blocked using", "block ?list", "black ?list",
        "dnsbl",
    )
    + _cues(
        _Cue(0, ReplyKind.BLOCKED),
        r"rbl\b", "open relay", r"listed (?:at|on|in|by)\b", "reputation", r"spf\b", "dkim",
        "dmarc",
    )
    + _cues(
        _RELAY,
        r"relay(?:ing)?(?: of mail)?(?: access)?(?: (?:is|was|has been))? (?:denied|not permitted"
        r"|not allowed|prohibited|refused|rejected|forbidden|disabled)",
        "unable to relay", r"not (?:authori[sz]ed|permitted|allowed) to relay",
        "can(?:not|'t| not) relay", r"does(?: not|n't) (?:allow|permit) relay",
        r"do(?: not|n't) (?:allow|permit) relay", "we do not relay", "no relaying",
        "allowed rcpthosts", "non-accepted domain", "tenantattribution",
        "delivery is not allowed to this address",
        "do not have permission to send to this recipient",
        "smtp authentication is required", "client not authenticated",
    )
    + _cues(
        _Cue(1, ReplyKind.RELAY, coded_only=True),
        "authentication (?:is )?required", "not authenticated", "must (?:first )?authenticate",
        r"5\.7\.(?:54|57|64)" + _NOT_NUMBER,
    )
    + _cues(
        _Cue(2, ReplyKind.TEMPORARY),
        "greylist", "graylist", "try again later", r"deferred\b",
        "temporar(?:y|ily) (?:failure|deferred|rejected|unavailable)",
    )
    + _cues(_Cue(3, ReplyKind.USER_UNKNOWN, phrase=True), "user unknown", "no such user")
    + _cues(_Cue(3, ReplyKind.USER_UNKNOWN, phrase=True), "mailbox (?:is )?unavailable")
    + _cues(
        _Cue(3, ReplyKind.USER_UNKNOWN),
        "unknown (?:user|recipient|mailbox|address)", "no such (?:recipient|mailbox|address)",
        "no mailbox here", "mailbox (?:not found|does not exist|doesn't exist)",
        "recipient (?:does not exist|doesn't exist|not found)",
        "address (?:does not exist|doesn't exist|not found)",
        "user (?:does not exist|doesn't exist|not found)",
        "account (?:does not exist|doesn't exist|not found)",
        "invalid (?:recipient|mailbox)", "recip(?:ient)?notfound", "unrouteable address",
        r"5\.1\.1" + _NOT_NUMBER, r"5\.1\.10" + _NOT_NUMBER,
    )
    + _cues(
        _Cue(4, ReplyKind.AUTH_FAILED, phrase=True),
        "incorrect authentication data", "authentication failed",
    )
    + _cues(
        _Cue(4, ReplyKind.AUTH_FAILED),
        "authentication (?:failure|unsuccessful|credentials invalid)", "incorrect authentication",
        "invalid (?:login|credentials|username|user name|password)",
        "username and password not accepted", "bad (?:username|user name|password)",
        "wrong (?:username|user name|password)", "incorrect (?:username|user name|password)",
        "password (?:is )?(?:incorrect|wrong|not accepted)", "login (?:failed|incorrect|denied)",
        r"5\.7\.(?:8|139)" + _NOT_NUMBER,
    )
    + _cues(
        _Cue(5, ReplyKind.OTHER),
        r"loop(?:ing|s|ed)?\b", "hop count", "too many hops", "mailbox (?:is )?full", "quota",
        "overquota", "insufficient (?:system )?storage", r"5\.4\.6" + _NOT_NUMBER,
    )
    + _cues(_Cue(6, ReplyKind.SIZE, phrase=True), "message too large", "size exceeds")
    + _cues(
        _Cue(6, ReplyKind.SIZE),
        "exceeds? (?:the |our )?(?:maximum|max|fixed|size|message size|allowed size)",
        "too (?:large|big)", "message size", "size limit", r"5\.(?:3\.4|2\.3)" + _NOT_NUMBER,
    )
    + _cues(
        _Cue(7, ReplyKind.BLOCKED),
        "spam", "junk", "blocked", "banned", "policy", "content (?:presents|rejected|violat)",
        "security issue", "access denied", "virus", "malware", "not accepted due to",
        r"5\.7\.(?:26|6\d\d)" + _NOT_NUMBER,
    )
    + _cues(
        _Cue(8, ReplyKind.CONNECTION, phrase=True),
        "timed out", "time ?out", "connection (?:was |has been )?(?:refused|reset|lost|closed"
        "|dropped|failed|interrupted)",
        "could ?not connect", "couldn't connect", "can ?not connect", "can't connect",
        "unable to connect", "fail(?:ed|s)? to connect", r"connecting to [^\n]{0,80}?failed",
        "refusing (?:smtp )?connections", "no route to host", "network is unreachable",
        "0x800ccc0[ef]", "0x8004210b",
    )
)  # fmt: skip


def _classify(low: str, *, coded: bool, temporary: bool) -> ReplyKind | None:
    best: _Cue | None = None
    for cue, _, _ in _CUES.hits(low):
        if cue.coded_only and not coded:
            continue
        if best is None or cue.rank < best.rank:
            best = cue
            if cue.rank == 0:
                break
    if temporary and (best is None or best.rank > _RELAY.rank):
        return ReplyKind.TEMPORARY
    if best is not None and best.kind is ReplyKind.TEMPORARY and coded:
        return None  # "deferred" beside a 5xx code is not a deferral
    return best.kind if best else None


def classify(
    text: str, *, code: str | None = None, enhanced: str | None = None
) -> ReplyKind | None:
    """The kind of the reply ``text``; ``None`` when nothing in it says.

    >>> classify("554 5.7.1 Service unavailable; Client host blocked using zen.spamhaus.org")
    <ReplyKind.BLOCKED: 'blocked'>
    """
    temporary = (code or enhanced or "")[:1] == "4"
    return _classify(fold_case(text), coded=bool(code or enhanced), temporary=temporary)


# -- where replies are -------------------------------------------------------------------------

_CODE = re.compile(
    r"[45][0-5]\d(?:[ -]#?([245]\.\d{1,3}\.\d{1,3})(?![\w]|\.\d))?(?![\w%]|[.,/:]\d)"
)
_ENHANCED = re.compile(r"[45]\.[0-7]\.\d{1,3}(?![\w]|[.,]\d)")
_CODE_GLUE = frozenset(".,/\\$£€+-_")  # not "#": Exchange writes "#550 5.7.1 Unable to relay ##"
_MARKER_WORDS = (
    "said", "responded", "response", "returned", "replied", "reply", "status", "diagnostic-code",
    "smtp",
)  # fmt: skip
_BARE_WORDS = ("error", "code", "smtp", "reply", "response", "status", "number", "no.")
_BARE_AFTER = re.compile(
    r" *['\"]? *(?:error|code|bounce|reject|rejection|response|reply|failure|message|back|ndr)"
)
_NOT_A_REPLY_AFTER = re.compile(r" *(?:error|code|bounce|back|ndr)s?\b")
_STATUS = re.compile(r"status:[ \t]*([45]\.\d{1,3}\.\d{1,3})")
_INNER_ENHANCED = re.compile(r"#([45]\.\d{1,3}\.\d{1,3})(?![\d.])")
_CONTINUATION = re.compile(r"\d{3}[ -](?:[245]\.\d{1,3}\.\d{1,3})?\s*")
_CUT = re.compile(
    r", *(?:error number|n[uú]mero de error|port|secure|server error|protocol|account|subject)"
    r" *:| please (?:check|verify|try|contact)| \(?error number:"
)
_CLOSING_QUOTE = {"'": "'", '"': '"', "‘": "’", "“": "”"}
_SENTENCE_END = re.compile(r"[.!?](?=\s)")
_OPENING_QUOTE = re.compile(r"['\"‘“](?<!\w.)")  # not the apostrophe in "don't"


def _after_marker(low: str, start: int) -> bool:
    """Whether a code at ``start`` follows "said:", "Status:", a quote, or starts a line."""
    before = low[max(0, start - 40) : start].rstrip(" \t")
    if not before or before.endswith("\n"):
        return True
    if before[-1] in "#(;'\"‘“:<":
        return True
    return before.endswith(_MARKER_WORDS)


def _bare_before(low: str, start: int) -> bool:
    """Whether a code at ``start`` follows "error", "SMTP error code:", "Server Error:"."""
    before = low[max(0, start - 30) : start].rstrip(" \t:#=")
    return before.endswith(_BARE_WORDS)


def _tidy(text: str) -> str:
    text = " ".join(text.split())
    if text.count(">") > text.count("<"):
        text = text.replace(">", "")
    text = text.strip(" '\"‘’“”,;.#")
    if len(text) > MAX_REPLY_TEXT:
        text = text[: MAX_REPLY_TEXT - 1].rstrip() + "…"
    return text


def _body(text: str, low: str, start: int, end: int, code: str | None) -> str:
    """The reply from ``start`` to ``end`` of line, plus folded or ``550-``-continued lines, cut
    where the reply ends (closing quote, ", Error Number:", "Please check ..."); a reply quoted
    in a sentence ("fails with 554 ... denied. I notice ...") ends with its sentence."""
    line_start = text.rfind("\n", 0, start) + 1
    indent = len(text[line_start:start]) - len(text[line_start:start].lstrip())
    parts = [text[start:end]]
    size = end - start
    while end < len(text) and size < MAX_REPLY_TEXT:
        next_end = text.find("\n", end + 1)
        next_end = len(text) if next_end < 0 else next_end
        line = text[end + 1 : next_end]
        stripped = line.lstrip()
        continued = _CONTINUATION.match(stripped) if code and stripped.startswith(code) else None
        if continued:
            parts.append(stripped[continued.end() :])
        elif stripped and len(line) - len(stripped) > indent and not stripped[:1].isdigit():
            parts.append(stripped)
        else:
            break
        size += len(line)
        end = next_end
    body = " ".join(parts)
    quote = _CLOSING_QUOTE.get(text[start - 1 : start]) if start else None
    if quote and quote in body:
        body = body[: body.index(quote)]
    cut = _CUT.search(fold_case(body))
    body = body[: cut.start()] if cut else body
    if not _after_marker(low, start):
        sentence_end = _SENTENCE_END.search(body)
        body = body[: sentence_end.start()] if sentence_end else body
    return _tidy(body)


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start, start + 400)
    return min(len(text), start + 400) if end < 0 else end


def _coded(text: str, low: str) -> tuple[list[Reply], list[Reply]]:
    """Replies with a 4xx/5xx code, and bare mentions of a code ("error 550")."""
    replies: list[Reply] = []
    bare: list[Reply] = []
    for examined, match in enumerate(_CODE.finditer(low)):
        if examined >= _MAX_HITS or len(replies) + len(bare) >= _MAX_CANDIDATES:
            break
        start = match.start()
        if start and (low[start - 1].isalnum() or low[start - 1] in _CODE_GLUE):
            continue
        code, enhanced = match[0][:3], match[1]
        rest = low[match.end() : _line_end(low, match.end())]
        marked = _after_marker(low, start)
        bare_mention = _bare_before(low, start) or bool(_BARE_AFTER.match(rest))
        if not enhanced and not marked and _NOT_A_REPLY_AFTER.match(rest):
            if bare_mention:
                bare.append(Reply(code, None, None, None, start, match.end()))
            continue
        body = _body(text, low, start, _line_end(text, match.end()), code)
        low_body = fold_case(body)
        kind = _classify(low_body, coded=True, temporary=False)
        if kind is None and not (enhanced or marked):
            if bare_mention:
                bare.append(Reply(code, None, None, None, start, match.end()))
            continue
        if code[0] == "4":
            kind = _classify(low_body, coded=True, temporary=True)
        kind = kind or ReplyKind.OTHER
        if not enhanced:
            inner = _INNER_ENHANCED.search(body)
            enhanced = inner[1] if inner else None
        replies.append(Reply(code, enhanced, body, kind, start, start + len(body)))
    return replies, bare


def _enhanced_only(text: str, low: str, taken: list[Reply]) -> list[Reply]:
    """Replies that carry only an enhanced status code: ``Status: 5.7.1``, ``#5.4.6``."""
    found: list[Reply] = []
    for examined, match in enumerate(_ENHANCED.finditer(low)):
        if examined >= _MAX_HITS or len(found) >= _MAX_CANDIDATES:
            break
        start = match.start()
        if start and low[start - 1] == "#":
            start -= 1
        elif start and (low[start - 1].isalnum() or low[start - 1] in _CODE_GLUE):
            continue
        if any(reply.start <= start < reply.end for reply in taken):
            continue
        enhanced = match[0]
        rest = low[match.end() : _line_end(low, match.end())]
        said = _classify(rest, coded=False, temporary=False)
        if not _after_marker(low, start) and said in (None, ReplyKind.TEMPORARY):
            continue  # "iOS 5.1.1" is a version, not a status
        if low[start - 1 : start] == "(":  # qmail: "... looping: ... line. (#5.4.6)"
            body = _tail_reply(text, start - 1, match.end())
        else:
            body = _body(text, low, start, _line_end(text, match.end()), None)
        kind = _classify(fold_case(body), coded=True, temporary=enhanced[0] == "4")
        found.append(Reply(None, enhanced, body, kind or ReplyKind.OTHER, start, match.end()))
    return found


def _tail_reply(text: str, start: int, end: int) -> str:
    """The reply that a trailing ``(#5.4.6)`` closes: back to an opening quote or the line."""
    line_start = max(text.rfind("\n", 0, start) + 1, start - MAX_REPLY_TEXT)
    quotes = list(_OPENING_QUOTE.finditer(text, line_start, start))
    begin = quotes[-1].end() if quotes else line_start
    return _tidy(text[begin : end + (text[end : end + 1] == ")")])


def _sentence(text: str, start: int, end: int) -> str:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    head_start = max(line_start, start - MAX_REPLY_TEXT)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, head_start, start)]
    tail = _SENTENCE_END.search(text, end, min(line_end, end + MAX_REPLY_TEXT))
    begin, finish = (ends[-1] if ends else head_start), (tail.end() if tail else line_end)
    quotes = list(_OPENING_QUOTE.finditer(text, begin, start))
    if quotes:  # gets 'Sender not authorized to relay' -> the quoted words only
        close = text.find(_CLOSING_QUOTE[quotes[-1][0]], end, finish + 1)
        begin, finish = quotes[-1].end(), (close if close >= 0 else finish)
    return _tidy(text[begin:finish])


def _phrases(text: str, low: str) -> list[Reply]:
    """Code-less wordings: "... rejected by the server because it does not allow relaying"."""
    found: list[Reply] = []
    for cue, start, end in _CUES.hits(low):
        if not cue.phrase:
            continue
        sentence = _sentence(text, start, end)
        kind = _classify(fold_case(sentence), coded=False, temporary=False) or cue.kind
        found.append(Reply(None, None, sentence, kind, start, end))
        if kind is ReplyKind.RELAY or len(found) >= _MAX_CANDIDATES // 4:
            break
    return found


def _score(reply: Reply) -> tuple[bool, bool, bool, bool, int]:
    return (
        reply.kind is ReplyKind.RELAY,
        reply.kind not in (None, ReplyKind.OTHER),
        reply.code is not None,
        reply.enhanced is not None,
        -reply.start,
    )


def find_reply(text: str) -> Reply | None:
    """The most relevant reply in ``text``: a relay one first, then the most specific."""
    low = fold_case(text)
    replies, bare = _coded(text, low)
    candidates = replies + _enhanced_only(text, low, replies)
    if not any(reply.kind is ReplyKind.RELAY for reply in candidates):
        candidates += _phrases(text, low)  # a coded relay reply beats any code-less one
    if not candidates:
        return bare[0] if bare else None
    best = max(candidates, key=_score)
    code, enhanced = best.code, best.enhanced
    bare_code = bare[0].code if bare else None
    if code is None and bare_code and (enhanced is None or enhanced[0] == bare_code[0]):
        code = bare_code
    if enhanced is None and code is not None:
        status = _STATUS.search(low)
        if status and status[1][0] == code[0]:
            enhanced = status[1]
    return Reply(code, enhanced, best.text, best.kind, best.start, best.end)
