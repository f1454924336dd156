"""Entity extraction: bounces and client dialogs in the MTAs' own words, free text, negatives."""

from __future__ import annotations

import pytest

from service.nlu.entities import extract_entities
from service.nlu.freemail import is_free_mail
from service.nlu.understanding import ReplyKind

RELAY, BLOCKED, USER = ReplyKind.RELAY, ReplyKind.BLOCKED, ReplyKind.USER_UNKNOWN
AUTH, SIZE, TEMP = ReplyKind.AUTH_FAILED, ReplyKind.SIZE, ReplyKind.TEMPORARY
CONN, OTHER = ReplyKind.CONNECTION, ReplyKind.OTHER

# (text, smtp_code, enhanced_code, reply_kind)
REPLIES: list[tuple[str, str | None, str | None, ReplyKind | None]] = [
    # Exim
    ("550 relay not permitted", "550", None, RELAY),
    (
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its recipients.\n\n"
        "  bob@example.org\n"
        "    SMTP error from remote mail server after RCPT TO:<bob@example.org>:\n"
        "    host mx.example.org [192.0.2.10]: 550 relay not permitted",
        "550",
        None,
        RELAY,
    ),
    (
        "SMTP error from remote mail server after RCPT TO:<carol@example.net>: "
        "550 Sender verify failed; relaying denied",
        "550",
        None,
        RELAY,
    ),
    # Postfix
    (
        "<bob@example.org>: host mx.example.org[192.0.2.10] said: 554 5.7.1 "
        "<bob@example.org>: Relay access denied (in reply to RCPT TO command)",
        "554",
        "5.7.1",
        RELAY,
    ),
    (
        "<bob@example.org>: host mx.example.org[192.0.2.10] said: 554 5.7.1\n"
        "    <bob@example.org>: Relay access denied (in reply to RCPT TO command)",
        "554",
        "5.7.1",
        RELAY,
    ),
    (
        "NOQUEUE: reject: RCPT from unknown[198.51.100.7]: 454 4.7.1 <bob@example.org>: "
        "Relay access denied; from=<a@example.com> to=<bob@example.org>",
        "454",
        "4.7.1",
        RELAY,
    ),
    # Sendmail
    ("550 5.7.1 <bob@example.org>... Relaying denied", "550", "5.7.1", RELAY),
    (
        "----- Transcript of session follows -----\n... while talking to mx.example.org.:\n"
        ">>> RCPT To:<bob@example.org>\n<<< 550 5.7.1 <bob@example.org>... Relaying denied. "
        "Proper authentication required.",
        "550",
        "5.7.1",
        RELAY,
    ),
    # qmail
    (
        "Remote host said: 553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)",
        "553",
        "5.7.1",
        RELAY,
    ),
    # Exchange / Office 365
    (
        "Remote Server returned '550 5.7.54 SMTP; Unable to relay recipient in "
        "non-accepted domain'",
        "550",
        "5.7.54",
        RELAY,
    ),
    (
        "Remote Server returned '550 5.7.64 TenantAttribution; Relay Access Denied "
        "[DM6NAM11FT012.eop-nam11.prod.protection.outlook.com]'",
        "550",
        "5.7.64",
        RELAY,
    ),
    (
        "Diagnostic information: 5.7.64 TenantAttribution; Relay Access Denied",
        None,
        "5.7.64",
        RELAY,
    ),
    (
        "530 5.7.57 Client not authenticated to send mail. Error: 535 5.7.139",
        "530",
        "5.7.57",
        RELAY,
    ),
    ("550 5.7.57 Client not authenticated to send mail", "550", "5.7.57", RELAY),
    (
        "Delivery has failed to these recipients or groups:\nbob@example.org\nYou do not have "
        "permission to send to this recipient. For assistance, contact your system administrator."
        "\nRemote Server returned '550 5.7.1 Unable to relay'",
        "550",
        "5.7.1",
        RELAY,
    ),
    (
        "Remote Server returned '<mx.example.org #5.0.0 smtp;550 5.7.1 Unable to relay>'",
        "550",
        "5.7.1",
        RELAY,
    ),
    # hMailServer
    ("550 Delivery is not allowed to this address.", "550", None, RELAY),
    ("530 SMTP authentication is required.", "530", None, RELAY),
    # Google
    (
        "550 5.7.0 Mail relay denied [198.51.100.7]. Invalid credentials for relay for one of the "
        "domains in: example.com",
        "550",
        "5.7.0",
        RELAY,
    ),
    # DSN fields
    (
        "Final-Recipient: rfc822; bob@example.org\nAction: failed\nStatus: 5.7.1\n"
        "Remote-MTA: dns; mx.example.org\n"
        "Diagnostic-Code: smtp; 550 5.7.1 <bob@example.org>... Relaying denied",
        "550",
        "5.7.1",
        RELAY,
    ),
    (
        "Action: failed\nStatus: 5.7.1\nDiagnostic-Code: smtp; 550 relaying denied for "
        "<bob@example.org>",
        "550",
        "5.7.1",
        RELAY,
    ),
    # Client dialogs
    ("Server Response: 550 relay not permitted, Error Number: 0x800CCC79", "550", None, RELAY),
    (
        "The message could not be sent because one of the recipients was rejected by the server. "
        "The rejected e-mail address was 'bob@example.org'. Subject 'Hello', Account: "
        "'mail.example.com', Server: 'mail.example.com', Protocol: SMTP, Server Response: "
        "'550 relay not permitted', Port: 25, Secure(SSL): No, Server Error: 550, "
        "Error Number: 0x800CCC79",
        "550",
        None,
        RELAY,
    ),
    (
        "Respuesta del servidor: 550 relay not permitted, Número de error: 0x800CCC79",
        "550",
        None,
        RELAY,
    ),
    (
        "Sending of the message failed.\nThe mail server responded: 550 5.7.1 Unable to relay "
        "for bob@example.org. Please check the message recipient bob@example.org and try again.",
        "550",
        "5.7.1",
        RELAY,
    ),
    (
        "Cannot Send Mail\nA copy has been placed in your Outbox. The recipient “bob@example.org” "
        "was rejected by the server because it does not allow relaying.",
        None,
        None,
        RELAY,
    ),
    (
        "Cannot send message using the server smtp.example.com. The server response was: "
        "5.7.1 Relaying denied",
        None,
        "5.7.1",
        RELAY,
    ),
    # Relay phrases with no code
    ("every time I send outside the office it says relaying denied", None, None, RELAY),
    ("the error is 'sender not authorized to relay'", None, None, RELAY),
    ("i get relay access denied from the server", None, None, RELAY),
    # The text decides, not the number
    (
        "550 5.1.1 <bob@example.org>: Recipient address rejected: User unknown in virtual "
        "mailbox table",
        "550",
        "5.1.1",
        USER,
    ),
    (
        "SMTP error from remote mail server after RCPT TO:<bob@example.org>: 550 No Such User Here",
        "550",
        None,
        USER,
    ),
    ("550 Requested action not taken: mailbox unavailable", "550", None, USER),
    (
        "Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found "
        "by SMTP address lookup'",
        "550",
        "5.1.10",
        USER,
    ),
    (
        "554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using zen.spamhaus.org; "
        "https://www.spamhaus.org/query/ip/198.51.100.7",
        "554",
        "5.7.1",
        BLOCKED,
    ),
    (
        "552-5.7.0 This message was blocked because its content presents a potential\n"
        "552-5.7.0 security issue. Please visit\n"
        "552 5.7.0 https://support.google.com/mail/?p=BlockedMessage to review gsmtp",
        "552",
        "5.7.0",
        BLOCKED,
    ),
    ("550 5.7.606 Access denied, banned sending IP [198.51.100.7]", "550", "5.7.606", BLOCKED),
    (
        "550-5.7.26 Unauthenticated email from example.com is not accepted due to domain's DMARC "
        "policy",
        "550",
        "5.7.26",
        BLOCKED,
    ),
    ("535 Incorrect authentication data", "535", None, AUTH),
    ("535 5.7.8 Error: authentication failed: authentication failure", "535", "5.7.8", AUTH),
    (
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
        "Tenant",
        "535",
        "5.7.139",
        AUTH,
    ),
    ("552 5.3.4 Message size exceeds fixed maximum message size", "552", "5.3.4", SIZE),
    ("552 5.2.3 Message exceeds local size limit", "552", "5.2.3", SIZE),
    (
        "SMTP error from remote mail server after end of data: 552 Message too large",
        "552",
        None,
        SIZE,
    ),
    ("421 4.7.0 Try again later, closing connection.", "421", "4.7.0", TEMP),
    ("450 4.2.0 <bob@example.org>: Recipient address rejected: Greylisted", "450", "4.2.0", TEMP),
    ("451 Temporary local problem - please try later", "451", None, TEMP),
    ("452 4.2.2 The email account that you tried to reach is over quota", "452", "4.2.2", TEMP),
    (
        "Sending of the message failed.\nThe message could not be sent because connecting to "
        "Outgoing server (SMTP) mail.example.com failed. The server may be unavailable or is "
        "refusing SMTP connections.",
        None,
        None,
        CONN,
    ),
    (
        "The operation timed out waiting for a response from the sending (SMTP) server.",
        None,
        None,
        CONN,
    ),
    ("connect to mx.example.org[192.0.2.10]:25: Connection refused", None, None, CONN),
    ("Thunderbird: Could not connect to SMTP server mail.example.com", None, None, CONN),
    (
        "Remote Server returned '554 5.4.6 Hop count exceeded - possible mail loop'",
        "554",
        "5.4.6",
        OTHER,
    ),
    ("550 5.4.6 Routing loop detected (#5.4.6 looping)", "550", "5.4.6", OTHER),
    (
        "Diagnostic information for administrators:\n\nGenerating server: mail.example.com\n\n"
        "bob@example.org\n#550 5.7.1 Unable to relay ##",
        "550",
        "5.7.1",
        RELAY,
    ),
    (
        "Why do I get 'Message is looping: it already has my Delivered-To line. (#5.4.6)'?",
        None,
        "5.4.6",
        OTHER,
    ),
    # Several replies: the relay one wins
    (
        "First try: 554 5.7.1 Service unavailable; Client host [198.51.100.7] blocked using "
        "bl.spamcop.net\nSecond try: 550 5.7.1 Unable to relay",
        "550",
        "5.7.1",
        RELAY,
    ),
    (
        "550 5.1.1 user unknown\n554 5.7.1 <bob@example.org>: Relay access denied",
        "554",
        "5.7.1",
        RELAY,
    ),
    # Bare mentions and non-codes
    ("I keep getting error 550 when I send from the office", "550", None, None),
    ("We have 500 users and 450 mailboxes", None, None, None),
    ("Outlook 2016 build 16.0.5.1 on iOS 5.1.1", None, None, None),
]


@pytest.mark.parametrize(("text", "code", "enhanced", "kind"), REPLIES)
def test_reply(text: str, code: str | None, enhanced: str | None, kind: ReplyKind | None) -> None:
    entities = extract_entities(text)
    assert (entities.smtp_code, entities.enhanced_code, entities.reply_kind) == (
        code,
        enhanced,
        kind,
    )


@pytest.mark.parametrize(
    ("text", "reply_text"),
    [
        ("host mx.example.org [192.0.2.10]: 550 relay not permitted", "550 relay not permitted"),
        ("Remote Server returned '550 5.7.1 Unable to relay'", "550 5.7.1 Unable to relay"),
        (
            "Server Response: 550 relay not permitted, Error Number: 0x800CCC79",
            "550 relay not permitted",
        ),
        (
            "The mail server responded: 550 relay not permitted. Please check the message "
            "recipient bob@example.org and try again.",
            "550 relay not permitted",
        ),
        (
            "said: 554 5.7.1\n    <b@example.org>: Relay access denied",
            "554 5.7.1 <b@example.org>: Relay access denied",
        ),
        (
            "sending fails with 554 5.7.1 <a@example.com>: Relay access denied. I think it is "
            "the settings",
            "554 5.7.1 <a@example.com>: Relay access denied",
        ),
        (
            "the accounts package shows 'Sender not authorized to relay' on every send",
            "Sender not authorized to relay",
        ),
        ("bob@example.org\n#550 5.7.1 Unable to relay ##", "550 5.7.1 Unable to relay"),
        (
            "Why do I get 'Message is looping: it already has my Delivered-To line. (#5.4.6)'?",
            "Message is looping: it already has my Delivered-To line. (#5.4.6)",
        ),
    ],
)
def test_reply_text_is_the_reply_itself(text: str, reply_text: str) -> None:
    assert extract_entities(text).reply_text == reply_text


def test_reply_text_is_bounded() -> None:
    reply_text = extract_entities("550 relay not permitted " + "because " * 200).reply_text
    assert reply_text is not None and len(reply_text) <= 300


@pytest.mark.parametrize(
    ("text", "email"),
    [
        ("please reply to Bob.Smith@Example.COM today", "bob.smith@example.com"),
        ("From: Alice <alice@example.net>", "alice@example.net"),
        ("Final-Recipient: rfc822;carol@example.org", "carol@example.org"),
        ("<a href='mailto:dave@example.test'>Dave</a>", "dave@example.test"),
        ("first x@example.com then y@example.org", "x@example.com"),
        ("The rejected e-mail address was 'bob@example.org'.", "bob@example.org"),
        ("cid:image001.png@01D5A3B4.5C6D7E80", None),
        ("write to me at support", None),
        ("@support: my address is eve@example.com", "eve@example.com"),
        ("user@localhost then frank@example.org", "frank@example.org"),
    ],
)
def test_email(text: str, email: str | None) -> None:
    assert extract_entities(text).email == email


@pytest.mark.parametrize(
    ("text", "domain"),
    [
        ("my domain is Example.co.uk.", "example.co.uk"),
        ("outgoing server is mail.example.co.uk, port 587", "mail.example.co.uk"),
        ("the domain example.com. has a trailing dot", "example.com"),
        ("see https://www.example.org/help for details", "www.example.org"),
        ("sending from alice@example.net fails", "example.net"),
        ("alice@example.net can't send to her own site example.org", "example.org"),
        ("our shop bücher.example is down", "bücher.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("mail to colleagues @example.org works", "example.org"),
        ("the _dmarc.example.com record", "example.com"),
        ("report.pdf", None),
        ("I attached photo.jpg and invoice.docm and setup.exe and archive.zip", None),
        ("Outlook version 16.0.17126 on Windows 10.0.19045", None),
        ("my IP is 192.0.2.10", None),
        ("e.g. this, i.e. that", None),
        ("our app uses Node.js and ASP.NET", None),
        ("the file is called notes.txt, not notes.foo", None),
        ("it failed again.It says relay not permitted", None),
        (r"C:\Users\bob\report.com", None),
        ("run setup.py then readme.md", None),
        ("v1.2 failed, then node.js, then finally shop.example.net worked", "shop.example.net"),
        ("(see example.com)", "example.com"),
        ("Mr.Smith said ok", None),
    ],
)
def test_domain(text: str, domain: str | None) -> None:
    assert extract_entities(text).domain == domain


@pytest.mark.parametrize(
    ("text", "client"),
    [
        ("I use Outlook 2019", "outlook"),
        ("new Outlook won't send", "outlook"),
        ("Microsoft Office 365 on my laptop", "outlook"),
        ("Outlook for Mac says relay denied", "outlook"),
        ("Outlook on my iPhone works but not the PC", "outlook"),
        ("still on Outlook Express", "windows_mail"),
        ("the Windows 10 Mail app", "windows_mail"),
        ("Mail app on Windows 11", "windows_mail"),
        ("Windows Live Mail", "windows_mail"),
        ("Thunderbird 115", "thunderbird"),
        ("Apple Mail on Sonoma", "apple_mail"),
        ("Mail on my Mac", "apple_mail"),
        ("macOS Mail refuses", "apple_mail"),
        ("the Mail app on my iPhone", "ios_mail"),
        ("my iPad", "ios_mail"),
        ("Gmail app", "android"),
        ("Samsung Email on a Galaxy S23", "android"),
        ("my Pixel 8", "android"),
        ("Android phone", "android"),
        ("Error Number: 0x800CCC78", "outlook"),
        ("The mail server responded: 550 relay not permitted", "thunderbird"),
        ("Sending of the message failed.", "thunderbird"),
        ("Cannot Send Mail. A copy has been placed in your Outbox.", "ios_mail"),
        ("Cannot send message using the server smtp.example.com", "apple_mail"),
        ("I'm using Outlook Express with 0x800CCC79", "windows_mail"),
        ("the mail on my machine is slow", None),
        ("I sent it from bob@outlook.com", None),
        ("server outlook.office365.com", None),
        ("Help!\n\nSent from my iPhone", None),
        ("I work at the office", None),
    ],
)
def test_client(text: str, client: str | None) -> None:
    assert extract_entities(text).client == client


@pytest.mark.parametrize(
    ("text", "isp"),
    [
        ("I'm on AOL", "AOL"),
        ("verizon fios blocks it", "Verizon"),
        ("Comcast customer here", "Comcast"),
        ("my xfinity router", "Xfinity"),
        ("AT&T blocks port 25", "AT&T"),
        ("Spectrum internet", "Spectrum"),
        ("we're with Cox", "Cox"),
        ("Virgin Media hub", "Virgin Media"),
        ("BT broadband at home", "BT"),
        ("I'm with Sky", "Sky"),
        ("sky broadband", "Sky"),
        ("TalkTalk", "TalkTalk"),
        ("plusnet", "Plusnet"),
        ("Vodafone", "Vodafone"),
        ("on EE 4G", "EE"),
        ("my O2 mobile data", "O2"),
        ("I use Three for internet", "Three"),
        ("three mobile", "Three"),
        ("Orange Livebox", None),
        ("my ISP is Orange", "Orange"),
        ("T-Mobile home internet", "T-Mobile"),
        ("Telstra", "Telstra"),
        ("I tried three times", None),
        ("Three times it failed", None),
        ("I tried Three Times", None),
        ("the sky is grey and mail is stuck", None),
        ("Sky is the limit", None),
        ("send to bob@aol.com", None),
        ("I see three errors", None),
        ("regards, John Cox", None),
    ],
)
def test_isp(text: str, isp: str | None) -> None:
    assert extract_entities(text).isp == isp


@pytest.mark.parametrize(
    ("text", "port"),
    [
        ("SMTP port 587", 587),
        ("Port: 25, Secure(SSL): No", 25),
        ("the port number is 465", 465),
        ("smtp.example.com:465", 465),
        ("ports 25 and 587 both fail", 25),
        ("outgoing server 587 with STARTTLS", 587),
        ("465/SSL", 465),
        ("25 is blocked by my ISP", 25),
        ("so now using 26 for smtp", 26),
        ("IMAP 993", 993),
        ("telnet mail.example.com 25 never answers", 25),
        ("does my ISP block 25? smtp fails", 25),
        ("Outlook is set to 465 now", 465),
        ("we block 25 emails a day", None),
        ("I tried 25 times to send", None),
        ("meeting at 10:25 about smtp", None),
        ("port 8080 is my web server", None),
        ("we have 25 users", None),
        ("smtp.example.com:8443 then port 2525", 2525),
    ],
)
def test_port(text: str, port: int | None) -> None:
    assert extract_entities(text).port == port


def test_everything_at_once() -> None:
    entities = extract_entities(
        "Hi, I'm on BT broadband using Outlook 2016 for alice@example.com. Sending to "
        "bob@example.org gives: Server Response: 550 relay not permitted, Port: 25, "
        "Error Number: 0x800CCC79"
    )
    assert entities.model_dump() == {
        "domain": "example.com",
        "email": "alice@example.com",
        "client": "outlook",
        "isp": "BT",
        "port": 25,
        "smtp_code": "550",
        "enhanced_code": None,
        "reply_text": "550 relay not permitted",
        "reply_kind": RELAY,
    }


def test_nothing() -> None:
    assert extract_entities("hello there").model_dump(exclude_none=True) == {}
    assert extract_entities("").model_dump(exclude_none=True) == {}


@pytest.mark.parametrize(
    ("domain", "free"),
    [
        ("gmail.com", True),
        ("googlemail.com", True),
        ("Outlook.com.", True),
        ("hotmail.co.uk", True),
        ("hotmail.fr", True),
        ("live.com", True),
        ("live.co.uk", True),
        ("msn.com", True),
        ("yahoo.com", True),
        ("yahoo.com.au", True),
        ("mail.yahoo.co.jp", True),
        ("ymail.com", True),
        ("aol.com", True),
        ("icloud.com", True),
        ("me.com", True),
        ("mac.com", True),
        ("gmx.de", True),
        ("gmx.net", True),
        ("web.de", True),
        ("proton.me", True),
        ("protonmail.com", True),
        ("zoho.com", True),
        ("mail.com", True),
        ("yandex.ru", True),
        ("btinternet.com", True),
        ("sky.com", True),
        ("virginmedia.com", True),
        ("talktalk.net", True),
        ("comcast.net", True),
        ("verizon.net", True),
        ("smtp.gmail.com", True),
        ("bob@gmail.com", True),
        ("example.com", False),
        ("gmail.example.com", False),
        ("live.example.com", False),
        ("notgmail.com", False),
        ("mygmx.de", False),
        ("example.co.uk", False),
        ("", False),
        ("com", False),
    ],
)
def test_is_free_mail(domain: str, free: bool) -> None:
    assert is_free_mail(domain) is free


ADVERSARIAL = [
    "a" * 10_000,
    "a." * 5_000,
    "a@" * 5_000,
    "a.a@" * 2_500,
    "-" * 10_000,
    "1." * 5_000,
    "550 " * 2_500,
    "550-" * 2_500,
    "5.7.1 " * 1_666,
    "#5.5.5" * 1_666,
    "port " * 2_000,
    "port 25 " * 1_250,
    ":25" * 3_333,
    "relay " * 1_666,
    "relay access denied " * 500,
    "x" * 9_990 + "@example.com",
    "outlook " * 1_250,
    "server response: " * 588,
    "connecting to " * 714,
    "\n    " * 2_000,
    "Three " * 1_666,
    "<" * 5_000 + ">" * 5_000,
    "said: 554 5.7.1\n" + "    x\n" * 1_666,
]


@pytest.mark.timeout(10)
@pytest.mark.parametrize("text", ADVERSARIAL, ids=range(len(ADVERSARIAL)))
def test_adversarial_input_finishes(text: str) -> None:
    assert len(text) >= 9_000
    extract_entities(text)
