"""The case workflow as service functions (DESIGN §5, RULES §2, §5, §6).

Each function checks access (`with_case` → `authorize`), asks the pure `workflow.transition`
whether the action is allowed now, and then, in one transaction, applies it: state, timeline,
key wraps, deadline rows, notices and the audit row. A refused transition is recorded too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, CursorResult, Delete, delete, exists, func, select
from sqlalchemy.orm import Session

from wbs import audit, notices
from wbs.access import Permission
from wbs.accounts import StaffIdentity
from wbs.cases import attachments, deadlines, identity_requests, sealing, workflow
from wbs.cases.reporter import ReporterAccess, add_message, reporter_keys
from wbs.cases.service import content_keys, with_case
from wbs.cases.workflow import Action, Allowed
from wbs.context import Context
from wbs.enums import AuditOutcome, CaseState, Classification, ReportKind, Role, UnitKind
from wbs.files import CleanFile
from wbs.integrations import outbox as lapor_outbox
from wbs.models import Case, CaseEvent, CaseKeyWrap, CaseTask, Deadline, Message, Unit
from wbs.profiles import kinds as profile_kinds
from wbs.profiles import store
from wbs.refusals import Refusal
from wbs.reports import counting, marks

OPEN_TASK = ("open", "in_process")
DISPOSABLE_KINDS = (UnitKind.AGENCY.value, UnitKind.BUMD.value)
APIP_OUTCOMES = ("not_proven", "administrative", "referral_kpk", "referral_kejaksaan",
                 "referral_polri")
FORWARD_TARGETS = ("sp4n_lapor", "other_agency")


class TransitionRefused(Exception):
    # Not a `Refusal`: run_staff records it itself, with the transition's own audit action.
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class AnswerChanged(TransitionRefused):
    """The reporter confirmed a response to an answer that is no longer the case's latest."""

    def __init__(self) -> None:
        super().__init__("answer_changed")


class InvalidInput(ValueError, Refusal):
    """A field of the action is missing or wrong; `code` says which rule. Raised while the act
    runs, it is recorded as a refusal by `with_case`; raised before, it is a form error."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Step:
    """What an action does once allowed: given the session, the case and the new state."""

    action: Action
    permission: Permission
    apply: Callable[[Session, Case, CaseState], None]
    reason: str | None = None
    details: dict[str, str | int | bool | None] | None = None


def _unit_holds_key(case: Case) -> ColumnElement[bool]:
    """A task's unit holds the case's content key now: only such a unit still works on it."""
    return CaseTask.unit_id.in_(select(CaseKeyWrap.recipient_id).where(
        CaseKeyWrap.case_id == case.id, CaseKeyWrap.purpose == "content",
        CaseKeyWrap.recipient_kind == "unit"))


def _open_window(session: Session, case: Case, kind: str) -> Deadline | None:
    return session.scalars(select(Deadline).where(
        Deadline.case_id == case.id, Deadline.task_id.is_(None), Deadline.kind == kind,
        Deadline.met_on.is_(None)).order_by(Deadline.start_on.desc(), Deadline.id.desc())
    ).first()


def facts(session: Session, case: Case) -> workflow.CaseFacts:
    # A task of a unit that lost the key (returned, or the case went to APIP) is not pending,
    # whatever its row says: that unit can no longer answer.
    pending = len(session.scalars(select(CaseTask.id).where(
        CaseTask.case_id == case.id, CaseTask.state.in_(OPEN_TASK),
        _unit_holds_key(case))).all())
    # The reporter's windows end on the day stored when they opened, not on what today's
    # rules would say: an administrator's change of a rule applies to windows opened after it.
    info = _open_window(session, case, "missing_data")
    objection = _open_window(session, case, "objection")
    return workflow.CaseFacts(
        state=CaseState(case.state), kind=ReportKind(case.kind), at_apip=case.at_apip,
        pending_units=pending,
        needs_info_since=info.start_on if info else None,
        missing_data_due=info.due_on if info else None,
        answered_on=objection.start_on if objection else None,
        objection_due=objection.due_on if objection else None)


def _decide(session: Session, ctx: Context, case: Case, actor: workflow.Actor, action: Action,
            reason: str | None) -> workflow.Outcome:
    calendar = deadlines.load_calendar(session)
    return workflow.transition(facts(session, case), actor, action, ctx.today(), calendar,
                               deadlines.load_rules(session), reason=reason)


def _record_change(session: Session, ctx: Context, case: Case, new_state: CaseState,
                   action: Action, actor: str, role: str, reason: str | None,
                   details: dict[str, str | int | bool | None] | None,
                   reporter: bool = False) -> None:
    old = case.state
    case.state = new_state.value
    marks.mark_state(session, case, new_state.value, ctx.today())
    if new_state in workflow.TERMINAL_STATES:
        # An outcome ends every pending identity request with it (finding 12).
        identity_requests.end_with_case(session, ctx, case)
    rekeyed = session.info.pop(_REKEYED, None)
    if rekeyed is not None:
        details = {**(details or {}), "key_epoch": rekeyed}
    if old != new_state.value or action in (Action.ANSWER, Action.RETURN_DISPOSITION):
        session.add(CaseEvent(case_id=case.id, state=new_state.value, on=ctx.today(),
                              note_key=action.value))
    # "case.transition.*": the activity summary counts these as state changes, not views.
    audit.record(session, ctx.audit_keys, actor=actor, role=role,
                 action=f"case.transition.{action.value}", case_number=case.case_number,
                 reason=reason or "",
                 details={"from": old, "to": new_state.value, **(details or {})},
                 reporter=reporter, now=ctx.now())
    # A case SP4N-LAPOR! knows gets its status change queued in this same transaction.
    lapor_outbox.on_state_change(session, ctx, case, old, new_state, action.value,
                                 reporter=reporter)


def run_staff(ctx: Context, staff: StaffIdentity, case_number: str, step: Step) -> CaseState:
    """Authorize, decide, apply and audit one staff action; raise if refused."""
    refused: str | None = None

    def act(session: Session, case: Case) -> CaseState:
        nonlocal refused
        actor = workflow.Actor.staff(staff.role)
        outcome = _decide(session, ctx, case, actor, step.action, step.reason)
        if not isinstance(outcome, Allowed):
            refused = outcome.reason.value
            return CaseState(case.state)
        step.apply(session, case, outcome.new_state)
        _record_change(session, ctx, case, outcome.new_state, step.action, staff.username,
                       staff.role.value, step.reason, step.details)
        return outcome.new_state

    state = with_case(ctx, staff, case_number, step.permission, act)
    if refused is not None:
        with ctx.db.begin() as session:
            audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                         action=f"case.transition.{step.action.value}", case_number=case_number,
                         outcome=AuditOutcome.DENIED, details={"why": refused}, now=ctx.now())
        raise TransitionRefused(refused)
    return state


def _reason(text: str | None, required: bool = True) -> str | None:
    cleaned = " ".join((text or "").split())[:500] or None
    if required and (cleaned is None or len(cleaned) < 5):
        raise InvalidInput("reason_required")
    return cleaned


def _units(session: Session, slugs: Sequence[str], case: Case) -> list[Unit]:
    chosen = list(session.scalars(select(Unit).where(Unit.slug.in_(list(slugs)))))
    if not chosen or len(chosen) != len(set(slugs)):
        raise InvalidInput("units_required")
    for unit in chosen:
        if unit.kind not in DISPOSABLE_KINDS:
            raise InvalidInput("unit_not_disposable")
        if unit.id == case.reported_unit_id and case.shield_reported_unit:
            # A complaint goes to the unit responsible for the service, even the one named
            # (RULES §6), unless the reporter fears retaliation or the verifier saw a conflict.
            # (Whistleblowing and cases at APIP are never dispositioned by the verifier.)
            raise InvalidInput("reported_unit")
    return chosen


def _assign(session: Session, ctx: Context, case: Case, unit: Unit, keys: sealing.EpochKeys,
            resolution_days: int | None, state: str = "open") -> CaseTask:
    task = CaseTask(case_id=case.id, unit_id=unit.id, state=state,
                    resolution_days=resolution_days, assigned_on=ctx.today())
    session.add(task)
    session.flush()
    sealing.wrap_all_to_unit(session, case, unit, keys)
    rules, rule_key = deadlines.load_rules(session), deadlines.answer_rule(resolution_days)
    due = deadlines.open_deadline(session, case, "answer", rule_key,
                                  deadlines.start_day(case, rules[rule_key], ctx.today()),
                                  calendar=deadlines.load_calendar(session), rules=rules,
                                  task_id=task.id)
    notices.notify_unit(session, ctx, case, unit.id, "new_task", due.due_on)
    return task


def _apip_unit(session: Session) -> Unit:
    unit = session.scalars(select(Unit).where(Unit.kind == UnitKind.APIP.value)).first()
    if unit is None:
        raise InvalidInput("no_apip_unit")
    return unit


def _verification_deadline(session: Session, ctx: Context, case: Case) -> None:
    deadlines.open_deadline(session, case, "verification", "verification", ctx.today(),
                            calendar=deadlines.load_calendar(session),
                            rules=deadlines.load_rules(session))


def _deleted(session: Session, statement: Delete) -> int:
    result = session.execute(statement)
    return result.rowcount if isinstance(result, CursorResult) else 0


_REKEYED = "wbs.rekeyed_epoch"


def _rekey(session: Session, case: Case) -> None:
    """A unit has just lost the case (its wraps deleted): a new content key from here on
    (issue 13), in the act's transaction. The act's own audit row says so (`_record_change`
    reads the mark): a row of its own would, for a reporter's act, be one more row to date."""
    epoch = sealing.rekey_content(session, case)
    session.info[_REKEYED] = epoch if epoch is not None else "skipped_no_reporter_key"


def _hand_over_to_apip(session: Session, ctx: Context, case: Case, keys: sealing.EpochKeys, *,
                       reporter: bool = False) -> None:
    apip = _apip_unit(session)
    sealing.wrap_all_to_unit(session, case, apip, keys)
    # The verifier team loses the content key: the case stays in its history, not its view.
    lost = _deleted(session, delete(CaseKeyWrap).where(
        CaseKeyWrap.case_id == case.id, CaseKeyWrap.purpose == "content",
        CaseKeyWrap.recipient_kind == "unit", CaseKeyWrap.recipient_id != apip.id))
    if lost:
        _rekey(session, case)
    # Every unit's share ends here, answered ones included: an objection to APIP's answer must
    # reopen APIP's task only, never a liaison's old one (which would count as a second pending
    # unit, so APIP's answer could never finish the case).
    for task in session.scalars(select(CaseTask).where(CaseTask.case_id == case.id,
                                                       CaseTask.unit_id != apip.id,
                                                       CaseTask.state != "returned")):
        task.state = "returned"
    deadlines.meet(session, case, None, ctx.today())
    # Nobody outside APIP keeps a pending notice for a case they can no longer open.
    notices.resolve_for_case(session, ctx, case)
    case.at_apip = True
    # The case will never leave through the SP4N-LAPOR! outbox (RULES §2): a consent to send
    # the identity there stops applying, and its copy sealed to the connector's key is erased.
    from wbs.integrations import consent  # here: wbs.integrations imports wbs.cases

    consent.close(session, ctx, case)
    _verification_deadline(session, ctx, case)
    notices.notify_unit(session, ctx, case, apip.id, "new_task", None, reporter=reporter)


# --- verifier -------------------------------------------------------------------------------

def verify_and_dispose(ctx: Context, staff: StaffIdentity, case_number: str, *,
                       classification: str, resolution_days: int,
                       unit_slugs: Sequence[str], category: str = "",
                       determination: str = "") -> CaseState:
    try:
        cls = Classification(classification)
    except ValueError as exc:
        raise InvalidInput("classification_required") from exc
    if resolution_days not in (5, 14, 60):
        raise InvalidInput("resolution_required")
    if resolution_days == 60 and cls is not Classification.NEEDS_OVERSIGHT:
        # RULES §5: 60 working days only for oversight content with a field check; a case
        # classified otherwise must not get twelve weeks (issue 10: the classification is
        # tied to the 5/14/60 choice).
        raise InvalidInput("resolution_classification")
    counted = counting.parse_determination(determination)

    def apply(session: Session, case: Case, _new: CaseState) -> None:
        fixed = profile_kinds.answer_rule(case.profile_kind, store.in_force(session).kinds)
        if fixed is not None and deadlines.answer_rule(resolution_days) != fixed:
            # The profile fixes this kind's answer limit (Jayapura Ps 16(7): keluhan, 5 days).
            raise InvalidInput("resolution_kind")
        targets = _units(session, unit_slugs, case)
        keys = content_keys(session, case, staff)
        case.classification, case.resolution_days = cls.value, resolution_days
        counting.set_category(session, case, category)
        case.determination = counted
        deadlines.meet(session, case, ["verification"], ctx.today())
        for unit in targets:
            _assign(session, ctx, case, unit, keys, resolution_days)
        notices.resolve_for_case(session, ctx, case, staff.unit_id)

    return run_staff(ctx, staff, case_number, Step(
        Action.VERIFY_AND_DISPOSE, Permission.CASE_DISPOSE, apply,
        details={"classification": cls.value, "resolution_days": resolution_days,
                 "units": ",".join(sorted(unit_slugs)), "category": category[:64] or None,
                 "determination": counted}))


def add_disposition(ctx: Context, staff: StaffIdentity, case_number: str, *,
                    unit_slugs: Sequence[str]) -> CaseState:
    """Give the case to more units while others work on it (no wrong door: a returned share
    goes on to the suggested unit). Each new unit gets its own task, key wrap and deadline."""

    def apply(session: Session, case: Case, _new: CaseState) -> None:
        targets = _units(session, unit_slugs, case)
        busy = set(session.scalars(select(CaseTask.unit_id).where(
            CaseTask.case_id == case.id, CaseTask.state.in_(OPEN_TASK))))
        if any(unit.id in busy for unit in targets):
            raise InvalidInput("unit_already_working")
        keys = content_keys(session, case, staff)
        for unit in targets:
            _assign(session, ctx, case, unit, keys, case.resolution_days)
        notices.resolve_for_case(session, ctx, case, staff.unit_id)

    return run_staff(ctx, staff, case_number, Step(
        Action.ADD_DISPOSITION, Permission.CASE_DISPOSE, apply,
        details={"units": ",".join(sorted(unit_slugs))}))


def request_info(ctx: Context, staff: StaffIdentity, case_number: str, question: str) -> CaseState:
    text = question.strip()
    if len(text) < 5 or len(text) > 20_000:
        raise InvalidInput("question_required")
    permission = (Permission.CASE_VERIFY if staff.role is Role.VERIFIER
                  else Permission.CASE_INVESTIGATE)

    def apply(session: Session, case: Case, new: CaseState) -> None:
        add_message(session, case, content_keys(session, case, staff), text, author_kind="staff",
                    author_role=staff.role.value, author_user_id=staff.user_id,
                    today=ctx.today(), kind="question")
        lapor_outbox.on_staff_text(session, ctx, case, new, text)
        deadlines.meet(session, case, ["verification"], ctx.today())
        deadlines.open_deadline(session, case, "missing_data", "missing_data", ctx.today(),
                                calendar=deadlines.load_calendar(session),
                                rules=deadlines.load_rules(session))

    return run_staff(ctx, staff, case_number, Step(Action.REQUEST_INFO, permission, apply))


def archive(ctx: Context, staff: StaffIdentity, case_number: str, reason: str) -> CaseState:
    text = _reason(reason)
    permission = (Permission.CASE_VERIFY if staff.role is Role.VERIFIER
                  else Permission.CASE_INVESTIGATE)

    def apply(session: Session, case: Case, _new: CaseState) -> None:
        case.outcome = "archived"
        deadlines.meet(session, case, None, ctx.today())
        notices.resolve_for_case(session, ctx, case)

    return run_staff(ctx, staff, case_number, Step(Action.ARCHIVE, permission, apply, text))


def forward_external(ctx: Context, staff: StaffIdentity, case_number: str, target: str,
                     reason: str) -> CaseState:
    """Bukan Wewenang: to another agency or the national SP4N-LAPOR! admin (no wrong door)."""
    if target not in FORWARD_TARGETS:
        raise InvalidInput("target_required")
    text = _reason(reason)

    def apply(session: Session, case: Case, _new: CaseState) -> None:
        case.outcome = f"forwarded_{target}"
        deadlines.meet(session, case, None, ctx.today())
        notices.resolve_for_case(session, ctx, case)
        # No wrong door: the forwarding verifier, who reads the case now, seals its document
        # for SP4N-LAPOR! to the connector's key, in this transaction (SECURITY.md).
        report = sealing.open_json(content_keys(session, case, staff)[0], case, "report",
                                   case.report_sealed)
        lapor_outbox.on_forward(session, ctx, case, report, target)

    return run_staff(ctx, staff, case_number, Step(
        Action.FORWARD_EXTERNAL, Permission.CASE_VERIFY, apply, text, {"target": target}))


def hand_to_apip(ctx: Context, staff: StaffIdentity, case_number: str, reason: str) -> CaseState:
    text = _reason(reason)

    def apply(session: Session, case: Case, _new: CaseState) -> None:
        _hand_over_to_apip(session, ctx, case, content_keys(session, case, staff))

    return run_staff(ctx, staff, case_number, Step(Action.HAND_TO_APIP, Permission.CASE_VERIFY,
                                                   apply, text))


# --- units: liaisons and APIP ----------------------------------------------------------------

def _my_task(session: Session, case: Case, staff: StaffIdentity) -> CaseTask:
    task = session.scalars(select(CaseTask).where(
        CaseTask.case_id == case.id, CaseTask.unit_id == staff.unit_id,
        CaseTask.state.in_(OPEN_TASK))).first()
    if task is None:
        raise InvalidInput("no_open_task")
    return task


def _apip_task(session: Session, ctx: Context, case: Case) -> CaseTask:
    """APIP's own task on a case it examines, with the 60-working-day limit."""
    apip = _apip_unit(session)
    task = CaseTask(case_id=case.id, unit_id=apip.id, state="in_process", resolution_days=60,
                    assigned_on=ctx.today())
    session.add(task)
    session.flush()
    deadlines.open_deadline(session, case, "answer", "answer_60", ctx.today(),
                            calendar=deadlines.load_calendar(session),
                            rules=deadlines.load_rules(session), task_id=task.id)
    return task


def apip_intake(ctx: Context, staff: StaffIdentity, case_number: str) -> CaseState:
    def apply(session: Session, case: Case, _new: CaseState) -> None:
        deadlines.meet(session, case, ["verification"], ctx.today())
        _apip_task(session, ctx, case)

    return run_staff(ctx, staff, case_number, Step(Action.APIP_INTAKE,
                                                   Permission.CASE_INVESTIGATE, apply))


def start_processing(ctx: Context, staff: StaffIdentity, case_number: str) -> CaseState:
    def apply(session: Session, case: Case, _new: CaseState) -> None:
        if case.at_apip and staff.role is Role.INVESTIGATOR:
            open_task = session.scalars(select(CaseTask).where(
                CaseTask.case_id == case.id, CaseTask.unit_id == staff.unit_id,
                CaseTask.state.in_(OPEN_TASK))).first()
            if open_task is None:
                deadlines.meet(session, case, ["verification"], ctx.today())
                _apip_task(session, ctx, case)
            return
        task = _my_task(session, case, staff)
        if task.state != "open":
            raise InvalidInput("no_open_task")  # this unit already started
        task.state = "in_process"

    return run_staff(ctx, staff, case_number, Step(Action.START_PROCESSING,
                                                   Permission.CASE_ANSWER, apply))


def return_disposition(ctx: Context, staff: StaffIdentity, case_number: str,
                       suggested_unit: str, reason: str) -> CaseState:
    text = _reason(reason)

    def apply(session: Session, case: Case, new: CaseState) -> None:
        task = _my_task(session, case, staff)
        suggestion = session.scalars(select(Unit).where(Unit.slug == suggested_unit)).first()
        if suggested_unit and suggestion is None:
            raise InvalidInput("unknown_unit")
        task.state = "returned"
        task.suggested_unit_id = suggestion.id if suggestion else None
        deadlines.meet(session, case, None, ctx.today(), task_id=task.id)
        if _deleted(session, delete(CaseKeyWrap).where(
                CaseKeyWrap.case_id == case.id, CaseKeyWrap.purpose == "content",
                CaseKeyWrap.recipient_kind == "unit", CaseKeyWrap.recipient_id == task.unit_id)):
            _rekey(session, case)
        if new is CaseState.RECEIVED:
            # The last open task came back: the verifier must disposition again, by a limit.
            # While other units still work on the case it stays with them (the rules keep its
            # state), and there is nothing the verifier is late for.
            _verification_deadline(session, ctx, case)
        notices.resolve_for_case(session, ctx, case, staff.unit_id)
        # Either way the verifier team learns of the return; the suggested unit is on the task
        # (case page) and in the audit row.
        notices.notify_unit(session, ctx, case, case.receiving_unit_id, "returned", None)

    return run_staff(ctx, staff, case_number, Step(
        Action.RETURN_DISPOSITION, Permission.CASE_ANSWER, apply, text,
        {"suggested_unit": suggested_unit[:64] or None}))


def answer(ctx: Context, staff: StaffIdentity, case_number: str, text: str,
           outcome: str | None = None, followup: str = "",
           improvement: bool = False,
           files: Sequence[tuple[str, CleanFile]] = ()) -> CaseState:
    """The handling unit's (or APIP's) answer, with the data and photos it rests on: `files`,
    already cleaned like the reporter's, are sealed under the case key next to the answer
    message. The audit row counts them; their names and sizes stay sealed."""
    body = text.strip()
    if len(body) < 5 or len(body) > 50_000:
        raise InvalidInput("answer_required")
    if outcome is not None and outcome not in APIP_OUTCOMES:
        raise InvalidInput("outcome_required")
    followup_kind = counting.parse_followup(followup)

    def apply(session: Session, case: Case, new: CaseState) -> None:
        if case.at_apip and outcome is None:
            raise InvalidInput("outcome_required")
        task = _my_task(session, case, staff)
        keys = content_keys(session, case, staff)
        message = add_message(session, case, keys, body, author_kind="staff",
                              author_role=staff.role.value, author_user_id=staff.user_id,
                              today=ctx.today(), kind="answer")
        for name, clean in files:
            attachments.store(session, case, keys, name, clean, uploader="staff",
                              today=ctx.today(), message_id=message.id)
        task.state, task.answered_on = "answered", ctx.today()
        lapor_outbox.on_staff_text(session, ctx, case, new, body)
        task.followup_kind, task.improvement_promised = followup_kind, improvement
        deadlines.meet(session, case, ["answer"], ctx.today(), task_id=task.id)
        notices.resolve_for_case(session, ctx, case, staff.unit_id)
        if outcome is not None:
            case.outcome = outcome
        if new is CaseState.ANSWERED:
            deadlines.open_deadline(session, case, "objection", "objection", ctx.today(),
                                    calendar=deadlines.load_calendar(session),
                                    rules=deadlines.load_rules(session))

    permission = Permission.CASE_ANSWER
    return run_staff(ctx, staff, case_number, Step(
        Action.ANSWER, permission, apply,
        details={"outcome": outcome, "followup": followup_kind, "improvement": improvement,
                 "files": len(files)}))


def answer_aspiration(ctx: Context, staff: StaffIdentity, case_number: str,
                      text: str) -> CaseState:
    """The verifier answers an aspirasi itself (RULES §1), with no disposition."""
    body = text.strip()
    if len(body) < 5 or len(body) > 50_000:
        raise InvalidInput("answer_required")

    def apply(session: Session, case: Case, _new: CaseState) -> None:
        add_message(session, case, content_keys(session, case, staff), body, author_kind="staff",
                    author_role=staff.role.value, author_user_id=staff.user_id,
                    today=ctx.today(), kind="answer")
        deadlines.meet(session, case, ["verification"], ctx.today())
        notices.resolve_for_case(session, ctx, case, staff.unit_id)
        deadlines.open_deadline(session, case, "objection", "objection", ctx.today(),
                                calendar=deadlines.load_calendar(session),
                                rules=deadlines.load_rules(session))

    return run_staff(ctx, staff, case_number, Step(Action.ANSWER_ASPIRATION,
                                                   Permission.CASE_DISPOSE, apply))


def in_dispute(session: Session, case: Case, today: date) -> bool:
    """RULES §6: a dispute that drags on. Either an obligation on the case is overdue (an open
    deadline past its due day), or the reporter contested an answer (objected or asked for a
    re-examination: a message of kind "objection")."""
    overdue = session.scalar(select(exists().where(
        Deadline.case_id == case.id, Deadline.met_on.is_(None), Deadline.due_on < today)))
    if overdue:
        return True
    return bool(session.scalar(select(exists().where(
        Message.case_id == case.id, Message.kind == "objection"))))


def coordinator_close(ctx: Context, staff: StaffIdentity, case_number: str,
                      reason: str) -> CaseState:
    """The coordinating team declares a case closed: only a case in dispute (RULES §6). A case
    that is simply being worked on, within its limits, is not theirs to stop (RULES §7)."""
    text = _reason(reason)

    def apply(session: Session, case: Case, _new: CaseState) -> None:
        if not in_dispute(session, case, ctx.today()):
            raise InvalidInput("no_dispute")
        case.outcome = case.outcome or "closed_by_coordinator"
        deadlines.meet(session, case, None, ctx.today(), keep=deadlines.SURVIVE_CLOSING)
        notices.resolve_for_case(session, ctx, case)

    return run_staff(ctx, staff, case_number, Step(Action.COORDINATOR_CLOSE,
                                                   Permission.CASE_CLOSE_DISPUTE, apply, text))


# --- the reporter ----------------------------------------------------------------------------

REPORTER_ACTIONS = (Action.REPORTER_ACCEPTS, Action.REPORTER_OBJECTS,
                    Action.REQUEST_REEXAMINATION, Action.REPORTER_REQUESTS_APIP)


def check_reporter_response(action: Action, text: str) -> None:
    """InvalidInput unless the response is complete: the mailbox asks before it confirms."""
    if action not in REPORTER_ACTIONS:
        raise InvalidInput("unknown_action")
    if action is not Action.REPORTER_ACCEPTS and len(text.strip()[:20_000]) < 5:
        raise InvalidInput("reason_required")


def latest_answer_id(session: Session, case_id: int) -> int:
    """The answer a reporter's response is about (0 for none): the latest one."""
    return int(session.scalar(select(func.max(Message.id)).where(
        Message.case_id == case_id, Message.kind == "answer")) or 0)


def reporter_act(ctx: Context, access: ReporterAccess, action: Action,
                 text: str = "", answer_id: int | None = None) -> CaseState:
    """Accept, object, ask for re-examination or for APIP, after an answer.

    `answer_id` is the answer the reporter saw when confirming (the mailbox passes it): if the
    officials have answered again since, nothing happens (AnswerChanged), so an old
    confirmation page can never accept an answer the reporter has not read (review 9).
    """
    check_reporter_response(action, text)
    body = text.strip()[:20_000]
    with ctx.db.begin() as session:
        # Locked like every staff act (`with_case`): a reporter's answer and a staff act, or two
        # tabs of the reporter, never both decide on the same answered case.
        case = session.scalars(select(Case).where(Case.id == access.case_id).with_for_update()
                               .execution_options(populate_existing=True)).one_or_none()
        if case is None:
            raise InvalidInput("unknown_case")
        outcome = _decide(session, ctx, case, workflow.Actor.reporter(), action, body or None)
        if not isinstance(outcome, Allowed):
            refused = outcome.reason.value  # the case moved on: that is what the reporter hears
        elif answer_id is not None and answer_id != latest_answer_id(session, case.id):
            refused = AnswerChanged().code
        else:
            _apply_reporter(session, ctx, case, access, action, body, outcome.new_state)
            return outcome.new_state
    with ctx.db.begin() as session:
        audit.record(session, ctx.audit_keys, actor="reporter", role="reporter",
                     action=f"case.transition.{action.value}", case_number=access.case_number,
                     outcome=AuditOutcome.DENIED, details={"why": refused}, reporter=True,
                     now=ctx.now())
    raise AnswerChanged() if refused == AnswerChanged().code else TransitionRefused(refused)


def _apply_reporter(session: Session, ctx: Context, case: Case, access: ReporterAccess,
                    action: Action, body: str, new: CaseState) -> None:
    deadlines.meet(session, case, ["objection"], ctx.today())
    if action is Action.REPORTER_REQUESTS_APIP:
        # Handed over first: the reporter's reasons for going to APIP are sealed under the new
        # key, which the units losing the case never hold (issue 13).
        _hand_over_to_apip(session, ctx, case, reporter_keys(session, case, access),
                           reporter=True)
    if body:
        kind = "message" if action is Action.REPORTER_ACCEPTS else "objection"
        add_message(session, case, reporter_keys(session, case, access), body,
                    author_kind="reporter",
                    author_role=None, author_user_id=None, today=ctx.today(), kind=kind)
    if action in (Action.REPORTER_OBJECTS, Action.REQUEST_REEXAMINATION):
        reopen_answered_tasks(session, ctx, case, "objection")
    _record_change(session, ctx, case, new, action, "reporter", "reporter", None, None,
                   reporter=True)


def reopen_answered_tasks(session: Session, ctx: Context, case: Case, notice: str) -> None:
    """The units that answered explain again, within a new answer limit from today.

    Only the units still holding the case answer again: never one that returned it or lost
    it when the case went to APIP. An aspirasi the verifier answered itself has no task: the
    verifier team answers again, within the verification limit."""
    tasks = list(session.scalars(select(CaseTask).where(
        CaseTask.case_id == case.id, CaseTask.state == "answered", _unit_holds_key(case))))
    if not tasks and not case.at_apip:
        _verification_deadline(session, ctx, case)
        notices.notify_unit(session, ctx, case, case.receiving_unit_id, notice, None,
                            reporter=True)
    for task in tasks:
        task.state, task.answered_on = "in_process", None
        due = deadlines.open_deadline(
            session, case, "answer", deadlines.answer_rule(task.resolution_days),
            ctx.today(), calendar=deadlines.load_calendar(session),
            rules=deadlines.load_rules(session), task_id=task.id)
        notices.notify_unit(session, ctx, case, task.unit_id, notice, due.due_on,
                            reporter=True)


def reporter_supplied_info(session: Session, ctx: Context, case: Case) -> bool:
    """A reporter's message on a needs_info case supplies the data: back to received."""
    if case.state != CaseState.NEEDS_INFO.value:
        return False
    outcome = _decide(session, ctx, case, workflow.Actor.reporter(),
                      Action.REPORTER_SUPPLIES_INFO, None)
    if not isinstance(outcome, Allowed):
        return False
    deadlines.meet(session, case, ["missing_data"], ctx.today())
    _verification_deadline(session, ctx, case)
    holder = _apip_unit(session).id if case.at_apip else case.receiving_unit_id
    notices.notify_unit(session, ctx, case, holder, "info_supplied", None, reporter=True)
    _record_change(session, ctx, case, outcome.new_state, Action.REPORTER_SUPPLIES_INFO,
                   "reporter", "reporter", None, None, reporter=True)
    return True


def reporter_responded(session: Session, ctx: Context, case: Case) -> bool:
    """A reporter's message on an answered case is a response (RULES §5): the objection
    window stops, and the units that answered must explain again."""
    if case.state != CaseState.ANSWERED.value:
        return False
    outcome = _decide(session, ctx, case, workflow.Actor.reporter(),
                      Action.REPORTER_RESPONDS, None)
    if not isinstance(outcome, Allowed):
        return False
    deadlines.meet(session, case, ["objection"], ctx.today())
    reopen_answered_tasks(session, ctx, case, "response")
    _record_change(session, ctx, case, outcome.new_state, Action.REPORTER_RESPONDS,
                   "reporter", "reporter", None, None, reporter=True)
    return True


def system_act(session: Session, ctx: Context, case: Case, action: Action) -> bool:
    """Jobs: auto-archive and auto-close, when the pure rules say the time has come."""
    outcome = _decide(session, ctx, case, workflow.Actor.system(), action, None)
    if not isinstance(outcome, Allowed):
        return False
    deadlines.meet(session, case, None, ctx.today(), keep=deadlines.SURVIVE_CLOSING
                   if action is Action.AUTO_CLOSE else ())
    if action is Action.AUTO_ARCHIVE:
        case.outcome = "archived_no_data"
    notices.resolve_for_case(session, ctx, case)
    _record_change(session, ctx, case, outcome.new_state, action, "system", "system", None, None)
    return True




# --- what the case page shows around the content ---------------------------------------------

ACTION_PERMISSION: dict[Action, dict[Role, Permission]] = {
    Action.VERIFY_AND_DISPOSE: {Role.VERIFIER: Permission.CASE_DISPOSE},
    Action.ADD_DISPOSITION: {Role.VERIFIER: Permission.CASE_DISPOSE},
    Action.ANSWER_ASPIRATION: {Role.VERIFIER: Permission.CASE_DISPOSE},
    Action.REQUEST_INFO: {Role.VERIFIER: Permission.CASE_VERIFY,
                          Role.INVESTIGATOR: Permission.CASE_INVESTIGATE},
    Action.ARCHIVE: {Role.VERIFIER: Permission.CASE_VERIFY,
                     Role.INVESTIGATOR: Permission.CASE_INVESTIGATE},
    Action.FORWARD_EXTERNAL: {Role.VERIFIER: Permission.CASE_VERIFY},
    Action.HAND_TO_APIP: {Role.VERIFIER: Permission.CASE_VERIFY},
    Action.APIP_INTAKE: {Role.INVESTIGATOR: Permission.CASE_INVESTIGATE},
    Action.START_PROCESSING: {Role.LIAISON: Permission.CASE_ANSWER,
                              Role.INVESTIGATOR: Permission.CASE_ANSWER},
    Action.RETURN_DISPOSITION: {Role.LIAISON: Permission.CASE_ANSWER},
    Action.ANSWER: {Role.LIAISON: Permission.CASE_ANSWER,
                    Role.INVESTIGATOR: Permission.CASE_ANSWER},
    Action.COORDINATOR_CLOSE: {Role.LEADERSHIP: Permission.CASE_CLOSE_DISPUTE},
}
# Actions that belong to one unit's task: offered only to a unit with an open task.
TASK_ACTIONS = (Action.START_PROCESSING, Action.RETURN_DISPOSITION, Action.ANSWER)


@dataclass(frozen=True)
class TaskView:
    unit: str
    unit_name: str
    state: str
    resolution_days: int | None
    assigned_on: date
    answered_on: date | None
    suggested_unit: str | None


@dataclass(frozen=True)
class DeadlineView:
    kind: str
    due_on: date
    overdue: bool
    unit: str | None


@dataclass(frozen=True)
class Panel:
    tasks: list[TaskView]
    deadlines: list[DeadlineView]
    actions: list[str]
    disposable_units: list[tuple[str, str]]
    classification: str | None
    outcome: str | None


def panel(ctx: Context, staff: StaffIdentity, case_number: str) -> Panel:
    """Tasks, deadlines and the actions this user may take now: metadata, no decryption."""
    from wbs.access import authorize
    from wbs.cases.service import actor_of, scope_of

    def act(session: Session, case: Case) -> Panel:
        names = {u.id: (u.slug, u.name) for u in session.scalars(select(Unit))}
        tasks = session.scalars(select(CaseTask).where(CaseTask.case_id == case.id)
                                .order_by(CaseTask.id)).all()
        task_unit = {t.id: names[t.unit_id][0] for t in tasks}
        today = ctx.today()
        rows = deadlines.open_deadlines(session, case)
        my_open = any(t.unit_id == staff.unit_id and t.state in OPEN_TASK for t in tasks)
        my_unstarted = any(t.unit_id == staff.unit_id and t.state == "open" for t in tasks)
        outcome_facts = facts(session, case)
        allowed = workflow.allowed_actions(outcome_facts, workflow.Actor.staff(staff.role), today,
                                           deadlines.load_calendar(session),
                                           deadlines.load_rules(session))
        scope = scope_of(session, case, ctx.now())
        actions = []
        for action in allowed:
            permission = ACTION_PERMISSION.get(action, {}).get(staff.role)
            if permission is None or not authorize(actor_of(staff), permission, scope):
                continue
            if action in TASK_ACTIONS and not my_open and not (
                    action is Action.START_PROCESSING and staff.role is Role.INVESTIGATOR):
                continue
            if (action is Action.START_PROCESSING and staff.role is Role.LIAISON
                    and not my_unstarted):
                # Started already: with several units the case stays "in process", where the
                # rules still allow the action to the others, but this unit has nothing to start.
                continue
            if action is Action.COORDINATOR_CLOSE and not in_dispute(session, case, today):
                continue
            actions.append(action.value)
        return Panel(
            tasks=[TaskView(names[t.unit_id][0], names[t.unit_id][1], t.state, t.resolution_days,
                            t.assigned_on, t.answered_on,
                            names[t.suggested_unit_id][1] if t.suggested_unit_id else None)
                   for t in tasks],
            deadlines=[DeadlineView(d.kind, d.due_on, d.due_on < today,
                                    task_unit.get(d.task_id) if d.task_id else None)
                       for d in rows],
            actions=actions,
            disposable_units=[(u.slug, u.name) for u in session.scalars(
                select(Unit).where(Unit.kind.in_(DISPOSABLE_KINDS)).order_by(Unit.name))
                if u.id != case.reported_unit_id],
            classification=case.classification, outcome=case.outcome)

    # Handlers read the panel with content (case:read); leadership sees actions on it too.
    return with_case(ctx, staff, case_number, Permission.CASE_READ if staff.role in (
        Role.VERIFIER, Role.LIAISON, Role.INVESTIGATOR) else Permission.CASE_CLOSE_DISPUTE, act)


@dataclass(frozen=True)
class DisputeRow:
    case_number: str
    kind: str
    state: str
    received_on: date
    next_due: date | None


def disputes(ctx: Context, staff: StaffIdentity, limit: int = 200) -> list[DisputeRow]:
    """For the coordinating team: local cases in process or answered, oldest first. Metadata
    only: leadership never reads content (RULES §1)."""
    from wbs.access import authorize
    from wbs.cases.service import actor_of

    if not authorize(actor_of(staff), Permission.STAFF_SIGNED_IN).allowed or (
            staff.role is not Role.LEADERSHIP):
        return []
    with ctx.db.begin() as session:
        cases = session.scalars(select(Case).where(
            Case.at_apip.is_(False),
            Case.state.in_((CaseState.IN_PROCESS.value, CaseState.ANSWERED.value)))
            .order_by(Case.received_on, Case.id).limit(limit)).all()
        # Only cases the coordinating team may close: overdue, or contested by the reporter.
        return [DisputeRow(c.case_number, c.kind, c.state, c.received_on,
                           deadlines.next_due(session, c)) for c in cases
                if in_dispute(session, c, ctx.today())]
