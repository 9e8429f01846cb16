"""Reports from SP4N-LAPOR! enter the workflow (`wbs lapor import FILE`, the connector's pull).

Each becomes a case through the ordinary intake (sealed, routed to the verifier team, its
verification limit started), with LAPOR!'s tracking number kept as the external reference in
the same transaction. A tracking number already known is skipped, so a file or a pull may be
imported twice. The portal's own code for such a case is never shown to anyone: the reporter
follows the case on LAPOR!, where its status changes flow back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs import audit
from wbs.cases import intake
from wbs.context import Context
from wbs.enums import AuditOutcome, Channel
from wbs.integrations import lapor_format as fmt
from wbs.models import Case, LaporReference
from wbs.profiles import kinds as profile_kinds
from wbs.profiles import store
from wbs.profiles.model import KindLabel


@dataclass
class ImportResult:
    imported: int = 0
    skipped: int = 0
    case_numbers: tuple[str, ...] = ()


def _profile_kind(incoming: fmt.IncomingReport, kinds: Sequence[KindLabel]) -> str:
    """LAPOR!'s kind when the profile in force has it (handled alike), else the national
    name of the workflow kind: a keluhan from LAPOR! stays a keluhan under Jayapura's profile."""
    found = next((k for k in kinds if k.key == incoming.kind_name
                  and k.handled_as is incoming.kind), None)
    return found.key if found else profile_kinds.national_key(incoming.kind)


def _report(incoming: fmt.IncomingReport, kinds: Sequence[KindLabel] = ()) -> intake.ReportInput:
    identity = None
    if incoming.reporter is not None:
        identity = intake.Identity(name=incoming.reporter.name,
                                   address=incoming.reporter.address,
                                   phone=incoming.reporter.phone,
                                   email=incoming.reporter.email,
                                   occupation=incoming.reporter.occupation)
    how = f"Kategori SP4N-LAPOR!: {incoming.category}" if incoming.category else ""
    return intake.ReportInput(kind=incoming.kind, title=incoming.title, what=incoming.content,
                              where=incoming.location, when=incoming.event_date, how=how,
                              identity=identity, profile_kind=_profile_kind(incoming, kinds))


def import_documents(ctx: Context, data: bytes, *, actor: str) -> ImportResult:
    """Import every report of a LAPOR! document; raise `FormatError` before any is stored."""
    try:
        reports = fmt.decode_incoming(data)
    except fmt.FormatError as exc:
        with ctx.db.begin() as session:
            audit.record(session, ctx.audit_keys, actor=actor, role="system",
                         action="lapor.import", outcome=AuditOutcome.FAILED,
                         details={"error": exc.code}, now=ctx.now())
        raise
    result = ImportResult()
    numbers = []
    kinds = store.current(ctx).kinds
    for incoming in reports:
        with ctx.db() as session:
            known = session.scalar(select(LaporReference.case_id).where(
                LaporReference.tracking_number == incoming.tracking_number))
        if known is not None:
            result.skipped += 1
            continue

        def keep_reference(session: Session, case: Case,
                           tracking: str = incoming.tracking_number) -> None:
            session.add(LaporReference(case_id=case.id, tracking_number=tracking,
                                       origin="imported", recorded_on=ctx.today()))
            audit.record(session, ctx.audit_keys, actor=actor, role="system",
                         action="lapor.import", case_number=case.case_number,
                         details={"tracking_number": tracking}, now=ctx.now())

        submission = intake.submit(ctx, _report(incoming, kinds), [], Channel.API,
                                   entered_by=actor,
                                   on_created=keep_reference)
        numbers.append(submission.case_number)
        result.imported += 1
    result.case_numbers = tuple(numbers)
    return result
