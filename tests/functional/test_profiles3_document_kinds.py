"""Issue 10: the periodic report documents count by the kind as the regulation names it, like
the statistics page (its by-profile-kind table), with the profile's labels. The test files
Jayapura cases of each kind, draws the March recap up and reads the PDF and HTML text back.

Hand-counted, received in March 2026: whistleblowing 1; apresiasi 1; aspirasi 0; kritik 1;
permintaan informasi 1; keluhan 2; pengaduan 1 + 1 case from before profile kinds (NULL,
counted under its kind's national name) = 2; in all 8.
"""

from __future__ import annotations

import io
import json
from typing import Any

from pypdf import PdfReader
from sqlalchemy import select, update

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional.test_profiles3_keluhan_answer import _file
from wbs.context import Context
from wbs.models import Case
from wbs.profiles import store
from wbs.reports.tables import ReportDocument

TITLE = "Menurut jenis sebagaimana disebut peraturan daerah"
EXPECTED = [["Whistleblowing", "1"], ["Apresiasi", "1"], ["Aspirasi", "0"], ["Kritik", "1"],
            ["Permintaan informasi", "1"], ["Keluhan", "2"], ["Pengaduan", "2"],
            ["Jumlah", "8"]]


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _draw_up(client: Any, token: str, kind: str, unit: str = "") -> int:
    made = client.post("/staf/laporan", data={
        "csrf_token": token, "kind": kind, "dari": "2026-03-01", "sampai": "2026-03-31",
        "unit": unit, "corrective": "", "recommendations": ""})
    assert made.status_code == 303
    return int(client.get("/staf/laporan").text.split('href="/staf/laporan/')[1].split('"')[0])


def test_the_recap_counts_by_the_kinds_of_the_profile(
        client: Any, ctx: Context, demo: dict[str, Any], clock: Clock) -> None:
    store.choose(ctx, "jayapura", "admin", "administrator")
    for kind in ("keluhan", "keluhan", "apresiasi", "kritik", "complaint",
                 "information_request", "whistleblowing"):
        _file(ctx, kind)
    old = _file(ctx, "complaint")
    with ctx.db.begin() as s:
        s.execute(update(Case).where(Case.case_number == old).values(profile_kind=None))
    clock.advance(days=30)  # 1 April 2026
    sign_in(client, demo["pimpinan"], "pimpinan", clock)
    token = csrf_from(client, "/staf/laporan")
    report_id = _draw_up(client, token, "monthly")
    with ctx.db() as s:
        snapshot = json.loads(s.scalars(select(ReportDocument.snapshot).where(
            ReportDocument.id == report_id)).one())
    section = next(x for x in snapshot["sections"] if x.get("title") == TITLE)
    assert [row[:2] for row in section["rows"]] == EXPECTED
    # Placed as on the statistics page: after the other figure tables.
    titles = [x["title"] for x in snapshot["sections"]]
    assert titles.index(TITLE) == titles.index("Menurut saluran") + 1
    pdf = client.get(f"/staf/laporan/{report_id}.pdf").content
    assert pdf.startswith(b"%PDF")
    pdf_text = _squeeze("".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))
    html_text = _squeeze(client.get(f"/staf/laporan/{report_id}").text)
    for text in (pdf_text, html_text):
        after = text.split(_squeeze(TITLE), 1)[1]
        at = [after.index(_squeeze(label)) for label, _n in EXPECTED]
        assert at == sorted(at), at  # in the profile's order
    # In the PDF, each label is followed by its count of received reports.
    after = pdf_text.split(_squeeze(TITLE), 1)[1]
    for label, received in EXPECTED:
        assert _squeeze(label) + received in after, label
    # The unit's six-monthly report has the table too (its unit has no case yet: zero rows).
    unit_report = _draw_up(client, token, "unit_semester", "dinas-kesehatan")
    with ctx.db() as s:
        unit_snapshot = json.loads(s.scalars(select(ReportDocument.snapshot).where(
            ReportDocument.id == unit_report)).one())
    rows = next(x for x in unit_snapshot["sections"] if x.get("title") == TITLE)["rows"]
    assert [row[:2] for row in rows] == [[label, "0"] for label, _n in EXPECTED]
