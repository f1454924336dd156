"""Pull the entities a support answer needs out of a message: domain, address, mail client, ISP,
port and the SMTP reply (see ``bounce``).

>>> e = extract_entities("Outlook: 550 relay not permitted, sending from bob@example.com port 25")
>>> e.domain, e.email, e.client, e.port, e.smtp_code, e.reply_kind.value
('example.com', 'bob@example.com', 'outlook', 25, '550', 'relay')

Pure and fast: every pattern is compiled at import and linear-time; no I/O.
"""

from __future__ import annotations

import re

from service.kb.models import MailClient
from service.nlu.bounce import Lexicon, find_reply, fold_case
from service.nlu.understanding import Entities

TLDS: frozenset[str] = frozenset(
    """
    com net org info biz edu gov mil int name pro mobi aero coop museum jobs travel tel asia cat
    post app dev page online site shop store tech xyz club cloud email agency digital solutions
    services systems network company group design studio media news blog website host hosting
    support business center consulting academy expert guru ninja tools legal money finance
    capital fund ventures partners properties realty homes london nyc berlin paris tokyo wales
    scot bayern amsterdam africa ltd llc inc gmbh link land farm art photography social team
    test example invalid localhost рф укр рус 中国 公司 网络
    ac ad ae af ag ai al am ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bm bn bo bq br
    bs bt bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz de dj dk dm do dz ec
    ee eg er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl gm gn gp gq gr gs gt gu gw gy
    hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo jp ke kg kh ki km kn kp kr kw ky kz
    la lb lc li lk lr ls lt lu lv ly ma mc md me mg mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx
    my mz na nc ne nf ng ni nl no np nr nu nz om pa pe pf pg ph pk pl pm pn pr ps pt pw py qa re
    ro rs ru rw sa sb sc sd se sg sh si sk sl sm sn so sr ss st su sv sx sy sz tc td tf tg th tj
    tk tl tm tn to tr tt tv tw tz ua ug uk us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw
    """.split()
)
"""Top-level domains accepted in a domain name: common gTLDs, every ccTLD, the reserved ones."""

_NOT_DOMAINS = frozenset({"asp.net", "vb.net", "ado.net", "mail.app", "node.js"})
_FILE_LIKE_TLDS = frozenset({"zip", "mov", "py", "sh", "md", "ps", "so"})  # "script.py"

# A lookbehind on the opening class keeps each scan linear: a match can only start where a
# run starts, so a 10,000-character run is tried once, not 10,000 times.
_EMAIL = re.compile(r"(?<![\w.%+=-])([\w.%+=-]+)@((?:[\w-]+\.)+[\w-]+)(?![\w-]|\.[\w-])")
# A domain starts a token, or follows a lone "@" ("colleagues @example.com are fine").
_DOMAIN = re.compile(
    r"(?:(?<![\w.@%+=\\-])|(?<=(?<![\w.%+=-])@))(?:[\w-]+\.)+[\w-]+(?![\w@-]|\.[\w-])"
)


def _valid_domain(name: str) -> str | None:
    """``name`` lower-cased when it is a plausible domain name, else ``None``."""
    labels = name.lower().split(".")
    while labels and labels[0].startswith("_"):  # _dmarc.example.com names example.com
        labels.pop(0)
    if len(labels) < 2:
        return None
    tld = labels[-1]
    if tld not in TLDS and not tld.startswith("xn--"):
        return None
    for label in labels:
        if not label or len(label) > 63 or "_" in label or label[0] == "-" or label[-1] == "-":
            return None
    domain = ".".join(labels)
    if domain in _NOT_DOMAINS or (len(labels) == 2 and tld in _FILE_LIKE_TLDS):
        return None
    return domain


def _run_start(text: str, index: int, extra: str) -> int:
    """Where the run of word characters and ``extra`` that ends before ``index`` starts."""
    start = index
    while start and (text[start - 1].isalnum() or text[start - 1] in extra):
        start -= 1
    return start


def _email(text: str) -> str | None:
    # The scan visits only the "@"s: a match can start nowhere but the start of the
    # run of address characters before one.
    at = text.find("@")
    while at >= 0:
        start = _run_start(text, at, "_.%+=-")
        match = _EMAIL.match(text, start) if start < at else None
        if match:
            local = match[1].strip(".")
            domain = _valid_domain(match[2])
            if local and domain:
                return f"{local.lower()}@{domain}"
        at = text.find("@", at + 1)
    return None


def _domain(text: str) -> str | None:
    # Only runs with a dot between two name characters can hold a domain, and a match
    # can start only where such a run starts: try those, in order, each once.
    tried, dot = -1, text.find(".", 1)
    while 0 < dot < len(text) - 1:
        before, after = text[dot - 1], text[dot + 1]
        if (before.isalnum() or before in "_-") and (after.isalnum() or after in "_-"):
            start = _run_start(text, dot, "_.-")
            if start > tried:
                tried = start
                match = _DOMAIN.match(text, start)
                if match and (domain := _domain_of(match[0])):
                    return domain
        dot = text.find(".", dot + 1)
    return None


def _domain_of(name: str) -> str | None:
    tld = name.rpartition(".")[2]
    if tld[:1].isupper() and not tld.isupper():
        return None  # "it failed again.It said": a missing space, not a domain
    return _valid_domain(name)


# -- mail client -------------------------------------------------------------------------------

_ON = r"(?:app |client |program )?(?:on|in|for|from) (?:my |the |an? |our )?"
_WINDOWS = r"windows(?: 1[01])?"
_IOS = r"(?:iphone|ipad|ios)"
_MAC = r"(?:mac(?:book(?: pro| air)?|os)?|imac|os ?x)"
_PHONE = r"(?:iphone|ipad|ios|android|samsung|galaxy|pixel|phone|mobile)"
_NAME_JOINERS = "@./&-"
_OUTLOOK, _WINDOWS_MAIL = MailClient.OUTLOOK.value, MailClient.WINDOWS_MAIL.value
_THUNDERBIRD, _APPLE_MAIL = MailClient.THUNDERBIRD.value, MailClient.APPLE_MAIL.value
_IOS_MAIL, _ANDROID = MailClient.IOS_MAIL.value, MailClient.ANDROID.value
# Tiers, in order of trust: specific phrases, app names, devices, dialog signatures. Within a
# tier the first mention wins; at one spot, the entry listed first.
_CLIENT_TIERS: tuple[list[tuple[str, str]], ...] = (
    [
        (_WINDOWS_MAIL, "outlook express"),
        (_WINDOWS_MAIL, "windows (?:live )?mail"),
        (_WINDOWS_MAIL, _WINDOWS + " mail"),
        (_WINDOWS_MAIL, "mail " + _ON + _WINDOWS),
        (_WINDOWS_MAIL, "mail (?:and|&) calendar"),
        (_OUTLOOK, "outlook " + _ON + f"(?:{_MAC}|{_PHONE})"),
        (_IOS_MAIL, "apple mail " + _ON + _IOS),
        (_IOS_MAIL, "mail " + _ON + _IOS),
        (_IOS_MAIL, "iphone mail"),
        (_IOS_MAIL, "ipad mail"),
        (_IOS_MAIL, "ios mail"),
        (_APPLE_MAIL, "apple mail"),
        (_APPLE_MAIL, "mac ?mail"),
        (_APPLE_MAIL, "macos mail"),
        (_APPLE_MAIL, "os ?x mail"),
        (_APPLE_MAIL, r"mail\.app"),
        (_APPLE_MAIL, "mail " + _ON + _MAC),
        (_ANDROID, "gmail (?:app|" + _ON + "android)"),
        (_ANDROID, "samsung (?:e-?mail|mail)"),
        (_ANDROID, "android (?:e-?mail|mail) app"),
        (_ANDROID, "k-?9 mail"),
        (_ANDROID, "aqua ?mail"),
    ],
    [
        (_OUTLOOK, "outlook"),
        (_OUTLOOK, "microsoft office"),
        (_OUTLOOK, "ms office"),
        (_OUTLOOK, r"office ?(?:365|20[0-2]\d)"),
        (_OUTLOOK, "microsoft 365"),
        (_OUTLOOK, "o365"),
        (_THUNDERBIRD, "thunderbird"),
        (_THUNDERBIRD, "betterbird"),
    ],
    [(_IOS_MAIL, device) for device in ("iphone", "ipad", "ipod", "ios")]
    + [(_ANDROID, device) for device in ("android", "galaxy", "pixel", "samsung")],
    [
        (_OUTLOOK, "0x800ccc[0-9a-f]{2}"),
        (_OUTLOOK, "respuesta del servidor"),
        (_OUTLOOK, "r[ée]ponse du serveur"),
        (_OUTLOOK, r"server response:[^\n]{0,200}?error number"),
        (_THUNDERBIRD, "the mail server responded:"),
        (_THUNDERBIRD, "sending of (?:the )?message failed"),
        (_IOS_MAIL, "copy has been placed in your outbox"),
        (_IOS_MAIL, r"cannot send mail[^\n]{0,300}?rejected by the server"),
        (_APPLE_MAIL, "cannot send message using the server"),
    ],
)
_CLIENTS = Lexicon(
    [
        ((tier, client), pattern)
        for tier, entries in enumerate(_CLIENT_TIERS)
        for client, pattern in entries
    ],
    joiners=_NAME_JOINERS,
    whole_words=True,
)
_SIGNATURE_LINE = re.compile(r"^[ \t]*(?:sent from|get outlook for) [^\n]*$", re.M)


def _client(text: str, low: str) -> str | None:
    if "sent from" in low or "get outlook for" in low:
        low = _SIGNATURE_LINE.sub(lambda m: " " * len(m[0]), low)  # where they wrote from
    best: tuple[int, str] | None = None
    for (tier, client), start, _ in _CLIENTS.hits(low):
        if best and best[0] <= tier:
            continue
        if low.startswith("cannot send mail", start) and not text.startswith(
            "Cannot Send Mail", start
        ):
            continue  # "I cannot send mail" is not the iOS dialog's title
        best = (tier, client)
        if tier == 0:
            break
    return best[1] if best else None


# -- ISP ---------------------------------------------------------------------------------------

# Names that are also words (or people) count only as names; see _isp_ok.
_UPPER, _WORD, _PERSON = "upper", "word", "person"
_ISPS = Lexicon(
    [
        (("AOL", ""), "aol"),
        (("Verizon", ""), "verizon(?: fios| wireless)?"),
        (("Verizon", ""), "fios"),
        (("Comcast", ""), "comcast"),
        (("Xfinity", ""), "xfinity"),
        (("AT&T", ""), "at ?& ?t"),
        (("AT&T", ""), "at&amp;t"),
        (("AT&T", _UPPER), "att"),
        (("Spectrum", ""), "spectrum"),
        (("Spectrum", ""), "charter (?:spectrum|communications)"),
        (("Spectrum", ""), "time warner(?: cable)?"),
        (("Spectrum", ""), "road ?runner"),
        (("Virgin Media", ""), "virgin ?media"),
        (("Virgin Media", ""), "virgin (?:broadband|fibre|fiber|hub)"),
        (("BT", ""), "british telecom"),
        (("BT", _UPPER), "bt"),
        (("TalkTalk", ""), "talk ?talk"),
        (("Plusnet", ""), "plus ?net"),
        (("Vodafone", ""), "vodafone"),
        (("EE", _UPPER), "ee"),
        (("O2", _UPPER), "o2"),
        (("T-Mobile", ""), "t-? ?mobile"),
        (("Telstra", ""), "telstra"),
        (("Telstra", ""), "bigpond"),
        (("Optus", ""), "optus"),
        (("CenturyLink", ""), "century ?link"),
        (("Windstream", ""), "windstream"),
        (("Mediacom", ""), "mediacom"),
        (("Suddenlink", ""), "suddenlink"),
        (("EarthLink", ""), "earthlink"),
        (("Starlink", ""), "starlink"),
        (("Hyperoptic", ""), "hyperoptic"),
        (("Deutsche Telekom", ""), "deutsche telekom"),
        (("Deutsche Telekom", ""), "telekom"),
        (("Zen Internet", ""), "zen internet"),
        (("Sky", _WORD), "sky"),
        (("Three", _WORD), "three"),
        (("Orange", _WORD), "orange"),
        (("Cox", _PERSON), "cox"),
        (("Frontier", _PERSON), "frontier"),
        (("Optimum", _PERSON), "optimum"),
        (("Rogers", _PERSON), "rogers"),
        (("Shaw", _PERSON), "shaw"),
        (("Bell", _PERSON), "bell"),
    ],
    joiners=_NAME_JOINERS,
    whole_words=True,
)
_ISP_NOUN = (
    r"(?:broadband|mobile|network|uk|isp|hub|router|fibre|fiber|4g|5g|sim|internet|wi-?fi"
    r"|home|business|connection|customer|communications|canada|block(?:s|ed|ing)?)"
)
_ISP_AFTER = re.compile(r"\s+(?:" + _ISP_NOUN + r"\b|(?:is|are) (?:my|our) (?:isp|provider))")
_ISP_BEFORE = re.compile(
    r"(?:\b(?:isp|provider|carrier|network|broadband|internet)(?: is| was|:)?"
    r"|\b(?:with|via|through|on|using|use|from|to|switched to|customer of))\s*$"
)
_COUNTED = re.compile(r"\s+(?:times?|days?|hours?|weeks?|months?|years?|emails?|messages?)\b")
_SENTENCE_START = re.compile(r"(?:^|[.!?:\n]\s*|[\"'(]\s*)$")


def _isp_ok(text: str, low: str, mode: str, start: int, end: int) -> bool:
    """Whether a name that is also a word (``Sky``, ``three``, ``EE``, ``Cox``) is the ISP."""
    word, after = text[start:end], low[end : end + 40]
    before = low[max(0, start - 30) : start]
    if _ISP_AFTER.match(after) or (word[:1].isupper() and _ISP_BEFORE.search(before)):
        return True
    if mode == _UPPER:
        return word.isupper()
    if mode == _PERSON or not word[:1].isupper() or _COUNTED.match(after):
        return False
    return not _SENTENCE_START.search(before) and not before.rstrip().endswith("the")


def _isp(text: str, low: str) -> str | None:
    for (name, mode), start, end in _ISPS.hits(low):
        if not mode or _isp_ok(text, low, mode, start, end):
            return name
    return None


# -- port --------------------------------------------------------------------------------------

MAIL_PORTS = frozenset({25, 26, 465, 587, 2525, 110, 143, 993, 995})
_PORT_DIGITS = ("25", "26", "465", "587", "110", "143", "993", "995")
_NUMBER_END = r"(?![\w%]|[.,:/-]\d)"
_COUNT_AFTER = r"(?!\s+(?:times?|minutes?|hours?|days?|emails?|messages?|users?)\b)"
# Each tier's patterns start with a literal or a class, so re can skip ahead; a match must also
# start a word (checked in _port). The earliest match in the first tier that has one wins.
_PORT_TIERS: tuple[tuple[re.Pattern[str], ...], ...] = (
    # "port 587", "port: 25", "port number is 465", "ports 25 and 587"
    (
        re.compile(
            r"ports?(?:\s*(?:number|no\.?|#))?\s*(?:[:=]|is|of|to)?\s*(\d\d{1,3})" + _NUMBER_END
        ),
    ),
    # "smtp.example.com:465", "SMTP 587", "outgoing (465)", "465/SSL", "587 with STARTTLS",
    # "they block 25", "telnet mail.example.com 25"
    (
        re.compile(r":(?<=[a-z\]]:)(\d\d{1,3})" + _NUMBER_END),
        re.compile(
            r"(?:smtp|outgoing|outbound|incoming|imap|pop3?|ssl|tls|starttls|submission)"
            r"(?:\s+(?:server|mail))?\s*[:=(]?\s*(\d\d{1,3})" + _NUMBER_END + _COUNT_AFTER
        ),
        re.compile(r"(\d\d{1,3})\s*(?:/|\(|with |using )?\s*(?:ssl|tls|starttls)\b"),
        re.compile(r"block(?:s|ed|ing)?\s+(?:port\s+)?(\d\d{1,3})" + _NUMBER_END + _COUNT_AFTER),
        re.compile(r"telnet\s+[\w.\[\]-]{1,100}\s+(\d\d{1,3})" + _NUMBER_END),
    ),
    # "25 is blocked", "using 26 instead", "Outlook is set to 25"
    (
        re.compile(
            r"(\d\d{1,3})(?=\s+(?:is |are |was |being |gets? )?(?:blocked|closed|filtered))"
        ),
        re.compile(
            r"(?:using|use|via|on|try|tried|trying|switch(?:ed)? to|change[ds]? to|instead of"
            r"|set to)"
            r"\s+(\d\d{1,3})" + _NUMBER_END + _COUNT_AFTER
        ),
    ),
)
_PORT_CONTEXT = re.compile(
    r"smtp|port|outgoing|outbound|server|ssl|tls|isp|blocked|telnet|outlook|thunderbird"
)
_PORT_GLUE = frozenset(".,:/#$£-_")


def _first_port(low: str, pattern: re.Pattern[str], contextual: bool) -> tuple[int, int] | None:
    for examined, match in enumerate(pattern.finditer(low)):
        start = match.start()
        if examined > 100:
            break
        if (
            start
            and low[start].isalnum()
            and (low[start - 1].isalnum() or low[start - 1] in _PORT_GLUE)
        ):
            continue
        number = int(next(group for group in match.groups() if group))
        if number not in MAIL_PORTS:
            continue
        if contextual and not _PORT_CONTEXT.search(low, max(0, start - 60), match.end() + 60):
            continue
        return start, number
    return None


def _port(low: str) -> int | None:
    if not any(number in low for number in _PORT_DIGITS):
        return None
    for tier, patterns in enumerate(_PORT_TIERS):
        found = [hit for p in patterns if (hit := _first_port(low, p, tier == 2))]
        if found:
            return min(found)[1]
    return None


def extract_entities(text: str) -> Entities:
    """Every entity found in ``text``; absent ones are ``None``."""
    low = fold_case(text)
    reply = find_reply(text)
    email = _email(text)
    return Entities(
        domain=_domain(text) or (email.partition("@")[2] if email else None),
        email=email,
        client=_client(text, low),
        isp=_isp(text, low),
        port=_port(low),
        smtp_code=reply.code if reply else None,
        enhanced_code=reply.enhanced if reply else None,
        reply_text=reply.text if reply else None,
        reply_kind=reply.kind if reply else None,
    )
