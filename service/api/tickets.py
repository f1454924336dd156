"""The ticket channel: ``POST /v1/tickets/auto-reply``, signed when a secret is set."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from service.api.deps import SettingsDep
from service.api.webhooks import RELAYDESK_SIGNATURE, check_signature, parse_body, read_body
from service.tickets.desk import TicketDesk
from service.tickets.models import TicketRequest, TicketResponse

router = APIRouter(prefix="/v1/tickets", tags=["tickets"])


async def get_ticket_desk(request: Request) -> TicketDesk:
    desk: TicketDesk = request.app.state.ticket_desk
    return desk


async def signed_ticket(request: Request, settings: SettingsDep) -> TicketRequest:
    """The raw body, size-limited, its signature checked (when ``RELAYDESK_WEBHOOK_SECRET``
    is set) before it is parsed."""
    body = await read_body(request, limit=settings.webhook_max_body_bytes)
    if settings.webhook_secret:
        check_signature(settings.webhook_secret, RELAYDESK_SIGNATURE, request.headers, body)
    return parse_body(TicketRequest, body)


@router.post("/auto-reply", response_model=TicketResponse)
async def auto_reply(
    ticket: Annotated[TicketRequest, Depends(signed_ticket)],
    desk: Annotated[TicketDesk, Depends(get_ticket_desk)],
) -> TicketResponse:
    """A finished email reply or a hand-off; the same ticket_id always gets the same answer."""
    return await desk.auto_reply(ticket)
