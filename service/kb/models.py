"""Typed models of the knowledge base; one ``Intent`` per file in ``intents/``."""

from __future__ import annotations

from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

INTENT_IDS: tuple[str, ...] = (
    "relay.auth",
    "relay.port_blocked",
    "relay.dns_propagation",
    "relay.external_dns",
    "relay.unknown_cause",
    "mail.smtp_server",
    "mail.client_setup",
    "mail.size_limit",
    "mail.pop3_vs_imap",
    "mail.create_mailbox",
    "handoff.human",
    "out_of_scope",
    "chat.greeting",
    "chat.thanks",
    "chat.affirm",
    "chat.deny",
)
"""The intent ids are a public contract: never rename or drop one."""

MIN_EXAMPLES_FOR_ARTICLES = 30


class MailClient(StrEnum):
    """Mail clients whose steps differ; also the values of the ``client`` entity."""

    OUTLOOK = "outlook"
    WINDOWS_MAIL = "windows_mail"  # Outlook Express, Windows Mail, the Windows 10/11 Mail app
    THUNDERBIRD = "thunderbird"
    APPLE_MAIL = "apple_mail"
    IOS_MAIL = "ios_mail"
    ANDROID = "android"  # the Gmail app, Samsung Email and other Android clients


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Answer(_Strict):
    """What the bot says for an intent, in the knowledge base's own words."""

    summary: str = Field(min_length=1)
    steps: list[str] = Field(default_factory=list)
    client_steps: dict[MailClient, list[str]] = Field(default_factory=dict)
    follow_up: str | None = None
    related: list[str] = Field(default_factory=list)

    def steps_for(self, client: MailClient | str | None) -> list[str]:
        """The steps for ``client`` when the article has a variant, else the general ones."""
        if client is not None:
            try:
                variant = self.client_steps.get(MailClient(client))
            except ValueError:
                variant = None
            if variant:
                return list(variant)
        return list(self.steps)


class Cue(_Strict):
    """A regular expression whose match is evidence for the intent (weight may be negative)."""

    pattern: str = Field(min_length=1)
    weight: float = Field(ge=-1.0, le=1.0)


class Intent(_Strict):
    """One intent: how to recognise it (examples, cues) and how to answer it."""

    id: str
    title: str = Field(min_length=1)
    description: str = Field(min_length=1)
    ask_as: str | None = Field(
        default=None, description="How a customer would put it; used for 'did you mean' choices."
    )
    examples: list[str] = Field(min_length=1)
    cues: list[Cue] = Field(default_factory=list)
    answer: Answer

    @model_validator(mode="after")
    def _check(self) -> Intent:
        if self.id not in INTENT_IDS:
            raise ValueError(f"unknown intent id {self.id!r}; expected one of {list(INTENT_IDS)}")
        if self.id.startswith(("relay.", "mail.")):
            if len(self.examples) < MIN_EXAMPLES_FOR_ARTICLES:
                raise ValueError(
                    f"examples: {self.id} needs at least {MIN_EXAMPLES_FOR_ARTICLES} "
                    f"training examples, has {len(self.examples)}"
                )
            if not self.answer.steps:
                raise ValueError(f"answer.steps: {self.id} needs ordered steps")
        return self


class KnowledgeBase(_Strict):
    """All intents, keyed by id."""

    intents: dict[str, Intent]

    def get(self, intent_id: str) -> Intent:
        return self.intents[intent_id]

    @property
    def example_count(self) -> int:
        return sum(len(intent.examples) for intent in self.intents.values())
