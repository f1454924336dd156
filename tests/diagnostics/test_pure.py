"""The decisions that need no network: domain input, serial order, relay replies, causes."""

from __future__ import annotations

from typing import Any

import pytest
from support.smtpd import RELAY_REFUSALS

from service.diagnostics.context import wait_in_words
from service.diagnostics.dns_checks import newest_serial, serial_compare
from service.diagnostics.domain import normalise_domain
from service.diagnostics.findings import combine, infer_causes
from service.diagnostics.lookups import is_provider_nameserver
from service.diagnostics.mail_checks import RelayVerdict, classify_rcpt, mta_wording
from service.diagnostics.models import CauseIntent, CheckId, CheckResult, CheckStatus
from service.diagnostics.smtp import Reply
from service.errors import InvalidDomain

P, W, F, E, S = (
    CheckStatus.PASS,
    CheckStatus.WARN,
    CheckStatus.FAIL,
    CheckStatus.ERROR,
    CheckStatus.SKIPPED,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("example.com", "example.com"),
        ("  Example.COM. ", "example.com"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("mail.customer.co.uk", "mail.customer.co.uk"),
        ("a-b.test", "a-b.test"),
    ],
)
def test_domains_are_normalised(text: str, expected: str) -> None:
    assert normalise_domain(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "localhost",
        "com",
        "192.0.2.1",
        "[2001:db8::1]",
        "::1",
        "user@example.com",
        "http://example.com",
        "exa mple.com",
        "a..b.com",
        "-bad.com",
        "bad-.com",
        "under_score.com",
        "x" * 64 + ".com",
        ("a" * 60 + ".") * 5 + "com",
        "example.123",
        "example.com:25",
    ],
)
def test_invalid_domains_are_refused(text: str) -> None:
    with pytest.raises(InvalidDomain):
        normalise_domain(text)


@pytest.mark.parametrize(
    ("a", "b", "order"),
    [
        (1, 1, 0),
        (1, 2, -1),
        (2, 1, 1),
        (2024060101, 2024060102, -1),
        (4294967295, 0, -1),  # wraps: 0 is newer than 2**32 - 1
        (0, 4294967295, 1),
        (4294967000, 100, -1),
        (0, 2**31 - 1, -1),
        (0, 2**31, None),  # exactly half the space apart: undefined
        (2**31, 0, None),
    ],
)
def test_rfc1982_serial_order(a: int, b: int, order: int | None) -> None:
    assert serial_compare(a, b) == order


def test_newest_serial_respects_wraparound() -> None:
    assert newest_serial([4294967290, 5, 4294967295]) == 5
    assert newest_serial([2024060101, 2024060102]) == 2024060102


@pytest.mark.parametrize(
    ("host", "ours"),
    [
        ("ns1.hosting.test", True),
        ("NS2.Hosting.Test.", True),
        ("hosting.test", True),
        ("nothosting.test", False),
        ("hosting.test.evil", False),
        ("ns1.hosting.testing", False),
        ("ns1.otherdns.test", False),
    ],
)
def test_provider_nameservers_match_on_label_boundaries(host: str, ours: bool) -> None:
    assert is_provider_nameserver(host, ("hosting.test",)) is ours


@pytest.mark.parametrize("mta", sorted(RELAY_REFUSALS))
def test_each_mta_relay_refusal_is_recognised(mta: str) -> None:
    code, _, text = RELAY_REFUSALS[mta].partition(" ")
    reply = Reply(int(code), (text,))
    assert classify_rcpt(reply) is RelayVerdict.REFUSED
    assert mta_wording(reply) == mta


@pytest.mark.parametrize(
    ("reply", "verdict"),
    [
        (Reply(250, ("OK",)), RelayVerdict.ACCEPTED),
        (Reply(251, ("User not local; will forward",)), RelayVerdict.ACCEPTED),
        (Reply(450, ("4.7.1 Try again later",)), RelayVerdict.TEMPORARY),
        (Reply(550, ("5.1.1 User unknown",)), RelayVerdict.OTHER),
        (Reply(554, ("5.7.1 Service unavailable; client host blocked",)), RelayVerdict.REFUSED),
    ],
)
def test_rcpt_replies_are_classified(reply: Reply, verdict: RelayVerdict) -> None:
    assert classify_rcpt(reply) is verdict


@pytest.mark.parametrize(
    ("seconds", "words"),
    [(1, "1 second"), (45, "45 seconds"), (300, "about 5 minutes"), (7200, "about 2 hours")],
)
def test_waits_are_quoted_in_words(seconds: int, words: str) -> None:
    assert wait_in_words(seconds) == words


def test_combine_treats_evidence_as_independent() -> None:
    assert combine([]) == 0.0
    assert combine([0.5]) == 0.5
    assert combine([0.5, 0.75]) == 0.88


def _checks(statuses: dict[CheckId, CheckStatus], **data: dict[str, Any]) -> list[CheckResult]:
    return [
        CheckResult(
            id=cid,
            status=status,
            summary=f"{cid.value} was {status.value}",
            data=data.get(cid.value, {}),
        )
        for cid, status in statuses.items()
    ]


def _intents(results: list[CheckResult]) -> list[tuple[CauseIntent, float]]:
    return [(c.intent, c.confidence) for c in infer_causes(results)]


def test_external_dns_is_the_strongest_cause_when_dns_is_elsewhere() -> None:
    causes = infer_causes(
        _checks(
            {
                CheckId.DOMAIN: P,
                CheckId.NAMESERVERS: F,
                CheckId.MX: F,
                CheckId.MAIL_HOST: F,
                CheckId.RELAY_POLICY: S,
            }
        )
    )
    assert causes[0].intent is CauseIntent.EXTERNAL_DNS
    assert causes[0].confidence >= 0.9
    assert causes[0].evidence[0] == "mx was fail"  # strongest evidence first


def test_auth_is_named_when_our_server_refuses_unauthenticated_relay() -> None:
    intents = _intents(
        _checks(
            {
                CheckId.DOMAIN: P,
                CheckId.NAMESERVERS: P,
                CheckId.MX: P,
                CheckId.MAIL_HOST: P,
                CheckId.SOA_SERIALS: P,
                CheckId.PROPAGATION: P,
                CheckId.SMTP_587: P,
                CheckId.SMTP_465: P,
                CheckId.SMTP_25: P,
                CheckId.RELAY_POLICY: P,
            }
        )
    )
    assert intents[0][0] is CauseIntent.AUTH and intents[0][1] >= 0.75
    assert (CauseIntent.PORT_BLOCKED, 0.25) in intents  # 587 works: switching is safe
    assert CauseIntent.EXTERNAL_DNS not in dict(intents)


def test_propagation_outranks_a_stale_mail_host() -> None:
    results = _checks(
        {
            CheckId.DOMAIN: P,
            CheckId.NAMESERVERS: P,
            CheckId.MAIL_HOST: F,
            CheckId.PROPAGATION: W,
            CheckId.SOA_SERIALS: W,
        },
        propagation={"resolvers": [{"type": "A", "stale": True}]},
        soa_serials={"behind": ["ns2.hosting.test"]},
    )
    intents = _intents(results)
    assert intents[0][0] is CauseIntent.DNS_PROPAGATION and intents[0][1] >= 0.9
    assert CauseIntent.EXTERNAL_DNS not in dict(intents)


def test_a_silent_nameserver_is_not_propagation() -> None:
    results = _checks(
        {CheckId.DOMAIN: P, CheckId.SOA_SERIALS: W},
        soa_serials={"behind": [], "silent": ["ns3.hosting.test"]},
    )
    assert infer_causes(results) == []


def test_auth_counts_less_when_mail_goes_elsewhere() -> None:
    intents = dict(
        _intents(
            _checks(
                {
                    CheckId.NAMESERVERS: F,
                    CheckId.MX: F,
                    CheckId.RELAY_POLICY: P,
                }
            )
        )
    )
    assert intents[CauseIntent.AUTH] == 0.35
    assert intents[CauseIntent.EXTERNAL_DNS] > intents[CauseIntent.AUTH]


def test_nothing_is_inferred_for_a_domain_that_does_not_exist() -> None:
    assert infer_causes(_checks({CheckId.DOMAIN: F, CheckId.SMTP_587: P})) == []


def test_errors_and_skips_are_not_evidence() -> None:
    assert infer_causes(_checks({cid: E for cid in CheckId})) == []
    assert infer_causes(_checks({cid: S for cid in CheckId})) == []
