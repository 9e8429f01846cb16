"""Row ids that do not tell the order of events across cases.

Messages, attachments, timeline events, notices, deadlines and key wraps are written by staff
acts (timed in the audit log) and by reporter acts (dated only). With one shared counter, a
reporter's message numbered 57 between a staff message 56 sent at 13:30 on another case and 58
sent at 13:45 would be placed in that quarter of an hour, by anyone who sees the ids: staff in
download links, a database thief in every row.

So these tables number their rows per case: the first row of a case gets a random id, and each
later row of the same case a random step above the case's highest id. Within a case the order
is kept (a conversation is shown in order, and `ORDER BY id` keeps working); across cases ids
are unrelated to time. What remains is the order inside one case, which the case itself shows
to whoever may read it.
"""

from __future__ import annotations

import secrets
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.orm.attributes import instance_state

from wbs.models import Attachment, CaseEvent, CaseKeyWrap, Deadline, Message, Notice

PER_CASE_MODELS: tuple[type[Any], ...] = (Message, Attachment, CaseEvent, Notice, Deadline,
                                          CaseKeyWrap)
# Ids stay within a signed 32-bit INTEGER (PostgreSQL's `integer`). A case starts below 2**30,
# and steps of at most 2**10 leave room for a million rows of one kind on one case.
_FIRST_BELOW = 2**30
_STEP_AT_MOST = 2**10
_LIMIT = 2**31 - 1
_TRIES = 64


def _candidate(base: int | None) -> int:
    if base is None:
        return 1 + secrets.randbelow(_FIRST_BELOW - 1)
    return base + 1 + secrets.randbelow(_STEP_AT_MOST)


def _free(session: Session, model: type[Any], candidate: int, taken: set[int]) -> bool:
    if candidate > _LIMIT or candidate in taken:
        return False
    table = model.__table__
    found = session.connection().execute(select(table.c.id).where(table.c.id == candidate))
    return found.first() is None


def _assign(session: Session, _context: Any, _instances: Any) -> None:
    new = [obj for obj in session.new if isinstance(obj, PER_CASE_MODELS) and obj.id is None]
    if not new:
        return
    # The order in which rows were added is the order within the case (insert_order is what
    # the unit of work itself sorts inserts by).
    new.sort(key=lambda obj: instance_state(obj).insert_order or 0)
    highest: dict[tuple[type[Any], int | None], int | None] = {}
    taken: set[int] = set()
    with session.no_autoflush:
        for obj in new:
            model, case_id = type(obj), obj.case_id
            key = (model, case_id)
            if key not in highest:
                highest[key] = None if case_id is None else session.connection().scalar(
                    select(func.max(model.__table__.c.id))
                    .where(model.__table__.c.case_id == case_id))
            for _ in range(_TRIES):
                candidate = _candidate(highest[key])
                if _free(session, model, candidate, taken):
                    break
            else:
                raise RuntimeError(f"no free id for a new {model.__tablename__} row")
            obj.id = candidate
            taken.add(candidate)
            highest[key] = candidate


def install(factory: sessionmaker[Session]) -> None:
    """Number the per-case rows of every session this factory makes."""
    if not event.contains(factory, "before_flush", _assign):
        event.listen(factory, "before_flush", _assign)
