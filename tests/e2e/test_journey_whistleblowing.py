"""Issue 14, browser journeys: a whistleblowing report from the form to the staff answer.

One person, one browser, the real server: the reporter files a whistleblowing report with an
evidence file (a PNG in Bahasa Indonesia, a PDF in English, each carrying an author's name in its
metadata) and forgets the title: the error page keeps the file (so it need not be picked again,
the no-JavaScript path of issue 9). With the title typed the report is filed once; the reporter
keeps the code from the receipt, opens the status through the old status link with
that code, lands in the mailbox and writes a reply. An APIP investigator (the only unit that may
see a whistleblowing report, RULES §2) signs in, finds the case in the list, states a purpose,
and reads the report, the reporter's reply and the evidence, decrypted, and downloads the file:
the same picture or page, without the hidden author. The verifier and the liaison of the unit the
report names are refused the case. The investigator answers and accepts the report for
examination; the reporter, back in the mailbox, reads the answer and the new status. Then the
same with JavaScript disabled.

Besides what the pages show, the database is read: one case of the whistleblowing kind at APIP,
no plaintext of the report, the reply, the answer or the file anywhere in its sealed columns.
Every page visited passes axe-core and the other page checks in the journey's language, and is
screenshotted to var/artifacts/screenshots/test_whistleblowing_journey/.
"""

from __future__ import annotations

import io
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import func, select

from tests.e2e import staff_world
from tests.e2e.conftest import Tab
from tests.e2e.journeys import Walk
from tests.functional.workflow_helpers import ROLE_USERS
from wbs.models import Attachment, AttachmentChunk, AuditEntry, Case, Message, Unit

pytestmark = pytest.mark.e2e

SEND = {"id": "Kirim laporan", "en": "Send report"}
SEND_MESSAGE = {"id": "Kirim pesan", "en": "Send message"}
OPEN = {"id": "Buka laporan saya", "en": "Open my report"}
OPEN_CASE = {"id": "Buka laporan", "en": "Open the case"}
MESSAGE_SENT = {"id": "Pesan Anda telah terkirim.", "en": "Your message was sent."}
KEPT = {"id": "Berkas Anda disimpan bersama formulir",
        "en": "Your files are kept with the form"}
AUTHOR = "Siti Rahayu Pelapor"  # hidden in the file's metadata: must not reach the staff

REPORT = {
    "title": "Suap izin reklame di dinas",
    "what": "Kepala seksi meminta Rp 5.000.000 agar izin reklame diterbitkan tanpa survei.",
    "who_name": "Budi Santoso",
    "who_position": "Kepala Seksi Perizinan",
    "where": "Kantor Dinas Kesehatan, lantai 2",
    "when": "Maret 2026",
}
REPLY = "Saya punya rekaman percakapan; pembayaran kedua dijadwalkan hari Jumat."
ANSWER = "Terima kasih. Tim APIP memeriksa laporan ini; mohon simpan rekaman tersebut."


def _png() -> tuple[str, bytes, list[tuple[int, int, int]]]:
    from PIL import Image, PngImagePlugin

    image = Image.new("RGB", (4, 2))
    colours = [(200, 10, 10), (10, 200, 10), (10, 10, 200), (250, 250, 0),
               (0, 0, 0), (255, 255, 255), (120, 60, 30), (30, 60, 120)]
    image.putdata(colours)
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", AUTHOR)
    out = io.BytesIO()
    image.save(out, format="PNG", pnginfo=info)
    return "foto-kuitansi.png", out.getvalue(), colours


def _pdf() -> tuple[str, bytes, int]:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(width=200, height=300)
    writer.add_blank_page(width=200, height=300)
    writer.add_metadata({"/Author": AUTHOR, "/Title": "Kuitansi"})
    out = io.BytesIO()
    writer.write(out)
    return "kuitansi-suap.pdf", out.getvalue(), 2


def _evidence(lang: str) -> tuple[str, str, bytes]:
    if lang == "id":
        name, data, _ = _png()
        return name, "image/png", data
    name, data, _ = _pdf()
    return name, "application/pdf", data


def _same_content(name: str, original: bytes, downloaded: bytes) -> None:
    """The staff's file is the reporter's file: the same pixels or pages, no hidden author."""
    assert AUTHOR.encode() not in downloaded, "the file's hidden author reached the staff"
    if name.endswith(".png"):
        from PIL import Image

        _, _, colours = _png()
        image = Image.open(io.BytesIO(downloaded))
        assert image.format == "PNG" and image.size == (4, 2)
        pixels = image.convert("RGB").load()
        assert [pixels[x, y] for y in range(2) for x in range(4)] == colours
        assert "Author" not in image.info
    else:
        from pypdf import PdfReader

        reader = PdfReader(io.BytesIO(downloaded))
        assert len(reader.pages) == _pdf()[2]
        assert AUTHOR not in str(reader.metadata or {})
    assert original != downloaded  # cleaned, so not byte-for-byte the upload


def _stored(live_server: Any, number: str) -> dict[str, Any]:
    with live_server.db() as session:
        case = session.scalars(select(Case).where(Case.case_number == number)).one()
        unit = session.get(Unit, case.receiving_unit_id)
        messages = session.scalars(select(Message).where(Message.case_id == case.id)
                                   .order_by(Message.id)).all()
        attachments = session.scalars(select(Attachment)
                                      .where(Attachment.case_id == case.id)).all()
        chunks = session.scalars(select(AttachmentChunk.blob).where(
            AttachmentChunk.attachment_id.in_([a.id for a in attachments]))).all()
        sealed = b"".join([bytes(m.body_sealed) for m in messages]
                          + [bytes(a.meta_sealed) for a in attachments]
                          + [bytes(c) for c in chunks])
        columns = b"".join(str(getattr(case, c.key)).encode()
                           for c in Case.__table__.columns)
        return {"kind": case.kind, "state": case.state, "unit": unit.slug if unit else None,
                "at_apip": case.at_apip, "messages": [(m.author_kind, m.kind) for m in messages],
                "attachments": [a.uploader_kind for a in attachments], "chunks": len(chunks),
                "sealed": sealed, "case_columns": columns}


def _cases(live_server: Any) -> int:
    with live_server.db() as session:
        return int(session.scalar(select(func.count()).select_from(Case)) or 0)


def _refused(tab: Tab, number: str, walk: Walk) -> bool:
    """The case is not shown to this staff member: neither in the list nor at its address."""
    tab.goto("/staf/kasus", "case-list-other-unit")
    walk.check(tab, "case list of another unit")
    listed = number in tab.page.inner_text("main")
    response = tab.goto(f"/staf/kasus/{number}", "case-refused")
    walk.check(tab, "case refused")
    status = response.status if response else 0
    return not listed and status in (403, 404) and REPORT["what"] not in tab.page.content()


@pytest.mark.parametrize(("lang", "width", "js"),
                         [("id", 1280, True), ("en", 375, True), ("id", 375, False)],
                         ids=["id-1280", "en-375", "id-375-nojs"])
def test_whistleblowing_journey(lang: str, width: int, js: bool,
                                open_tab: Callable[..., Tab], live_server: Any,
                                axe_ready: None) -> None:
    started = time.monotonic()
    walk = Walk()
    tab = open_tab(lang=lang, width=width, js=js)
    page = tab.page
    name, mime, data = _evidence(lang)

    # --- the reporter files the report with the file ------------------------------------------
    tab.goto("/lapor", "form")
    assert page.locator("html").get_attribute("lang") == lang
    walk.check(tab, "form")
    page.locator("label[for=kind-whistleblowing]").click()
    for field, value in REPORT.items():
        if field != "title":  # forgotten at first
            page.fill(f"#{field}", value)
    page.select_option("#reported_unit", "dinas-kesehatan")
    page.set_input_files("#files", files=[{"name": name, "mimeType": mime, "buffer": data}])
    cases = _cases(live_server)
    tab.submit(page.get_by_role("button", name=SEND[lang]), "error-title-missing")
    # The file is kept with the form: named in the summary and above the file control.
    summary = page.locator(".error-summary")
    assert summary.is_visible() and summary.locator("a[href='#title']").count() == 1
    assert KEPT[lang] in summary.inner_text() and name in summary.inner_text()
    assert name in page.locator("#held-files").inner_text()
    assert page.input_value("#what") == REPORT["what"]
    assert page.is_checked("#kind-whistleblowing")
    assert _cases(live_server) == cases  # nothing filed yet
    walk.check(tab, "error, file kept")
    page.fill("#title", REPORT["title"])
    tab.submit(page.get_by_role("button", name=SEND[lang]), "receipt")
    assert _cases(live_server) == cases + 1
    assert tab.path() == "/lapor/tanda-terima"
    code = page.locator(".code-box").inner_text().strip()
    number = page.locator("dl.facts dd").first.inner_text().strip()
    assert len(code) == 29 and number.startswith("WBS-"), (code, number)
    assert code not in page.url and all(code not in c["value"] for c in page.context.cookies())
    walk.check(tab, "receipt")

    stored = _stored(live_server, number)
    assert stored["kind"] == "whistleblowing" and stored["state"] == "received"
    assert stored["unit"] == "inspektorat" and stored["at_apip"], stored
    assert stored["attachments"] == ["reporter"] and stored["chunks"] >= 1
    for secret in (REPORT["what"], REPORT["who_name"], name, code):
        assert secret.encode() not in stored["sealed"] + stored["case_columns"]
    assert data[-64:] not in stored["sealed"]

    # --- status through the old status link, with the code ------------------------------------
    tab.submit(page.locator(".actions button"), "receipt-closed")
    tab.goto("/status", "status-code-box")
    walk.check(tab, "status code box")
    page.fill("#code", code)
    tab.submit(page.get_by_role("button", name=OPEN[lang], exact=True), "mailbox")
    assert tab.path() == "/kotak-pesan"
    status = page.locator("section[aria-labelledby=status-title]").inner_text()
    assert number in page.locator("h1").inner_text()
    assert {"id": "Belum Terverifikasi", "en": "Not yet verified"}[lang].lower() in status.lower()
    evidence = page.locator("section[aria-labelledby=files-title]")
    assert name in evidence.inner_text()
    walk.check(tab, "mailbox")  # (before a click: then focus() no longer shows :focus-visible)
    with page.expect_download() as own:
        evidence.locator("a", has_text=name).click()
    with open(own.value.path(), "rb") as handle:
        _same_content(name, data, handle.read())  # the reporter gets the cleaned file too

    # --- the reporter writes a reply ----------------------------------------------------------
    page.fill("#body", REPLY)
    tab.submit(page.get_by_role("button", name=SEND_MESSAGE[lang]), "reply-sent")
    assert MESSAGE_SENT[lang] in page.inner_text("main")
    assert REPLY in page.locator("section[aria-labelledby=msgs-title]").inner_text()
    walk.check(tab, "reply sent")
    assert _stored(live_server, number)["messages"] == [("reporter", "message")]

    # --- only APIP may see it: the verifier and the named unit's liaison are refused ----------
    for role in ("verifier", "liaison"):
        other = open_tab(lang=lang, width=width, js=js)
        other.folder = tab.folder / role
        other.folder.mkdir(parents=True, exist_ok=True)
        staff_world.browser_sign_in(live_server, other, ROLE_USERS[role], walk.check)
        assert _refused(other, number, walk), f"the {role} saw a whistleblowing report"
        other.page.context.close()

    # --- the APIP investigator reads it, decrypted, and answers --------------------------------
    staff = open_tab(lang=lang, width=width, js=js)
    staff.folder = tab.folder / "investigator"
    staff.folder.mkdir(parents=True, exist_ok=True)
    staff_world.browser_sign_in(live_server, staff, ROLE_USERS["investigator"], walk.check)
    spage = staff.page
    staff.goto("/staf/kasus", "case-list")
    walk.check(staff, "case list")
    staff.submit(spage.locator(f"main a[href='/staf/kasus/{number}']"), "purpose")
    walk.check(staff, "purpose")
    spage.locator("label[for=purpose-3]").click()  # Examination (APIP)
    staff.submit(spage.get_by_role("button", name=OPEN_CASE[lang], exact=True), "case")
    assert staff.path() == f"/staf/kasus/{number}"
    report = spage.locator("section[aria-labelledby=rep-title]").inner_text()
    assert REPORT["what"] in report and REPORT["who_name"] in report
    assert REPORT["where"] in report and REPORT["when"] in report
    messages = spage.locator("section[aria-labelledby=msg-title]").inner_text()
    assert REPLY in messages
    link = spage.locator("section[aria-labelledby=rep-title] a", has_text=name)
    assert link.count() == 1
    walk.check(staff, "case")
    with spage.expect_download() as download:
        link.click()
    assert download.value.suggested_filename == name
    with open(download.value.path(), "rb") as handle:
        _same_content(name, data, handle.read())

    spage.fill("#body", ANSWER)
    staff.submit(spage.locator("#act-message button[type=submit]"), "answer-sent")
    assert {"id": "Pesan Anda telah terkirim kepada pelapor.",
            "en": "Your message was sent to the reporter."}[lang] in spage.inner_text("main")
    assert ANSWER in spage.locator("section[aria-labelledby=msg-title]").inner_text()
    walk.check(staff, "answer sent")

    # APIP accepts it for examination: the reporter's status follows.
    staff.submit(spage.locator("#act-apip_intake button[type=submit]"), "accepted")
    assert {"id": "Sedang diproses", "en": "being processed"}[lang].lower() in spage.locator(
        "section[aria-labelledby=meta-title]").inner_text().lower()
    walk.check(staff, "accepted for examination")

    stored = _stored(live_server, number)
    assert stored["state"] == "in_process"
    assert stored["messages"] == [("reporter", "message"), ("staff", "message")]
    for secret in (REPLY, ANSWER):
        assert secret.encode() not in stored["sealed"]

    # --- the reporter reads the answer in the mailbox -----------------------------------------
    tab.goto("/kotak-pesan", "mailbox-with-answer")
    if tab.path() != "/kotak-pesan" or page.locator("#code").count():
        page.fill("#code", code)
        tab.submit(page.get_by_role("button", name=OPEN[lang], exact=True), "mailbox-with-answer")
    fresh = {"id": "1 pesan baru dari petugas", "en": "1 new message from the officials"}[lang]
    assert fresh in page.inner_text("main")
    thread = page.locator("section[aria-labelledby=msgs-title] article")
    assert thread.count() == 2
    assert REPLY in thread.nth(0).inner_text() and ANSWER in thread.nth(1).inner_text()
    assert {"id": "Petugas", "en": "Official"}[lang] in thread.nth(1).inner_text()
    status = page.locator("section[aria-labelledby=status-title]").inner_text().lower()
    assert {"id": "sedang diproses", "en": "being processed"}[lang] in status, status
    walk.check(tab, "mailbox with answer")

    # Every staff access is in the audit log: the refusals with their reason, APIP's reading
    # with the purpose stated in the browser.
    with live_server.db() as session:
        log = [(e.actor, e.action, e.outcome, json.loads(e.details).get("why"), e.reason)
               for e in session.scalars(select(AuditEntry)
                                        .where(AuditEntry.case_number == number))]
    purpose = {"id": "Pemeriksaan (APIP)", "en": "Examination (APIP)"}[lang]
    assert ("verifikator", "access.case", "denied", "apip_only", "") in log, log
    assert ("penghubung.kesehatan", "access.case", "denied", "reported_unit", "") in log, log
    apip = [(a, o, r) for actor, a, o, _, r in log if actor == "investigator"]
    assert {("case.view", "allowed", purpose), ("attachment.download", "allowed", purpose),
            ("message.staff", "allowed", purpose)} <= set(apip), apip
    assert {actor for actor, *_ in log} == {"verifikator", "penghubung.kesehatan",
                                            "investigator"}, log
    walk.close()
    assert not walk.problems, "\n".join(walk.problems)
    print(f"\n[journey {tab.variant}] {len(walk.pages)} pages checked in "
          f"{time.monotonic() - started:.1f} s")


def test_the_no_javascript_check_sees_the_page_the_reporter_sees(
        open_tab: Callable[..., Tab], axe_ready: None) -> None:
    """The copy axe-core runs on is this page's DOM: a label taken away is a violation there."""
    tab = open_tab(lang="id", width=375, js=False)
    tab.goto("/lapor", "form-nojs")
    walk = Walk()
    walk.check(tab, "intact")
    assert not walk.problems, walk.problems
    tab.page.evaluate("() => document.querySelector('label[for=title]').remove()")
    walk.check(tab, "label removed")
    walk.close()
    assert len(walk.problems) == 1 and "label" in walk.problems[0], walk.problems
