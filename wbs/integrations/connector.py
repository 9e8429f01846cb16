"""The SP4N-LAPOR! connector: a step of `wbs jobs run` that delivers the outbox and pulls.

Delivery is at least once; the idempotency key (one per item, sent on every attempt) makes it
exactly once at LAPOR!: a retry after a lost answer, or an overlapping run, repeats the key and
the national side keeps one document. Each attempt is one HTTPS request made outside any
database transaction; its result is written afterwards with its audit row, under a lock of the
item row, and only if the item is still where the attempt found it.

Failures back off exponentially (base × 2^(attempts−1), capped) and stop after a maximum number
of attempts (state `failed`, which the coordinator sees; the manual export still takes it). No
jitter: one node runs the jobs at a time (`single_runner`), so there is no herd to spread. The
recorded error is a class (`http_5xx`, `connection`, `timeout`, `tls`, …), never a remote
message, which could echo content back into the database or the logs.
"""

from __future__ import annotations

import http.client
import logging
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from ipaddress import ip_address
from urllib.parse import urlsplit

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session, aliased

from wbs import audit, logs
from wbs.context import Context
from wbs.enums import AuditOutcome
from wbs.integrations import consent, outbox
from wbs.integrations import lapor_format as fmt
from wbs.models import Case, LaporOutboxItem, LaporReference

ACTOR = "lapor-connector"
MAX_ANSWER_BYTES = 1_000_000
_LOOPBACK_NAMES = {"localhost"}


class EndpointRefused(ValueError):
    """The configured endpoint is not HTTPS (plain HTTP is allowed to loopback only)."""


def check_endpoint(url: str) -> str:
    """HTTPS only: the token and the documents must never cross a network in clear. Plain HTTP
    is accepted for a loopback host alone (a local relay, the tests' server)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url.rstrip("/")
    if parts.scheme == "http" and parts.hostname:
        try:
            loopback = ip_address(parts.hostname).is_loopback
        except ValueError:
            loopback = parts.hostname in _LOOPBACK_NAMES
        if loopback:
            return url.rstrip("/")
    raise EndpointRefused("WBS_LAPOR_ENDPOINT must be an https:// URL")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    # urllib would follow a redirect with the Authorization header, to any host and scheme:
    # a redirect is an error here, never a new destination for the token.
    def redirect_request(self, *_args: object, **_kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes


class DeliveryError(Exception):
    def __init__(self, error_class: str) -> None:
        super().__init__(error_class)
        self.error_class = error_class


def _request(ctx: Context, method: str, path: str, body: bytes | None,
             key: str | None) -> Answer:
    base = check_endpoint(ctx.settings.lapor_endpoint)
    headers = {"Accept": "application/json",
               "Authorization": f"Bearer {ctx.settings.lapor_token.get()}"}
    if body is not None:
        headers["Content-Type"] = "application/json; charset=utf-8"
    if key is not None:
        headers["Idempotency-Key"] = key
    # The scheme was checked above (https, or http to loopback only).
    request = urllib.request.Request(base + path, data=body, headers=headers,  # noqa: S310
                                     method=method)
    try:
        with _OPENER.open(request, timeout=ctx.settings.lapor_timeout_seconds) as response:
            body = response.read(MAX_ANSWER_BYTES + 1)
            if len(body) > MAX_ANSWER_BYTES:
                raise DeliveryError("too_large")
            return Answer(response.status, body)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code == 409:  # the key was used: LAPOR! has the document already
            return Answer(409, b"")
        raise DeliveryError(f"http_{exc.code // 100}xx") from None
    except TimeoutError:
        raise DeliveryError("timeout") from None
    except urllib.error.URLError as exc:
        reason = exc.reason
        if isinstance(reason, ssl.SSLError):
            raise DeliveryError("tls") from None
        if isinstance(reason, TimeoutError):
            raise DeliveryError("timeout") from None
        raise DeliveryError("connection") from None
    except ssl.SSLError:
        raise DeliveryError("tls") from None
    except (ConnectionError, http.client.HTTPException, OSError):
        raise DeliveryError("connection") from None


def backoff(ctx: Context, attempts: int) -> timedelta:
    seconds = ctx.settings.lapor_backoff_seconds * (2 ** max(0, attempts - 1))
    return timedelta(seconds=min(seconds, ctx.settings.lapor_backoff_cap_seconds))


@dataclass
class RunReport:
    delivered: int = 0
    retried: int = 0
    failed: int = 0
    imported: int = 0

    def as_counts(self) -> dict[str, int]:
        return {"lapor_delivered": self.delivered, "lapor_retried": self.retried,
                "lapor_failed": self.failed, "lapor_imported": self.imported}


def _due(session: Session, now: datetime) -> list[int]:
    # Items of one case go in the order they were written: LAPOR! must know the case (and give
    # it a tracking number) before a status change of it, and a later status must not be
    # overtaken by an earlier one still held (a reporter's act waits for the batch time).
    earlier = aliased(LaporOutboxItem)
    return list(session.scalars(select(LaporOutboxItem.id).where(
        LaporOutboxItem.state == "pending",
        or_(LaporOutboxItem.next_attempt_at.is_(None), LaporOutboxItem.next_attempt_at <= now),
        ~exists().where(earlier.case_id == LaporOutboxItem.case_id,
                        earlier.state == "pending", earlier.id < LaporOutboxItem.id))
        .order_by(LaporOutboxItem.id)))


def _prepare(ctx: Context, item_id: int) -> tuple[str, str, bytes, int] | None:
    """Open one due item: (path, key, wire body, attempts seen), or None if no longer due."""
    with ctx.db.begin() as session:
        item = session.get(LaporOutboxItem, item_id)
        if item is None or item.state != "pending":
            return None
        case = session.get_one(Case, item.case_id)
        if case.at_apip and item.kind == "case":
            # Handed to APIP after it was queued: the substance is APIP's now (RULES §2).
            item.state, item.last_error, item.next_attempt_at = "failed", "withheld_apip", None
            _audit(session, ctx, case.case_number, item, AuditOutcome.DENIED, "withheld_apip")
            return None
        document = consent.attach(session, ctx, item, case,
                                  outbox.open_document(ctx, item, case.case_number))
        body = outbox.wire(session, item, document)
        path = fmt.STATUS_PATH if item.kind == "status" else fmt.CASE_PATH
        return path, item.idempotency_key, body, item.attempts


def _audit(session: Session, ctx: Context, case_number: str, item: LaporOutboxItem,
           outcome: AuditOutcome, error: str | None = None) -> None:
    audit.record(session, ctx.audit_keys, actor=ACTOR, role="system",
                 action="lapor.deliver", case_number=case_number, outcome=outcome,
                 details={"item": item.id, "kind": item.kind, "attempt": item.attempts,
                          "error": error, "state": item.state}, now=ctx.now())


def _settle(ctx: Context, item_id: int, seen_attempts: int, answer: Answer | None,
            error: str | None, report: RunReport) -> None:
    with ctx.db.begin() as session:
        item = session.scalars(select(LaporOutboxItem).where(LaporOutboxItem.id == item_id)
                               .with_for_update()).one()
        if item.state != "pending" or item.attempts != seen_attempts:
            return  # another run settled it meanwhile
        case = session.get_one(Case, item.case_id)
        item.attempts += 1
        if answer is not None:
            item.state, item.delivered_on = "delivered", ctx.today()
            item.next_attempt_at, item.last_error = None, None
            # Data minimisation (UU 27/2022): LAPOR! has the document; the copy is not kept.
            item.payload_sealed = b""
            tracking = fmt.tracking_from_answer(answer.body) if item.kind == "case" else None
            taken = tracking is not None and session.scalar(select(LaporReference.case_id).where(
                LaporReference.tracking_number == tracking)) is not None
            if tracking and not taken and outbox.tracking_number(session, case.id) is None:
                session.add(LaporReference(case_id=case.id, tracking_number=tracking,
                                           origin="delivered", recorded_on=ctx.today()))
            report.delivered += 1
            _audit(session, ctx, case.case_number, item, AuditOutcome.ALLOWED)
            return
        item.last_error = error
        if item.attempts >= ctx.settings.lapor_max_attempts:
            item.state, item.next_attempt_at = "failed", None
            report.failed += 1
        else:
            item.next_attempt_at = ctx.now().astimezone(UTC) + backoff(ctx, item.attempts)
            report.retried += 1
        _audit(session, ctx, case.case_number, item, AuditOutcome.FAILED, error)


def deliver_due(ctx: Context, report: RunReport | None = None) -> RunReport:
    """Attempt every due item at most once per run."""
    report = report or RunReport()
    if not ctx.settings.lapor_endpoint:
        return report
    check_endpoint(ctx.settings.lapor_endpoint)
    attempted: set[int] = set()
    while True:
        # Again after each round: a case document delivered now frees its status items.
        with ctx.db() as session:
            due = [i for i in _due(session, ctx.now()) if i not in attempted]
        if not due:
            return report
        for item_id in due:
            attempted.add(item_id)
            try:
                _attempt(ctx, item_id, report)
            except EndpointRefused:
                raise
            except Exception as exc:  # noqa: BLE001 - one broken item must not stop the others
                # By type and location only: an exception message can carry data.
                report.failed += 1
                logs.event("lapor.item_failed", logging.ERROR, item=item_id,
                           **logs.safe_exception_fields(exc))


def _attempt(ctx: Context, item_id: int, report: RunReport) -> None:
    prepared = _prepare(ctx, item_id)
    if prepared is None:
        return
    path, key, body, seen = prepared
    try:
        answer: Answer | None = _request(ctx, "POST", path, body, key)
        error = None
    except DeliveryError as exc:
        answer, error = None, exc.error_class
    _settle(ctx, item_id, seen, answer, error, report)


def pull(ctx: Context, report: RunReport | None = None) -> RunReport:
    """Fetch the reports LAPOR! routes to this Pemda and import the new ones."""
    from wbs.integrations import lapor_import

    report = report or RunReport()
    if not ctx.settings.lapor_endpoint:
        return report
    try:
        answer = _request(ctx, "GET", fmt.INCOMING_PATH, None, None)
    except DeliveryError as exc:
        with ctx.db.begin() as session:
            audit.record(session, ctx.audit_keys, actor=ACTOR, role="system",
                         action="lapor.pull", outcome=AuditOutcome.FAILED,
                         details={"error": exc.error_class}, now=ctx.now())
        return report
    try:
        report.imported += lapor_import.import_documents(ctx, answer.body, actor=ACTOR).imported
    except fmt.FormatError:
        report.failed += 1  # audited by the import, which stored nothing
    return report


def run(ctx: Context) -> dict[str, int]:
    """The `wbs jobs run` step: deliver what is due, then pull. A misconfigured endpoint is
    logged and skipped, so that the other jobs (and the audit checkpoint) still run."""
    report = RunReport()
    try:
        deliver_due(ctx, report)
        pull(ctx, report)
    except EndpointRefused:
        logs.event("lapor_endpoint_refused", logging.ERROR)
        report.failed += 1
    return report.as_counts()

