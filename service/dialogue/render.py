"""One reply, three renderings: plain text, Markdown and HTML that is safe to insert.

Only the markup this module writes is markup; everything else is escaped::

    >>> render(["Hi <b>"], ["Tick the box"], "Did that fix it?").html
    '<p>Hi &lt;b&gt;</p><ol><li>Tick the box</li></ol><p>Did that fix it?</p>'
"""

from __future__ import annotations

import html
import re

from pydantic import BaseModel, ConfigDict

# Braces are not Markdown; leaving them alone keeps the {reference} placeholder intact.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<>()#+!|~])")


class QuickReply(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str
    value: str


class ArticleRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    intent: str
    title: str


class Reply(BaseModel):
    """What the bot says, in every rendering a channel needs."""

    model_config = ConfigDict(frozen=True)

    text: str
    markdown: str
    html: str
    steps: list[str]
    quick_replies: list[QuickReply]
    article: ArticleRef | None = None


def _markdown_escape(text: str) -> str:
    return _MARKDOWN_SPECIAL.sub(r"\\\1", text)


def render(
    paragraphs: list[str],
    steps: list[str] | None = None,
    question: str | None = None,
    *,
    quick_replies: list[QuickReply] | None = None,
    article: ArticleRef | None = None,
) -> Reply:
    """Build a reply from paragraphs, numbered steps and a closing question."""
    steps = steps or []
    closing = [question] if question else []
    text_parts = [*paragraphs]
    if steps:
        text_parts.append("\n".join(f"{n}. {step}" for n, step in enumerate(steps, start=1)))
    text_parts += closing
    markdown_parts = [_markdown_escape(p) for p in paragraphs]
    if steps:
        markdown_parts.append(
            "\n".join(f"{n}. {_markdown_escape(step)}" for n, step in enumerate(steps, start=1))
        )
    markdown_parts += [_markdown_escape(q) for q in closing]
    html_parts = [f"<p>{html.escape(p)}</p>" for p in paragraphs]
    if steps:
        html_parts.append("<ol>" + "".join(f"<li>{html.escape(s)}</li>" for s in steps) + "</ol>")
    html_parts += [f"<p>{html.escape(q)}</p>" for q in closing]
    return Reply(
        text="\n\n".join(text_parts),
        markdown="\n\n".join(markdown_parts),
        html="".join(html_parts),
        steps=list(steps),
        quick_replies=list(quick_replies or []),
        article=article,
    )
