"""Closed sets of the domain, stored as strings.

A value is never reused once retired: stored rows and audit entries keep meaning what they meant.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """Staff roles of RULES §1. The reporter is not a role: it acts only through a code."""

    VERIFIER = "verifier"  # Admin Instansi / Tim Pengelola Pengaduan
    LIAISON = "liaison"  # Pejabat Penghubung / Admin UPP
    INVESTIGATOR = "investigator"  # APIP / Inspektorat
    CUSTODIAN = "custodian"  # Inspektur or designated official: identity custody
    LEADERSHIP = "leadership"  # Pembina, Penanggung Jawab, Koordinator
    AUDITOR = "auditor"
    ADMINISTRATOR = "administrator"


class UnitKind(StrEnum):
    APIP = "apip"  # Inspektorat
    VERIFIER_TEAM = "verifier_team"  # Tim Pengelola Pengaduan
    CUSTODIAN = "custodian"  # identity custodians
    AGENCY = "agency"  # Perangkat Daerah
    BUMD = "bumd"  # regionally owned enterprise
    LEADERSHIP = "leadership"
    ADMINISTRATION = "administration"


class ReportKind(StrEnum):
    WHISTLEBLOWING = "whistleblowing"
    COMPLAINT = "complaint"  # pengaduan
    INFORMATION_REQUEST = "information_request"  # permintaan informasi
    ASPIRATION = "aspiration"  # aspirasi


class CaseState(StrEnum):
    RECEIVED = "received"  # Belum Terverifikasi
    NEEDS_INFO = "needs_info"  # Tertunda
    VERIFIED = "verified"  # Terdisposisi Belum Ditindaklanjuti
    IN_PROCESS = "in_process"  # Terdisposisi Sedang Diproses
    ANSWERED = "answered"  # answered, awaiting the reporter's acceptance or objection
    CLOSED = "closed"  # Terdisposisi Selesai
    ARCHIVED = "archived"  # Arsip
    FORWARDED = "forwarded"  # to another agency or the national SP4N-LAPOR! admin


class Channel(StrEnum):
    WEB = "web"
    API = "api"
    LETTER = "letter"
    FACE_TO_FACE = "face_to_face"
    TELEPHONE = "telephone"
    SMS = "sms"
    WHATSAPP = "whatsapp"
    SOCIAL_MEDIA = "social_media"
    COMPLAINT_BOX = "complaint_box"
    RADIO = "radio"
    # Named by Perbup Sanggau 31/2020 Lamp. VII.A and 33/2019 Ps 4(1)(e) (issue 10).
    EMAIL = "email"


class Classification(StrEnum):
    """Hasil penelaahan (RULES §2)."""

    NEEDS_OVERSIGHT = "needs_oversight"  # berkadar pengawasan
    NO_OVERSIGHT = "no_oversight"  # tidak berkadar pengawasan
    OTHER = "other"  # lain-lain


class IdentityMode(StrEnum):
    ANONYMOUS = "anonymous"
    CONFIDENTIAL = "confidential"


class AuditOutcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    FAILED = "failed"


class Determination(StrEnum):
    """What the verifier finds a complaint to be (RULES §2; Perbup Sanggau 31/2020 Lamp.
    VII.B.1.b–c)."""

    DISPUTE = "dispute"  # sengketa
    VIOLATION = "violation"  # indikasi pelanggaran


class FollowUpKind(StrEnum):
    """How a unit followed a complaint up, counted by the evaluation (RULES §8)."""

    STAFF = "staff"  # internal: the staff (pembinaan pegawai)
    SYSTEM = "system"  # internal: the system or application
    PROCEDURE = "procedure"  # internal: the procedure (SOP)
    OVERSIGHT = "oversight"  # external: referred to oversight
    FACILITIES = "facilities"  # external: facilities and infrastructure
