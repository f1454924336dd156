"""The Chatwoot agent bot's webhook: ``POST /v1/channels/chatwoot``.

Answers at once; the reply is worked out and posted back in the background.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from starlette.concurrency import run_in_threadpool

from service.api.deps import SettingsDep
from service.api.webhooks import CHATWOOT_SIGNATURE, check_signature, parse_body, read_body
from service.channels.chatwoot import ChatwootEvent
from service.channels.chatwoot_bot import ChatwootBot, WebhookAck
from service.errors import NotFound

router = APIRouter(prefix="/v1/channels", tags=["channels"])


async def get_chatwoot_bot(request: Request) -> ChatwootBot:
    bot: ChatwootBot | None = request.app.state.chatwoot_bot
    if bot is None:
        raise NotFound("the Chatwoot channel is not configured (RELAYDESK_CHATWOOT_BASE_URL)")
    return bot


async def signed_event(request: Request, settings: SettingsDep) -> ChatwootEvent:
    """The raw body, size-limited, its ``X-Chatwoot-Signature`` checked (when
    ``RELAYDESK_CHATWOOT_WEBHOOK_SECRET`` is set) before it is parsed."""
    body = await read_body(request, limit=settings.webhook_max_body_bytes)
    if settings.chatwoot_webhook_secret:
        check_signature(settings.chatwoot_webhook_secret, CHATWOOT_SIGNATURE, request.headers, body)
    return parse_body(ChatwootEvent, body)


@router.post("/chatwoot", response_model=WebhookAck)
async def chatwoot_webhook(
    bot: Annotated[ChatwootBot, Depends(get_chatwoot_bot)],
    event: Annotated[ChatwootEvent, Depends(signed_event)],
    delivery: Annotated[str | None, Header(alias="X-Chatwoot-Delivery")] = None,
) -> WebhookAck:
    """Acknowledge an agent-bot event: accepted (answered shortly), ignored or duplicate."""
    return await run_in_threadpool(bot.accept, event, delivery)
