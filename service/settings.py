"""The one settings class. Every field reads from ``RELAYDESK_<NAME>``.

List-valued settings are comma-separated in the environment::

    RELAYDESK_PROVIDER_MAIL_NETWORKS=192.0.2.0/24,2001:db8::/32
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CommaList = Annotated[list[str], NoDecode]

DEFAULT_INTENTS_DIR = Path(__file__).resolve().parent.parent / "intents"


def _split_commas(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class Settings(BaseSettings):
    """Runtime configuration; defaults run the service with nothing else installed."""

    model_config = SettingsConfigDict(env_prefix="RELAYDESK_", extra="ignore")

    environment: str = "development"
    intents_dir: Path = DEFAULT_INTENTS_DIR
    database_url: str = "sqlite:///./relaydesk.db"
    log_level: str = "info"

    # Classifier: the fallback rule (see service.nlu.fallback).
    confidence_threshold: float = Field(default=0.55, ge=0.0, le=1.0)
    ambiguity_threshold: float = Field(default=0.12, ge=0.0, le=1.0)

    # Diagnostics: who the provider is, and how far probes may go.
    diagnostics_enabled: bool = True
    provider_name: str = "our hosting"
    provider_nameserver_domains: CommaList = ["hosting.example"]
    provider_mail_hosts: CommaList = ["mail.hosting.example"]
    provider_mail_networks: CommaList = ["192.0.2.0/24"]
    dns_resolvers: CommaList = []
    dns_authoritative_port: int = Field(default=53, ge=1, le=65535)
    smtp_port_map: str = "25=25,465=465,587=587"
    smtp_helo_name: str = "relaydesk.invalid"
    diagnostics_allowed_networks: CommaList = []
    diagnostics_budget_s: float = Field(default=8.0, gt=0, le=60)
    diagnostics_cache_ttl_s: float = Field(default=60.0, ge=0)
    diagnostics_rate_limit: str = "10/minute"

    # Channels and API access.
    api_keys: CommaList = []
    cors_origins: CommaList = []
    chat_rate_limit: str = "30/minute"
    webhook_secret: str | None = None
    escalation_webhook_url: str | None = None
    escalation_webhook_secret: str | None = None

    # Helpdesk channels: signed ticket webhooks and the Chatwoot agent bot.
    webhook_max_body_bytes: int = Field(default=1_000_000, ge=1_024)
    chatwoot_base_url: str | None = None
    chatwoot_bot_token: str | None = None
    chatwoot_webhook_secret: str | None = None

    @field_validator(
        "provider_nameserver_domains",
        "provider_mail_hosts",
        "provider_mail_networks",
        "dns_resolvers",
        "diagnostics_allowed_networks",
        "api_keys",
        "cors_origins",
        mode="before",
    )
    @classmethod
    def _comma_separated(cls, value: Any) -> Any:
        return _split_commas(value)

    def smtp_ports(self) -> dict[int, int]:
        """The SMTP port map as ``{standard port: port actually dialled}``."""
        mapping: dict[int, int] = {}
        for pair in _split_commas(self.smtp_port_map):
            standard, _, actual = pair.partition("=")
            mapping[int(standard)] = int(actual or standard)
        return mapping


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()
