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
from service.nlu.bounce import find_reply
from service.nlu.understanding import Entities

_I = re.IGNORECASE

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
_DOMAIN = re.compile(r"(?<![\w.@%+=\\-])(?:[\w-]+\.)+[\w-]+(?![\w@-]|\.[\w-])")


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


def _email(text: str) -> str | None:
    if "@" not in text:
        return None
    for match in _EMAIL.finditer(text):
        local = match[1].strip(".")
        domain = _valid_domain(match[2])
        if local and domain:
            return f"{local.lower()}@{domain}"
    return None


def _domain(text: str) -> str | None:
    for match in _DOMAIN.finditer(text):
        name = match[0]
        tld = name.rpartition(".")[2]
        if tld[:1].isupper() and not tld.isupper():
            continue  # "it failed again.It said": a missing space, not a domain
        domain = _valid_domain(name)
        if domain:
            return domain
    return None


# -- mail client -------------------------------------------------------------------------------

_WINDOWS, _IOS, _MAC = (
    r"windows(?: 1[01])?",
    r"(?:iphone|ipad|ios)",
    r"(?:mac(?:book(?: pro| air)?|os)?|imac|os ?x)",
)
_PHONE = r"(?:iphone|ipad|ios|android|samsung|galaxy|pixel|phone|mobile)"
_ON = r"(?:app |client |program )?(?:on|in|for|from) (?:my |the |an? |our )?"
# Tiers, in the order tried: specific phrases, app names, devices, dialog signatures. Within a
# tier the first mention wins.
_CLIENT_TIERS: tuple[tuple[tuple[MailClient, str], ...], ...] = (
    (
        (MailClient.WINDOWS_MAIL, r"outlook express|windows (?:live )?mail|" + _WINDOWS + r" mail"),
        (MailClient.WINDOWS_MAIL, r"mail " + _ON + _WINDOWS + r"|mail (?:and|&) calendar"),
        (MailClient.OUTLOOK, r"outlook " + _ON + r"(?:" + _MAC + "|" + _PHONE + ")"),
        (MailClient.IOS_MAIL, r"(?:apple )?mail " + _ON + _IOS + r"|" + _IOS + r" mail"),
        (MailClient.APPLE_MAIL, r"apple mail|mac ?mail|macos mail|os ?x mail|mail\.app"),
        (MailClient.APPLE_MAIL, r"mail " + _ON + _MAC),
        (MailClient.ANDROID, r"gmail (?:app|" + _ON + r"android)|samsung (?:e-?mail|mail)"),
        (MailClient.ANDROID, r"(?:android|samsung) (?:e-?mail|mail) app|k-?9 mail|aqua ?mail"),
    ),
    (
        (MailClient.OUTLOOK, r"outlook(?!\.\w)|(?:microsoft|ms) office|office ?(?:365|20[0-2]\d)"),
        (MailClient.OUTLOOK, r"microsoft 365|o365"),
        (MailClient.THUNDERBIRD, r"thunderbird|betterbird"),
    ),
    (
        (MailClient.IOS_MAIL, r"iphone|ipad|ipod|ios"),
        (MailClient.ANDROID, r"android|galaxy|pixel|samsung"),
    ),
    (
        (MailClient.OUTLOOK, r"0x800ccc[0-9a-f]{2}|respuesta del servidor|r[ée]ponse du serveur"),
        (MailClient.OUTLOOK, r"server response:[^\n]{0,200}?error number"),
        (MailClient.THUNDERBIRD, r"the mail server responded:|sending of (?:the )?message failed"),
        (MailClient.IOS_MAIL, r"copy has been placed in your outbox"),
        (MailClient.IOS_MAIL, r"(?-i:Cannot Send Mail)[^\n]{0,300}?rejected by the server"),
        (MailClient.APPLE_MAIL, r"cannot send message using the server"),
    ),
)


def _alternation(prefix: str, patterns: list[str]) -> re.Pattern[str]:
    """One pattern of named alternatives (``prefix0``, ``prefix1`` ...), each a whole word."""
    body = "|".join(f"(?P<{prefix}{index}>{pattern})" for index, pattern in enumerate(patterns))
    return re.compile(rf"(?<![\w@./&-])(?:{body})(?![\w@&-]|\.\w)", _I)


_CLIENT_PATTERNS = tuple(_alternation("c", [p for _, p in tier]) for tier in _CLIENT_TIERS)
_SIGNATURE_LINE = re.compile(r"^[ \t]*(?:sent from|get outlook for) [^\n]*$", _I | re.MULTILINE)


def _client(text: str) -> str | None:
    text = _SIGNATURE_LINE.sub("", text)  # "Sent from my iPhone" says where they wrote from
    for tier, pattern in zip(_CLIENT_TIERS, _CLIENT_PATTERNS, strict=True):
        match = pattern.search(text)
        if match and match.lastgroup:
            return tier[int(match.lastgroup[1:])][0].value
    return None


# -- ISP ---------------------------------------------------------------------------------------

_ISPS: tuple[tuple[str, str], ...] = (
    ("AOL", r"aol"),
    ("Verizon", r"verizon(?: fios| wireless)?|fios"),
    ("Comcast", r"comcast"),
    ("Xfinity", r"xfinity"),
    ("AT&T", r"at ?& ?t|at&amp;t|(?-i:ATT)"),
    (
        "Spectrum",
        r"spectrum|charter (?:spectrum|communications)|time warner(?: cable)?|road ?runner",
    ),
    ("Virgin Media", r"virgin ?media|virgin (?:broadband|fibre|fiber|hub)"),
    ("BT", r"british telecom|bt (?:broadband|hub|business|infinity|internet)|(?-i:BT)"),
    ("TalkTalk", r"talk ?talk"),
    ("Plusnet", r"plus ?net"),
    ("Vodafone", r"vodafone"),
    ("EE", r"(?-i:EE)"),
    ("O2", r"(?-i:O2)"),
    ("T-Mobile", r"t-? ?mobile"),
    ("Telstra", r"telstra|bigpond"),
    ("Optus", r"optus"),
    ("CenturyLink", r"centurylink|century link"),
    ("Windstream", r"windstream"),
    ("Mediacom", r"mediacom"),
    ("Suddenlink", r"suddenlink"),
    ("EarthLink", r"earthlink"),
    ("Starlink", r"starlink"),
    ("Hyperoptic", r"hyperoptic"),
    ("Deutsche Telekom", r"deutsche telekom|telekom"),
    ("Zen Internet", r"zen internet"),
    # Words as well as names: accepted only as a name (see _AMBIGUOUS).
    ("Sky", r"sky"),
    ("Three", r"three"),
    ("Orange", r"orange"),
    ("Cox", r"cox(?: communications)?"),
    ("Frontier", r"frontier"),
    ("Optimum", r"optimum"),
    ("Rogers", r"rogers"),
    ("Shaw", r"shaw"),
    ("Bell", r"bell"),
)
_AMBIGUOUS = frozenset(
    {"Sky", "Three", "Orange", "Cox", "Frontier", "Optimum", "Rogers", "Shaw", "Bell"}
)
_ISP_PATTERN = _alternation("i", [pattern for _, pattern in _ISPS])
_ISP_NOUN = (
    r"(?:broadband|mobile|network|uk|isp|hub|router|fibre|fiber|4g|5g|sim|internet|wi-?fi"
    r"|home|business|connection|customer|communications|canada|block(?:s|ed|ing)?)"
)
_ISP_AFTER = re.compile(r"\s+(?:" + _ISP_NOUN + r"\b|(?:is|are) (?:my|our) (?:isp|provider))", _I)
_ISP_BEFORE = re.compile(
    r"(?:\b(?:isp|provider|carrier|network|broadband|internet)(?: is| was|:)?"
    r"|\b(?:with|via|through|on|using|use|from|to|switched to|customer of))\s*$",
    _I,
)
_COUNTED = re.compile(r"\s+(?:times?|days?|hours?|weeks?|months?|years?|emails?|messages?)\b", _I)
_SENTENCE_START = re.compile(r"(?:^|[.!?:\n]\s*|[\"'(]\s*)$")


def _isp_ok(text: str, name: str, start: int, end: int) -> bool:
    """Words that are also ISP names count only when used as a name."""
    word = text[start:end]
    before, after = text[max(0, start - 30) : start], text[end : end + 40]
    if _ISP_AFTER.match(after) or (word[:1].isupper() and _ISP_BEFORE.search(before)):
        return True
    if not word[:1].isupper() or _COUNTED.match(after):
        return False
    return not _SENTENCE_START.search(before) and not before.rstrip().lower().endswith("the")


def _isp(text: str) -> str | None:
    for match in _ISP_PATTERN.finditer(text):
        if not match.lastgroup:
            continue
        name = _ISPS[int(match.lastgroup[1:])][0]
        if name not in _AMBIGUOUS or _isp_ok(text, name, match.start(), match.end()):
            return name
    return None


# -- port --------------------------------------------------------------------------------------

MAIL_PORTS = frozenset({25, 26, 465, 587, 2525, 110, 143, 993, 995})
_NUMBER_END = r"(?![\w%]|[.,:/-]\d)"
_PORT_TIERS = (
    # "port 587", "port: 25", "port number is 465", "ports 25 and 587"
    re.compile(
        r"\bports?(?:\s*(?:number|no\.?|#))?\s*(?:[:=]|is|of|to)?\s*(\d{2,4})" + _NUMBER_END, _I
    ),
    # "smtp.example.com:465", "SMTP 587", "outgoing (465)", "465/SSL", "587 with STARTTLS"
    re.compile(
        r"(?<=[a-z\]]):(\d{2,4})"
        + _NUMBER_END
        + r"|\b(?:smtp|outgoing|outbound|incoming|imap|pop3?|ssl|tls|starttls|submission)"
        r"(?:\s+(?:server|mail))?\s*[:=(]?\s*(\d{2,4})"
        + _NUMBER_END
        + r"|(?<![\w.,:/#$£-])(\d{2,4})\s*(?:/|\(|with |using )?\s*(?:ssl|tls|starttls)\b",
        _I,
    ),
    # "25 is blocked", "using 26 instead"
    re.compile(
        r"(?<![\w.,:/#$£-])(\d{2,4})"
        r"(?=\s+(?:is |are |was |being |gets? )?(?:blocked|closed|filtered))"
        r"|\b(?:using|use|via|on|try|tried|trying|switch(?:ed)? to|change[ds]? to|instead of)"
        r"\s+(\d{2,4})(?![\w%]|[.,:/-]\d|\s+(?:times?|minutes?|hours?|days?|emails?|messages?)\b)",
        _I,
    ),
)
_PORT_CONTEXT = re.compile(r"smtp|port|outgoing|outbound|server|ssl|tls|isp|blocked", _I)


def _port(text: str) -> int | None:
    for tier, pattern in enumerate(_PORT_TIERS):
        for match in pattern.finditer(text):
            number = int(next(group for group in match.groups() if group))
            if number not in MAIL_PORTS:
                continue
            if tier == 2 and not _PORT_CONTEXT.search(
                text, max(0, match.start() - 60), match.end() + 60
            ):
                continue
            return number
    return None


def extract_entities(text: str) -> Entities:
    """Every entity found in ``text``; absent ones are ``None``."""
    reply = find_reply(text)
    email = _email(text)
    return Entities(
        domain=_domain(text) or (email.partition("@")[2] if email else None),
        email=email,
        client=_client(text),
        isp=_isp(text),
        port=_port(text),
        smtp_code=reply.code if reply else None,
        enhanced_code=reply.enhanced if reply else None,
        reply_text=reply.text if reply else None,
        reply_kind=reply.kind if reply else None,
    )
