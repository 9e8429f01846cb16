"""The referral dossier (RULES §10): what APIP hands to the KPK, the Kejaksaan or the Polri.

Content is included; the reporter's identity only if a disclosure to this investigator is live
(PP 43/2018: a formal report needs it, and the custodians decided). The export is an act of
disclosure, so it is authorised, needs a stated purpose and is audited like a view.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from babel.dates import format_date
from fpdf.enums import WrapMode
from sqlalchemy import select
from sqlalchemy.orm import Session

from wbs import audit
from wbs.access import Permission
from wbs.accounts import StaffIdentity
from wbs.cases import attachments, deadlines, sealing
from wbs.cases.reporter import read_messages
from wbs.cases.service import content_keys, stated_purpose, with_case
from wbs.context import Context
from wbs.models import Case, CaseEvent, CaseKeyWrap
from wbs.reports.pdf_font import FAMILY, unicode_pdf

FORMATS = ("json", "pdf")

# The PDF is read by people at the KPK, the Kejaksaan or the Polri: codes become words, in both
# languages like the rest of the document. The JSON dossier keeps the codes (it is data).
LABELS: dict[str, tuple[str, str]] = {
    "whistleblowing": ("Pengaduan pelanggaran (WBS)", "Whistleblowing"),
    "complaint": ("Pengaduan", "Complaint"),
    "information_request": ("Permintaan informasi", "Information request"),
    "aspiration": ("Aspirasi", "Aspiration"),
    "received": ("Belum terverifikasi", "Not yet verified"),
    "needs_info": ("Tertunda: data kurang", "Pending: more information needed"),
    "verified": ("Terdisposisi, belum ditindaklanjuti", "Dispositioned, not yet followed up"),
    "in_process": ("Terdisposisi, sedang diproses", "Dispositioned, being processed"),
    "answered": ("Dijawab", "Answered"),
    "closed": ("Terdisposisi, selesai", "Dispositioned, completed"),
    "archived": ("Arsip", "Archived"),
    "forwarded": ("Diteruskan", "Forwarded"),
    "web": ("Formulir web", "Web form"),
    "api": ("Aplikasi (API)", "Application (API)"),
    "letter": ("Surat", "Letter"),
    "face_to_face": ("Tatap muka", "Face to face"),
    "telephone": ("Telepon / call center", "Telephone or call centre"),
    "sms": ("SMS", "SMS"),
    "whatsapp": ("WhatsApp", "WhatsApp"),
    "social_media": ("Media sosial", "Social media"),
    "complaint_box": ("Kotak pengaduan", "Complaint box"),
    "radio": ("Radio", "Radio"),
    "needs_oversight": ("Berkadar pengawasan", "Needs oversight"),
    "no_oversight": ("Tidak berkadar pengawasan", "No oversight needed"),
    "other": ("Lain-lain", "Other"),
    "not_proven": ("Tidak terbukti", "Not proven"),
    "administrative": ("Temuan dan rekomendasi administratif",
                       "Administrative findings and recommendations"),
    "referral_kpk": ("Dirujuk ke KPK", "Referral to the KPK"),
    "referral_kejaksaan": ("Dirujuk ke Kejaksaan", "Referral to the Kejaksaan"),
    "referral_polri": ("Dirujuk ke Polri", "Referral to the Polri"),
    "reporter": ("Pelapor", "Reporter"),
    "staff": ("Petugas", "Official"),
    "system": ("Sistem", "System"),
    "message": ("pesan", "message"),
    "question": ("pertanyaan", "question"),
    "answer": ("jawaban", "answer"),
    "objection": ("keberatan", "objection"),
    "notice": ("pemberitahuan", "notice"),
}

DEADLINES: dict[str, str] = {
    "verification": "Verifikasi dan disposisi / Verification and disposition",
    "answer": "Jawaban kepada pelapor / Answer to the reporter",
    "missing_data": "Kelengkapan data oleh pelapor / Reporter supplies missing data",
    "objection": "Masa keberatan pelapor / Reporter may object",
    "decision": "Keputusan / Decision",
    "decision_delivery": "Penyampaian keputusan / Decision delivered",
}


def label(code: object) -> str:
    """"Pengaduan / Complaint" for a known code; the code itself otherwise."""
    if not isinstance(code, str) or not code:
        return "-"
    pair = LABELS.get(code)
    return f"{pair[0]} / {pair[1]}" if pair else code


def long_day(iso: object) -> str:
    """"29 November 2026" from the JSON dossier's ISO date."""
    from datetime import date

    if not isinstance(iso, str):
        return "-"
    try:
        return format_date(date.fromisoformat(iso), "long", locale="id")
    except ValueError:
        return iso


@dataclass(frozen=True)
class Dossier:
    filename: str
    media_type: str
    data: bytes


def _identity(session: Session, ctx: Context, case: Case, staff: StaffIdentity) -> Any:
    wrap = session.scalars(select(CaseKeyWrap).where(
        CaseKeyWrap.case_id == case.id, CaseKeyWrap.purpose == "identity",
        CaseKeyWrap.recipient_kind == "user", CaseKeyWrap.recipient_id == staff.user_id)).first()
    if wrap is None or case.identity_sealed is None:
        return None
    try:
        key = sealing.staff_unwrap_direct(session, case, "identity", staff.user_id,
                                          staff.username, staff.private_key(), ctx.now())
    except sealing.NoKey:
        return None  # the disclosure expired
    return sealing.open_json(key, case, "identity", case.identity_sealed)


def build(session: Session, ctx: Context, case: Case, staff: StaffIdentity) -> dict[str, Any]:
    keys = content_keys(session, case, staff)
    files = []
    for attachment_id in attachments.ids_of(session, case):
        opened = attachments.open_file(session, case, keys, attachment_id)
        if opened is None:
            continue
        meta, chunks = opened
        digest = hashlib.sha256()
        for chunk in chunks:
            digest.update(chunk)
        files.append({"name": meta.name, "size": meta.size, "sha256": digest.hexdigest(),
                      "received_on": meta.created_on.isoformat()})
    events = session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                             .order_by(CaseEvent.id)).all()
    return {
        "case_number": case.case_number, "kind": case.kind, "channel": case.channel,
        "received_on": case.received_on.isoformat(), "state": case.state,
        "classification": case.classification, "outcome": case.outcome,
        "report": sealing.open_json(keys[0], case, "report", case.report_sealed),
        "messages": [{"on": m.created_on.isoformat(), "author": m.author, "kind": m.kind,
                      "body": m.body} for m in read_messages(session, case, keys)],
        "evidence": files,
        "timeline": [{"on": e.on.isoformat(), "state": e.state, "step": e.note_key}
                     for e in events],
        "open_deadlines": [{"kind": d.kind, "due_on": d.due_on.isoformat()}
                           for d in deadlines.open_deadlines(session, case)],
        "reporter_identity": _identity(session, ctx, case, staff),
        "exported_on": ctx.today().isoformat(),
        "guidance": "KPK: law enforcers or state officials and/or state losses >= Rp 1 miliar; "
                    "other criminal cases: Kejaksaan or Polri (RULES §10).",
    }


def render_pdf(doc: dict[str, Any]) -> bytes:
    # A Unicode font: names and text print as the reporter typed them, whatever the script.
    pdf = unicode_pdf(f"Dossier {doc['case_number']}")
    pdf.add_page()
    pdf.set_font(FAMILY, "B", 14)
    pdf.multi_cell(0, 8, f"Berkas rujukan / Referral dossier {doc['case_number']}",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FAMILY, size=10)

    def line(label: str, value: object) -> None:
        pdf.set_font(FAMILY, "B", 10)
        pdf.multi_cell(0, 6, label, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font(FAMILY, size=10)
        # Character wrapping: hashes and pasted URLs are single long "words".
        pdf.multi_cell(0, 6, str(value if value not in (None, "") else "-"),
                       new_x="LMARGIN", new_y="NEXT", wrapmode=WrapMode.CHAR)

    line("Jenis / Kind", label(doc["kind"]))
    line("Diterima / Received", long_day(doc["received_on"]))
    line("Kanal / Channel", label(doc["channel"]))
    line("Status", label(doc["state"]))
    line("Hasil penelaahan / Classification", label(doc["classification"]))
    line("Hasil / Outcome", label(doc["outcome"]))
    report = doc["report"]
    for title, key in (("Judul / Title", "title"), ("Apa / What", "what"),
                       ("Terlapor / Reported person", "who_name"), ("NIP", "who_nip"),
                       ("Instansi / Agency", "who_agency"), ("Jabatan / Position", "who_position"),
                       ("Di mana / Where", "where"), ("Kapan / When", "when"),
                       ("Bagaimana / How", "how")):
        line(title, report.get(key))
    line("Identitas pelapor / Reporter identity",
         json.dumps(doc["reporter_identity"], ensure_ascii=False) if doc["reporter_identity"]
         else "Tidak dibuka / not disclosed")
    for message in doc["messages"]:
        line(f"{long_day(message['on'])}: {label(message['author'])} ({label(message['kind'])})",
             message["body"])
    for item in doc["evidence"]:
        line(f"Bukti / Evidence: {item['name']}", f"{item['size']} bytes, SHA-256 {item['sha256']}")
    for event in doc["timeline"]:
        line(long_day(event["on"]), label(event["state"]))
    for deadline in doc["open_deadlines"]:
        line(f"Batas waktu / Deadline: {DEADLINES.get(deadline['kind'], deadline['kind'])}",
             long_day(deadline["due_on"]))
    line("Diekspor / Exported", long_day(doc["exported_on"]))
    line("Panduan / Guidance", doc["guidance"])
    return bytes(pdf.output())


def export(ctx: Context, staff: StaffIdentity, case_number: str, fmt: str) -> Dossier:
    if fmt not in FORMATS:
        raise ValueError("format")

    def act(session: Session, case: Case) -> Dossier:
        purpose = stated_purpose(session, case, staff)
        doc = build(session, ctx, case, staff)
        audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role,
                     action="case.export", case_number=case.case_number, reason=purpose,
                     details={"format": fmt,
                              "identity_included": doc["reporter_identity"] is not None},
                     now=ctx.now())
        stem = f"dosier-{case.case_number}-{ctx.today().isoformat()}"
        if fmt == "json":
            data = json.dumps(doc, ensure_ascii=False, indent=2).encode()
            return Dossier(f"{stem}.json", "application/json", data)
        return Dossier(f"{stem}.pdf", "application/pdf", render_pdf(doc))

    return with_case(ctx, staff, case_number, Permission.CASE_EXPORT, act)
