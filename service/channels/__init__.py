"""Adapters to outside systems: helpdesk APIs, webhooks, the outbox worker."""
