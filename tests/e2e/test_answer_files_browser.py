"""Issue 11, files with a staff answer, in Chromium with JavaScript off: the liaison's existing
answer form sends a photo with the answer (a real browser's multipart post, field order and
all); a refused file brings the form back with the typed answer and the reason, in the page's
language."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from tests.e2e import staff_world
from tests.e2e.conftest import Tab
from tests.functional.test_answer_files import pdf_with_author, png_with_text
from tests.functional.workflow_helpers import ROLE_USERS, Driver
from wbs.enums import CaseState
from wbs.models import Attachment, Case, Message

pytestmark = pytest.mark.e2e

TYPED = "Jalan sudah diperbaiki; foto sesudah perbaikan terlampir."


def test_liaison_sends_an_answer_with_files_without_javascript(
        open_tab: Callable[..., Tab], live_server: Any, tmp_path: Path) -> None:
    tab = open_tab(lang="id", width=375, js=False)
    staff = staff_world.browser_sign_in(live_server, tab, ROLE_USERS["liaison"])
    helpers = {"verifier": staff_world.sign_in(live_server, ROLE_USERS["verifier"])[1],
               "liaison": staff, "investigator": staff}
    number = Driver(live_server.ctx, helpers).build("local", CaseState.IN_PROCESS).number
    staff_world.state_purpose(live_server, staff, number)
    broken = tmp_path / "rusak.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    photo, data = tmp_path / "sesudah.png", tmp_path / "data.pdf"
    photo.write_bytes(png_with_text())
    data.write_bytes(pdf_with_author())

    tab.goto(f"/staf/kasus/{number}", "answer-form")
    tab.page.fill("#an-text", TYPED)
    tab.page.set_input_files("#an-files", [str(broken), str(photo)])
    tab.submit(tab.page.locator("#act-answer button[type=submit]"), "answer-refused")
    # The same form, open, with the answer as typed and why the file was refused.
    assert tab.page.input_value("#an-text") == TYPED
    refused = tab.page.inner_text("#act-answer-rejected")
    assert "rusak.png" in refused and "gambar rusak" in refused
    assert "Sebuah berkas ditolak" in tab.page.inner_text("#act-answer-error")

    tab.page.set_input_files("#an-files", [str(photo), str(data)])
    tab.submit(tab.page.locator("#act-answer button[type=submit]"), "answer-sent")
    with live_server.ctx.db() as s:
        case_id = s.scalars(select(Case.id).where(Case.case_number == number)).one()
        answer = s.scalars(select(Message).where(Message.case_id == case_id,
                                                 Message.kind == "answer")).one()
        rows = s.scalars(select(Attachment).where(Attachment.case_id == case_id)).all()
    assert sorted(r.message_id for r in rows) == [answer.id, answer.id]
    page = tab.page.inner_text("main")
    assert "sesudah.png" in page and "data.pdf" in page and "dikirim bersama jawaban" in page
