"""Realistic ticket bodies: forwarded threads and pasted bounces from real MTAs."""

from __future__ import annotations

FORWARDED_WITH_THREAD = """Hi support,

Can you help Sam? See below.

Thanks,
Jo

---------- Forwarded message ---------
From: Sam Reed <sam@bakery-hove.co.uk>
Date: Mon, 1 Dec 2025 at 09:12
Subject: email not sending
To: Jo <jo@bakery-hove.co.uk>

Jo, every email I send to customers bounces with 550 relay not permitted.
Outlook on my laptop.

Sam

On Fri, 28 Nov 2025 at 17:00, Jo <jo@bakery-hove.co.uk> wrote:
> Did the new printer arrive? The shared mailbox is full again, can you
> empty the deleted items folder?
> Jo
"""

# Postfix's bounce (bounce(8)), forwarded by the customer from Outlook.
POSTFIX_BOUNCE = """Hello, I keep getting this back when I email our flour supplier.
What does it mean?

Jo

-----Original Message-----
From: MAILER-DAEMON@mail.hosting.example (Mail Delivery System)
Sent: 01 December 2025 10:00
To: jo@bakery-hove.co.uk
Subject: Undelivered Mail Returned to Sender

This is the mail system at host mail.hosting.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients. It's attached below.

For further assistance, please send mail to postmaster.

If you do so, please include this problem report. You can
delete your own text from the attached returned message.

                   The mail system

<orders@flour-mill.co.uk>: host mx.flour-mill.co.uk[203.0.113.5] said: 554
    5.7.1 <orders@flour-mill.co.uk>: Relay access denied (in reply to RCPT TO
    command)
"""

# Exchange Online's non-delivery report, pasted into the ticket.
EXCHANGE_BOUNCE = """Why does this keep happening?? It's every email to our accountant.

Delivery has failed to these recipients or groups:

accounts@numbers-ltd.example
Your message couldn't be delivered. Despite repeated attempts to deliver your
message, the recipient's email system refused to accept it.

Diagnostic information for administrators:

Generating server: AM6PR01MB1234.eurprd01.prod.exchangelabs.com

accounts@numbers-ltd.example
Remote Server returned '550 5.7.54 SMTP; Unable to relay recipient in non-accepted domain'

Original message headers:

Received: from AM6PR01MB1234.eurprd01.prod.exchangelabs.com
"""

# A bounce whose SMTP reply says the address does not exist: not a relay problem.
USER_UNKNOWN_BOUNCE = """Got this back, can you look?

Delivery has failed to these recipients or groups:

bob@example.org
The email address you entered couldn't be found.

Diagnostic information for administrators:

Remote Server returned '550 5.1.1 RESOLVER.ADR.RecipNotFound; not found'
"""
