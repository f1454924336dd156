"""RelayDesk: a support-desk bot for mail hosting."""

__version__ = "0.1.0"
