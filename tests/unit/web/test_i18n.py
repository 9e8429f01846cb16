"""Every user-facing string has an Indonesian translation with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[3]
PLACEHOLDER = re.compile(r"%\((\w+)\)s")
METHOD_MAP = [("wbs/**.py", "python"), ("templates/**.html", "jinja2")]
OPTIONS = {"templates/**.html": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true",
                                 "lstrip_blocks": "true"}}


def _extracted() -> set[str]:
    found = set()
    for _file, _line, message, _comments, _ctx in extract_from_dir(
            str(ROOT), METHOD_MAP, OPTIONS,
            keywords={"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}):
        found.add(message if isinstance(message, str) else message[0])
    return found


def test_indonesian_catalog_is_complete() -> None:
    with (ROOT / "wbs/locale/id/LC_MESSAGES/messages.po").open("rb") as fh:
        catalog = read_po(fh, locale="id")
    translated = {m.id: m.string for m in catalog if m.id and m.string}
    messages = _extracted()
    assert len(messages) > 300
    missing = sorted(m for m in messages if m not in translated)
    assert missing == [], f"untranslated: {missing[:10]}"
    for msgid in messages:
        assert set(PLACEHOLDER.findall(msgid)) == set(PLACEHOLDER.findall(
            str(translated[msgid]))), msgid


def test_language_switch_renders_both(client: object) -> None:
    from starlette.testclient import TestClient

    assert isinstance(client, TestClient)
    english = client.get("/lapor", headers={"Accept-Language": "en"}).text
    indonesian = client.get("/lapor", headers={"Accept-Language": "id"}).text
    assert "Make a report" in english and "Buat laporan" in indonesian
