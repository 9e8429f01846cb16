"""Auditor and leadership pages over the audit log, and the public transparency page (DESIGN §4).

Staff pages: the filtered log, its CSV export and its verification (auditor), and the per-staff
activity summary that gives leadership the evidence for kode etik sanctions (RULES §7, leadership).
Each of them is itself an audited act. Public: the latest signed checkpoint and consistency
proofs, which hold only sizes and hashes, never the content of an entry.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from wbs import audit
from wbs.access import Permission, role_has
from wbs.accounts import StaffIdentity
from wbs.audit import activity, merkle
from wbs.audit import checkpoint as cp
from wbs.audit.leaf import ACTION, Scalar
from wbs.context import Context
from wbs.enums import AuditOutcome
from wbs.models import AuditCheckpoint, AuditEntry
from wbs.ops import recovery
from wbs.web import text_input
from wbs.web.guard import public, requires
from wbs.web.render import render
from wbs.web.staff import ROLE_LABELS

PER_PAGE = 50
EXPORT_BATCH = 500
ACTIVITY_DEFAULT_DAYS = 30
PAGE_WINDOW = 3  # page links shown on each side of the current page
_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_PAGE = re.compile(r"[0-9]{1,7}")  # str.isdigit() would pass "²", which int() refuses
_KEY = re.compile(r"[0-9]{1,18}")  # a sequence number
# A spreadsheet runs a cell that starts with one of these as a formula (CSV injection); a
# leading quote makes it text. Tab and carriage return are on OWASP's list as well.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# The days a filter may name: wide enough for any log, narrow enough for date arithmetic.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2999, 12, 31)
CSV_HEADER = ("seq", "occurred_at", "actor", "role", "action", "case_number", "outcome",
              "reason", "details")


def _ctx(request: Request) -> Context:
    ctx: Context = request.app.state.ctx
    return ctx


def _staff(request: Request) -> StaffIdentity:
    staff: StaffIdentity = request.state.staff
    return staff


# --- parsing ------------------------------------------------------------------------------

def _day(raw: str, name: str, errors: dict[str, str]) -> date | None:
    if not raw:
        return None
    if _DAY.fullmatch(raw):
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            day = None
        # A day far from any log (year 1 or 9999) overflowed the period's arithmetic: a 500.
        if day is not None and FIRST_DAY <= day <= LAST_DAY:
            return day
    errors[name] = "invalid_date"
    return None


def _period(params: Mapping[str, str], errors: dict[str, str]) -> tuple[date | None, date | None]:
    since = _day(params.get("from", "").strip(), "from", errors)
    until = _day(params.get("to", "").strip(), "to", errors)
    if since and until and since > until:
        errors["to"] = "before_start"
    return since, until


def _parse_filter(params: Mapping[str, str]) -> tuple[dict[str, str], activity.AuditFilter,
                                                      dict[str, str]]:
    """The form values to show again, the filter, and errors by field (empty when valid)."""
    values = {name: params.get(name, "").strip()
              for name in ("from", "to", "actor", "case", "action", "outcome")}
    values["action"] = values["action"].lower()
    errors: dict[str, str] = {}
    since, until = _period(values, errors)
    for name, limit in (("actor", 64), ("case", 32), ("action", 64)):
        if len(values[name]) > limit:
            errors[name] = "too_long"
    if values["action"] and "action" not in errors and not ACTION.fullmatch(values["action"]):
        errors["action"] = "invalid_action"
    outcome = None
    if values["outcome"]:
        try:
            outcome = AuditOutcome(values["outcome"])
        except ValueError:
            errors["outcome"] = "invalid_outcome"
    flt = activity.AuditFilter(since=since, until=until, actor=values["actor"],
                               case_number=values["case"], action_prefix=values["action"],
                               outcome=outcome)
    return values, flt, errors


def _page_number(raw: str | None) -> int:
    # A mangled page number is not worth an error message: show the first page.
    return int(raw) if raw and _PAGE.fullmatch(raw) else 1


def _url(path: str, values: Mapping[str, str], **extra: int) -> str:
    query = urlencode({**{k: v for k, v in values.items() if v}, **extra})
    return f"{path}?{query}" if query else path


@dataclass(frozen=True)
class PageLink:
    number: int
    url: str
    current: bool


def _page_links(values: Mapping[str, str], page: int, pages: int) -> list[PageLink]:
    numbers = sorted({1, pages, *range(max(1, page - PAGE_WINDOW),
                                       min(pages, page + PAGE_WINDOW) + 1)})
    return [PageLink(n, _url("/staf/audit", values, page=n), n == page) for n in numbers]


# --- the log ------------------------------------------------------------------------------

def _view_log(ctx: Context, staff: StaffIdentity, flt: activity.AuditFilter,
              page: int, after: int | None = None,
              before: int | None = None) -> activity.LogPage:
    with ctx.db.begin() as session:
        found = activity.search(session, flt, page, PER_PAGE, after=after, before=before)
        # A case filter goes into the entry's case column: the case's own trail then shows
        # who looked at it.
        where: dict[str, Scalar] = {"page": found.page, "total": found.total,
                                    "after": after if found.pages is None else None,
                                    "before": before if found.pages is None else None}
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="audit.view", case_number=flt.case_number or None,
                     details={**flt.summary(),
                              **{k: v for k, v in where.items() if v is not None}},
                     now=ctx.now())
    return found


def _key(raw: str | None) -> int | None:
    """A filtered page's key from a link (a sequence number), None for anything else."""
    return int(raw) if raw and _KEY.fullmatch(raw) else None


def _keys(request: Request) -> tuple[int | None, int | None]:
    after = _key(request.query_params.get("setelah"))
    return after, None if after is not None else _key(request.query_params.get("sebelum"))


def _log_page(request: Request, values: dict[str, str], errors: dict[str, str],
              found: activity.LogPage | None) -> Response:
    context: dict[str, Any] = {
        "form": values, "errors": errors, "found": found, "outcomes": list(AuditOutcome),
        "role_labels": ROLE_LABELS, "count_cap": activity.COUNT_CAP,
        "can_export": role_has(_staff(request).role, Permission.AUDIT_EXPORT),
        "export_url": _url("/staf/audit/ekspor.csv", values),
    }
    if found is not None and found.page is not None and found.pages is not None:
        context["page_links"] = _page_links(values, found.page, found.pages)
        page = found.page
        context["prev_url"] = _url("/staf/audit", values, page=page - 1) if page > 1 else None
        context["next_url"] = (_url("/staf/audit", values, page=page + 1)
                               if page < found.pages else None)
    elif found is not None:
        # A filter's pages are found by key: the links carry a sequence number, nothing else.
        context["page_links"] = []
        context["prev_url"] = (_url("/staf/audit", values, sebelum=found.prev_before)
                               if found.prev_before is not None else None)
        context["next_url"] = (_url("/staf/audit", values, setelah=found.next_after)
                               if found.next_after is not None else None)
    return render(request, "staff/audit.html", context, status_code=400 if errors else 200)


@requires(Permission.AUDIT_READ)
async def log_page(request: Request) -> Response:
    values, flt, errors = _parse_filter(request.query_params)
    if errors:
        return _log_page(request, values, errors, None)
    found = await run_in_threadpool(_view_log, _ctx(request), _staff(request), flt,
                                    _page_number(request.query_params.get("page")),
                                    *_keys(request))
    return _log_page(request, values, errors, found)


@requires(Permission.AUDIT_READ)
async def log_api(request: Request) -> Response:
    """The auditor's API: the same filters and paging as the page, as JSON (staff session).
    A filter's pages are found by key: `next_after` and `prev_before` are the values to pass
    as `setelah` and `sebelum`; `total` is counted on its first page only, up to `count_cap` + 1.
    """
    _values, flt, errors = _parse_filter(request.query_params)
    if errors:
        return JSONResponse({"error": "invalid", "fields": errors}, status_code=400)
    found = await run_in_threadpool(_view_log, _ctx(request), _staff(request), flt,
                                    _page_number(request.query_params.get("page")),
                                    *_keys(request))
    return JSONResponse({
        "total": found.total, "page": found.page, "pages": found.pages,
        "next_after": found.next_after, "prev_before": found.prev_before,
        "count_cap": activity.COUNT_CAP,
        "entries": [{"seq": e.seq, "occurred_at": e.occurred_at, "actor": e.actor,
                     "role": e.role, "action": e.action, "case_number": e.case_number,
                     "outcome": e.outcome, "reason": e.reason,
                     "details": dict(e.detail_items())} for e in found.entries]})


# --- CSV export ---------------------------------------------------------------------------

def _cell(value: object) -> str:
    text = text_input.neutralise("" if value is None else str(value))
    return "'" + text if text.startswith(_FORMULA_START) else text


def _record_export(ctx: Context, staff: StaffIdentity, flt: activity.AuditFilter) -> int:
    """Count what the export will hold and record it; return the last sequence number in it.

    The entry is committed before the first byte leaves: an export that a dropped connection
    cuts short is still on record, and one that cannot be recorded never starts. The rows are
    then read in short batches bounded by that sequence number (see `export_snapshot`), so a
    slow download holds no lock and still yields exactly the counted rows.
    """
    with ctx.db.begin() as session:
        through, count = activity.export_snapshot(session, flt)
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="audit.export", case_number=flt.case_number or None,
                     details={**flt.summary(), "rows": count, "through": through},
                     now=ctx.now())
    return through


def _csv_chunks(ctx: Context, flt: activity.AuditFilter, through: int) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    # A byte order mark makes spreadsheet programs read the file as UTF-8.
    buffer.write("\ufeff")
    writer.writerow(CSV_HEADER)
    after = 0
    while True:
        with ctx.db() as session:
            batch = activity.entries_after(session, flt, after, through, EXPORT_BATCH)
        for e in batch:
            writer.writerow([_cell(v) for v in (e.seq, e.occurred_at, e.actor, e.role, e.action,
                                                e.case_number, e.outcome, e.reason, e.details)])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        if len(batch) < EXPORT_BATCH:
            return
        after = batch[-1].seq


@requires(Permission.AUDIT_EXPORT)
async def export_csv(request: Request) -> Response:
    values, flt, errors = _parse_filter(request.query_params)
    if errors:
        return _log_page(request, values, errors, None)
    ctx = _ctx(request)
    through = await run_in_threadpool(_record_export, ctx, _staff(request), flt)
    name = f"audit-log-{ctx.now().astimezone(UTC):%Y%m%d-%H%M%S}.csv"
    return StreamingResponse(_csv_chunks(ctx, flt, through), media_type="text/csv",
                             headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- verification -------------------------------------------------------------------------

@dataclass(frozen=True)
class Published:
    tree_size: int
    root_hex: str
    note: str
    created_at: datetime


def _published(row: AuditCheckpoint | None) -> Published | None:
    if row is None:
        return None
    return Published(row.tree_size, row.root_hash.hex(), row.signed_note, row.created_at)


@dataclass(frozen=True)
class VerifyReport:
    ok: bool
    tree_size: int
    root_hex: str
    first_bad_seq: int | None
    problem: str
    checkpoint: Published | None
    checkpoint_matches: bool | None  # None: the checkpoint is beyond the verified entries
    recorded: bool


def _checkpoint_matches(session: Session, row: AuditCheckpoint,
                        result: audit.VerifyResult) -> bool | None:
    # verify_log has recomputed the root stored with every entry of the good prefix, so the
    # stored root at the checkpoint's size is a verified value to compare against.
    if row.tree_size > result.tree_size:
        return None
    if row.tree_size == 0:
        return row.root_hash == merkle.EMPTY_ROOT
    entry = session.get(AuditEntry, row.tree_size)
    return entry is not None and entry.root_hash == row.root_hash


def _verify(ctx: Context, staff: StaffIdentity) -> VerifyReport:
    keys = ctx.audit_keys
    with ctx.db.begin() as session:
        result = audit.verify_log(session, keys.public, keys.origin, keys.key_name)
        row = activity.latest_published(session)
        matches = None if row is None else _checkpoint_matches(session, row, result)
        try:
            audit.record(session, keys, actor=staff.username, role=staff.role,
                         action="audit.verify",
                         details={"ok": result.ok, "size": result.tree_size,
                                  "first_bad": result.first_bad_seq},
                         now=ctx.now())
            recorded = True
        except audit.AuditIntegrityError:
            # The log's head no longer matches its last entry, so nothing can be appended. The
            # auditor must still see that; refusing to show it would hide the very damage.
            recorded = False
    return VerifyReport(result.ok, result.tree_size, result.root.hex(), result.first_bad_seq,
                        result.problem, _published(row), matches, recorded)


@requires(Permission.AUDIT_READ)
async def verify_page(request: Request) -> Response:
    report = await run_in_threadpool(_verify, _ctx(request), _staff(request))
    return render(request, "staff/audit_verify.html", {"report": report})


# --- staff activity -----------------------------------------------------------------------

def _view_activity(ctx: Context, staff: StaffIdentity, since: date,
                   until: date) -> list[activity.ActorActivity]:
    start = datetime.combine(since, time(), tzinfo=UTC)
    end = datetime.combine(until + timedelta(days=1), time(), tzinfo=UTC)
    with ctx.db.begin() as session:
        rows = activity.activity_summary(session, start, end)
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="staff.activity_view",
                     details={"from": since.isoformat(), "to": until.isoformat(),
                              "actors": len(rows)},
                     now=ctx.now())
    return rows


@requires(Permission.STAFF_ACTIVITY_READ)
async def activity_page(request: Request) -> Response:
    ctx = _ctx(request)
    errors: dict[str, str] = {}
    since, until = _period(request.query_params, errors)
    until = until or ctx.now().astimezone(UTC).date()
    since = since or until - timedelta(days=ACTIVITY_DEFAULT_DAYS - 1)
    if since > until and "to" not in errors:
        errors["from"] = "after_end"
    form = {"from": since.isoformat(), "to": until.isoformat()}
    if errors:
        form = {name: request.query_params.get(name, "")[:20] for name in ("from", "to")}
        return render(request, "staff/activity.html", {"form": form, "errors": errors,
                                                       "rows": None}, status_code=400)
    rows = await run_in_threadpool(_view_activity, ctx, _staff(request), since, until)
    return render(request, "staff/activity.html", {"form": form, "errors": errors,
                                                   "rows": rows, "role_labels": ROLE_LABELS})


# --- public transparency ------------------------------------------------------------------

def _read_published(ctx: Context) -> Published | None:
    with ctx.db() as session:
        return _published(activity.latest_published(session))


@public
async def transparency_page(request: Request) -> Response:
    ctx = _ctx(request)
    keys = ctx.audit_keys
    published = await run_in_threadpool(_read_published, ctx)
    uses = await run_in_threadpool(recovery.uses, ctx)
    return render(request, "public/transparency.html", {
        "checkpoint": published, "origin": keys.origin, "base_url": ctx.settings.base_url,
        "verifier_key": cp.verifier_key_string(keys.key_name, keys.public),
        "recovery_uses": uses})


@public
async def checkpoint_api(request: Request) -> Response:
    published = await run_in_threadpool(_read_published, _ctx(request))
    if published is None:
        raise HTTPException(404, "no checkpoint has been published yet")
    return PlainTextResponse(published.note)


def routes() -> list[BaseRoute]:
    return [
        Route("/staf/audit", log_page, methods=["GET"]),
        Route("/staf/audit/ekspor.csv", export_csv, methods=["GET"]),
        Route("/api/v1/audit/entries", log_api, methods=["GET"]),
        Route("/staf/audit/verifikasi", verify_page, methods=["GET"]),
        Route("/staf/aktivitas", activity_page, methods=["GET"]),
        Route("/transparansi", transparency_page, methods=["GET"]),
        Route("/api/v1/transparansi/checkpoint", checkpoint_api, methods=["GET"]),
    ]
