"""Report documents name the answer limits from the rules in force (issue 10 wrong rule 2):
`documents.py` said "Jawaban 14/60 hari kerja" whatever was configured. The test changes the
rules, draws a semester report up and reads its PDF and HTML text back.

The history (tests/functional/stats_history.py) has answer_14 and answer_5 limits that started
in March 2026, so the semester's limits table has rows for both.
"""

from __future__ import annotations

import io
from typing import Any

from pypdf import PdfReader

from tests.conftest import Clock, csrf_from, sign_in
from tests.functional.stats_history import build_history
from wbs.cases import calendar_admin
from wbs.context import Context


def _pdf_text(pdf: bytes) -> str:
    assert pdf.startswith(b"%PDF")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    return "".join(text.split())


def _draw_up(client: Any, token: str) -> tuple[str, str]:
    made = client.post("/staf/laporan", data={
        "csrf_token": token, "kind": "semester", "dari": "2026-01-01", "sampai": "2026-06-30",
        "unit": "", "corrective": "", "recommendations": ""})
    assert made.status_code == 303
    # The newest document is listed first.
    report_id = int(client.get("/staf/laporan").text.split('href="/staf/laporan/')[1]
                    .split('"')[0])
    pdf = _pdf_text(client.get(f"/staf/laporan/{report_id}.pdf").content)
    html = "".join(client.get(f"/staf/laporan/{report_id}").text.split())
    return pdf, html


def test_answer_limit_labels_follow_the_rules_in_force(
        client: Any, ctx: Context, demo: dict[str, Any], clock: Clock) -> None:
    build_history(ctx)
    clock.advance(days=135)  # 15 July 2026
    sign_in(client, demo["pimpinan"], "pimpinan", clock)
    token = csrf_from(client, "/staf/laporan")
    pdf, html = _draw_up(client, token)
    assert "Jawaban14harikerja" in pdf and "Jawaban5harikerja" in pdf
    # Jayapura-like rules: 20 calendar days, 7 working days.
    calendar_admin.set_rule(ctx, "admin", "administrator", "answer_14", 20, "calendar_days")
    calendar_admin.set_rule(ctx, "admin", "administrator", "answer_5", 7, "working_days")
    pdf, html = _draw_up(client, token)
    for text in (pdf, html):
        assert "Jawaban20hari" in text and "Jawaban7harikerja" in text
        assert "Jawaban20harikerja" not in text
        assert "Jawaban14harikerja" not in text and "Jawaban5harikerja" not in text
