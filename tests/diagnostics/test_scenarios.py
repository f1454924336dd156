"""Whole diagnoses against real nsd, unbound and aiosmtpd on loopback, one scenario each."""

from __future__ import annotations

import asyncio

import pytest
from support.lab import MAIL, NSD_A, NSD_B, RESOLVER, SILENT_NS, SPLIT_SERIALS, Lab
from support.net import ConnectionRecorder

from service.diagnostics import CauseIntent, CheckId, Diagnosis, Diagnostician
from service.diagnostics.models import CheckStatus

pytestmark = pytest.mark.anyio
P, W, F, E, S = (
    CheckStatus.PASS,
    CheckStatus.WARN,
    CheckStatus.FAIL,
    CheckStatus.ERROR,
    CheckStatus.SKIPPED,
)


def statuses(diagnosis: Diagnosis) -> dict[str, str]:
    return {c.id.value: c.status.value for c in diagnosis.checks}


def intents(diagnosis: Diagnosis) -> list[CauseIntent]:
    return [c.intent for c in diagnosis.causes]


async def test_healthy_domain(diagnostician: Diagnostician, lab: Lab) -> None:
    diagnosis = await diagnostician.run(lab.domains.healthy)
    assert statuses(diagnosis) == {
        "domain": P,
        "nameservers": P,
        "mx": P,
        "mail_host": P,
        "soa_serials": P,
        "propagation": P,
        "smtp_587": P,
        "smtp_465": P,
        "smtp_25": P,
        "relay_policy": P,
    }
    assert [c.id for c in diagnosis.checks] == list(CheckId)
    smtp_587 = diagnosis.check(CheckId.SMTP_587)
    assert smtp_587 is not None
    assert smtp_587.data["auth_before_tls"] is False  # aiosmtpd's default: AUTH only after TLS
    assert smtp_587.data["auth"] and smtp_587.data["tls"]["verified"] is True
    assert smtp_587.data["address"] == MAIL
    relay = diagnosis.check(CheckId.RELAY_POLICY)
    assert relay is not None and relay.data["mta"] == "exim"
    assert intents(diagnosis)[0] is CauseIntent.AUTH
    assert CauseIntent.PORT_BLOCKED in intents(diagnosis)
    assert diagnosis.elapsed_ms < 1500 and diagnosis.cached is False
    assert "DATA" not in lab.mail_servers[25].handler.commands


async def test_external_nameservers_with_mx_elsewhere(
    diagnostician: Diagnostician, lab: Lab
) -> None:
    diagnosis = await diagnostician.run(lab.domains.external)
    found = statuses(diagnosis)
    assert (found["nameservers"], found["mx"], found["mail_host"]) == (F, F, F)
    assert found["relay_policy"] == S  # never probe someone else's server for relaying
    mx = diagnosis.check(CheckId.MX)
    assert mx is not None and "mx.other-provider.test" in mx.summary
    assert mx.data["authoritative"] is True
    cause = diagnosis.causes[0]
    assert cause.intent is CauseIntent.EXTERNAL_DNS and cause.confidence >= 0.9
    assert any("ns1.otherdns.test" in e for e in cause.evidence)


async def test_provider_nameservers_but_mail_host_elsewhere(
    diagnostician: Diagnostician, lab: Lab
) -> None:
    diagnosis = await diagnostician.run(lab.domains.mail_elsewhere)
    found = statuses(diagnosis)
    assert (found["nameservers"], found["mx"], found["mail_host"]) == (P, P, F)
    assert found["smtp_587"] == F  # nothing listens at the other server
    assert found["relay_policy"] == S
    assert intents(diagnosis)[0] is CauseIntent.EXTERNAL_DNS


async def test_nameservers_with_different_serials(diagnostician: Diagnostician, lab: Lab) -> None:
    diagnosis = await diagnostician.run(lab.domains.split)
    soa = diagnosis.check(CheckId.SOA_SERIALS)
    assert soa is not None and soa.status == W
    assert soa.data["newest"] == SPLIT_SERIALS[0]
    assert soa.data["behind"] == ["ns2.hosting.test"]
    assert {s["address"]: s["serial"] for s in soa.data["servers"]} == {
        NSD_A: SPLIT_SERIALS[0],
        NSD_B: SPLIT_SERIALS[1],
    }
    assert CauseIntent.DNS_PROPAGATION in intents(diagnosis)


async def test_resolver_still_holding_the_old_mx(lab: Lab, lab_trust: object) -> None:
    lab.move_mx()  # the resolver caches the old MX, then the zone changes under it
    config = lab.config(cache_ttl_s=0)
    first = await Diagnostician(config).run(lab.domains.moving)
    propagation = first.check(CheckId.PROPAGATION)
    assert propagation is not None and propagation.status == W
    stale = [r for r in propagation.data["resolvers"] if r.get("stale")]
    assert stale[0]["seen"] == ["10 mx.other-provider.test"]
    assert stale[0]["authoritative"] == ["10 mail.hosting.test"]
    assert statuses(first)["mx"] == P  # the authoritative answer is already right
    assert first.causes[0].intent is CauseIntent.DNS_PROPAGATION
    await asyncio.sleep(1.2)
    second = await Diagnostician(config).run(lab.domains.moving)
    assert second.check(CheckId.PROPAGATION).data["wait_s"] < propagation.data["wait_s"]  # type: ignore[union-attr]
    assert 0 < second.check(CheckId.PROPAGATION).data["wait_s"] <= 300  # type: ignore[union-attr]


async def test_nxdomain_is_a_finding(diagnostician: Diagnostician, lab: Lab) -> None:
    diagnosis = await diagnostician.run(lab.domains.missing)
    domain = diagnosis.check(CheckId.DOMAIN)
    assert domain is not None and domain.status == F and "does not exist" in domain.summary
    assert all(c.status == S for c in diagnosis.checks if c.id != CheckId.DOMAIN)
    assert diagnosis.causes == []


async def test_a_nameserver_that_never_answers(diagnostician: Diagnostician, lab: Lab) -> None:
    before = lab.silent_ns.datagrams
    diagnosis = await diagnostician.run(lab.domains.quiet)
    soa = diagnosis.check(CheckId.SOA_SERIALS)
    assert soa is not None and soa.status == W and soa.data["silent"] == ["ns3.hosting.test"]
    assert statuses(diagnosis)["mx"] == P  # the other nameserver answered
    assert lab.silent_ns.datagrams > before  # it was asked, and kept quiet
    assert CauseIntent.DNS_PROPAGATION not in intents(diagnosis)
    assert diagnosis.elapsed_ms < lab.config().budget_s * 1000


async def test_private_targets_are_refused_without_connecting(lab: Lab, lab_trust: object) -> None:
    connections_before = {p: s.handler.connections for p, s in lab.mail_servers.items()}
    diagnostician = Diagnostician(lab.config(allowed_networks=()))
    with ConnectionRecorder.recording() as seen:
        diagnosis = await diagnostician.run(lab.domains.private)
    # Only the configured resolver was contacted: not the domain's nameservers, not its hosts.
    assert seen.hosts == {RESOLVER}
    assert not seen.hosts & {"127.0.0.1", "10.0.0.1", "169.254.169.254", NSD_A, NSD_B}
    assert {p: s.handler.connections for p, s in lab.mail_servers.items()} == connections_before
    found = statuses(diagnosis)
    assert found["smtp_587"] == found["smtp_465"] == found["smtp_25"] == E
    smtp = diagnosis.check(CheckId.SMTP_25)
    assert smtp is not None and "we do not connect" in smtp.summary.lower()
    mail_host = diagnosis.check(CheckId.MAIL_HOST)
    assert mail_host is not None and mail_host.status == F
    assert {r["address"] for r in mail_host.data["refused"]} == {"127.0.0.1", "10.0.0.1"}
    nameservers = diagnosis.check(CheckId.NAMESERVERS)
    assert nameservers is not None
    refused = {r["address"] for h in nameservers.data["nameservers"] for r in h["refused"]}
    assert refused == {NSD_A, "169.254.169.254"}
    assert found["soa_serials"] == E and found["propagation"] == E
    mx = diagnosis.check(CheckId.MX)
    assert mx is not None and mx.data["authoritative"] is False  # asked via the resolver


async def test_metadata_address_refused_even_with_loopback_allowed(
    diagnostician: Diagnostician, lab: Lab
) -> None:
    with ConnectionRecorder.recording() as seen:
        diagnosis = await diagnostician.run(lab.domains.private)
    assert "169.254.169.254" not in seen.hosts and "10.0.0.1" not in seen.hosts
    soa = diagnosis.check(CheckId.SOA_SERIALS)
    assert soa is not None and [s["address"] for s in soa.data["servers"]] == [NSD_A]
    assert soa.data["refused"][0]["address"] == "169.254.169.254"
    assert SILENT_NS not in seen.hosts
