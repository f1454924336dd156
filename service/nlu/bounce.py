"""Find the SMTP reply in a message (a pasted bounce, a client's error dialog, free text) and
say what it is about.

>>> reply = find_reply("host mx.example.org said: 554 5.7.1 <a@example.org>: Relay access denied")
>>> reply.code, reply.enhanced, reply.kind.value
('554', '5.7.1', 'relay')

The reply's own words decide its kind, not its number: ``554 5.7.1`` is a relay refusal in one
message and a Spamhaus listing in the next. Every pattern is linear-time (no nested quantifiers
over the same characters, bounded windows), so a hostile 10,000-character paste costs little.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from service.nlu.understanding import ReplyKind

MAX_REPLY_TEXT = 300
_MAX_CANDIDATES = 40
_I = re.IGNORECASE


@dataclass(frozen=True, slots=True)
class Reply:
    """One SMTP reply; ``text`` and ``kind`` are ``None`` for a bare mention ("error 550")."""

    code: str | None
    enhanced: str | None
    text: str | None
    kind: ReplyKind | None
    start: int = 0
    end: int = 0


# -- what a reply is about, most decisive first ------------------------------------------------

_BLOCKLIST = re.compile(
    r"spamhaus|spamcop|barracuda|sorbs|blocked using|block ?list|black ?list|\bdnsbl\b|\brbl\b"
    r"|open relay|listed (?:at|on|in|by)\b|reputation|\bspf\b|\bdkim\b|\bdmarc\b",
    _I,
)
_RELAY_WORDS = (
    r"relay(?:ing)?(?: of mail)?(?: access)?(?: (?:is|was|has been))?"
    r" (?:denied|not permitted|not allowed|prohibited|refused|rejected|forbidden|disabled)"
    r"|(?:unable|not authori[sz]ed|not permitted|not allowed|cannot|can ?not|can't) to relay"
    r"|(?:does not|doesn't|do not|don't) (?:allow|permit) relay|we do not relay|no relaying"
    r"|allowed rcpthosts|non-accepted domain|tenantattribution"
    r"|delivery is not allowed to this address|do not have permission to send to this recipient"
)
_RELAY = re.compile(
    _RELAY_WORDS
    + r"|authentication (?:is )?required|not authenticated|must (?:first )?authenticate"
    r"|(?<![\d.])5\.7\.(?:54|57|64)(?!\d)",
    _I,
)
# Without a code, "is authentication required?" is a question, not a refusal.
_RELAY_FREE = re.compile(
    _RELAY_WORDS + r"|smtp authentication is required|client not authenticated", _I
)
_TEMPORARY = re.compile(
    r"greylist|graylist|try again later|temporar(?:y|ily) (?:failure|deferred|rejected|unavailable)"
    r"|\bdeferred\b",
    _I,
)
_USER_UNKNOWN = re.compile(
    r"user unknown|unknown (?:user|recipient|mailbox|address)"
    r"|no such (?:user|recipient|mailbox|address)|no mailbox here"
    r"|mailbox (?:is )?(?:unavailable|not found|does not exist|doesn't exist)"
    r"|(?:recipient|address|user|account|mailbox) (?:does not exist|doesn't exist|not found)"
    r"|invalid (?:recipient|mailbox)|recipnotfound|unrouteable address"
    r"|(?<![\d.])5\.1\.(?:1|10)(?![\d.])",
    _I,
)
_AUTH_FAILED = re.compile(
    r"authentication (?:failed|failure|unsuccessful|credentials invalid)|incorrect authentication"
    r"|invalid (?:login|credentials|username|user name|password)"
    r"|username and password not accepted|(?:bad|wrong|incorrect) (?:username|user name|password)"
    r"|password (?:is )?(?:incorrect|wrong|not accepted)|login (?:failed|incorrect|denied)"
    r"|(?<![\d.])5\.7\.(?:8|139)(?![\d.])",
    _I,
)
_OTHER = re.compile(
    r"\bloop(?:ing|s|ed)?\b|hop count|too many hops|mailbox (?:is )?full|quota"
    r"|insufficient (?:system )?storage|(?<![\d.])5\.4\.6(?![\d.])",
    _I,
)
_SIZE = re.compile(
    r"size exceeds|exceeds? (?:the |our )?(?:maximum|max|fixed|size|message size|allowed size)"
    r"|too (?:large|big)|message size|size limit|(?<![\d.])5\.(?:3\.4|2\.3)(?![\d.])",
    _I,
)
_BLOCKED = re.compile(
    r"\bspam|\bjunk|blocked|banned|policy|content (?:presents|rejected|violat)|security issue"
    r"|access denied|\bvirus|malware|not accepted due to|(?<![\d.])5\.7\.(?:26|6\d\d)(?![\d.])",
    _I,
)
_CONNECTION = re.compile(
    r"timed? ?out|timeout|connection (?:was |has been )?"
    r"(?:refused|reset|lost|closed|dropped|failed|interrupted)"
    r"|(?:could ?not|couldn't|can ?not|can't|unable to|failed to|fails to) connect"
    r"|connecting to [^\n]{0,80}?failed|refusing (?:smtp )?connections|no route to host"
    r"|network is unreachable|0x800ccc0[ef]|0x8004210b",
    _I,
)
_BY_WORDS: tuple[tuple[re.Pattern[str], ReplyKind], ...] = (
    (_USER_UNKNOWN, ReplyKind.USER_UNKNOWN),
    (_AUTH_FAILED, ReplyKind.AUTH_FAILED),
    (_OTHER, ReplyKind.OTHER),
    (_SIZE, ReplyKind.SIZE),
    (_BLOCKED, ReplyKind.BLOCKED),
    (_CONNECTION, ReplyKind.CONNECTION),
)


def classify(
    text: str, *, code: str | None = None, enhanced: str | None = None
) -> ReplyKind | None:
    """The kind of the reply ``text``; ``None`` when nothing in it says.

    >>> classify("554 5.7.1 Service unavailable; Client host blocked using zen.spamhaus.org")
    <ReplyKind.BLOCKED: 'blocked'>
    """
    if _BLOCKLIST.search(text):
        return ReplyKind.BLOCKED
    if (_RELAY if code or enhanced else _RELAY_FREE).search(text):
        return ReplyKind.RELAY
    if (code or enhanced or "")[:1] == "4" or (not code and _TEMPORARY.search(text)):
        return ReplyKind.TEMPORARY
    for pattern, kind in _BY_WORDS:
        if pattern.search(text):
            return kind
    return None


# -- where replies are -------------------------------------------------------------------------

_CODED = re.compile(
    r"(?<![\w.,#/\\$£€+-])(?P<code>[45][0-5]\d)"
    r"(?:[ -]#?(?P<enh>[245]\.\d{1,3}\.\d{1,3})(?![\w]|\.\d))?"
    r"(?![\w%]|[.,/:]\d)(?P<rest>[^\n]{0,400})"
)
_ENHANCED = re.compile(
    r"(?<![\w.,/\\-])#?(?P<enh>[45]\.[0-7]\.\d{1,3})(?![\w]|[.,]\d)(?P<rest>[^\n]{0,400})"
)
_CODE_MARKER = re.compile(
    r"(?:said|responded|response|returned|replied|reply|status|diagnostic-code|smtp)"
    r"\s*[:;]?\s*['\"‘“(<]?\s*$|[#(;'\"‘“:]\s*$|(?:^|\n)\s*$",
    _I,
)
_BARE_BEFORE = re.compile(
    r"(?:error|code|smtp|reply|response|status)\s*(?:code|number|no\.?)?\s*[:#=]?\s*$", _I
)
_BARE_AFTER = re.compile(
    r"\s*['\"]?\s*(?:error|code|bounce|reject|rejection|response|reply|failure|message|back|ndr)",
    _I,
)
_NOT_A_REPLY_AFTER = re.compile(
    r"\s*(?:error|code|bounce|back|ndr)s?\b",
    _I,
)
_STATUS = re.compile(r"^\s*status:\s*(?P<enh>[45]\.\d{1,3}\.\d{1,3})", _I | re.MULTILINE)
_INNER_ENHANCED = re.compile(r"#(?P<enh>[45]\.\d{1,3}\.\d{1,3})(?![\d.])")
_CUT = re.compile(
    r",\s*(?:error number|n[uú]mero de error|port|secure|server error|protocol|account|subject)\s*:"
    r"|\s+please (?:check|verify|try|contact)|\s+\(?error number:",
    _I,
)
_CONTINUATION = re.compile(r"\d{3}[ -](?:[245]\.\d{1,3}\.\d{1,3})?\s*")
_CLOSING_QUOTE = {"'": "'", '"': '"', "‘": "’", "“": "”"}
_SENTENCE_END = re.compile(r"[.!?](?=\s)")


def _tidy(text: str) -> str:
    text = " ".join(text.split())
    if text.count(">") > text.count("<"):
        text = text.replace(">", "")
    text = text.strip(" '\"‘’“”,;.")
    if len(text) > MAX_REPLY_TEXT:
        text = text[: MAX_REPLY_TEXT - 1].rstrip() + "…"
    return text


def _body(text: str, start: int, end: int, code: str | None) -> str:
    """The reply from ``start``: its line, plus folded or ``550-``-continued lines, cut at the
    end of the reply (closing quote, ", Error Number:", "Please check ...")."""
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
    cut = _CUT.search(body)
    if cut:
        body = body[: cut.start()]
    return _tidy(body)


def _sentence(text: str, start: int, end: int) -> str:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    line_end = len(text) if line_end < 0 else line_end
    head = text[max(line_start, start - MAX_REPLY_TEXT) : start]
    ends = [m.end() for m in _SENTENCE_END.finditer(head)]
    begin = start - len(head) + (ends[-1] if ends else 0)
    tail = _SENTENCE_END.search(text, end, min(line_end, end + MAX_REPLY_TEXT))
    return _tidy(text[begin : tail.end() if tail else line_end])


def _coded(text: str) -> tuple[list[Reply], list[Reply]]:
    """Replies with a 4xx/5xx code, and bare mentions of a code ("error 550")."""
    replies: list[Reply] = []
    bare: list[Reply] = []
    for match in _CODED.finditer(text):
        if len(replies) + len(bare) >= _MAX_CANDIDATES:
            break
        code, enhanced, rest = match["code"], match["enh"], match["rest"]
        before = text[max(0, match.start() - 40) : match.start()]
        if not enhanced and _NOT_A_REPLY_AFTER.match(rest) and not _CODE_MARKER.search(before):
            if _BARE_BEFORE.search(before) or _BARE_AFTER.match(rest):
                bare.append(Reply(code, None, None, None, match.start()))
            continue
        body = _body(text, match.start(), match.end(), code)
        kind = classify(body, code=code, enhanced=enhanced)
        if kind is None:
            if enhanced or _CODE_MARKER.search(before):
                kind = ReplyKind.OTHER
            elif _BARE_BEFORE.search(before) or _BARE_AFTER.match(rest):
                bare.append(Reply(code, None, None, None, match.start()))
                continue
            else:
                continue
        if not enhanced:
            inner = _INNER_ENHANCED.search(body)
            enhanced = inner["enh"] if inner else None
        replies.append(Reply(code, enhanced, body, kind, match.start(), match.end()))
    return replies, bare


def _enhanced_only(text: str, taken: list[Reply]) -> list[Reply]:
    """Replies that carry only an enhanced status code: ``Status: 5.7.1``, ``#5.4.6``."""
    spans = [(r.start, r.end) for r in taken]
    found: list[Reply] = []
    for match in _ENHANCED.finditer(text):
        if len(found) >= _MAX_CANDIDATES:
            break
        if any(lo <= match.start() < hi for lo, hi in spans):
            continue
        enhanced = match["enh"]
        body = _body(text, match.start(), match.end(), None)
        kind = classify(body, enhanced=enhanced)
        before = text[max(0, match.start() - 40) : match.start()]
        if not _CODE_MARKER.search(before) and classify(match["rest"]) in (
            None,
            ReplyKind.TEMPORARY,
        ):
            continue  # "iOS 5.1.1" is a version, not a status
        reply = Reply(None, enhanced, body, kind or ReplyKind.OTHER, match.start(), match.end())
        found.append(reply)
    return found


_FREE_PHRASES = re.compile(
    _RELAY_WORDS + r"|smtp authentication is required|client not authenticated"
    r"|timed out|connection refused|could ?n[o']t connect to|unable to connect to"
    r"|user unknown|no such user|mailbox unavailable|incorrect authentication data"
    r"|authentication failed|message too large|size exceeds|blocked using|spamhaus"
    r"|black ?listed|block ?listed",
    _I,
)


def _phrases(text: str) -> list[Reply]:
    """Code-less wordings: "... rejected by the server because it does not allow relaying"."""
    found: list[Reply] = []
    for match in _FREE_PHRASES.finditer(text):
        if len(found) >= _MAX_CANDIDATES // 4:
            break
        sentence = _sentence(text, match.start(), match.end())
        kind = classify(sentence) or classify(match[0])
        if kind is not None:
            found.append(Reply(None, None, sentence, kind, match.start()))
    return found


def _score(reply: Reply) -> tuple[bool, bool, bool, bool, int]:
    specific = reply.kind not in (None, ReplyKind.OTHER)
    return (
        reply.kind is ReplyKind.RELAY,
        specific,
        reply.code is not None,
        reply.enhanced is not None,
        -reply.start,
    )


def find_reply(text: str) -> Reply | None:
    """The most relevant reply in ``text``: a relay one first, then the most specific."""
    replies, bare = _coded(text)
    candidates = replies + _enhanced_only(text, replies) + _phrases(text)
    if not candidates:
        return bare[0] if bare else None
    best = max(candidates, key=_score)
    code, enhanced = best.code, best.enhanced
    bare_code = bare[0].code if bare else None
    if code is None and bare_code and (enhanced is None or enhanced[0] == bare_code[0]):
        code = bare_code
    if enhanced is None and code is not None:
        status = _STATUS.search(text)
        if status and status["enh"][0] == code[0]:
            enhanced = status["enh"]
    return Reply(code, enhanced, best.text, best.kind, best.start, best.end)
