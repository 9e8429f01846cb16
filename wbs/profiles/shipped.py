"""The profiles shipped with the portal, one per regulation (RULES §2, §4, §5 table).

Values the regulation leaves open are filled as RULES says ("profile: ..."), and each such
choice is named in `notes` so that the public page and the administrator can see it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from types import MappingProxyType

from wbs.cases.sla import DEFAULT_RULES, DayUnit, DeadlineRule, StartEvent
from wbs.enums import Channel, ReportKind
from wbs.profiles.model import (
    AutoArchive,
    AutoClose,
    KindLabel,
    Profile,
    Reminded,
    frozen,
)

_C = Channel
_K = ReportKind

# Sanggau 31/2020 and Belitung Timur use the national kinds.
NATIONAL_KINDS = (
    KindLabel("pengaduan", "Pengaduan", "Complaint", _K.COMPLAINT),
    KindLabel("permintaan_informasi", "Permintaan informasi", "Information request",
              _K.INFORMATION_REQUEST),
    KindLabel("aspirasi", "Aspirasi", "Suggestion", _K.ASPIRATION),
)
# Perbup Jayapura 58/2023 Ps 14(5): apresiasi, aspirasi, kritik; permintaan informasi,
# keluhan; pengaduan. A keluhan is answered like an information request (5 days, Ps 16(7)).
JAYAPURA_KINDS = (
    KindLabel("apresiasi", "Apresiasi", "Appreciation", _K.ASPIRATION),
    KindLabel("aspirasi", "Aspirasi", "Suggestion", _K.ASPIRATION),
    KindLabel("kritik", "Kritik", "Criticism", _K.ASPIRATION),
    KindLabel("permintaan_informasi", "Permintaan informasi", "Information request",
              _K.INFORMATION_REQUEST),
    KindLabel("keluhan", "Keluhan", "Grievance", _K.COMPLAINT, answer="answer_5"),
    KindLabel("pengaduan", "Pengaduan", "Complaint", _K.COMPLAINT),
)

# Hasil penelaahan, Perbup Sanggau 33/2019 Lamp. III.A.2.
SANGGAU_LABELS: Mapping[str, str] = MappingProxyType({
    "needs_oversight": "Berkadar pengawasan",
    "no_oversight": "Tidak berkadar pengawasan",
    "other": "Lain-lain",
})
# Belitung Timur Ps 19(1)(a): sengketa or indikasi pelanggaran; Jayapura Ps 16 alike.
DISPUTE_LABELS: Mapping[str, str] = MappingProxyType({
    "needs_oversight": "Indikasi pelanggaran (pemeriksaan lapangan)",
    "no_oversight": "Sengketa / tanpa pemeriksaan lapangan",
    "other": "Lain-lain",
})


def _days(key: str, amount: int, start: StartEvent | None = None) -> DeadlineRule:
    return DeadlineRule(key, amount, DayUnit.CALENDAR_DAYS, start)


def _wd(key: str, amount: int, start: StartEvent | None = None) -> DeadlineRule:
    return DeadlineRule(key, amount, DayUnit.WORKING_DAYS, start)


SANGGAU = Profile(
    name="sanggau",
    title="Perbup Sanggau 31/2020 dan 33/2019",
    rules=DEFAULT_RULES,
    auto_archive=AutoArchive.ON,
    auto_close=AutoClose.SILENCE,
    identity_required=False,
    kinds=NATIONAL_KINDS,
    classification_labels=SANGGAU_LABELS,
    channels=(_C.WEB, _C.API, _C.FACE_TO_FACE, _C.TELEPHONE, _C.LETTER, _C.EMAIL, _C.SMS,
              _C.WHATSAPP, _C.SOCIAL_MEDIA, _C.COMPLAINT_BOX),
    channel_names=("Tatap muka", "Call centre", "Telepon", "Surat", "E-mail", "SMS",
                   "WhatsApp", "Facebook", "Website", "Aplikasi terintegrasi",
                   "Kotak pengaduan"),
    reminded=(Reminded.HANDLING_UNIT, Reminded.VERIFIER_TEAM),
    notes=("after_answer_as_belitung_timur",),
)

BELITUNG_TIMUR = Profile(
    name="belitung-timur",
    title="Perbup Belitung Timur 79/2022",
    rules=frozen({**DEFAULT_RULES,
                  # Ps 24(1): the answer limits count from receipt in the system.
                  **{key: _wd(key, DEFAULT_RULES[key].amount, StartEvent.RECEIPT)
                     for key in ("answer_5", "answer_14", "answer_60")}}),
    auto_archive=AutoArchive.ON,
    auto_close=AutoClose.SILENCE,
    identity_required=True,
    kinds=NATIONAL_KINDS,
    classification_labels=DISPUTE_LABELS,
    channels=(_C.WEB, _C.API, _C.RADIO, _C.COMPLAINT_BOX, _C.SOCIAL_MEDIA, _C.SMS, _C.LETTER),
    channel_names=("Radio Belitung Timur", "Kotak saran", "Media sosial", "SMS 1708",
                   "lapor.go.id", "Aplikasi unit", "Surat (WBS)"),
    reminded=(Reminded.HANDLING_UNIT, Reminded.VERIFIER_TEAM),
    notes=("missing_data_period_from_profile",),
)

JAYAPURA = Profile(
    name="jayapura",
    title="Perbup Jayapura 58/2023",
    rules=frozen({**DEFAULT_RULES,
                  "verification": _days("verification", 3),  # Ps 15(2)
                  "answer_5": _days("answer_5", 5),  # Ps 16(7)
                  "answer_14": _days("answer_14", 14),
                  "answer_60": _days("answer_60", 60),
                  "missing_data": _days("missing_data", 30)}),  # Ps 14(4)
    auto_archive=AutoArchive.STAFF,
    auto_close=AutoClose.SATISFACTION,
    identity_required=True,
    kinds=JAYAPURA_KINDS,
    classification_labels=DISPUTE_LABELS,
    channels=(_C.WEB, _C.API, _C.FACE_TO_FACE, _C.SMS, _C.SOCIAL_MEDIA, _C.LETTER, _C.RADIO),
    channel_names=("Datang langsung", "SMS 1708", "jayapurakab.lapor.go.id", "Twitter",
                   "Aplikasi Android", "Surat", "Media sosial", "Radio Kenambai Umbai"),
    reminded=(),
    timezone="Asia/Jayapura",
    notes=("answer_start_from_profile",),
)

# Kepbup Kapuas 715/2021 is an action plan without case rules: those of Sanggau (RULES §4, §8).
KAPUAS = replace(
    SANGGAU,
    name="kapuas",
    title="Kepbup Kapuas 715/2021 (aturan kasus: Perbup Sanggau)",
    channels=(_C.WEB, _C.API, _C.COMPLAINT_BOX, _C.LETTER, _C.TELEPHONE, _C.SMS,
              _C.SOCIAL_MEDIA),
    channel_names=("Kotak pengaduan", "Surat", "Telepon", "SMS", "Media sosial", "Website",
                   "Aplikasi mobile"),
    notes=("case_rules_from_sanggau",),
)

PROFILES: Mapping[str, Profile] = MappingProxyType(
    {p.name: p for p in (SANGGAU, BELITUNG_TIMUR, JAYAPURA, KAPUAS)})
DEFAULT_PROFILE = "sanggau"
