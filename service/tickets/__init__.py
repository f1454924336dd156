"""The ticket channel: a helpdesk sends each new ticket, gets a finished email or a hand-off.

``cleaning`` (pure) reduces the email body, ``compose`` (pure) decides and writes the
reply, ``desk`` does the I/O exactly once per ticket.
"""
