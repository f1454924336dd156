"""The widget's files over HTTP, CORS for other sites, and the size budget."""

from __future__ import annotations

import importlib.util
import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from support.paths import ROOT

from service.main import create_app
from service.settings import Settings

SITE = "https://bakery-hove.example"


def load_size_benchmark() -> Any:
    spec = importlib.util.spec_from_file_location(
        "widget_size", ROOT / "benchmarks" / "widget_size.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_demo_page_embeds_the_widget_like_a_customer_site(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-cache"
    assert (
        '<script src="/widget.js" data-relaydesk-url="" data-title="Mail help" async></script>'
        in page.text
    )


@pytest.mark.parametrize(
    ("path", "media_type"),
    [("/widget.js", "application/javascript"), ("/widget.css", "text/css")],
)
def test_widget_files_are_cacheable(client: TestClient, path: str, media_type: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media_type)
    assert response.headers["cache-control"] == "public, max-age=3600"
    assert response.headers["x-content-type-options"] == "nosniff"
    again = client.get(path, headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and not again.content


def test_widget_is_self_contained() -> None:
    """No CDN, no web fonts, no framework: nothing is fetched but our own two files."""
    web = ROOT / "service" / "web"
    size = load_size_benchmark()
    code = size.minify_js((web / "widget.js").read_text())  # comments show a URL as an example
    css = size.minify_css((web / "widget.css").read_text())
    assert "@import" not in css and "@font-face" not in css and "url(" not in css
    assert not re.search(r"https?://", code + css)
    assert code.count("innerHTML") == 2  # our constant icons, and the inert sanitising <template>


def test_cross_origin_calls_are_refused_by_default(client: TestClient) -> None:
    preflight = client.options(
        "/v1/chat",
        headers={"Origin": SITE, "Access-Control-Request-Method": "POST"},
    )
    assert "access-control-allow-origin" not in preflight.headers
    chat = client.post("/v1/chat", json={"message": "hi"}, headers={"Origin": SITE})
    assert "access-control-allow-origin" not in chat.headers


def test_configured_origins_may_call_chat(settings: Settings) -> None:
    settings = settings.model_copy(
        update={"cors_origins": [SITE + "/"], "chat_rate_limit": "1/minute"}
    )
    with TestClient(create_app(settings)) as client:
        preflight = client.options(
            "/v1/chat",
            headers={
                "Origin": SITE,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "content-type",
            },
        )
        assert preflight.status_code == 200
        assert preflight.headers["access-control-allow-origin"] == SITE
        assert "POST" in preflight.headers["access-control-allow-methods"]
        assert "content-type" in preflight.headers["access-control-allow-headers"].lower()

        assert client.post("/v1/chat", json={"message": "hi"}, headers={"Origin": SITE}).is_success
        limited = client.post("/v1/chat", json={"message": "hi"}, headers={"Origin": SITE})
        assert limited.status_code == 429
        assert limited.headers["access-control-allow-origin"] == SITE
        assert "retry-after" in limited.headers["access-control-expose-headers"].lower()

        other = client.options(
            "/v1/chat",
            headers={
                "Origin": "https://elsewhere.example",
                "Access-Control-Request-Method": "POST",
            },
        )
        assert other.status_code == 400
        assert "access-control-allow-origin" not in other.headers


def test_widget_fits_the_size_budget() -> None:
    figures = load_size_benchmark().measure()
    assert figures["min_gzip"] < 30 * 1024, figures
    assert figures["min"] < figures["raw"]


def test_size_minifier_keeps_strings_and_regexes() -> None:
    minify_js = load_size_benchmark().minify_js
    source = 'const a = "http://x/*y*/"; // note\n/* block */ const b = s.replace(/\\/+$/, "");\n'
    assert minify_js(source) == 'const a = "http://x/*y*/";\nconst b = s.replace(/\\/+$/, "");'
