"""The connector's key file and the LAPOR! adapter, without a database."""

from __future__ import annotations

import json
import os
import stat
from datetime import date
from pathlib import Path

import pytest

from wbs import instance
from wbs.crypto import hpke
from wbs.crypto.aead import DecryptionError
from wbs.enums import CaseState, ReportKind
from wbs.integrations import keys
from wbs.integrations import lapor_format as fmt


def test_key_is_created_once_with_mode_0600(tmp_path: Path) -> None:
    assert keys.ensure_key(tmp_path) is True
    path = tmp_path / keys.KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    before = path.read_bytes()
    assert keys.ensure_key(tmp_path) is False
    assert path.read_bytes() == before
    sealed = hpke.wrap(keys.public_key(tmp_path), b"dokumen", keys.info("WBS-1", "k1"))
    assert hpke.unwrap(keys.private_key(tmp_path), sealed, keys.info("WBS-1", "k1")) == \
        b"dokumen"
    # Bound to its case and item: a blob moved to another row does not open.
    with pytest.raises(DecryptionError):
        hpke.unwrap(keys.private_key(tmp_path), sealed, keys.info("WBS-2", "k1"))
    with pytest.raises(DecryptionError):
        hpke.unwrap(keys.private_key(tmp_path), sealed, keys.info("WBS-1", "k2"))


def test_a_readable_key_file_is_refused(tmp_path: Path) -> None:
    keys.ensure_key(tmp_path)
    path = tmp_path / keys.KEY_FILE
    os.chmod(path, 0o644)
    os.utime(path, ns=(1, 1))  # a new mtime: not served from the cache
    with pytest.raises(instance.KeyFileError, match="chmod 600"):
        keys.private_key(tmp_path)


def test_case_document_round_trip_and_identity_only_when_given() -> None:
    doc = fmt.CaseDocument(case_number="WBS-2026-000001", title="Judul", content="Isi",
                           category=fmt.category_of("complaint", "no_oversight"),
                           location="Sanggau", event_date="Januari", received_on=date(2026, 3, 2),
                           channel="web", reason="other_agency")
    body = json.loads(fmt.encode_case(doc))
    assert body["kategori"] == "pengaduan/no_oversight" and body["alasan"] == "bukan_wewenang"
    assert body["anonim"] is True and "pelapor" not in body
    named = json.loads(fmt.encode_case(fmt.CaseDocument(**{
        **doc.__dict__, "reporter": fmt.Reporter(name="Siti")})))
    assert named["anonim"] is False and named["pelapor"]["nama"] == "Siti"


def test_status_labels_are_the_national_ones() -> None:
    for state in CaseState:
        body = json.loads(fmt.encode_status(fmt.StatusDocument("WBS-1", "L-1", state,
                                                               date(2026, 3, 2))))
        assert body["status"] == fmt.STATUS_LABELS[state]
    assert fmt.STATUS_LABELS[CaseState.NEEDS_INFO] == "Tertunda"
    assert fmt.STATUS_LABELS[CaseState.CLOSED] == "Terdisposisi Selesai"


def test_incoming_kinds_and_limits() -> None:
    reports = fmt.decode_incoming(json.dumps({"laporan": [
        {"nomor_tracking": " L-9 ", "judul": "x" * 500, "isi": "isi", "jenis": "aspirasi"},
        {"nomor_tracking": "L-10", "judul": "t", "isi": "i",
         "pelapor": {"nama": "  "}}]}).encode())
    assert reports[0].tracking_number == "L-9" and reports[0].kind is ReportKind.ASPIRATION
    assert len(reports[0].title) == 200
    assert reports[1].kind is ReportKind.COMPLAINT and reports[1].reporter is None
    for bad in ({"nomor_tracking": "x" * 65, "judul": "t", "isi": "i"},
                {"nomor_tracking": "a\nb", "judul": "t", "isi": "i"},
                {"nomor_tracking": "L", "judul": "", "isi": "i"}):
        with pytest.raises(fmt.FormatError):
            fmt.decode_incoming(json.dumps([bad]).encode())
    assert fmt.tracking_from_answer(b'{"nomor_tracking": "L-1"}') == "L-1"
    assert fmt.tracking_from_answer(b"not json") is None
    assert fmt.tracking_from_answer(json.dumps({"nomor_tracking": "x" * 99}).encode()) is None
    assert fmt.tracking_from_answer(b"[1]") is None


def test_wbs_init_creates_the_connector_key(tmp_path: Path,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    from dataclasses import replace

    from wbs import cli
    from wbs.settings import Settings

    settings = replace(Settings(), keys_dir=tmp_path / "keys", data_dir=tmp_path / "data",
                       database_url=f"sqlite:///{tmp_path / 'wbs.sqlite3'}")
    assert cli.cmd_init(settings, None) == 0  # type: ignore[arg-type]
    assert f"created connector key {tmp_path / 'keys' / keys.KEY_FILE}" in capsys.readouterr().out
    assert stat.S_IMODE((tmp_path / "keys" / keys.KEY_FILE).stat().st_mode) == 0o600
    assert cli.cmd_init(settings, None) == 0  # type: ignore[arg-type]
    assert "created connector key" not in capsys.readouterr().out
