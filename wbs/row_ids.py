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

from sqlalchemy import event, func, select, union_all
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
_NEW_CASES = "wbs_new_cases"


def _candidate(base: int | None) -> int:
    if base is None:
        return 1 + secrets.randbelow(_FIRST_BELOW - 1)
    return base + 1 + secrets.randbelow(_STEP_AT_MOST)


def mark_new_case(session: Session, case_id: int) -> None:
    """Say that this session created the case: it has no rows yet, so none need looking up."""
    session.info.setdefault(_NEW_CASES, {}).setdefault(case_id, {})


def is_new_case(session: Session, case_id: int) -> bool:
    return case_id in session.info.get(_NEW_CASES, {})


def _taken(session: Session, drawn: dict[type[Any], list[int]]) -> bool:
    """Whether any drawn id is already in use: one query for the whole flush."""
    parts = [select(model.__table__.c.id).where(model.__table__.c.id.in_(sorted(ids)))
             for model, ids in drawn.items()]
    return session.connection().execute(union_all(*parts).limit(1)).first() is not None


def _assign(session: Session, _context: Any, _instances: Any) -> None:
    new = [obj for obj in session.new if isinstance(obj, PER_CASE_MODELS) and obj.id is None]
    if not new:
        return
    # The order in which rows were added is the order within the case (insert_order is what
    # the unit of work itself sorts inserts by).
    new.sort(key=lambda obj: instance_state(obj).insert_order or 0)
    new_cases: dict[int, dict[type[Any], int]] = session.info.get(_NEW_CASES, {})
    by_model: dict[type[Any], list[Any]] = {}
    for obj in new:
        by_model.setdefault(type(obj), []).append(obj)
    with session.no_autoflush:
        highest = {model: _highest(session, model, rows, new_cases)
                   for model, rows in by_model.items()}
        # Redraw everything in the rare event that an id is already in use (or drawn twice).
        for _ in range(_TRIES):
            drawn = {model: _draw(rows, highest[model]) for model, rows in by_model.items()}
            if all(len(set(ids)) == len(ids) and max(ids) <= _LIMIT for ids in drawn.values()) \
                    and not _taken(session, drawn):
                break
        else:
            raise RuntimeError("no free ids for new per-case rows")
    for model, rows in by_model.items():
        for obj, candidate in zip(rows, drawn[model], strict=True):
            obj.id = candidate
            if obj.case_id in new_cases:
                new_cases[obj.case_id][model] = candidate


def _highest(session: Session, model: type[Any], rows: list[Any],
             new_cases: dict[int, dict[type[Any], int]]) -> dict[int | None, int | None]:
    """The highest id each case already has in this table."""
    highest: dict[int | None, int | None] = {}
    for case_id in {obj.case_id for obj in rows}:
        if case_id is None:
            highest[case_id] = None
        elif case_id in new_cases:
            # A case created in this session has only the rows this session gave it.
            highest[case_id] = new_cases[case_id].get(model)
        else:
            highest[case_id] = session.connection().scalar(
                select(func.max(model.__table__.c.id))
                .where(model.__table__.c.case_id == case_id))
    return highest


def _draw(rows: list[Any], highest: dict[int | None, int | None]) -> list[int]:
    last = dict(highest)
    drawn = []
    for obj in rows:
        candidate = _candidate(last[obj.case_id])
        drawn.append(candidate)
        last[obj.case_id] = candidate
    return drawn


def install(factory: sessionmaker[Session]) -> None:
    """Number the per-case rows of every session this factory makes."""
    if not event.contains(factory, "before_flush", _assign):
        event.listen(factory, "before_flush", _assign)
