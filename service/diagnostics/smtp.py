"""SMTP adapter: a minimal client that greets, negotiates TLS and asks, but never sends mail.

Every step has its own timeout (connect, each reply); only our own errors leave.
TLS is verified against the system trust store (``ssl.create_default_context()``, so
``SSL_CERT_FILE`` applies); a certificate that fails verification is recorded and the
probe reconnects without verification, so EHLO and AUTH are still seen::

    probe = await probe_submission(target, tls=TlsContexts.system(), timing=timing)
    probe.auth_mechanisms      # ["LOGIN", "PLAIN"]: offered after STARTTLS
    probe.tls.problem          # None, or "certificate has expired"
"""

from __future__ import annotations

import asyncio
import ssl
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from service.errors import DiagnosticTimeout, ProbeFailed

MAX_REPLY_LINES = 64
DAY_S = 86400


@dataclass(frozen=True)
class Target:
    """Where to connect (a vetted literal) and the name to verify TLS against."""

    address: str
    port: int
    hostname: str


@dataclass(frozen=True)
class Timing:
    connect_s: float
    read_s: float
    helo_name: str


@dataclass(frozen=True)
class TlsContexts:
    """One verifying context (system trust store) and one that only records the cert."""

    verified: ssl.SSLContext
    unverified: ssl.SSLContext
    expiry_warn_days: int = 14

    @classmethod
    def system(cls, *, expiry_warn_days: int = 14) -> TlsContexts:
        """Built once: loading the trust store costs milliseconds."""
        unverified = ssl.create_default_context()
        unverified.check_hostname = False
        unverified.verify_mode = ssl.CERT_NONE
        return cls(ssl.create_default_context(), unverified, expiry_warn_days)


@dataclass(frozen=True)
class Reply:
    code: int
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.lines)

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


@dataclass(frozen=True)
class TlsInfo:
    verified: bool
    problem: str | None = None  # plain words, e.g. "certificate has expired"
    version: str | None = None
    days_left: int | None = None


@dataclass
class SmtpProbe:
    """What one connection showed; filled in as far as the conversation got."""

    target: Target
    banner: str | None = None
    extensions: dict[str, str] = field(default_factory=dict)  # EHLO keywords before TLS
    starttls_offered: bool = False
    tls: TlsInfo | None = None
    auth_mechanisms: list[str] = field(default_factory=list)  # after TLS when TLS is used
    auth_before_tls: bool = False


class SmtpConnection:
    """One open SMTP conversation over asyncio streams."""

    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, timing: Timing
    ) -> None:
        self.reader, self.writer, self.timing = reader, writer, timing

    async def reply(self, waiting_for: str) -> Reply:
        """Read one (possibly multi-line) reply within the read timeout."""
        lines: list[str] = []
        code = 0
        try:
            async with asyncio.timeout(self.timing.read_s):
                for _ in range(MAX_REPLY_LINES):
                    raw = await self.reader.readline()
                    if not raw:
                        raise ProbeFailed(f"the server hung up while we waited for {waiting_for}")
                    line = raw.decode("utf-8", "replace").rstrip("\r\n")
                    if len(line) < 3 or not line[:3].isdigit():
                        raise ProbeFailed(f"the server's answer is not SMTP: {line[:80]!r}")
                    code = int(line[:3])
                    lines.append(line[4:])
                    if line[3:4] != "-":
                        return Reply(code, tuple(lines))
        except TimeoutError as exc:
            raise DiagnosticTimeout(
                f"the server did not answer {waiting_for} within {self.timing.read_s:g}s"
            ) from exc
        except (OSError, ssl.SSLError) as exc:
            raise ProbeFailed(f"the connection broke while we waited for {waiting_for}") from exc
        raise ProbeFailed("the server's answer is too long")

    async def command(self, line: str) -> Reply:
        verb = line.split(" ", 1)[0].split(":", 1)[0]
        try:
            self.writer.write(line.encode("ascii") + b"\r\n")
            await self.writer.drain()
        except (OSError, ssl.SSLError) as exc:
            raise ProbeFailed(f"the connection broke while sending {verb}") from exc
        return await self.reply(f"our {verb}")

    async def ehlo(self) -> dict[str, str]:
        """EHLO; the extensions as ``{KEYWORD: parameters}``."""
        reply = await self.command(f"EHLO {self.timing.helo_name}")
        if reply.code != 250:
            raise ProbeFailed(f"the server refused our EHLO: {reply}")
        extensions: dict[str, str] = {}
        for line in reply.lines[1:]:
            keyword, _, params = line.partition(" ")
            extensions[keyword.upper()] = params.strip()
        return extensions

    async def starttls(self, context: ssl.SSLContext, hostname: str) -> None:
        reply = await self.command("STARTTLS")
        if reply.code != 220:
            raise ProbeFailed(f"the server refused STARTTLS: {reply}")
        try:
            await self.writer.start_tls(
                context, server_hostname=hostname, ssl_handshake_timeout=self.timing.connect_s
            )
        except TimeoutError as exc:
            raise DiagnosticTimeout("the encryption handshake did not finish in time") from exc

    async def quit(self) -> None:
        """Say goodbye politely; a server that does not answer is not waited for."""
        try:
            await self.command("QUIT")
        except (DiagnosticTimeout, ProbeFailed):
            pass


@asynccontextmanager
async def connect(
    target: Target, timing: Timing, *, tls: ssl.SSLContext | None = None
) -> AsyncIterator[SmtpConnection]:
    """Open a connection (with implicit TLS if ``tls``) and always close it."""
    try:
        async with asyncio.timeout(timing.connect_s):
            reader, writer = await asyncio.open_connection(
                target.address,
                target.port,
                ssl=tls,
                server_hostname=target.hostname if tls else None,
                ssl_handshake_timeout=timing.connect_s if tls else None,
            )
    except TimeoutError as exc:
        raise DiagnosticTimeout(f"could not connect within {timing.connect_s:g}s") from exc
    except ConnectionRefusedError as exc:
        raise ProbeFailed("nothing accepts connections on this port") from exc
    except ssl.SSLCertVerificationError:
        raise
    except (OSError, ssl.SSLError) as exc:
        raise ProbeFailed(f"could not connect: {exc}") from exc
    try:
        yield SmtpConnection(reader, writer, timing)
    finally:
        # Abort rather than wait for a TLS close_notify a silent server never sends.
        writer.transport.abort()


def _tls_info(
    connection: SmtpConnection, *, verified: bool, problem: str | None, warn_days: int
) -> TlsInfo:
    ssl_object = connection.writer.get_extra_info("ssl_object")
    version = ssl_object.version() if ssl_object is not None else None
    days_left: int | None = None
    if verified and ssl_object is not None:
        not_after = (ssl_object.getpeercert() or {}).get("notAfter")
        if isinstance(not_after, str):
            days_left = int((ssl.cert_time_to_seconds(not_after) - time.time()) // DAY_S)
            if days_left < warn_days:
                problem = f"the certificate expires in {max(days_left, 0)} days"
    return TlsInfo(verified=verified, problem=problem, version=version, days_left=days_left)


def _verify_problem(exc: ssl.SSLCertVerificationError) -> str:
    return str(exc.verify_message or exc.reason or "the certificate could not be verified")


async def _greet(connection: SmtpConnection, probe: SmtpProbe) -> None:
    banner = await connection.reply("its greeting")
    if banner.code != 220:
        raise ProbeFailed(f"the server greeted with a refusal: {banner}")
    probe.banner = banner.text
    probe.extensions = await connection.ehlo()
    probe.starttls_offered = "STARTTLS" in probe.extensions
    probe.auth_before_tls = "AUTH" in probe.extensions


async def probe_plain(target: Target, *, timing: Timing) -> SmtpProbe:
    """Banner and EHLO (port 25): is anyone there, and what do they offer."""
    probe = SmtpProbe(target)
    async with connect(target, timing) as connection:
        await _greet(connection, probe)
        await connection.quit()
    return probe


async def probe_submission(target: Target, *, tls: TlsContexts, timing: Timing) -> SmtpProbe:
    """Banner, EHLO, STARTTLS, EHLO again (port 587): is AUTH offered after TLS."""
    problem: str | None = None
    for context in (tls.verified, tls.unverified):
        probe = SmtpProbe(target)
        async with connect(target, timing) as connection:
            await _greet(connection, probe)
            if not probe.starttls_offered:
                await connection.quit()
                return probe
            try:
                await connection.starttls(context, target.hostname)
            except ssl.SSLCertVerificationError as exc:
                problem = _verify_problem(exc)
                continue  # the handshake failed: start over without verification
            except (OSError, ssl.SSLError) as exc:
                raise ProbeFailed(f"the encryption handshake failed: {exc}") from exc
            verified = context is tls.verified
            probe.tls = _tls_info(
                connection, verified=verified, problem=problem, warn_days=tls.expiry_warn_days
            )
            after = await connection.ehlo()
            probe.auth_mechanisms = after.get("AUTH", "").split()
            await connection.quit()
            return probe
    raise ProbeFailed("the encryption handshake failed")  # pragma: no cover - loop returns


async def probe_implicit_tls(target: Target, *, tls: TlsContexts, timing: Timing) -> SmtpProbe:
    """TLS from the first byte (port 465), then banner, EHLO and AUTH."""
    problem: str | None = None
    for context in (tls.verified, tls.unverified):
        probe = SmtpProbe(target)
        try:
            async with connect(target, timing, tls=context) as connection:
                verified = context is tls.verified
                probe.tls = _tls_info(
                    connection, verified=verified, problem=problem, warn_days=tls.expiry_warn_days
                )
                await _greet(connection, probe)
                probe.auth_mechanisms = probe.extensions.get("AUTH", "").split()
                probe.auth_before_tls = False
                await connection.quit()
                return probe
        except ssl.SSLCertVerificationError as exc:
            problem = _verify_problem(exc)
    raise ProbeFailed("the encryption handshake failed")  # pragma: no cover - loop returns


@dataclass(frozen=True)
class RelayProbe:
    banner: str
    mail_from: Reply
    rcpt_to: Reply | None  # None when MAIL FROM was already refused


async def probe_relay(target: Target, *, sender: str, recipient: str, timing: Timing) -> RelayProbe:
    """Unauthenticated MAIL FROM / RCPT TO an outside address, then RSET and QUIT.

    Never DATA: nothing is ever sent, whatever the server answers.
    """
    async with connect(target, timing) as connection:
        banner = await connection.reply("its greeting")
        if banner.code != 220:
            raise ProbeFailed(f"the server greeted with a refusal: {banner}")
        await connection.ehlo()
        mail_from = await connection.command(f"MAIL FROM:<{sender}>")
        rcpt_to = None
        if mail_from.code == 250:
            rcpt_to = await connection.command(f"RCPT TO:<{recipient}>")
            await connection.command("RSET")
        await connection.quit()
    return RelayProbe(banner.text, mail_from, rcpt_to)
