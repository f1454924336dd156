"""The chat widget's files: ``GET /`` (the demo page), ``GET /widget.js``, ``GET /widget.css``.

A customer's site embeds the widget with one tag::

    <script src="https://support.example/widget.js"
            data-relaydesk-url="https://support.example" data-title="Mail help" async></script>

and calls ``POST /v1/chat`` across origins, allowed by ``cors_options(settings.cors_origins)``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Header, Response

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
# Short enough that a new widget reaches every site within the hour; the ETag makes
# revalidation a 304.
ASSET_CACHE = "public, max-age=3600"

router = APIRouter(tags=["widget"])


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str
    cache_control: str


@cache
def asset(name: str, media_type: str, cache_control: str) -> Asset:
    """One file of ``service/web``, read once."""
    body = (WEB_DIR / name).read_bytes()
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
    return Asset(body, media_type, etag, cache_control)


def asset_response(item: Asset, if_none_match: str | None) -> Response:
    headers = {
        "Cache-Control": item.cache_control,
        "ETag": item.etag,
        "X-Content-Type-Options": "nosniff",
    }
    if if_none_match and item.etag in if_none_match:
        return Response(status_code=304, headers=headers)
    return Response(item.body, media_type=item.media_type, headers=headers)


IfNoneMatch = Annotated[str | None, Header()]


@router.get("/", include_in_schema=False)
async def demo_page(if_none_match: IfNoneMatch = None) -> Response:
    """A page that embeds the widget exactly as a customer's site would."""
    page = asset("index.html", "text/html; charset=utf-8", "no-cache")
    return asset_response(page, if_none_match)


@router.get("/widget.js", include_in_schema=False)
async def widget_js(if_none_match: IfNoneMatch = None) -> Response:
    script = asset("widget.js", "application/javascript; charset=utf-8", ASSET_CACHE)
    return asset_response(script, if_none_match)


@router.get("/widget.css", include_in_schema=False)
async def widget_css(if_none_match: IfNoneMatch = None) -> Response:
    css = asset("widget.css", "text/css; charset=utf-8", ASSET_CACHE)
    return asset_response(css, if_none_match)


def cors_options(origins: list[str]) -> dict[str, Any]:
    """Starlette ``CORSMiddleware`` options for the widget on other sites: it POSTs JSON
    and reads ``Retry-After`` on a 429."""
    return {
        "allow_origins": [origin.rstrip("/") for origin in origins],
        "allow_methods": ["GET", "POST"],
        "allow_headers": ["content-type"],
        "expose_headers": ["Retry-After"],
        "max_age": 600,
    }
