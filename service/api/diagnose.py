"""``POST /v1/diagnose``: live DNS and SMTP checks of a domain, and the causes they show."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict, Field

from service.api.deps import ClientAddressDep, DiagnoseLimiterDep, DiagnosticianDep
from service.diagnostics import Diagnosis

router = APIRouter(prefix="/v1", tags=["diagnose"])


class DiagnoseRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"domain": "example.com"}]}
    )

    domain: str = Field(min_length=1, max_length=512, description="The customer's domain.")


@router.post("/diagnose", response_model=Diagnosis)
async def diagnose(
    request: DiagnoseRequest,
    diagnostician: DiagnosticianDep,
    limiter: DiagnoseLimiterDep,
    client: ClientAddressDep,
) -> Diagnosis:
    """Run every check concurrently within the budget (cached per domain for a while)."""
    limiter.hit(client)
    return await diagnostician.run(request.domain)
