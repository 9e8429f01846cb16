# ruff: noqa: F811 - the fixtures `stub` and `team` are imported from the consent tests
"""Adversarial review of branch profiles2 (issue 10): the SP4N-LAPOR! identity consent.

Each test reproduces a finding; they are expected to FAIL on the merge f9fadc7.
"""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from sqlalchemy import select

from tests.conftest import Clock
from tests.functional.test_profiles2_lapor_consent import (  # noqa: F401 - fixtures
    NAME,
    PATH,
    _approve,
    _decide,
    _file,
    _mailbox,
    stub,
    team,
)
from tests.functional.workflow_helpers import REASON
from tests.lapor_server import LaporStub
from wbs.cases import routing
from wbs.context import Context
from wbs.crypto import hpke
from wbs.enums import CaseState
from wbs.integrations import connector, keys
from wbs.models import Case, CaseEvent, LaporIdentityConsent
from wbs.ops import retention


def test_shredding_a_case_erases_the_consented_identity_copy(
        app: Any, ctx: Context, team: Any, clock: Clock) -> None:
    """A consent given while no document is queued "waits for one" (SECURITY.md). If the case
    then ends without going to LAPOR!, the identity sealed to the connector's key stays in
    lapor_identity_consents; retention's shred blanks the outbox blobs sealed to that very key
    but not this one, so the identity outlives the case's retention and is opened with the
    connector key alone."""
    number, code = _file(ctx)
    assert _decide(_mailbox(app, code), "give").status_code == 303
    with ctx.db.begin() as s:
        case = s.scalars(select(Case).where(Case.case_number == number)).one()
        case.state = CaseState.CLOSED.value
        s.add(CaseEvent(case_id=case.id, state=CaseState.CLOSED.value, on=ctx.today()))
    clock.advance(days=6 * 366)
    assert retention.shred_expired(ctx) == 1
    with ctx.db() as s:
        case = s.scalars(select(Case).where(Case.case_number == number)).one()
        assert case.shredded_on is not None and case.identity_sealed is None
        row = s.get(LaporIdentityConsent, case.id)
    assert row is not None
    left = b""
    if row.identity_sealed:
        left = hpke.unwrap(keys.private_key(ctx.settings.keys_dir), row.identity_sealed,
                           hpke.wrap_info(number, "lapor-consent", "identity"))
    assert NAME.encode() not in left, "the reporter's identity survived the shredding"
    assert row.identity_sealed == b""


def test_consent_given_while_the_first_attempt_is_in_flight_changes_the_retry(
        app: Any, ctx: Context, team: Any, stub: LaporStub, clock: Clock,
        monkeypatch: Any) -> None:
    """`document_sent` looks at attempts/state, which `_settle` changes only after the HTTP
    request; `_prepare` (which consumes the consent) commits before it. A consent given while
    the first attempt is on the wire is accepted (the attempt "may have reached LAPOR!"), and
    the retry then carries the identity: a different body under the same Idempotency-Key,
    contrary to "revocable until the first delivery attempt" and "a retry sends the same
    bytes"."""
    number, code = _file(ctx)
    _approve(ctx, team, number)
    routing.forward_external(ctx, team["verifikator"], number, "sp4n_lapor", REASON)
    browser = _mailbox(app, code)
    answers: list[int] = []
    real = connector._request

    def on_the_wire(*args: Any, **kwargs: Any) -> Any:
        if not answers:  # the first attempt has been prepared and committed, not settled
            answers.append(_decide(browser, "give").status_code)
        return real(*args, **kwargs)

    monkeypatch.setattr(connector, "_request", on_the_wire)
    stub.failures = ["500"]
    connector.deliver_due(ctx)
    clock.advance(seconds=61)
    connector.deliver_due(ctx)
    first, second = stub.posts(PATH)
    assert first.headers["Idempotency-Key"] == second.headers["Idempotency-Key"]
    # Either the late consent is refused, or it changes nothing: never a second, different
    # document with the identity under the key of an attempt that may have reached LAPOR!.
    assert answers == [409] or NAME.encode() not in second.body, (
        f"consent accepted in flight ({answers}); the retry carried the identity")
    assert first.body == second.body


def test_a_case_handed_to_apip_does_not_keep_a_consented_identity_the_reporter_cannot_revoke(
        app: Any, ctx: Context, team: Any) -> None:
    """Consent given on a complaint, then the verifier hands the case to APIP (RULES §2: it
    will never leave through the outbox). `applies()` turns false, so the mailbox hides the
    section and its revoke button; the copy sealed to the connector key stays in
    lapor_identity_consents with state 'given', for ever (see the shredding test)."""
    number, code = _file(ctx)
    browser = _mailbox(app, code)
    assert _decide(browser, "give").status_code == 303
    routing.hand_to_apip(ctx, team["verifikator"], number, REASON)
    page = browser.get("/kotak-pesan").text
    with ctx.db() as s:
        case_id = s.scalars(select(Case.id).where(Case.case_number == number)).one()
        row = s.get(LaporIdentityConsent, case_id)
    assert row is not None
    offered = 'action="/kotak-pesan/lapor-identitas"' in page
    assert row.identity_sealed == b"" or offered, (
        f"state {row.state!r}, {len(row.identity_sealed)} sealed bytes kept, no way to revoke")


def test_the_manual_export_never_hands_the_identity_to_the_verifier(
        app: Any, ctx: Context, team: Any) -> None:
    """The manual export is downloaded by a verifier (LAPOR_EXPORT), the role SECURITY.md says
    "never holds the identity key I". With consent and an approved disclosure the file carried
    the identity in clear, and the audit named only the connector. The fix leaves the identity
    out of the export (the file says so): no staff member receives it, and the consent's copy
    is erased."""
    from wbs.cases.service import actor_of
    from wbs.integrations import outbox

    ctx.settings = replace(ctx.settings, lapor_endpoint="")
    number, code = _file(ctx)
    _decide(_mailbox(app, code), "give")
    _approve(ctx, team, number)
    routing.forward_external(ctx, team["verifikator"], number, "sp4n_lapor", REASON)
    exported = outbox.export_pending(ctx, actor_of(team["verifikator"]))
    assert NAME.encode() not in exported, "the identity is in clear in the verifier's file"
    assert json.loads(exported)["identitas_pelapor"] == "tidak disertakan"
    with ctx.db() as s:
        case_id = s.scalars(select(Case.id).where(Case.case_number == number)).one()
        row = s.get(LaporIdentityConsent, case_id)
    assert row is not None and (row.state, row.identity_sealed) == ("withheld", b"")


def _case_tables() -> dict[str, set[str]]:
    """Every table linked to a case (directly, or through a table that is), with its binary
    columns: the places sealed per-case data can live."""
    from sqlalchemy import LargeBinary

    from wbs.models import Base

    linked = {"cases"}
    grew = True
    while grew:
        grew = False
        for table in Base.metadata.sorted_tables:
            if table.name not in linked and any(
                    fk.column.table.name in linked for fk in table.foreign_keys
                    if fk.parent.name in ("case_id", "attachment_id", "message_id")):
                linked.add(table.name)
                grew = True
    return {name: {c.name for c in Base.metadata.tables[name].columns
                   if isinstance(c.type, LargeBinary)} for name in linked}


# Binary columns of `cases` that are not sealed content: the receipt digest, the salt, the
# reporter's public key, and the lookup hash (replaced by random bytes on shredding).
NOT_SEALED = {"cases": {"report_digest", "reporter_salt", "reporter_public_key", "lookup_hash"}}


def test_every_table_holding_sealed_per_case_data_is_in_the_shredders_list() -> None:
    """A future table holding sealed per-case data (as lapor_identity_consents was) must be
    added to `retention.SHREDDED`, and so to `_shred`, or this fails."""
    tables = _case_tables()
    assert "lapor_identity_consents" in tables and "attachment_chunks" in tables
    for name, columns in tables.items():
        sealed = columns - NOT_SEALED.get(name, set())
        if not sealed:
            continue
        assert name in retention.SHREDDED, f"{name} holds {sorted(sealed)}; not shredded"
        handled = set(retention.SHREDDED[name])
        assert "deleted" in handled or sealed <= handled, (name, sealed - handled)


def test_the_mailbox_never_shows_the_identity_back(app: Any, ctx: Context, team: Any) -> None:
    """Whoever holds the code must not read the reporter's identity in the consent section:
    the field names are shown, never their values (before and after consenting)."""
    _number, code = _file(ctx)
    browser = _mailbox(app, code)
    for decision in (None, "give"):
        if decision:
            assert _decide(browser, decision).status_code == 303
        page = browser.get("/kotak-pesan").text
        section = page.split('id="lapor-consent"')[1].split("</section>")[0]
        assert 'data-field="name"' in section and 'data-field="phone"' in section
        assert NAME not in page, "the reporter's name is shown back to the code holder"


def test_revoking_on_a_case_at_apip_is_refused_and_leaves_no_copy(
        app: Any, ctx: Context, team: Any) -> None:
    number, code = _file(ctx)
    browser = _mailbox(app, code)
    assert _decide(browser, "give").status_code == 303
    routing.hand_to_apip(ctx, team["verifikator"], number, REASON)
    with ctx.db() as s:
        case_id = s.scalars(select(Case.id).where(Case.case_number == number)).one()
        row = s.get(LaporIdentityConsent, case_id)
        assert row is not None and (row.state, row.identity_sealed) == ("withheld", b"")
    assert _decide(browser, "revoke").status_code == 409
    assert _decide(browser, "give").status_code == 409
