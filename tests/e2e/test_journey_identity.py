"""The reporter's identity, disclosed by two custodians to the investigator alone (issue 14).

One real path through the live server, in Bahasa Indonesia and once in English, with a quorum
of two custodians (the instance setting, raised for this test): a whistleblower files a report
on /lapor, confidentially, with name and phone; the APIP investigator opens it (stating a
purpose), accepts it for examination and asks for the identity with a reason; the identity stays
sealed to him (403); the first custodian (inspektur) grants a new colleague access to the
custodian unit's key and approves, the request still waits; the second custodian, in a browser
of their own, approves, and the identity is wrapped to the investigator alone; the investigator
reads name and phone. A second investigator of the same unit, holding the same case, and the
liaison of a unit that never held it, still cannot, and each refusal is a denied row of the
audit log. The reporter's mailbox then tells when and why, never who. Every page shown passes
the page checks (axe-core WCAG 2.x A/AA and the rest).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from tests.e2e.conftest import Tab
from tests.e2e.journey import Journey, file_report, open_mailbox
from tests.functional.workflow_helpers import ROLE_USERS, audit_since, last_seq
from wbs import accounts, units
from wbs.enums import AuditOutcome, CaseState, Role
from wbs.models import AuditEntry, Case, CaseKeyWrap, IdentityDecision, IdentityRequest, User

pytestmark = pytest.mark.e2e

SECOND = "inspektur.wakil"  # the second custodian, created by the administrator for this module
NAME = {"id": "Rahmat Saksi Kunci", "en": "Dewi Saksi Utama"}
PHONE = {"id": "0812 3456 7890", "en": "0813 9876 5432"}
REASON = {"id": "Laporan resmi kepada Kejaksaan memerlukan identitas pelapor (PP 43/2018).",
          "en": "A formal report to the Kejaksaan needs the reporter's identity (PP 43/2018)."}
APPROVE = {"id": "Disetujui untuk laporan resmi kepada Kejaksaan.",
           "en": "Approved for the formal report to the Kejaksaan."}


@pytest.fixture(scope="module")
def second_custodian(live_server: Any) -> str:
    """A second member of the custodian unit, as an administrator creates one: without the
    unit's key until a key holder grants it (which the journey does in the browser)."""
    ctx = live_server.ctx
    with ctx.db.begin() as session:
        unit = units.by_slug(session, "kustodian")
        _user, secret = accounts.create_user(session, ctx, username=SECOND,
                                             display_name="Wakil Inspektur",
                                             role=Role.CUSTODIAN,
                                             password="wakil-inspektur-sandi-2026", unit=unit)
    live_server.creds[SECOND] = {"password": "wakil-inspektur-sandi-2026",
                                 "totp_secret": secret, "role": Role.CUSTODIAN.value}
    return SECOND


@pytest.fixture
def quorum_of_two(live_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live_server.ctx, "settings",
                        replace(live_server.ctx.settings, identity_quorum=2))


def _request(server: Any, number: str) -> IdentityRequest:
    with server.db() as session:
        return session.scalars(select(IdentityRequest).join(Case)
                               .where(Case.case_number == number)).one()


def _user_id(server: Any, username: str) -> int:
    with server.db() as session:
        return session.scalars(select(User.id).where(User.username == username)).one()


def _identity_readers(server: Any, number: str) -> set[int]:
    with server.db() as session:
        return set(session.scalars(select(CaseKeyWrap.recipient_id).join(Case).where(
            Case.case_number == number, CaseKeyWrap.purpose == "identity",
            CaseKeyWrap.recipient_kind == "user")))


def _denials(entries: list[AuditEntry], actor: str, number: str,
             why: str) -> list[AuditEntry]:
    """The denied rows of one actor's attempt to read the identity.

    A role that may never read an identity is refused at the route, before any case is looked
    up (the same answer for every number): its row names the route, not the case. A role that
    may, refused on this case, gets a row naming the case and why.
    """
    found = []
    for e in entries:
        details = json.loads(e.details)
        if e.actor != actor or e.outcome != AuditOutcome.DENIED.value:
            continue
        if details.get("permission") != "case:identity:read":
            continue
        at_route = why == "route" and e.action == "access.route" and details.get(
            "route") == "/staf/kasus/{number}/identitas"
        on_case = e.action == "access.case" and e.case_number == number and details[
            "why"] == why
        if at_route or on_case:
            found.append(e)
    return found


def _decide(journey: Journey, tab: Tab, request_id: int, text: str, label: str) -> None:
    journey.goto(tab, "/staf/identitas", f"{label}-queue")
    section = tab.page.locator(f'section[aria-labelledby="req-{request_id}"]')
    assert section.count() == 1, "the request is not in the custodian's queue"
    tab.page.fill(f"#reason-{request_id}", text)
    journey.check(tab, f"{label}-reason-typed")
    journey.submit(tab, section.locator("button[value=approve]"), f"{label}-approved")


@pytest.mark.parametrize("lang", ["id", "en"])
def test_two_custodians_disclose_the_identity_to_the_investigator_alone(
        lang: str, open_tab: Callable[..., Tab], live_server: Any, second_custodian: str,
        quorum_of_two: None, axe_ready: None) -> None:
    ctx = live_server.ctx
    journey = Journey(open_tab, live_server, lang)
    seq = last_seq(ctx)

    # 1. A whistleblower files a report confidentially, with name and phone.
    reporter = journey.tab("reporter")
    number, code = file_report(journey, reporter, "whistleblowing", "Suap perizinan usaha",
                                "Pejabat meminta uang untuk izin usaha.",
                                identity={"identity_name": NAME[lang],
                                          "identity_phone": PHONE[lang]})
    with live_server.db() as session:
        case = session.scalars(select(Case).where(Case.case_number == number)).one()
    assert case.identity_provided and case.identity_sealed is not None
    assert NAME[lang].encode() not in case.identity_sealed + case.report_sealed

    # 2. The investigator accepts it for examination and asks for the identity, with a reason.
    inv_tab, investigator = journey.staff("investigator", ROLE_USERS["investigator"])
    journey.open_case(inv_tab, number, "investigator")
    page = inv_tab.page
    assert NAME[lang] not in page.inner_text("main")
    journey.submit(inv_tab, page.locator("#act-apip_intake button[type=submit]"),
                   "investigator-intake")
    with live_server.db() as session:
        assert session.scalars(select(Case.state).where(
            Case.case_number == number)).one() == CaseState.IN_PROCESS.value
    page.fill("#id-reason", REASON[lang])
    journey.check(inv_tab, "investigator-reason-typed")
    journey.submit(inv_tab, page.locator("#act-identity button[type=submit]"),
                   "investigator-requested")
    request = _request(live_server, number)
    assert (request.state, request.quorum, request.requester_id) == (
        "pending", 2, investigator.user_id)
    sealed = inv_tab.goto(f"/staf/kasus/{number}/identitas", "investigator-still-sealed")
    assert sealed is not None and sealed.status == 403
    assert NAME[lang] not in page.inner_text("body")
    journey.check(inv_tab, "investigator-still-sealed")

    # 3. The first custodian grants the new colleague the unit's key (once), then approves.
    first_tab, _first = journey.staff("custodian-1", ROLE_USERS["custodian"])
    assert number in first_tab.page.locator("#identity-waiting").inner_text()
    grant = first_tab.page.locator('form[action="/staf/akses"]').filter(
        has=first_tab.page.locator(f'input[name=username][value="{second_custodian}"]'))
    if grant.count():
        grant.locator("input[name=reason]").fill("Wakil Inspektur, SK Bupati 12/2026")
        journey.submit(first_tab, grant.locator("button[type=submit]"), "custodian-1-granted")
        assert first_tab.path() == "/staf?ok=granted"
    _decide(journey, first_tab, request.id, APPROVE[lang], "custodian-1")
    assert _request(live_server, number).state == "pending"  # one of two: nothing disclosed
    assert investigator.user_id not in _identity_readers(live_server, number)
    # The queue says it waits for the others, and offers no second vote.
    section = first_tab.page.locator(f'section[aria-labelledby="req-{request.id}"]')
    assert section.locator("button[value=approve]").count() == 0

    # 4. The second custodian, in a browser of their own, approves: the quorum is reached.
    second_tab, _second = journey.staff("custodian-2", second_custodian)
    _decide(journey, second_tab, request.id, APPROVE[lang], "custodian-2")
    decided = _request(live_server, number)
    assert decided.state == "approved" and decided.expires_at is not None
    with live_server.db() as session:
        voters = set(session.scalars(select(IdentityDecision.custodian_id).where(
            IdentityDecision.request_id == request.id, IdentityDecision.approve)))
    assert voters == {_user_id(live_server, ROLE_USERS["custodian"]),
                      _user_id(live_server, second_custodian)}
    assert _identity_readers(live_server, number) == {investigator.user_id}

    # 5. The investigator reads the identity.
    journey.goto(inv_tab, f"/staf/kasus/{number}/identitas", "investigator-identity")
    shown = page.inner_text("main")
    assert NAME[lang] in shown and PHONE[lang] in shown

    # 6. Nobody else: a second investigator of the same unit (holding the case), and a liaison.
    for who, username, status, why in (
            ("investigator-2", "investigator2", 403, "no_identity_disclosure"),
            ("liaison", ROLE_USERS["liaison"], 403, "route")):
        other_tab, _other = journey.staff(who, username)
        refused = other_tab.goto(f"/staf/kasus/{number}/identitas", f"{who}-refused")
        assert refused is not None and refused.status == status, (who, refused.status)
        assert NAME[lang] not in other_tab.page.inner_text("body")
        journey.check(other_tab, f"{who}-refused")
        denied = _denials(audit_since(ctx, seq), username, number, why)
        assert denied, (who, [(e.actor, e.action, e.details) for e in audit_since(ctx, seq)
                              if e.actor == username])

    # 7. The reporter is told in the mailbox: when, to an APIP investigator, why; never who.
    open_mailbox(journey, reporter, code, "mailbox-told")
    told = reporter.page.locator('section[aria-labelledby="id-title"] .alert').inner_text()
    assert REASON[lang] in told
    assert "Auditor Inspektorat" not in reporter.page.inner_text("body")

    # What the log holds of the custody, by whom.
    entries = [(e.actor, e.action, e.outcome) for e in audit_since(ctx, seq)
               if e.case_number == number]
    assert (ROLE_USERS["investigator"], "identity.request", "allowed") in entries
    assert (ROLE_USERS["custodian"], "identity.decide", "allowed") in entries
    assert (second_custodian, "identity.decide", "allowed") in entries
    assert (second_custodian, "identity.disclose", "allowed") in entries
    assert (ROLE_USERS["investigator"], "identity.view", "allowed") in entries

    print(f"\njourney identity custody [{lang}]: {journey.pages} pages checked, "
          f"{journey.seconds():.1f} s")
    journey.assert_pages_pass()
