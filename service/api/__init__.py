"""The HTTP edge: thin routers, one per channel, and the one error mapping."""
