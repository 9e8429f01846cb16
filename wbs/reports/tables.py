"""Tables of monitoring, evaluation and the satisfaction survey (RULES §8, §9).

Counts, dates, scores and labels only: nothing here holds report content or identity, so the
statistics and the survey need no case or unit key. A survey response is never linked to a case
(RULES §9, design choice): it has no case column, and its day is all it keeps of time.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from wbs.models import Base

SKM_ELEMENTS = 9


class CaseCategory(Base):
    """A category / topic of reports, in a list the administrator keeps (RULES §2)."""

    __tablename__ = "case_categories"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name_id: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class StatTarget(Base):
    """A yearly target of the action plan (Kepbup Kapuas 715/2021 Lamp. III.A): complaints
    received and the share completed, in percent."""

    __tablename__ = "stat_targets"
    __table_args__ = (
        CheckConstraint("received >= 0", name="received"),
        CheckConstraint("completed_pct >= 0 AND completed_pct <= 100", name="completed_pct"),
    )

    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    received: Mapped[int] = mapped_column(Integer)
    completed_pct: Mapped[int] = mapped_column(Integer)


class SkmSurvey(Base):
    """One SKM round: a service unit, a period, the weights, and the public link's token."""

    __tablename__ = "skm_surveys"
    __table_args__ = (
        UniqueConstraint("unit_id", "period_start"),
        CheckConstraint("period_end >= period_start", name="period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    service: Mapped[str] = mapped_column(String(200))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    # The public form's address; random, so surveys cannot be enumerated.
    token: Mapped[str] = mapped_column(String(32), unique=True)
    # Nine weights as a JSON list of decimal strings summing to 1 (Perbup Sanggau 33/2019).
    weights: Mapped[str] = mapped_column(Text)
    population: Mapped[int | None] = mapped_column(Integer)
    # The reporters' rating of the complaint service itself (RULES §9, last line).
    for_complaints: Mapped[bool] = mapped_column(Boolean, default=False)
    follow_up_plan: Mapped[str] = mapped_column(Text, default="[]")  # JSON list of actions
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SkmResponse(Base):
    __tablename__ = "skm_responses"
    __table_args__ = (
        CheckConstraint("source IN ('web', 'paper', 'mailbox')", name="source"),
        *(CheckConstraint(f"e{i} BETWEEN 1 AND 4", name=f"e{i}")
          for i in range(1, SKM_ELEMENTS + 1)),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("skm_surveys.id"), index=True)
    source: Mapped[str] = mapped_column(String(8))
    answered_on: Mapped[date] = mapped_column(Date)
    e1: Mapped[int] = mapped_column(SmallInteger)
    e2: Mapped[int] = mapped_column(SmallInteger)
    e3: Mapped[int] = mapped_column(SmallInteger)
    e4: Mapped[int] = mapped_column(SmallInteger)
    e5: Mapped[int] = mapped_column(SmallInteger)
    e6: Mapped[int] = mapped_column(SmallInteger)
    e7: Mapped[int] = mapped_column(SmallInteger)
    e8: Mapped[int] = mapped_column(SmallInteger)
    e9: Mapped[int] = mapped_column(SmallInteger)
    # The optional, coarse profile (Lamp. II.D.I.b.2): bands, never exact values.
    sex: Mapped[str | None] = mapped_column(String(8))
    age_band: Mapped[str | None] = mapped_column(String(8))
    education: Mapped[str | None] = mapped_column(String(16))
    occupation: Mapped[str | None] = mapped_column(String(16))


class SkmSpentNonce(Base):
    """A public form's one-time nonce, spent by its first response (one response per visit).

    The nonce is signed when the form is shown and only stored once spent, so showing the form
    writes nothing; the day is kept to purge old rows, never a time of day.
    """

    __tablename__ = "skm_spent_nonces"

    nonce_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    spent_on: Mapped[date] = mapped_column(Date, index=True)


class ReportDocument(Base):
    """A report as a document (RULES §8): its figures frozen when it was drawn up, so what was
    sent to the Bupati and what the public downloads never change afterwards."""

    __tablename__ = "report_documents"
    __table_args__ = (
        CheckConstraint("kind IN ('monthly', 'semester', 'unit_semester', 'yearly')",
                        name="kind"),
        CheckConstraint("period_end >= period_start", name="period"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    title: Mapped[str] = mapped_column(String(300))
    # Typed by the coordinator: corrective actions and recommendations (semester evaluation).
    corrective_actions: Mapped[str] = mapped_column(Text, default="")
    recommendations: Mapped[str] = mapped_column(Text, default="")
    snapshot: Mapped[str] = mapped_column(Text)  # JSON: the sections with their figures
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), index=True)


class StatDirtyDay(Base):
    """A day whose statistics roll-up is out of step with the cases: written by the database's
    own triggers (migration 0200) in the same transaction as any change to a case received that
    day, its tasks, or a deadline of it or starting that day. Append-only, so that concurrent
    writers never wait on one another; the refresh consumes the rows it has read."""

    __tablename__ = "stat_dirty_days"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date, index=True)


class StatDay(Base):
    """One refreshed day of the roll-up: its rows hold the figures as of `valid_from` to
    `valid_to` (inclusive), the span of as-of days over which none of the day's figures change
    (no response, completion, met or due date falls inside it)."""

    __tablename__ = "stat_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date)
    valid_to: Mapped[date] = mapped_column(Date)


class StatCaseDay(Base):
    """The cases received on `day`, by one dimension's value and status group (Kapuas)."""

    __tablename__ = "stat_case_days"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    dim: Mapped[str] = mapped_column(String(16))
    value: Mapped[str | None] = mapped_column(String(64))
    grp: Mapped[str] = mapped_column(String(16))
    received: Mapped[int] = mapped_column(Integer)
    responded: Mapped[int] = mapped_column(Integer)
    response_wd: Mapped[int] = mapped_column(Integer)
    completed: Mapped[int] = mapped_column(Integer)
    completion_wd: Mapped[int] = mapped_column(Integer)
    overdue: Mapped[int] = mapped_column(Integer)
    # Completed by the end of the year of `day` (the targets' count of past years).
    completed_year: Mapped[int] = mapped_column(Integer)


class StatLimitDay(Base):
    """The Pemda's obligations that started on `day`, by limit, owing unit and status."""

    __tablename__ = "stat_limit_days"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(32))
    rule_key: Mapped[str] = mapped_column(String(64))
    unit_id: Mapped[int | None] = mapped_column(Integer)
    on_time: Mapped[int] = mapped_column(Integer)
    late: Mapped[int] = mapped_column(Integer)
    overdue: Mapped[int] = mapped_column(Integer)
    running: Mapped[int] = mapped_column(Integer)
