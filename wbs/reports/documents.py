"""Reports as documents (RULES §8): the monthly recap, the semester evaluation for the Bupati,
the six-monthly report of a unit's head and the yearly report to the MenPAN-RB.

A document is drawn up by leadership: its figures are computed once (`wbs.reports.statistics`,
`surveys`) and frozen in a JSON snapshot, each table naming the query it came from, so the
Bupati's copy, the HTML and the PDF never disagree and never change. Once published, the public
downloads it with small counts suppressed column by column (`wbs.reports.suppression`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from wbs import audit
from wbs.accounts import StaffIdentity
from wbs.cases import deadlines
from wbs.cases.sla import DayUnit, DeadlineRule
from wbs.context import Context
from wbs.models import Case, CaseTask, Unit
from wbs.profiles import kinds as profile_kinds
from wbs.profiles import store
from wbs.profiles.shipped import PROFILES
from wbs.reports import statistics, surveys
from wbs.reports.statistics import Figures, Period, Statistics
from wbs.reports.suppression import DEFAULT_THRESHOLD, suppress
from wbs.reports.tables import CaseCategory, ReportDocument

KINDS = {
    "monthly": "Rekapitulasi bulanan pengaduan",
    "semester": "Evaluasi semester pengelolaan pengaduan kepada Bupati",
    "unit_semester": "Laporan enam bulanan Kepala Perangkat Daerah / BUMD",
    "yearly": "Laporan tahunan pengelolaan pengaduan kepada MenPAN-RB",
}
# The kinds whose document carries the corrective actions and recommendations typed for it.
WITH_ACTIONS = frozenset({"semester", "unit_semester", "yearly"})
FIGURE_HEADER = ["Kelompok", "Diterima", "Belum ditanggapi", "Belum selesai",
                 "Rata-rata hari kerja ke tanggapan pertama",
                 "Rata-rata hari kerja ke penyelesaian", "Melewati batas waktu"]
COUNT_COLUMNS = (1, 2, 3, 6)
FOLLOW_UPS = {"staff": "Internal: pegawai", "system": "Internal: sistem",
              "procedure": "Internal: prosedur", "oversight": "Eksternal: pengawasan",
              "facilities": "Eksternal: sarana dan prasarana"}
# The answer limits are named from the rules in force (`limit_names`): a Pemda with 14
# calendar days must not read "14 hari kerja" in its report (issue 10).
LIMIT_NAMES = {"verification": "Verifikasi dan disposisi",
               "decision": "Keputusan", "decision_delivery": "Penyampaian keputusan"}
DIM_TITLES = {"kind": "Menurut jenis", "category": "Menurut kategori (penyebab pengaduan)",
              "unit": "Menurut unit (disposisi)", "channel": "Menurut saluran",
              "profile_kind": "Menurut jenis sebagaimana disebut peraturan daerah"}


class DocumentError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _avg(value: object) -> str:
    return "–" if value is None else str(value)


def _figure_row(label: str, f: Figures) -> list[str]:
    return [label, str(f.received), str(f.not_responded), str(f.not_completed),
            _avg(f.avg_response), _avg(f.avg_completion), str(f.overdue)]


def _table(title: str, source: str, header: list[str], rows: list[list[str]],
           counts: Sequence[int] = (), total: bool = False) -> dict[str, Any]:
    return {"title": title, "source": source, "header": header, "rows": rows,
            "counts": list(counts), "total": total}


def _limit_text(rule: DeadlineRule) -> str:
    unit = "hari kerja" if rule.unit is DayUnit.WORKING_DAYS else "hari"
    return f"{rule.amount} {unit}"


def limit_names(rules: Mapping[str, DeadlineRule]) -> dict[str, str]:
    """Each limit's name in a document, the answer limits stated as the rules in force count
    them ("Jawaban 14 hari" under Jayapura's calendar days), never a fixed number."""
    names = dict(LIMIT_NAMES)
    for key in ("answer_5", "answer_14", "answer_60"):
        if key in rules:
            names[key] = f"Jawaban {_limit_text(rules[key])}"
    return names


def _profile_kind_labels(session: Session) -> dict[Any, str]:
    """The kinds as the regulation names them (issue 10), as on the statistics page: the
    profile in force's, in its order (whistleblowing first), then any other shipped profile's
    (a case filed under the profile used before keeps its kind)."""
    current = {c.key: c.label_id for c in profile_kinds.choices(store.in_force(session).kinds)}
    others = {k.key: k.label_id for p in PROFILES.values() for k in p.kinds if k.key not in current}
    return {**current, **others}


def _labels(session: Session) -> dict[str, dict[Any, str]]:
    return {
        "profile_kind": _profile_kind_labels(session),
        "limit": dict(limit_names(deadlines.load_rules(session))),
        "unit": dict(session.execute(select(Unit.id, Unit.name)).all()),
        "category": dict(session.execute(select(CaseCategory.id, CaseCategory.name_id)).all()),
        "kind": {"whistleblowing": "Whistleblowing", "complaint": "Pengaduan",
                 "information_request": "Permintaan informasi", "aspiration": "Aspirasi"},
        "channel": {},
    }


def _figure_sections(stats: Statistics, labels: dict[str, dict[Any, str]],
                     dims: Sequence[str], kinds_in_force: Sequence[str] = ()
                     ) -> list[dict[str, Any]]:
    p = f"{stats.period.start.isoformat()}..{stats.period.end.isoformat()}"
    unit = f", unit={stats.unit_id}" if stats.unit_id else ""
    sections = [_table("Ringkasan", f"statistics.compute(period={p}{unit}).total",
                       FIGURE_HEADER, [_figure_row("Jumlah", stats.total)], COUNT_COLUMNS)]
    for dim in dims:
        rows = [_figure_row(labels[dim].get(k, str(k) if k is not None else "(belum diisi)"), f)
                for k, f in statistics.rows_of(
                    stats, dim, kinds_in_force if dim == "profile_kind" else ())]
        if dim != "unit":  # a case given to two units counts in both: no total row
            rows.append(_figure_row("Jumlah", stats.total))
        sections.append(_table(DIM_TITLES[dim], f"statistics.compute(period={p}{unit}).by"
                               f"['{dim}']", FIGURE_HEADER, rows, COUNT_COLUMNS,
                               total=dim != "unit"))
    limit_rows = [[labels["limit"].get(k, k), labels["unit"].get(u, "–"), str(f.on_time),
                   str(f.late), str(f.overdue), str(f.running)]
                  for (k, u), f in sorted(stats.limits.items(), key=lambda x: (x[0][0],
                                                                             str(x[0][1])))]
    sections.append(_table("Ketepatan waktu per batas waktu dan unit",
                           f"statistics.compute(period={p}{unit}).limits",
                           ["Batas waktu", "Unit", "Tepat waktu", "Terlambat",
                            "Melewati batas", "Masih berjalan"], limit_rows, (2, 3, 4, 5)))
    return sections


def _follow_ups(session: Session, period: Period, unit_id: int | None) -> dict[str, Any]:
    promised = func.sum(case((CaseTask.improvement_promised.is_(True), 1), else_=0))
    query = (select(CaseTask.followup_kind, func.count(), promised)
             .join(Case, Case.id == CaseTask.case_id)
             .where(CaseTask.answered_on >= period.start, CaseTask.answered_on <= period.end)
             .group_by(CaseTask.followup_kind))
    if unit_id is not None:
        query = query.where(CaseTask.unit_id == unit_id)
    rows, improvements, total = [], 0, 0
    for kind, n, promised in session.execute(query):
        rows.append([FOLLOW_UPS.get(kind, "(tidak diisi)") if kind else "(tidak diisi)",
                     str(n)])
        improvements += int(promised or 0)
        total += int(n)
    rows.append(["Jumlah", str(total)])
    table = _table("Cara penyelesaian: jenis tindak lanjut jawaban dalam periode",
                   "case_tasks.followup_kind, answered_on in period", ["Tindak lanjut", "Jawaban"],
                   rows, (1,), total=True)
    table["note"] = f"Perbaikan layanan yang dijanjikan: {improvements}"
    return table


def _previous(period: Period) -> Period:
    length = (period.end - period.start).days
    end = period.start - timedelta(days=1)
    return Period(end - timedelta(days=length), end)


def build_snapshot(session: Session, kind: str, period: Period, today: date,
                   unit_id: int | None, pemda: str, corrective: str,
                   recommendations: str) -> dict[str, Any]:
    labels = _labels(session)
    # The profile's kinds, each with its row even when nothing was received (statistics page).
    in_force = [c.key for c in profile_kinds.choices(store.in_force(session).kinds)]
    stats = statistics.compute(session, period, today, unit_id)
    sections: list[dict[str, Any]] = []
    if kind == "unit_semester":
        sections += _figure_sections(stats, labels, ("kind", "category", "channel",
                                                     "profile_kind"), in_force)
        sections.append(_follow_ups(session, period, unit_id))
    else:
        sections += _figure_sections(stats, labels, ("kind", "category", "unit", "channel",
                                                     "profile_kind"), in_force)
    if kind in ("semester", "yearly"):
        before = statistics.compute(session, _previous(period), today, unit_id)
        sections.append(_table(
            "Perbandingan dengan periode sebelumnya", "statistics.compute(previous period)",
            ["Ukuran", "Periode sebelumnya", "Periode ini"],
            [["Diterima", str(before.total.received), str(stats.total.received)],
             ["Selesai", str(before.total.completed), str(stats.total.completed)],
             ["Rata-rata hari kerja ke penyelesaian", _avg(before.total.avg_completion),
              _avg(stats.total.avg_completion)]], (1, 2)))
        top = sorted(((f.received, labels["category"].get(k, "(belum diisi)"))
                      for k, f in stats.by["category"].items()), reverse=True)[:5]
        sections.append(_table("Penyebab pengaduan terbanyak (kategori)",
                               "statistics.compute().by['category'], 5 terbanyak",
                               ["Kategori", "Diterima"], [[name, str(n)] for n, name in top],
                               (1,)))
        sections.append(_follow_ups(session, period, unit_id))
    if kind == "yearly":
        sections.append(_table(
            "Capaian rencana aksi (Kepbup Kapuas 715/2021)", "statistics.compute().kapuas",
            ["Status", "Jumlah"], [[k, str(v)] for k, v in (
                ("Selesai", stats.kapuas.get("completed", 0)),
                ("Dalam proses", stats.kapuas.get("in_process", 0)),
                ("Tertunda", stats.kapuas.get("pending", 0)),
                ("Arsip", stats.kapuas.get("archived", 0)))], (1,)))
        sections.append(_table(
            "Target tahunan dan realisasi", "statistics.targets()",
            ["Tahun", "Diterima", "Target diterima", "Selesai (%)", "Target selesai (%)"],
            [[str(t.year), str(t.received), _avg(t.target_received), _avg(t.completed_pct),
              _avg(t.target_completed_pct)] for t in stats.targets], ()))
    if kind in WITH_ACTIONS:
        sections.append({"title": "Tindakan korektif", "text": corrective or "–"})
        sections.append({"title": "Rekomendasi", "text": recommendations or "–"})
    unit_name = labels["unit"].get(unit_id) if unit_id else None
    return {"kind": kind, "title": KINDS[kind], "pemda": pemda, "unit": unit_name,
            "period": [period.start.isoformat(), period.end.isoformat()],
            "as_of": stats.as_of.isoformat(), "sections": sections}


def public_view(snapshot: dict[str, Any], threshold: int = DEFAULT_THRESHOLD) -> dict[str, Any]:
    """The snapshot as the public sees it: each count column suppressed on its own (its rows
    and, where the table has one, its total row), averages hidden for groups too small."""
    out: dict[str, Any] = json.loads(json.dumps(snapshot))
    for section in out["sections"]:
        rows = section.get("rows")
        if not rows:
            continue
        body = rows[:-1] if section.get("total") else rows
        if not body:
            continue
        for col in section.get("counts", []):
            values = [int(r[col]) if r[col].isdigit() else 0 for r in body]
            grid = suppress([[v] for v in values], threshold)
            for i, row in enumerate(body):
                row[col] = grid.shown(i, 0)
            if section.get("total"):
                rows[-1][col] = grid.shown(len(body), 0)
        if section.get("header") == FIGURE_HEADER:
            for row in rows:
                if not row[1].isdigit():
                    row[4] = row[5] = "–"
    return out


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    kind: str
    title: str
    period_start: date
    period_end: date
    published: bool


def create(ctx: Context, staff: StaffIdentity, kind: str, period: Period,
           unit_slug: str = "", corrective: str = "", recommendations: str = "") -> int:
    if kind not in KINDS:
        raise DocumentError("kind_invalid")
    corrective, recommendations = corrective.strip()[:20_000], recommendations.strip()[:20_000]
    if kind not in WITH_ACTIONS and (corrective or recommendations):
        # A monthly recap has no such sections: typed text would be kept out of the document
        # without a word. Refused, so that the author chooses (the form keeps the text).
        raise DocumentError("text_not_carried")
    now = ctx.now()
    with ctx.db.begin() as session:
        unit_id = None
        if kind == "unit_semester" or unit_slug:
            unit_id = session.scalar(select(Unit.id).where(Unit.slug == unit_slug))
            if unit_id is None:
                raise DocumentError("unit_required")
        pemda = ctx.settings.pemda_name
        snapshot = build_snapshot(session, kind, period, ctx.today(), unit_id, pemda,
                                  corrective, recommendations)
        if kind == "yearly":
            snapshot["sections"].insert(-2, _survey_table(session, period))
        title = f"{KINDS[kind]} {period.start.isoformat()} s.d. {period.end.isoformat()}"
        if snapshot["unit"]:
            title += f" — {snapshot['unit']}"
        row = ReportDocument(kind=kind, period_start=period.start, period_end=period.end,
                             unit_id=unit_id, title=title[:300], corrective_actions=corrective,
                             recommendations=recommendations, snapshot=json.dumps(snapshot),
                             created_by=staff.username, created_at=now)
        session.add(row)
        session.flush()
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="report.create", details={"report": row.id, "kind": kind},
                     now=now)
        return row.id


def publish(ctx: Context, staff: StaffIdentity, report_id: int) -> None:
    with ctx.db.begin() as session:
        row = session.get(ReportDocument, report_id)
        if row is None:
            raise DocumentError("unknown_report")
        row.published_at = row.published_at or ctx.now()
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="report.publish", details={"report": report_id}, now=ctx.now())


def _info(row: ReportDocument) -> DocumentInfo:
    return DocumentInfo(row.id, row.kind, row.title, row.period_start, row.period_end,
                        row.published_at is not None)


def all_documents(ctx: Context) -> list[DocumentInfo]:
    with ctx.db() as session:
        return [_info(r) for r in session.scalars(select(ReportDocument)
                                                  .order_by(ReportDocument.id.desc()))]


def published(ctx: Context) -> list[DocumentInfo]:
    with ctx.db() as session:
        return [_info(r) for r in session.scalars(
            select(ReportDocument).where(ReportDocument.published_at.is_not(None))
            .order_by(ReportDocument.period_end.desc()))]


def snapshot_of(ctx: Context, report_id: int, public: bool) -> dict[str, Any] | None:
    """The document's content; for the public only once published, and suppressed."""
    with ctx.db() as session:
        row = session.get(ReportDocument, report_id)
        if row is None or (public and row.published_at is None):
            return None
        data: dict[str, Any] = json.loads(row.snapshot)
    return public_view(data) if public else data


def _survey_table(session: Session, period: Period) -> dict[str, Any]:
    """The IKM of each published round of the period (Perbup Sanggau 33/2019 Ps 13)."""
    from wbs.reports.tables import SkmSurvey

    rows = []
    for survey, unit_name in session.execute(
            select(SkmSurvey, Unit.name).join(Unit).where(
                SkmSurvey.published_at.is_not(None), SkmSurvey.period_start >= period.start,
                SkmSurvey.period_start <= period.end).order_by(Unit.name)):
        result = surveys.result_of(session, survey, unit_name).result
        rows.append([unit_name, survey.service, str(result.responses) if result else "0",
                     str(result.converted) if result else "–",
                     result.grade.letter if result else "–"])
    return _table("Indeks Kepuasan Masyarakat (SKM)", "surveys.result_of(published rounds)",
                  ["Unit", "Layanan", "Responden", "Nilai konversi", "Mutu"], rows, ())
