"""A diagnosis as plain text, for the command line.

print(format_diagnosis(diagnosis))
# example.com: 10 checks in 48 ms
#   pass  mx           Mail for example.com goes to our mail servers (...).
# Likely causes:
#   0.90  relay.external_dns  MX points at ...
"""

from __future__ import annotations

from service.diagnostics.models import Diagnosis


def format_diagnosis(diagnosis: Diagnosis) -> str:
    cached = " (cached)" if diagnosis.cached else ""
    lines = [
        f"{diagnosis.domain}: {len(diagnosis.checks)} checks in {diagnosis.elapsed_ms} ms{cached}"
    ]
    lines += [f"  {c.status.value:<7} {c.id.value:<13} {c.summary}" for c in diagnosis.checks]
    if diagnosis.causes:
        lines.append("Likely causes:")
        for cause in diagnosis.causes:
            lines.append(f"  {cause.confidence:.2f}  {cause.intent.value}")
            lines += [f"        - {item}" for item in cause.evidence]
    else:
        lines.append("No likely cause found.")
    return "\n".join(lines)
