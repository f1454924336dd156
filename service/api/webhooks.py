"""Signed webhooks at the HTTP edge: the raw body, read with a size limit, checked
before anything parses it.

Both schemes RelayDesk accepts sign the same message, ``"<timestamp>.<raw body>"``
with HMAC-SHA256, and differ only in header names::

    X-RelayDesk-Timestamp: 1767000000          X-Chatwoot-Timestamp: 1767000000
    X-RelayDesk-Signature: sha256=<hex>        X-Chatwoot-Signature: sha256=<hex>
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError

from service.channels.outbox_worker import verify
from service.errors import NotAuthenticated, PayloadTooLarge

MAX_SKEW_S = 300
"""A signed request's timestamp may be this far from our clock, either way."""

Model = TypeVar("Model", bound=BaseModel)


@dataclass(frozen=True)
class SignatureScheme:
    """Where a sender puts its timestamp and signature."""

    timestamp_header: str
    signature_header: str


RELAYDESK_SIGNATURE = SignatureScheme("X-RelayDesk-Timestamp", "X-RelayDesk-Signature")
CHATWOOT_SIGNATURE = SignatureScheme("X-Chatwoot-Timestamp", "X-Chatwoot-Signature")


async def read_body(request: Request, *, limit: int) -> bytes:
    """The raw body; ``PayloadTooLarge`` as soon as it passes ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"the body is over the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def check_signature(
    secret: str,
    scheme: SignatureScheme,
    headers: Mapping[str, str],
    body: bytes,
    *,
    now: float | None = None,
    max_skew_s: int = MAX_SKEW_S,
) -> None:
    """Raise ``NotAuthenticated`` unless ``body`` carries a fresh, valid signature.

    The comparison is constant-time (``hmac.compare_digest``).
    """
    timestamp = headers.get(scheme.timestamp_header, "").strip()
    signature = headers.get(scheme.signature_header, "").strip()
    if not timestamp or not signature:
        raise NotAuthenticated(
            f"send {scheme.timestamp_header} and {scheme.signature_header} "
            f'(sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">)'
        )
    if not timestamp.isdigit():
        raise NotAuthenticated(f"{scheme.timestamp_header} must be Unix seconds")
    current = time.time() if now is None else now
    if abs(current - int(timestamp)) > max_skew_s:
        raise NotAuthenticated(
            f"{scheme.timestamp_header} is more than {max_skew_s} seconds from our clock"
        )
    if not verify(secret, timestamp, body, signature):
        raise NotAuthenticated(f"{scheme.signature_header} does not match the body")


def parse_body(model: type[Model], body: bytes) -> Model:
    """``body`` as ``model``; invalid input becomes the usual 422 error body."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**error, "loc": ("body", *error["loc"])} for error in exc.errors()]
        ) from exc
