"""Case states and transitions as pure functions (DESIGN §5, RULES §2, §6, §10).

`transition` decides; it never changes anything. The service layer applies an `Allowed`
result, writes the audit row and the deadline rows in the same transaction, and records
a `Refused` one as a denied attempt. Who may see a case at all (assignment, unit,
conflicts of interest) is decided by `wbs.access`; this module only knows which role may
move a case from which state.

Two routes exist. A case *at APIP* (every whistleblowing report, and a complaint handed
over) is worked by investigators only; any other case is worked by the verifier and the
liaisons of the units it was dispositioned to. The kode etik (RULES §7) forbids stopping
a case: so the terminal states closed, archived and forwarded are reached only through a
recorded outcome, nothing leaves them, and there is no delete.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from types import MappingProxyType
from typing import Literal

from wbs.cases.sla import DEFAULT_RULES, DeadlineRule, WorkingCalendar, as_day, due_date
from wbs.enums import CaseState, ReportKind, Role, UnitKind


class Action(StrEnum):
    """What someone asks to do with a case (LAPOR! verifier buttons in brackets)."""

    # [Verifikasi] classify (hasil penelaahan) and disposition to one or more units.
    VERIFY_AND_DISPOSE = "verify_and_dispose"
    # [Tunda] ask the reporter for missing data.
    REQUEST_INFO = "request_info"
    REPORTER_SUPPLIES_INFO = "reporter_supplies_info"
    # [Arsipkan] with a reason.
    ARCHIVE = "archive"
    # [Bukan Wewenang] to another agency or the national SP4N-LAPOR! admin.
    FORWARD_EXTERNAL = "forward_external"
    # Abuse of authority or a legal violation found on verification (RULES §2).
    HAND_TO_APIP = "hand_to_apip"
    # APIP accepts a whistleblowing report or a complaint handed to it.
    APIP_INTAKE = "apip_intake"
    START_PROCESSING = "start_processing"
    # A wrongly routed complaint goes back to the verifier with a suggested unit.
    RETURN_DISPOSITION = "return_disposition"
    # The verifier adds a unit to a case already dispositioned (after a unit returned its
    # share with a suggested unit, or when a second unit turns out to be concerned).
    ADD_DISPOSITION = "add_disposition"
    ANSWER = "answer"
    REPORTER_ACCEPTS = "reporter_accepts"
    # Keberatan, within the objection window.
    REPORTER_OBJECTS = "reporter_objects"
    # Jobs: missing data not supplied in time; no objection in time.
    AUTO_ARCHIVE = "auto_archive"
    AUTO_CLOSE = "auto_close"
    # The coordinating team ends a dispute that drags on (RULES §6).
    COORDINATOR_CLOSE = "coordinator_close"
    REQUEST_REEXAMINATION = "request_reexamination"
    REPORTER_REQUESTS_APIP = "reporter_requests_apip"
    # Any message of the reporter after an answer, for as long as the case is not closed: a
    # response, which stops the automatic closing and goes back to the handler to explain
    # again with data (Perbup Belitung Timur 79/2022 Ps 24(2), 27(1)).
    REPORTER_RESPONDS = "reporter_responds"
    # The verifier answers an aspirasi itself (RULES §1), again after a response to it.
    ANSWER_ASPIRATION = "answer_aspiration"


class RefusalCode(StrEnum):
    """Stable machine codes of a refusal: the UI and the audit log key on them."""

    CASE_TERMINAL = "case_terminal"
    STATE_NOT_ALLOWED = "state_not_allowed"
    ROLE_NOT_ALLOWED = "role_not_allowed"
    REASON_REQUIRED = "reason_required"
    WHISTLEBLOWING_NOT_FOR_VERIFIER = "whistleblowing_not_for_verifier"
    HANDLED_BY_APIP = "handled_by_apip"
    NOT_HANDLED_BY_APIP = "not_handled_by_apip"
    ALREADY_AT_APIP = "already_at_apip"
    NO_PENDING_UNIT = "no_pending_unit"
    DEADLINE_NOT_REACHED = "deadline_not_reached"
    OBJECTION_WINDOW_CLOSED = "objection_window_closed"
    NOT_AN_ASPIRATION = "not_an_aspiration"


ActorKind = Literal["staff", "reporter", "system"]


@dataclass(frozen=True)
class Actor:
    """Who asks. A reporter acts only through their code and the system only through
    jobs, so neither has a role or a unit.
    """

    kind: ActorKind
    role: Role | None = None
    unit_kind: UnitKind | None = None

    def __post_init__(self) -> None:
        if self.kind == "staff":
            if self.role is None:
                raise ValueError("a staff actor needs a role")
        elif self.role is not None or self.unit_kind is not None:
            raise ValueError(f"a {self.kind} actor has no role and no unit")

    @classmethod
    def staff(cls, role: Role, unit_kind: UnitKind | None = None) -> Actor:
        return cls("staff", role, unit_kind)

    @classmethod
    def reporter(cls) -> Actor:
        return cls("reporter")

    @classmethod
    def system(cls) -> Actor:
        return cls("system")


@dataclass(frozen=True)
class CaseFacts:
    """The plain facts a transition depends on.

    `pending_units` counts the dispositioned units that have not answered yet, the one
    answering (or returning) now included; a case at APIP counts APIP as its one unit.
    `needs_info_since` is the day the reporter was asked for data; `answered_on` the day
    the (last) answer was given.

    `missing_data_due` and `objection_due` are the last days of the reporter's windows
    as they were fixed when the window opened (the stored deadline rows). When given they
    win over the rules: an administrator who shortens a rule must not shorten a window
    that is already running. Without them the window is computed from the start day.
    """

    state: CaseState
    kind: ReportKind
    at_apip: bool
    pending_units: int = 0
    needs_info_since: date | None = None
    answered_on: date | None = None
    missing_data_due: date | None = None
    objection_due: date | None = None

    def __post_init__(self) -> None:
        # RULES §2: a whistleblowing report goes straight to APIP. Facts saying
        # otherwise are a bug upstream, and deciding on them could put the report in
        # front of a verifier.
        if self.kind is ReportKind.WHISTLEBLOWING and not self.at_apip:
            raise ValueError("a whistleblowing case is always at APIP")
        if self.pending_units < 0:
            raise ValueError("pending_units must not be negative")
        if self.state is CaseState.NEEDS_INFO and self.needs_info_since is None:
            raise ValueError("a needs_info case needs needs_info_since")
        if self.state is CaseState.ANSWERED and self.answered_on is None:
            raise ValueError("an answered case needs answered_on")


@dataclass(frozen=True)
class Allowed:
    new_state: CaseState


@dataclass(frozen=True)
class Refused:
    reason: RefusalCode
    message: str


Outcome = Allowed | Refused

# Who may act: a staff role, or the reporter, or the system.
_Who = Role | Literal["reporter", "system"]

_S = CaseState
TERMINAL_STATES: frozenset[CaseState] = frozenset(
    {_S.CLOSED, _S.ARCHIVED, _S.FORWARDED}
)

# For each action, who may take it and from which states. Everything not listed is
# refused: a transition opens only by being written here.
_PERMITTED: Mapping[Action, Mapping[_Who, frozenset[CaseState]]] = MappingProxyType(
    {
        Action.VERIFY_AND_DISPOSE: {Role.VERIFIER: frozenset({_S.RECEIVED})},
        Action.REQUEST_INFO: {
            Role.VERIFIER: frozenset({_S.RECEIVED}),
            # APIP may also ask before accepting a complaint handed to it (verified).
            Role.INVESTIGATOR: frozenset({_S.RECEIVED, _S.VERIFIED}),
        },
        Action.REPORTER_SUPPLIES_INFO: {"reporter": frozenset({_S.NEEDS_INFO})},
        # Archiving is for reports that cannot be processed, so only before processing
        # starts: a case in process ends with an answer, never by being dropped
        # (kode etik).
        Action.ARCHIVE: {
            Role.VERIFIER: frozenset({_S.RECEIVED, _S.NEEDS_INFO}),
            Role.INVESTIGATOR: frozenset({_S.RECEIVED, _S.NEEDS_INFO, _S.VERIFIED}),
        },
        Action.FORWARD_EXTERNAL: {Role.VERIFIER: frozenset({_S.RECEIVED})},
        Action.HAND_TO_APIP: {Role.VERIFIER: frozenset({_S.RECEIVED})},
        Action.APIP_INTAKE: {Role.INVESTIGATOR: frozenset({_S.RECEIVED, _S.VERIFIED})},
        Action.START_PROCESSING: {
            # With several units, the second unit starts its own task while the case is
            # already in process because of the first.
            Role.LIAISON: frozenset({_S.VERIFIED, _S.IN_PROCESS}),
            Role.INVESTIGATOR: frozenset({_S.VERIFIED}),
        },
        # A unit may find it is the wrong one after it started, too. With several units
        # the case stays where it is while the others work; see `transition`.
        Action.RETURN_DISPOSITION: {
            Role.LIAISON: frozenset({_S.VERIFIED, _S.IN_PROCESS})
        },
        Action.ADD_DISPOSITION: {Role.VERIFIER: frozenset({_S.VERIFIED, _S.IN_PROCESS})},
        Action.ANSWER: {
            Role.LIAISON: frozenset({_S.IN_PROCESS}),
            Role.INVESTIGATOR: frozenset({_S.IN_PROCESS}),
        },
        Action.REPORTER_ACCEPTS: {"reporter": frozenset({_S.ANSWERED})},
        Action.REPORTER_OBJECTS: {"reporter": frozenset({_S.ANSWERED})},
        Action.AUTO_ARCHIVE: {"system": frozenset({_S.NEEDS_INFO})},
        Action.AUTO_CLOSE: {"system": frozenset({_S.ANSWERED})},
        # A dispute exists only once the unit is working on it or has answered.
        Action.COORDINATOR_CLOSE: {
            Role.LEADERSHIP: frozenset({_S.IN_PROCESS, _S.ANSWERED})
        },
        Action.REQUEST_REEXAMINATION: {"reporter": frozenset({_S.ANSWERED})},
        Action.REPORTER_REQUESTS_APIP: {"reporter": frozenset({_S.ANSWERED})},
        Action.REPORTER_RESPONDS: {"reporter": frozenset({_S.ANSWERED})},
        Action.ANSWER_ASPIRATION: {Role.VERIFIER: frozenset({_S.RECEIVED, _S.IN_PROCESS})},
    }
)

# The state an allowed action leads to; ANSWER and RETURN_DISPOSITION depend on the
# units still working, see `transition`.
_TARGET: Mapping[Action, CaseState] = MappingProxyType(
    {
        Action.VERIFY_AND_DISPOSE: _S.VERIFIED,
        Action.REQUEST_INFO: _S.NEEDS_INFO,
        Action.REPORTER_SUPPLIES_INFO: _S.RECEIVED,
        Action.ARCHIVE: _S.ARCHIVED,
        Action.FORWARD_EXTERNAL: _S.FORWARDED,
        # Handing over is itself a disposition (to APIP): the case waits there as
        # verified until APIP's intake.
        Action.HAND_TO_APIP: _S.VERIFIED,
        Action.APIP_INTAKE: _S.IN_PROCESS,
        Action.START_PROCESSING: _S.IN_PROCESS,
        # Back to the verifier, who dispositions again (when no other unit works on it).
        Action.RETURN_DISPOSITION: _S.RECEIVED,
        # Adding a unit changes no state: the case stays where the other units have it.
        Action.ADD_DISPOSITION: _S.VERIFIED,
        Action.ANSWER: _S.ANSWERED,
        Action.REPORTER_ACCEPTS: _S.CLOSED,
        Action.REPORTER_OBJECTS: _S.IN_PROCESS,
        Action.AUTO_ARCHIVE: _S.ARCHIVED,
        Action.AUTO_CLOSE: _S.CLOSED,
        Action.COORDINATOR_CLOSE: _S.CLOSED,
        Action.REQUEST_REEXAMINATION: _S.IN_PROCESS,
        Action.REPORTER_REQUESTS_APIP: _S.VERIFIED,
        Action.REPORTER_RESPONDS: _S.IN_PROCESS,
        Action.ANSWER_ASPIRATION: _S.ANSWERED,
    }
)

# These end or redirect a case; the reason is what makes the outcome a recorded one.
REASON_REQUIRED: frozenset[Action] = frozenset(
    {
        Action.ARCHIVE,
        Action.FORWARD_EXTERNAL,
        Action.COORDINATOR_CLOSE,
        Action.RETURN_DISPOSITION,
        Action.HAND_TO_APIP,
    }
)

# The reporter's answers to an answer that are only open during the objection window;
# accepting stays open for as long as the case is answered.
_WITHIN_OBJECTION_WINDOW: frozenset[Action] = frozenset(
    {
        Action.REPORTER_OBJECTS,
        Action.REQUEST_REEXAMINATION,
        Action.REPORTER_REQUESTS_APIP,
    }
)

# Staff roles that work only on cases outside APIP. The leadership is among them on
# purpose: a coordinating team of the Bupati's officials must not be able to close an
# APIP investigation, which may concern those very officials.
_LOCAL_ROLES: frozenset[Role] = frozenset(
    {Role.VERIFIER, Role.LIAISON, Role.LEADERSHIP}
)

_PLACEHOLDER_REASON = "(reason)"


def _who(actor: Actor) -> _Who:
    if actor.kind != "staff":
        return actor.kind
    # Actor.__post_init__ prevents this; the check narrows the type for mypy.
    if actor.role is None:
        raise ValueError("a staff actor needs a role")
    return actor.role


def _known(day: date | None, name: str) -> date:
    # CaseFacts.__post_init__ guarantees the date for the states that need it; this
    # narrows the type without an assert, which `python -O` would strip.
    if day is None:
        raise ValueError(f"{name} is missing")
    return day


def transition(
    case: CaseFacts,
    actor: Actor,
    action: Action,
    today: date,
    calendar: WorkingCalendar,
    rules: Mapping[str, DeadlineRule] = DEFAULT_RULES,
    reason: str | None = None,
) -> Allowed | Refused:
    """Decide whether `actor` may take `action` on `case` on `today`.

    `today` is the day in the Pemda's own time zone, like every date given to
    `wbs.cases.sla`.
    """
    day = as_day(today)
    who = _who(actor)

    # Checked first and for every action: a verifier never acts on a whistleblowing
    # report, whatever its state (RULES §1, §2).
    if who is Role.VERIFIER and case.kind is ReportKind.WHISTLEBLOWING:
        return Refused(
            RefusalCode.WHISTLEBLOWING_NOT_FOR_VERIFIER,
            "Whistleblowing reports are handled by APIP only; "
            "no verifier may act on them.",
        )
    if case.state in TERMINAL_STATES:
        return Refused(
            RefusalCode.CASE_TERMINAL,
            f"The case is {case.state.value}; "
            "a finished case is never reopened or removed.",
        )
    permitted = _PERMITTED[action]
    if who not in permitted:
        return Refused(RefusalCode.ROLE_NOT_ALLOWED, f"{who} may not {action.value}.")
    if isinstance(who, Role):
        if who in _LOCAL_ROLES and case.at_apip:
            return Refused(
                RefusalCode.HANDLED_BY_APIP,
                "The case is with APIP; only investigators act on it.",
            )
        if who is Role.INVESTIGATOR and not case.at_apip:
            return Refused(
                RefusalCode.NOT_HANDLED_BY_APIP, "The case has not been handed to APIP."
            )
    if case.state not in permitted[who]:
        return Refused(
            RefusalCode.STATE_NOT_ALLOWED,
            f"{action.value} is not possible while the case is {case.state.value}.",
        )
    if action in REASON_REQUIRED and (reason is None or not reason.strip()):
        return Refused(
            RefusalCode.REASON_REQUIRED, f"{action.value} needs a recorded reason."
        )

    if action is Action.AUTO_ARCHIVE:
        limit = case.missing_data_due or due_date(
            calendar,
            rules["missing_data"],
            _known(case.needs_info_since, "needs_info_since"),
        )
        # The limit's last day still belongs to the reporter.
        if day <= limit:
            return Refused(
                RefusalCode.DEADLINE_NOT_REACHED,
                f"The reporter may supply data until {limit.isoformat()}.",
            )
    if action is Action.AUTO_CLOSE or action in _WITHIN_OBJECTION_WINDOW:
        window_end = case.objection_due or due_date(
            calendar, rules["objection"], _known(case.answered_on, "answered_on")
        )
        if action is Action.AUTO_CLOSE and day <= window_end:
            return Refused(
                RefusalCode.DEADLINE_NOT_REACHED,
                f"The reporter may object until {window_end.isoformat()}.",
            )
        if action in _WITHIN_OBJECTION_WINDOW and day > window_end:
            return Refused(
                RefusalCode.OBJECTION_WINDOW_CLOSED,
                f"The objection window ended on {window_end.isoformat()}.",
            )
    if action is Action.ANSWER_ASPIRATION and (
            case.kind is not ReportKind.ASPIRATION or case.pending_units > 0):
        # Only an aspirasi, and only while no unit works on it: the verifier answers it
        # itself instead of a disposition, not beside one.
        return Refused(RefusalCode.NOT_AN_ASPIRATION,
                       "Only an aspiration no unit works on is answered by the verifier.")
    if action is Action.REPORTER_REQUESTS_APIP and case.at_apip:
        return Refused(RefusalCode.ALREADY_AT_APIP, "The case is already with APIP.")

    if action is Action.ADD_DISPOSITION:
        return Allowed(case.state)
    if action in (Action.ANSWER, Action.RETURN_DISPOSITION):
        if case.pending_units == 0:
            return Refused(
                RefusalCode.NO_PENDING_UNIT, "No unit has an open task on the case."
            )
        # With a multi-unit disposition the case is answered only by the last unit's
        # answer; until then it stays in process while the service records this
        # unit's part.
        if action is Action.ANSWER and case.pending_units > 1:
            return Allowed(_S.IN_PROCESS)
        # Likewise a unit that returns its share does not take the case away from the
        # units still working on it: back to the verifier (where it could be archived or
        # forwarded) only when it was the last open task. Stopping the others' work would
        # break the kode etik (RULES §7).
        if action is Action.RETURN_DISPOSITION and case.pending_units > 1:
            return Allowed(case.state)
    return Allowed(_TARGET[action])


def allowed_actions(
    case: CaseFacts,
    actor: Actor,
    today: date,
    calendar: WorkingCalendar,
    rules: Mapping[str, DeadlineRule] = DEFAULT_RULES,
) -> list[Action]:
    """The actions `actor` could take now, in declaration order, for the UI to offer.

    A placeholder reason stands in for the one the user will type: the form then
    requires it.
    """
    return [
        action
        for action in Action
        if isinstance(
            transition(
                case, actor, action, today, calendar, rules, _PLACEHOLDER_REASON
            ),
            Allowed,
        )
    ]


# RULES §10: the labels of the national SP4N-LAPOR! dashboards, plus the two states
# (answered, forwarded) that the dashboards do not show.
STATE_LABELS_ID: Mapping[CaseState, str] = MappingProxyType(
    {
        _S.RECEIVED: "Belum Terverifikasi",
        _S.NEEDS_INFO: "Tertunda",
        _S.VERIFIED: "Terdisposisi Belum Ditindaklanjuti",
        _S.IN_PROCESS: "Terdisposisi Sedang Diproses",
        _S.ANSWERED: "Terdisposisi Sudah Dijawab",
        _S.CLOSED: "Terdisposisi Selesai",
        _S.ARCHIVED: "Arsip",
        _S.FORWARDED: "Diteruskan",
    }
)

STATE_LABELS_EN: Mapping[CaseState, str] = MappingProxyType(
    {
        _S.RECEIVED: "Not yet verified",
        _S.NEEDS_INFO: "Pending: more data needed",
        _S.VERIFIED: "Dispositioned, not yet acted on",
        _S.IN_PROCESS: "Dispositioned, in process",
        _S.ANSWERED: "Dispositioned, answered",
        _S.CLOSED: "Dispositioned, completed",
        _S.ARCHIVED: "Archived",
        _S.FORWARDED: "Forwarded",
    }
)
