"""Helpers for the workflow service tests: real sign-in (so the private key opens the unit key),
real intake, and cases driven into each state through the service functions themselves."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update

from tests.conftest import Clock, totp_now
from wbs import accounts
from wbs.accounts import StaffIdentity
from wbs.cases import intake, listing, reporter, routing, service
from wbs.cases.workflow import Action
from wbs.context import Context
from wbs.enums import CaseState, Channel, ReportKind
from wbs.models import AuditEntry, Case, Notice, Unit, User

S = CaseState

# The demo account playing each staff role. The liaison is the one of the unit the test cases
# are dispositioned to (dinas-kesehatan).
ROLE_USERS = {
    "verifier": "verifikator",
    "liaison": "penghubung.kesehatan",
    "investigator": "investigator",
    "custodian": "inspektur",
    "leadership": "pimpinan",
    "auditor": "auditor",
    "administrator": "admin",
}
DISPOSED_UNIT = "dinas-kesehatan"

QUESTION = "Mohon lampirkan foto kuitansi pungutan tersebut."
ANSWER = "Pungutan telah dihentikan dan uang dikembalikan kepada orang tua murid."
REASON = "Alasan tercatat untuk tindakan ini."


def sign_in(ctx: Context, demo: dict[str, dict[str, str]], clock: Clock,
            username: str) -> StaffIdentity:
    """Sign in through the real service (TOTP, argon2, session) and load the session back, so
    the identity carries a session-sealed private key like one behind a browser cookie."""
    creds = demo[username]
    result = accounts.sign_in(ctx, username, creds["password"], totp_now(creds["totp_secret"],
                                                                         clock), "test-client")
    identity = accounts.load_session(ctx, result.token)
    assert identity is not None
    return identity


def staff_team(ctx: Context, demo: dict[str, dict[str, str]], clock: Clock,
               *usernames: str) -> dict[str, StaffIdentity]:
    return {name: sign_in(ctx, demo, clock, name) for name in usernames}


@dataclass(frozen=True)
class Filed:
    number: str
    code: str


def file_report(ctx: Context, kind: ReportKind = ReportKind.COMPLAINT,
                reported_unit: str = "", shield: bool = False) -> Filed:
    report = intake.ReportInput(kind=kind, title="Pungutan liar di sekolah",
                                what="Kepala sekolah memungut biaya ujian Rp 500.000.",
                                where="SDN 1", reported_unit=reported_unit,
                                shield_reported_unit=shield)
    sub = intake.submit(ctx, report, [], Channel.WEB)
    return Filed(sub.case_number, sub.code)


def state_of(ctx: Context, number: str) -> str:
    with ctx.db() as s:
        return s.scalars(select(Case.state).where(Case.case_number == number)).one()


def case_row(ctx: Context, number: str) -> Case:
    with ctx.db() as s:
        return s.scalars(select(Case).where(Case.case_number == number)).one()


def last_seq(ctx: Context) -> int:
    with ctx.db() as s:
        return s.scalar(select(func.coalesce(func.max(AuditEntry.seq), 0))) or 0


def audit_since(ctx: Context, seq: int) -> list[AuditEntry]:
    with ctx.db() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.seq > seq)
                              .order_by(AuditEntry.seq)))


def audit_action(action: Action) -> str:
    """The audit action of a workflow step: the activity summary counts these as changes."""
    return f"case.transition.{action.value}"


def details(entry: AuditEntry) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(entry.details)
    return loaded


def listed(ctx: Context, staff: StaffIdentity) -> list[str]:
    """The case numbers in a staff member's case list (every page)."""
    page = listing.list_cases(ctx, staff, listing.CaseFilter(per_page=1000))
    assert page.count == len(page.rows) and not page.next_key
    return [row.case_number for row in page.rows]


def reporter_access(ctx: Context, code: str) -> reporter.ReporterAccess:
    access = reporter.access_by_code(ctx, code)
    assert access is not None
    return access


def unit_id(ctx: Context, slug: str) -> int:
    with ctx.db() as s:
        return s.scalars(select(Unit.id).where(Unit.slug == slug)).one()


def notices_for_unit(ctx: Context, slug: str, number: str,
                     kind: str | None = None) -> list[Notice]:
    """Notices about one case to the members of one unit."""
    with ctx.db() as s:
        query = (select(Notice).join(User, User.id == Notice.user_id).join(Case)
                 .join(Unit, Unit.id == User.unit_id)
                 .where(Unit.slug == slug, Case.case_number == number))
        if kind is not None:
            query = query.where(Notice.kind == kind)
        return list(s.scalars(query))


def view(ctx: Context, staff: StaffIdentity, number: str) -> service.CaseView:
    service.state_purpose(ctx, staff, number, "Menangani pengaduan")
    return service.view_case(ctx, staff, number)


# --- driving a case into a state through the real service functions ----------------------

def dispose(ctx: Context, verifier: StaffIdentity, number: str, *units: str,
            resolution_days: int = 14) -> CaseState:
    # 60 working days only for oversight content with a field check (RULES §5).
    return routing.verify_and_dispose(ctx, verifier, number,
                                      classification="needs_oversight"
                                      if resolution_days == 60 else "no_oversight",
                                      resolution_days=resolution_days,
                                      unit_slugs=list(units or (DISPOSED_UNIT,)))


class Driver:
    """Builds a fresh case in any state of one route.

    Local route: a complaint worked by the verifier and the liaison of dinas-kesehatan.
    APIP route: a whistleblowing report worked by APIP; its `verified` state is a complaint
    the verifier handed to APIP (a whistleblowing report never passes through `verified`),
    and its `forwarded` state is set directly, because no route leads a case at APIP there
    (forwarding is the verifier's act, and the verifier never acts on a case at APIP).
    """

    def __init__(self, ctx: Context, staff: dict[str, StaffIdentity]) -> None:
        self.ctx = ctx
        self.staff = staff

    def build(self, route: str, state: CaseState) -> Filed:
        steps: dict[CaseState, Callable[[], Filed]] = (
            self._local if route == "local" else self._apip)()
        filed = steps[state]()
        assert state_of(self.ctx, filed.number) == state.value, (route, state)
        return filed

    def _local(self) -> dict[CaseState, Callable[[], Filed]]:
        ctx, v, liaison = self.ctx, self.staff["verifier"], self.staff["liaison"]

        def received() -> Filed:
            return file_report(ctx)

        def needs_info() -> Filed:
            f = received()
            routing.request_info(ctx, v, f.number, QUESTION)
            return f

        def verified() -> Filed:
            f = received()
            dispose(ctx, v, f.number)
            return f

        def in_process() -> Filed:
            f = verified()
            routing.start_processing(ctx, liaison, f.number)
            return f

        def answered() -> Filed:
            f = in_process()
            routing.answer(ctx, liaison, f.number, ANSWER)
            return f

        def closed() -> Filed:
            f = answered()
            routing.reporter_act(ctx, reporter_access(ctx, f.code), Action.REPORTER_ACCEPTS)
            return f

        def archived() -> Filed:
            f = received()
            routing.archive(ctx, v, f.number, REASON)
            return f

        def forwarded() -> Filed:
            f = received()
            routing.forward_external(ctx, v, f.number, "sp4n_lapor", REASON)
            return f

        return {S.RECEIVED: received, S.NEEDS_INFO: needs_info, S.VERIFIED: verified,
                S.IN_PROCESS: in_process, S.ANSWERED: answered, S.CLOSED: closed,
                S.ARCHIVED: archived, S.FORWARDED: forwarded}

    def _apip(self) -> dict[CaseState, Callable[[], Filed]]:
        ctx, v, inv = self.ctx, self.staff["verifier"], self.staff["investigator"]

        def received() -> Filed:
            return file_report(ctx, ReportKind.WHISTLEBLOWING)

        def needs_info() -> Filed:
            f = received()
            routing.request_info(ctx, inv, f.number, QUESTION)
            return f

        def verified() -> Filed:
            f = file_report(ctx)
            routing.hand_to_apip(ctx, v, f.number, REASON)
            return f

        def in_process() -> Filed:
            f = received()
            routing.apip_intake(ctx, inv, f.number)
            return f

        def answered() -> Filed:
            f = in_process()
            routing.answer(ctx, inv, f.number, ANSWER, outcome="administrative")
            return f

        def closed() -> Filed:
            f = answered()
            routing.reporter_act(ctx, reporter_access(ctx, f.code), Action.REPORTER_ACCEPTS)
            return f

        def archived() -> Filed:
            f = received()
            routing.archive(ctx, inv, f.number, REASON)
            return f

        def forwarded() -> Filed:
            f = received()
            with ctx.db.begin() as s:
                s.execute(update(Case).where(Case.case_number == f.number)
                          .values(state=S.FORWARDED.value))
            return f

        return {S.RECEIVED: received, S.NEEDS_INFO: needs_info, S.VERIFIED: verified,
                S.IN_PROCESS: in_process, S.ANSWERED: answered, S.CLOSED: closed,
                S.ARCHIVED: archived, S.FORWARDED: forwarded}
