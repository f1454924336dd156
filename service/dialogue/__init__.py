"""The pure conversation engine: ``(state, understanding, findings) -> Turn``."""
