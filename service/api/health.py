"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz")
async def readyz(request: Request) -> JSONResponse:
    """Ready once the knowledge base is loaded and the classifier built."""
    if getattr(request.app.state, "classifier", None) is None:
        return JSONResponse({"status": "starting"}, status_code=503)
    return JSONResponse(
        {"status": "ready", "intents": len(request.app.state.knowledge_base.intents)}
    )
