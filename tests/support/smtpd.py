"""aiosmtpd servers on loopback, with certificates made at test time by trustme.

ca = TestCA.create(tmp_path)            # ca.bundle: point SSL_CERT_FILE here
server = SmtpServer.start("127.0.0.1", port, tls=ca.server_context("mail.hosting.test"),
                          rcpt_reply=RELAY_REFUSALS["exim"])
server.handler.commands                 # every command seen; never "DATA"
"""

from __future__ import annotations

import datetime as dt
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

# The real wording of the common MTAs when refusing to relay for an unauthenticated sender.
RELAY_REFUSALS = {
    "exim": "550 relay not permitted",
    "postfix": "554 5.7.1 <relaydesk-probe@example.com>: Relay access denied",
    "sendmail": "550 5.7.1 <relaydesk-probe@example.com>... Relaying denied",
    "exchange": "550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain",
}


@dataclass
class TestCA:
    """A throwaway CA; ``bundle`` is its PEM, for ``SSL_CERT_FILE``."""

    __test__ = False  # not a pytest test class

    ca: trustme.CA
    bundle: Path

    @classmethod
    def create(cls, directory: Path) -> TestCA:
        ca = trustme.CA()
        bundle = directory / "test-ca.pem"
        ca.cert_pem.write_to_path(str(bundle))
        return cls(ca, bundle)

    def server_context(
        self, *hostnames: str, not_after: dt.datetime | None = None, ca: trustme.CA | None = None
    ) -> ssl.SSLContext:
        """A server-side context with a certificate for ``hostnames`` (signed by ``ca``)."""
        issuer = ca or self.ca
        cert = issuer.issue_cert(*hostnames, not_after=not_after)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        cert.configure_cert(context)
        return context


class RecordingHandler:
    """Answers RCPT with ``rcpt_reply`` (None: accept, an open relay); records commands."""

    def __init__(self, rcpt_reply: str | None = None) -> None:
        self.rcpt_reply = rcpt_reply
        self.commands: list[str] = []
        self.connections = 0

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        self.commands.append("MAIL")
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any
    ) -> str:
        self.commands.append("RCPT")
        if self.rcpt_reply is not None:
            return self.rcpt_reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        self.commands.append("DATA")
        return "250 Message accepted for delivery"


class _CountingSMTP(SMTP):  # type: ignore[misc]
    def connection_made(self, transport: Any) -> None:
        self.event_handler.connections += 1
        super().connection_made(transport)


class SmtpServer(Controller):  # type: ignore[misc]
    """A Controller on ``address:port``: STARTTLS with ``tls`` or implicit TLS with ``implicit``."""

    handler: RecordingHandler

    def factory(self) -> SMTP:
        return _CountingSMTP(self.handler, **self.SMTP_kwargs)

    @classmethod
    def start_on(
        cls,
        address: str,
        port: int,
        *,
        tls: ssl.SSLContext | None = None,
        implicit: ssl.SSLContext | None = None,
        rcpt_reply: str | None = None,
        hostname: str = "mail.hosting.test",
    ) -> SmtpServer:
        """Start and return; AUTH is offered only after STARTTLS, or at once with implicit TLS.

        (aiosmtpd does not count implicit TLS as TLS for ``auth_require_tls``.)
        """
        handler = RecordingHandler(rcpt_reply)
        server = cls(
            handler,
            hostname=address,
            port=port,
            ssl_context=implicit,
            server_hostname=hostname,
            tls_context=tls,
            require_starttls=False,
            auth_require_tls=implicit is None,
            ready_timeout=5.0,
        )
        server.start()
        handler.connections = 0  # the controller's own readiness probe does not count
        return server
