"""The SP4N-LAPOR! wire format: the only module that knows it.

The national API's exact schema was not at hand when this was written. Everything below is the
*assumed* schema, drawn from what RULES §10 and the LAPOR! dashboards name (title, content,
category, location, dates, channel, the Indonesian status labels, a tracking number). The day
the real schema is known, only this module changes: the outbox, the connector and the importer
deal in `CaseDocument`, `StatusDocument` and `IncomingReport`, never in JSON keys.

Assumed API (all JSON, UTF-8, `Authorization: Bearer <token>`, `Idempotency-Key: <key>`):

``POST {endpoint}/laporan`` — a report forwarded to LAPOR! (or sent because the profile sends
every complaint)::

    {"skema": "wbs-lapor/1", "id_eksternal": "WBS-2026-000001",
     "judul": "...", "isi": "...", "kategori": "pengaduan/tidak_berkadar_pengawasan",
     "lokasi": "...", "tanggal_kejadian": "free text as the reporter gave it",
     "tanggal_diterima": "2026-03-02", "kanal": "web", "alasan": "bukan_wewenang",
     "anonim": true}

  plus ``"pelapor": {"nama", "alamat", "telepon", "email", "pekerjaan"}`` and ``"anonim":
  false`` only when an identity disclosure was approved *and* the reporter consented
  (`identity_may_travel`). Answer: 200/201 ``{"nomor_tracking": "LAPOR-..."}``; 409 means the
  idempotency key was already used (the document is there: counted as delivered).

``POST {endpoint}/laporan/status`` — a status change of a case LAPOR! knows::

    {"skema": "wbs-lapor/1", "nomor_tracking": "LAPOR-..." or null,
     "id_eksternal": "WBS-2026-000001", "status": "Terdisposisi Sedang Diproses",
     "tanggal": "2026-03-05"}

``GET {endpoint}/laporan/masuk`` — reports LAPOR! routes to this Pemda::

    {"laporan": [{"nomor_tracking": "...", "judul": "...", "isi": "...", "kategori": "...",
                  "lokasi": "...", "tanggal": "2026-03-01", "kanal": "lapor.go.id",
                  "jenis": "pengaduan" | "aspirasi" | "permintaan_informasi"
                           | "keluhan" | "apresiasi" | "kritik",
                  "pelapor": null | {"nama": ..., "alamat": ..., "telepon": ..., "email": ...}}]}

  The same object (or the ``{"laporan": [...]}`` wrapper) is what `wbs lapor import FILE` reads.
Dates are dates, never times of day: a reporter's act must not be placed within its day.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from wbs.enums import CaseState, ReportKind

SCHEMA = "wbs-lapor/1"
CASE_PATH = "/laporan"
STATUS_PATH = "/laporan/status"
INCOMING_PATH = "/laporan/masuk"
MAX_TRACKING = 64

# RULES §10: the national dashboards' labels. `answered` has none of its own (the reporter has
# not yet accepted), and `forwarded` is this Pemda's "Bukan Wewenang".
STATUS_LABELS: Mapping[CaseState, str] = {
    CaseState.RECEIVED: "Belum Terverifikasi",
    CaseState.NEEDS_INFO: "Tertunda",
    CaseState.VERIFIED: "Terdisposisi Belum Ditindaklanjuti",
    CaseState.IN_PROCESS: "Terdisposisi Sedang Diproses",
    CaseState.ANSWERED: "Terdisposisi Sedang Diproses",
    CaseState.CLOSED: "Terdisposisi Selesai",
    CaseState.ARCHIVED: "Arsip",
    CaseState.FORWARDED: "Bukan Wewenang",
}
_KINDS_IN = {"pengaduan": ReportKind.COMPLAINT, "aspirasi": ReportKind.ASPIRATION,
             "permintaan_informasi": ReportKind.INFORMATION_REQUEST}
_KINDS_OUT = {kind: name for name, kind in _KINDS_IN.items()}
# The regional kinds LAPOR! instances name (jayapurakab.lapor.go.id, Perbup Jayapura 58/2023
# Ps 14(5)) and the national kind each is handled as; the importer keeps the name when the
# profile in force has it (`wbs.profiles.kinds`).
_REGIONAL_KINDS_IN = {"keluhan": ReportKind.COMPLAINT, "apresiasi": ReportKind.ASPIRATION,
                      "kritik": ReportKind.ASPIRATION}
_REASONS = {"sp4n_lapor": "admin_nasional", "other_agency": "bukan_wewenang",
            "every_complaint": "salinan"}


class FormatError(ValueError):
    """A document from LAPOR! does not have the assumed shape; `code` names the field."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class Reporter:
    name: str = field(repr=False)
    address: str = field(default="", repr=False)
    phone: str = field(default="", repr=False)
    email: str = field(default="", repr=False)
    occupation: str = field(default="", repr=False)


@dataclass(frozen=True)
class CaseDocument:
    """What LAPOR! needs of a report; built by the outbox, encoded here."""

    case_number: str
    title: str = field(repr=False)
    content: str = field(repr=False)
    category: str
    location: str = field(repr=False)
    event_date: str = field(repr=False)
    received_on: date
    channel: str
    reason: str
    reporter: Reporter | None = field(default=None, repr=False)


@dataclass(frozen=True)
class StatusDocument:
    case_number: str
    tracking_number: str | None
    state: CaseState
    on: date
    text: str | None = field(default=None, repr=False)  # an answer or a question, if any


@dataclass(frozen=True)
class IncomingReport:
    tracking_number: str
    kind: ReportKind
    title: str = field(repr=False)
    content: str = field(repr=False)
    category: str
    location: str = field(repr=False)
    event_date: str = field(repr=False)
    channel: str
    reporter: Reporter | None = field(default=None, repr=False)
    kind_name: str = ""  # the "jenis" as LAPOR! named it


def category_of(kind: str, classification: str | None, profile_kind: str | None = None) -> str:
    """The kind as LAPOR! names it: the regional kind the case was filed as (keluhan, kritik,
    apresiasi) when LAPOR! knows that name, else the national name of the workflow kind."""
    name = _KINDS_OUT.get(ReportKind(kind), kind)
    if profile_kind in _REGIONAL_KINDS_IN and _REGIONAL_KINDS_IN[profile_kind].value == kind:
        name = profile_kind
    return f"{name}/{classification}" if classification else name


def reason_code(reason: str) -> str:
    return _REASONS.get(reason, "bukan_wewenang")


def encode_case(doc: CaseDocument) -> bytes:
    body: dict[str, Any] = {
        "skema": SCHEMA, "id_eksternal": doc.case_number, "judul": doc.title, "isi": doc.content,
        "kategori": doc.category, "lokasi": doc.location, "tanggal_kejadian": doc.event_date,
        "tanggal_diterima": doc.received_on.isoformat(), "kanal": doc.channel,
        "alasan": reason_code(doc.reason), "anonim": doc.reporter is None,
    }
    if doc.reporter is not None:
        body["pelapor"] = {"nama": doc.reporter.name, "alamat": doc.reporter.address,
                           "telepon": doc.reporter.phone, "email": doc.reporter.email,
                           "pekerjaan": doc.reporter.occupation}
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


def encode_status(doc: StatusDocument) -> bytes:
    body: dict[str, Any] = {
        "skema": SCHEMA, "nomor_tracking": doc.tracking_number, "id_eksternal": doc.case_number,
        "status": STATUS_LABELS[doc.state], "tanggal": doc.on.isoformat()}
    if doc.text:
        body["tindak_lanjut"] = doc.text
    return json.dumps(body, ensure_ascii=False, sort_keys=True).encode()


def tracking_from_answer(body: bytes) -> str | None:
    """The tracking number LAPOR! gave a delivered report, if its answer names one."""
    try:
        loaded = json.loads(body or b"{}")
    except ValueError:
        return None
    value = loaded.get("nomor_tracking") if isinstance(loaded, dict) else None
    try:
        return _tracking(value)
    except FormatError:
        return None  # delivered all the same; a malformed number is not kept


def _tracking(value: object) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > MAX_TRACKING or not text.isprintable():
        raise FormatError("nomor_tracking")
    return text


def _text(raw: Mapping[str, Any], key: str, limit: int, required: bool = False) -> str:
    value = raw.get(key)
    text = value.strip() if isinstance(value, str) else ""
    if required and not text:
        raise FormatError(key)
    return text[:limit]


def _reporter(raw: object) -> Reporter | None:
    if not isinstance(raw, dict):
        return None
    name = _text(raw, "nama", 200)
    if not name:
        return None
    return Reporter(name=name, address=_text(raw, "alamat", 500),
                    phone=_text(raw, "telepon", 40), email=_text(raw, "email", 254),
                    occupation=_text(raw, "pekerjaan", 200))


def decode_incoming(data: bytes) -> list[IncomingReport]:
    """Reports from LAPOR! (a file or the pull's answer); refuses the whole batch on a bad one,
    so that nothing is half-imported and the operator sees which field was wrong."""
    try:
        loaded = json.loads(data)
    except ValueError as exc:
        raise FormatError("json") from exc
    items = loaded.get("laporan") if isinstance(loaded, dict) and "laporan" in loaded else loaded
    if isinstance(items, dict):
        items = [items]
    if not isinstance(items, list):
        raise FormatError("laporan")
    reports = []
    for raw in items:
        if not isinstance(raw, dict):
            raise FormatError("laporan")
        jenis = _text(raw, "jenis", 64) or "pengaduan"
        kind = _KINDS_IN.get(jenis) or _REGIONAL_KINDS_IN.get(jenis)
        if kind is None:
            raise FormatError("jenis")
        reports.append(IncomingReport(
            tracking_number=_tracking(raw.get("nomor_tracking")), kind=kind,
            title=_text(raw, "judul", 200, required=True),
            content=_text(raw, "isi", 20_000, required=True),
            category=_text(raw, "kategori", 200), location=_text(raw, "lokasi", 1000),
            event_date=_text(raw, "tanggal", 200), channel=_text(raw, "kanal", 64),
            reporter=_reporter(raw.get("pelapor")), kind_name=jenis))
    return reports


def export_entry(kind: str, idempotency_key: str, wire: bytes) -> dict[str, Any]:
    """One item of the manual export: the document as the API would have received it."""
    path = STATUS_PATH if kind == "status" else CASE_PATH
    return {"jalur": path, "idempotency_key": idempotency_key, "dokumen": json.loads(wire)}


def encode_export(entries: list[dict[str, Any]], on: date) -> bytes:
    # The manual export never carries the reporter's identity (a verifier downloads it): the
    # file says so, for whoever uploads it to LAPOR!.
    return json.dumps({"skema": SCHEMA, "tanggal_ekspor": on.isoformat(), "item": entries,
                       "identitas_pelapor": "tidak disertakan"},
                      ensure_ascii=False, indent=1, sort_keys=True).encode()
