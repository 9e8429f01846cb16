"""Issue 11: files (data, photos) attached to a staff answer.

The handling unit (or APIP) sends them with the answer from the existing form; they are cleaned
like the reporter's files (sandbox, one-file cap, upload budget), sealed under the case key next
to the answer message, downloadable by the reporter in the mailbox and listed on the staff case
page; nobody outside the case can open them; their names never reach the logs or the audit
table; the statistics count them from the attachment rows, no key opened.
"""

from __future__ import annotations

import io
import json
import logging
import re
from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from PIL import Image, PngImagePlugin
from pypdf import PdfReader, PdfWriter
from sqlalchemy import select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from
from tests.functional.test_roundtrip import open_mailbox, staff_open
from tests.functional.test_staff_experience import _signed_in, _team
from tests.functional.workflow_helpers import (
    ANSWER,
    Driver,
    dispose,
    file_report,
    reporter_access,
    state_of,
    unit_id,
)
from wbs.cases import reporter, routing
from wbs.context import Context
from wbs.enums import CaseState, ReportKind
from wbs.files import CleanFile
from wbs.models import Attachment, AuditEntry, Message, PendingAuditEntry
from wbs.reports import statistics
from wbs.reports.statistics import Period

CANARY = "KANARI7731"
PNG_NAME = f"foto-{CANARY}.png"
PDF_NAME = f"data-{CANARY}.pdf"
LINK = re.compile(r'href="/kotak-pesan/lampiran/([0-9]+)"')


def png_with_text() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", f"Pejabat {CANARY}")
    out = io.BytesIO()
    Image.new("RGB", (30, 20), (200, 10, 10)).save(out, format="PNG", pnginfo=info)
    data = out.getvalue()
    assert CANARY.encode() in data
    return data


def pdf_with_author() -> bytes:
    writer = PdfWriter()
    for _ in range(2):
        writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Author": f"Pejabat {CANARY}"})
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    assert CANARY.encode() in data
    return data


def _in_process(ctx: Context, demo: Any, clock: Clock) -> Any:
    return Driver(ctx, _team(ctx, demo, clock)).build("local", CaseState.IN_PROCESS)


def _post_answer(client: TestClient, number: str, text: str,
                 files: list[tuple[str, bytes, str]]) -> Any:
    staff_open(client, number)
    token = csrf_from(client, f"/staf/kasus/{number}")
    return client.post(f"/staf/kasus/{number}/aksi/answer",
                       data={"csrf_token": token, "text": text, "followup": "procedure"},
                       files=[("files", f) for f in files])


def _audit_text(ctx: Context) -> str:
    with ctx.db() as s:
        rows = [(e.action, e.details, e.reason, e.case_number)
                for e in s.scalars(select(AuditEntry))]
        rows += [(p.action, p.details, p.reason, p.case_number)
                 for p in s.scalars(select(PendingAuditEntry))]
    return json.dumps(rows, default=str)


def test_liaison_answers_with_a_png_and_a_pdf_and_the_reporter_downloads_them_clean(
        app: Any, demo: Any, clock: Clock, ctx: Context,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    filed = _in_process(ctx, demo, clock)
    liaison = _signed_in(app, demo, clock, "liaison")
    page = staff_open(liaison, filed.number).text
    # The existing answer form takes the files, without JavaScript.
    form = page.split('action="/staf/kasus/' + filed.number + '/aksi/answer"', 1)[1]
    form = form.split("</form>", 1)[0]
    assert 'enctype="multipart/form-data"' in page and 'name="files" type="file" multiple' in form

    done = _post_answer(liaison, filed.number, ANSWER, [
        (PNG_NAME, png_with_text(), "image/png"), (PDF_NAME, pdf_with_author(),
                                                   "application/pdf")])
    assert done.status_code == 303, done.text[:500]
    assert CANARY not in done.headers["location"]
    assert state_of(ctx, filed.number) == "answered"
    with ctx.db() as s:
        answer = s.scalars(select(Message).where(Message.kind == "answer")).one()
        rows = s.scalars(select(Attachment).order_by(Attachment.id)).all()
    assert [(r.uploader_kind, r.message_id) for r in rows] == [("staff", answer.id)] * 2
    # Sealed like every attachment: neither the name nor the content is in the rows in clear.
    for row in rows:
        assert CANARY.encode() not in row.meta_sealed

    # The staff case page lists them, marked as sent with the answer.
    staff_page = liaison.get(f"/staf/kasus/{filed.number}").text
    for row in rows:
        assert f'/staf/kasus/{filed.number}/lampiran/{row.id}"' in staff_page
    assert "dikirim bersama jawaban" in staff_page

    # The reporter sees them next to the answer and downloads the cleaned bytes.
    mailbox = TestClient(app, base_url="https://testserver", follow_redirects=False)
    open_mailbox(mailbox, filed.code)
    text = mailbox.get("/kotak-pesan").text
    article = next(a for a in text.split("<article")[1:] if ANSWER in a).split("</article>")[0]
    assert [int(i) for i in LINK.findall(article)] == [r.id for r in rows]
    assert PNG_NAME in article and PDF_NAME in article
    png = mailbox.get(f"/kotak-pesan/lampiran/{rows[0].id}")
    pdf = mailbox.get(f"/kotak-pesan/lampiran/{rows[1].id}")
    assert png.status_code == pdf.status_code == 200
    assert png.headers["content-type"] == "application/octet-stream"
    assert CANARY.encode() not in png.content and CANARY.encode() not in pdf.content
    with Image.open(io.BytesIO(png.content)) as img:
        assert img.size == (30, 20) and img.convert("RGB").getpixel((3, 3)) == (200, 10, 10)
        assert not img.info.get("Author")
    reader = PdfReader(io.BytesIO(pdf.content))
    assert len(reader.pages) == 2 and not (reader.metadata or {}).get("/Author")
    # The same bytes as the staff download: one sealed copy.
    assert liaison.get(f"/staf/kasus/{filed.number}/lampiran/{rows[0].id}").content \
        == png.content

    # No file name in the logs (messages or structured fields) or the audit table; the
    # answer's audit row counts the files.
    assert caplog.records and CANARY not in caplog.text
    assert CANARY not in repr([vars(r) for r in caplog.records])
    assert CANARY not in _audit_text(ctx)
    with ctx.db() as s:
        entry = s.scalars(select(AuditEntry).where(
            AuditEntry.action == "case.transition.answer")).one()
    assert json.loads(entry.details)["files"] == 2


def test_another_unit_cannot_download_the_answer_files(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    filed = _in_process(ctx, demo, clock)
    liaison = _signed_in(app, demo, clock, "liaison")
    assert _post_answer(liaison, filed.number, ANSWER,
                        [(PNG_NAME, png_with_text(), "image/png")]).status_code == 303
    with ctx.db() as s:
        attachment_id = s.scalars(select(Attachment.id)).one()
    other = TestClient(app, base_url="https://testserver", follow_redirects=False)
    from tests.conftest import sign_in as http_sign_in

    clock.advance(seconds=31)
    assert http_sign_in(other, demo["penghubung.pendidikan"], "penghubung.pendidikan",
                        clock).status_code == 303
    response = other.get(f"/staf/kasus/{filed.number}/lampiran/{attachment_id}")
    assert response.status_code == 404  # the portal's answer for a case hidden from the user
    assert b"\x89PNG" not in response.content
    with ctx.db() as s:
        denied = s.scalars(select(AuditEntry).where(
            AuditEntry.actor == "penghubung.pendidikan", AuditEntry.outcome == "denied")).all()
    assert denied and any("case:attachment:read" in d.details for d in denied)
    assert all(d.case_number == filed.number for d in denied)


@pytest.mark.parametrize("lang", ["id", "en"])
def test_a_refused_file_keeps_the_answer_and_records_nothing(
        app: Any, demo: Any, clock: Clock, ctx: Context, lang: str,
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    filed = _in_process(ctx, demo, clock)
    liaison = _signed_in(app, demo, clock, "liaison", lang)
    typed = ANSWER + " Terlampir foto perbaikan <b>jalan</b>."
    broken = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64  # a PNG by its header, not one inside
    response = _post_answer(liaison, filed.number, typed,
                            [(PNG_NAME, broken, "image/png"),
                             ("baik.pdf", pdf_with_author(), "application/pdf")])
    assert response.status_code == 400
    body = response.text
    # What was typed and chosen comes back, escaped, in the answer form, which is open.
    assert "Terlampir foto perbaikan &lt;b&gt;jalan&lt;/b&gt;." in body
    assert '<option value="procedure" selected>' in body
    assert 'id="act-answer-rejected"' in body and PNG_NAME in body
    if lang == "id":
        assert "Sebuah berkas ditolak, jadi belum ada yang dikirim." in body
        assert "gambar rusak" in body
    else:
        assert "A file was refused, so nothing was sent." in body
        assert "the image is damaged" in body

    # Too big: over the one-file cap (made small here), the same page, nothing lost.
    ctx.settings = replace(ctx.settings, max_file_bytes=50_000)
    big = _post_answer(liaison, filed.number, typed,
                       [("rekaman.pdf", b"%PDF-1.4\n" + b"0" * 60_000, "application/pdf")])
    assert big.status_code == 400
    assert "Terlampir foto perbaikan &lt;b&gt;jalan&lt;/b&gt;." in big.text
    assert ("lebih besar dari batas" if lang == "id" else "larger than the limit") in big.text

    # Nothing was recorded: no answer, no file, no transition, the case where it was.
    assert state_of(ctx, filed.number) == "in_process"
    with ctx.db() as s:
        assert s.scalars(select(Attachment)).all() == []
        assert s.scalars(select(Message).where(Message.kind == "answer")).all() == []
        assert s.scalars(select(AuditEntry).where(
            AuditEntry.action == "case.transition.answer")).all() == []
    assert CANARY not in repr([vars(r) for r in caplog.records])
    assert CANARY not in _audit_text(ctx)

    # Within the cap, the same form goes through.
    ok = _post_answer(liaison, filed.number, typed, [("baik.pdf", pdf_with_author(),
                                                      "application/pdf")])
    assert ok.status_code == 303 and state_of(ctx, filed.number) == "answered"


def test_answer_without_files_still_posts_as_a_plain_form(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    filed = _in_process(ctx, demo, clock)
    liaison = _signed_in(app, demo, clock, "liaison")
    staff_open(liaison, filed.number)
    token = csrf_from(liaison, f"/staf/kasus/{filed.number}")
    # A browser posts the multipart form with an empty file part when nothing is chosen.
    r = liaison.post(f"/staf/kasus/{filed.number}/aksi/answer",
                     data={"csrf_token": token, "text": ANSWER},
                     files=[("files", ("", b"", "application/octet-stream"))])
    assert r.status_code == 303 and state_of(ctx, filed.number) == "answered"
    with ctx.db() as s:
        assert s.scalars(select(Attachment)).all() == []


def test_a_forged_multipart_answer_is_refused_before_any_file(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    filed = _in_process(ctx, demo, clock)
    liaison = _signed_in(app, demo, clock, "liaison")
    staff_open(liaison, filed.number)
    r = liaison.post(f"/staf/kasus/{filed.number}/aksi/answer",
                     data={"csrf_token": "forged", "text": ANSWER},
                     files=[("files", (PNG_NAME, png_with_text(), "image/png"))])
    assert r.status_code == 403 and state_of(ctx, filed.number) == "in_process"


# --- statistics --------------------------------------------------------------------------------

def _clean(n: int) -> CleanFile:
    return CleanFile(bytes([n]) * (100 + n), "application/octet-stream", stripped=False,
                     note="unknown_type")


def test_statistics_count_answers_with_files_and_their_files(
        app: Any, demo: Any, clock: Clock, ctx: Context) -> None:
    """Hand count. Period 3–31 March 2026, read on 2 April (as of 31 March):
      D received 2 Mar (before the period), answered 4 Mar with 3 files: not counted
      A received 3 Mar, answered 4 Mar with 2 files (+1 reporter file): 1 answer, 2 files
      B received 3 Mar, answered 4 Mar with no file: not counted
      E received 3 Mar (whistleblowing), APIP answered 4 Mar with 1 file: 1 answer, 1 file
      C received 3 Mar, answered 2 Apr (after the as-of day) with 1 file: not counted
    → 2 answers with files, 3 files; dinas-kesehatan alone: A → 1, 2.
    Through 30 April (as of 2 April): C too → 3 answers, 4 files."""
    team = _team(ctx, demo, clock)
    v, liaison, inv = team["verifier"], team["liaison"], team["investigator"]
    assert clock().date() == date(2026, 3, 2)
    d = file_report(ctx)
    clock.advance(days=1)
    a, b, c = file_report(ctx), file_report(ctx), file_report(ctx)
    e = file_report(ctx, ReportKind.WHISTLEBLOWING)
    clock.advance(days=1)
    for f in (d, a, b, c):
        dispose(ctx, v, f.number)
        routing.start_processing(ctx, liaison, f.number)
    routing.answer(ctx, liaison, d.number, ANSWER, files=[("d.bin", _clean(i)) for i in range(3)])
    routing.answer(ctx, liaison, a.number, ANSWER, files=[("a.bin", _clean(i)) for i in range(2)])
    reporter.add_attachments(ctx, reporter_access(ctx, a.code), [("r.bin", _clean(9))])
    routing.answer(ctx, liaison, b.number, ANSWER)
    routing.apip_intake(ctx, inv, e.number)
    routing.answer(ctx, inv, e.number, ANSWER, outcome="administrative",
                   files=[("e.bin", _clean(5))])
    clock.current = clock.current.replace(month=4, day=2)
    routing.answer(ctx, liaison, c.number, ANSWER, files=[("c.bin", _clean(7))])
    today = clock().date()
    march = Period(date(2026, 3, 3), date(2026, 3, 31))
    kesehatan = unit_id(ctx, "dinas-kesehatan")
    with ctx.db() as s:
        for use_rollup in (True, False):
            stats = statistics.compute(s, march, today, use_rollup=use_rollup)
            assert (stats.answers_with_files, stats.answer_files) == (2, 3)
        unit = statistics.compute(s, march, today, kesehatan)
        assert (unit.answers_with_files, unit.answer_files) == (1, 2)
        longer = statistics.compute(s, Period(date(2026, 3, 3), date(2026, 4, 30)), today)
        assert (longer.answers_with_files, longer.answer_files) == (3, 4)

    # The staff statistics page shows them next to the answer figures, and the CSV has them.
    leader = _signed_in(app, demo, clock, "leadership")
    page = leader.get("/staf/statistik?dari=2026-03-03&sampai=2026-03-31").text
    assert 'data-figure="answers_with_files">2<' in page
    assert 'data-figure="answer_files">3<' in page
    csv_text = leader.get("/staf/statistik.csv?dari=2026-03-03&sampai=2026-03-31").text
    lines = csv_text.splitlines()
    at = lines.index("answers_with_files,files_with_answers")
    assert lines[at + 1] == "2,3"
