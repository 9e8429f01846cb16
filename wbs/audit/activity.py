"""Reading the audit log: filtered search, export batches, the latest published checkpoint, and
per-staff activity (RULES §7).

Everything here is a query over the entries' clear metadata (actor, role, action, case number,
outcome, time). Nothing is decrypted, and nothing here writes: the callers record the reading
itself as an audit entry in their own transaction.

Times in the log are UTC text (`2026-03-02T02:00:00Z`, or a bare date for reporter entries:
the Pemda's local day, appended with the day's batch), so periods are compared as text. A day
bound written as `YYYY-MM-DD` sorts before every timestamp of that day and after every one of
the day before, so it selects whole UTC days of both forms.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, distinct, func, not_, or_, select
from sqlalchemy.orm import Session

from wbs.audit.leaf import Scalar
from wbs.enums import AuditOutcome, Role
from wbs.models import AuditCheckpoint, AuditEntry

# What the activity summary counts as what. Action names are `<object>.<verb>`: reading or
# decrypting case material is `case.*`, `attachment.*` or `identity.*`; a state change is
# `case.transition*` (so it is not also counted as a view); a message is `message.*`. Stating a
# purpose and declaring a conflict of interest open nothing, so they are not counted as access.
ACCESS_PREFIXES = ("case.", "attachment.", "identity.")
NOT_ACCESS = ("case.purpose", "case.conflict_declared")
STATE_CHANGE_PREFIX = "case.transition"
MESSAGE_PREFIX = "message."
# Reporters, the command line and unknown sign-in names are not staff: the summary is about
# the people the kode etik binds.
STAFF_ROLES = tuple(role.value for role in Role)

_COLUMNS = (
    AuditEntry.seq,
    AuditEntry.occurred_at,
    AuditEntry.actor,
    AuditEntry.role,
    AuditEntry.action,
    AuditEntry.case_number,
    AuditEntry.outcome,
    AuditEntry.reason,
    AuditEntry.details,
)


@dataclass(frozen=True)
class AuditFilter:
    """The auditor's filter; every field optional. Days are UTC days, both ends included."""

    since: date | None = None
    until: date | None = None
    actor: str = ""
    case_number: str = ""
    action_prefix: str = ""
    outcome: AuditOutcome | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.since is not None:
            found.append(AuditEntry.occurred_at >= self.since.isoformat())
        if self.until is not None:
            found.append(AuditEntry.occurred_at < (self.until + timedelta(days=1)).isoformat())
        if self.actor:
            found.append(AuditEntry.actor == self.actor)
        if self.case_number:
            found.append(AuditEntry.case_number == self.case_number)
        if self.action_prefix:
            # autoescape: "_" in an action name is a literal, not a LIKE wildcard.
            found.append(AuditEntry.action.startswith(self.action_prefix, autoescape=True))
        if self.outcome is not None:
            found.append(AuditEntry.outcome == self.outcome.value)
        return found

    def summary(self) -> dict[str, Scalar]:
        """The filter as audit details: only the fields that were set."""
        values: dict[str, Scalar] = {
            "from": self.since.isoformat() if self.since else None,
            "to": self.until.isoformat() if self.until else None,
            "actor": self.actor or None,
            "case": self.case_number or None,
            "action": self.action_prefix or None,
            "outcome": self.outcome.value if self.outcome else None,
        }
        return {key: value for key, value in values.items() if value is not None}


@dataclass(frozen=True)
class LogEntry:
    seq: int
    occurred_at: str
    actor: str
    role: str
    action: str
    case_number: str | None
    outcome: str
    reason: str
    details: str  # canonical JSON, as stored

    def detail_items(self) -> list[tuple[str, str]]:
        """The details as (key, value) pairs for display; raw text if a row is not JSON."""
        try:
            parsed = json.loads(self.details)
        except ValueError:
            return [("", self.details)]
        if not isinstance(parsed, dict):
            return [("", self.details)]
        return [(key, json.dumps(value, ensure_ascii=False) if not isinstance(value, str)
                 else value) for key, value in parsed.items()]


# A filtered view counts its matches up to this many and says "more than" beyond: an exact
# count of a million entries on every view is what issue 12 removed from the case list.
COUNT_CAP = 1000


@dataclass(frozen=True)
class LogPage:
    entries: list[LogEntry]
    # The whole log: the number of entries. A filter: the matching entries up to COUNT_CAP + 1,
    # counted on its first page only (None on the others).
    total: int | None
    # Numbered pages (the whole log only: a page is a range of sequence numbers); None for a
    # filter, whose pages are found by key.
    page: int | None
    pages: int | None
    # A filter's pages: the sequence number the next (older) page continues below, and the one
    # the previous (newer) page continues above; None at either end.
    next_after: int | None = None
    prev_before: int | None = None

    @property
    def total_capped(self) -> bool:
        return self.pages is None and self.total is not None and self.total > COUNT_CAP


def search(session: Session, flt: AuditFilter, page: int, per_page: int = 50, *,
           after: int | None = None, before: int | None = None) -> LogPage:
    """One page of matching entries, newest first.

    The whole log is paged by number (a page is a range of sequence numbers). A filtered log is
    paged by key (issue 12): the entries below `after` (the last one shown), or above `before`
    (the first one shown), or the newest; never counted and skipped with OFFSET.
    """
    conditions = flt.conditions()
    if not conditions:
        # The whole log: sequence numbers run 1..n without gaps (a gap is tampering, which
        # the verify page names), so the newest is the count and a page is a range of them,
        # read from the primary key without counting or skipping a million rows (issue 12).
        total = session.scalar(select(func.max(AuditEntry.seq))) or 0
        pages = max(1, -(-total // per_page))
        page = min(max(1, page), pages)
        query = (
            select(*_COLUMNS)
            .where(AuditEntry.seq <= total - (page - 1) * per_page)
            .order_by(AuditEntry.seq.desc())
            .limit(per_page)
        )
        entries = [LogEntry(**row._asdict()) for row in session.execute(query)]
        return LogPage(entries=entries, total=total, page=page, pages=pages)
    if after is not None:
        query = (select(*_COLUMNS).where(*conditions, AuditEntry.seq < after)
                 .order_by(AuditEntry.seq.desc()))
    elif before is not None:
        # The page before: walk up from its first entry, then turn the rows round.
        query = (select(*_COLUMNS).where(*conditions, AuditEntry.seq > before)
                 .order_by(AuditEntry.seq.asc()))
    else:
        query = select(*_COLUMNS).where(*conditions).order_by(AuditEntry.seq.desc())
    # One more than the page shows: whether there is a page beyond it.
    fetched = [LogEntry(**row._asdict()) for row in session.execute(query.limit(per_page + 1))]
    more = len(fetched) > per_page
    fetched = fetched[:per_page][::-1] if before is not None else fetched[:per_page]
    total = None
    if after is None and before is None:
        counted = select(AuditEntry.seq).where(*conditions).limit(COUNT_CAP + 1).subquery()
        total = session.scalar(select(func.count()).select_from(counted)) or 0
    has_next = more if before is None else True
    has_prev = (after is not None) if before is None else more
    return LogPage(entries=fetched, total=total, page=None, pages=None,
                   next_after=fetched[-1].seq if fetched and has_next else None,
                   prev_before=fetched[0].seq if fetched and has_prev else None)


def export_snapshot(session: Session, flt: AuditFilter) -> tuple[int, int]:
    """(last sequence number, number of matching entries up to it) at this moment.

    Appends are serialized by the head lock and commit in sequence order, so once the largest
    sequence number is visible every smaller one is too: entries up to it never change, and an
    export bounded by it yields exactly the counted rows however long it streams.
    """
    through = session.scalar(select(func.max(AuditEntry.seq))) or 0
    count = session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(*flt.conditions(), AuditEntry.seq <= through)
    )
    return through, count or 0


def entries_after(
    session: Session, flt: AuditFilter, after: int, through: int, limit: int
) -> list[LogEntry]:
    """Matching entries with after < seq <= through, oldest first: one batch of an export."""
    query = (
        select(*_COLUMNS)
        .where(*flt.conditions(), AuditEntry.seq > after, AuditEntry.seq <= through)
        .order_by(AuditEntry.seq)
        .limit(limit)
    )
    return [LogEntry(**row._asdict()) for row in session.execute(query)]


def latest_published(session: Session) -> AuditCheckpoint | None:
    """The checkpoint stored last by `publish_checkpoint`, the one the public page shows."""
    query = select(AuditCheckpoint).order_by(AuditCheckpoint.id.desc()).limit(1)
    return session.scalars(query).first()


@dataclass(frozen=True)
class ActorActivity:
    """What one staff member (in one role) did in a period, by kind of act."""

    actor: str
    role: str
    case_access: int  # allowed views, decryptions and downloads of case material
    messages: int
    state_changes: int
    denials: int  # refused attempts of any kind, sign-ins included
    cases_touched: int  # distinct case numbers in allowed entries
    last_activity: str


def _utc_text(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("activity bounds must be timezone-aware")
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def activity_summary(session: Session, since: datetime, until: datetime) -> list[ActorActivity]:
    """Per actor and role, counts of entries in [since, until), computed in one GROUP BY."""
    action, allowed = AuditEntry.action, AuditEntry.outcome == AuditOutcome.ALLOWED.value
    state_change = action.startswith(STATE_CHANGE_PREFIX)
    access = and_(allowed, not_(state_change), action.not_in(NOT_ACCESS),
                  or_(*(action.startswith(prefix) for prefix in ACCESS_PREFIXES)))

    def tally(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    query = (
        select(
            AuditEntry.actor,
            AuditEntry.role,
            tally(access).label("case_access"),
            tally(and_(allowed, action.startswith(MESSAGE_PREFIX))).label("messages"),
            tally(and_(allowed, state_change)).label("state_changes"),
            tally(AuditEntry.outcome == AuditOutcome.DENIED.value).label("denials"),
            # CASE without ELSE is NULL for other rows, and COUNT(DISTINCT ...) skips NULLs.
            func.count(distinct(case((allowed, AuditEntry.case_number)))).label("cases_touched"),
            func.max(AuditEntry.occurred_at).label("last_activity"),
        )
        .where(
            AuditEntry.role.in_(STAFF_ROLES),
            AuditEntry.occurred_at >= _utc_text(since),
            AuditEntry.occurred_at < _utc_text(until),
        )
        .group_by(AuditEntry.actor, AuditEntry.role)
        .order_by(AuditEntry.actor, AuditEntry.role)
    )
    return [ActorActivity(**row._asdict()) for row in session.execute(query)]
