"""Pure natural-language understanding: no I/O, no web framework."""
