"""SKM rounds: set up, collected (public web form, paper forms, the reporters' mailbox), computed,
followed up and published (RULES §9).

A response is never linked to a case or a person: no case column, no account, no address, only
the day. "One response per visit": the form carries a random nonce signed by the server, and a
response spends it (its hash is stored once spent), so showing a form writes nothing and a form
cannot be sent twice.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from wbs import audit
from wbs.accounts import StaffIdentity
from wbs.context import Context
from wbs.models import Unit
from wbs.reports import skm
from wbs.reports.tables import SkmResponse, SkmSpentNonce, SkmSurvey

# The coarse profile (Lamp. II.D.I.b.2): bands only, each optional.
PROFILE: Mapping[str, tuple[str, ...]] = {
    "sex": ("l", "p"),
    "age_band": ("<20", "20-29", "30-39", "40-49", "50+"),
    "education": ("sd", "smp", "sma", "diploma", "s1", "s2+"),
    "occupation": ("pns", "tni-polri", "swasta", "wirausaha", "pelajar", "lainnya"),
}
TERMS = ("short", "medium", "long")  # < 12, 12–24, > 24 months (Lamp. II.F.2)


class SurveyError(ValueError):
    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True)
class SurveyInfo:
    id: int
    unit_name: str
    service: str
    period_start: date
    period_end: date
    token: str
    weights: tuple[str, ...]
    population: int | None
    sample: int | None
    for_complaints: bool
    plan: list[dict[str, str]]
    published: bool


def _info(survey: SkmSurvey, unit_name: str) -> SurveyInfo:
    population = survey.population
    return SurveyInfo(survey.id, unit_name, survey.service, survey.period_start,
                      survey.period_end, survey.token, tuple(json.loads(survey.weights)),
                      population, skm.sample_size(population) if population else None,
                      survey.for_complaints, json.loads(survey.follow_up_plan),
                      survey.published_at is not None)


def _record(session: Session, ctx: Context, staff: StaffIdentity, action: str,
            details: dict[str, str | int | bool | None]) -> None:
    audit.record(session, ctx.audit_keys, actor=staff.username, role=staff.role, action=action,
                 details=details, now=ctx.now())


def create(ctx: Context, staff: StaffIdentity, *, unit_slug: str, service: str, start: date,
           end: date, weights: Sequence[str] | None = None, population: int | None = None,
           for_complaints: bool = False) -> str:
    """A new round; returns the public form's token."""
    service = " ".join(service.split())
    if not 3 <= len(service) <= 200:
        raise SurveyError("service_required")
    if end < start:
        raise SurveyError("period_invalid")
    try:
        parsed = skm.parse_weights(weights) if weights else skm.EQUAL_WEIGHTS
        if population is not None:
            skm.sample_size(population)
    except skm.SkmError as exc:
        raise SurveyError(exc.code) from exc
    token = secrets.token_urlsafe(16)
    with ctx.db.begin() as session:
        unit_id = session.scalar(select(Unit.id).where(Unit.slug == unit_slug))
        if unit_id is None:
            raise SurveyError("unknown_unit")
        session.add(SkmSurvey(unit_id=unit_id, service=service, period_start=start,
                              period_end=end, token=token,
                              weights=json.dumps(skm.weights_text(parsed)),
                              population=population, for_complaints=for_complaints,
                              follow_up_plan="[]"))
        try:
            session.flush()
        except IntegrityError as exc:
            raise SurveyError("survey_exists") from exc
        _record(session, ctx, staff, "skm.create", {"unit": unit_slug, "from": start.isoformat(),
                                                     "to": end.isoformat()})
    return token


def all_surveys(ctx: Context) -> list[SurveyInfo]:
    with ctx.db() as session:
        rows = session.execute(select(SkmSurvey, Unit.name).join(Unit)
                               .order_by(SkmSurvey.period_start.desc(), Unit.name))
        return [_info(s, name) for s, name in rows]


def by_token(ctx: Context, token: str) -> SurveyInfo | None:
    with ctx.db() as session:
        row = session.execute(select(SkmSurvey, Unit.name).join(Unit)
                              .where(SkmSurvey.token == token)).first()
        return _info(row[0], row[1]) if row else None


def open_for_complaints(ctx: Context, today: date) -> SurveyInfo | None:
    """The round that rates the complaint service itself, open today (the mailbox invites)."""
    with ctx.db() as session:
        row = session.execute(select(SkmSurvey, Unit.name).join(Unit).where(
            SkmSurvey.for_complaints.is_(True), SkmSurvey.period_start <= today,
            SkmSurvey.period_end >= today).order_by(SkmSurvey.id.desc())).first()
        return _info(row[0], row[1]) if row else None


# --- one response per visit ---------------------------------------------------------------

def _mac(ctx: Context, token: str, nonce: str) -> str:
    key = ctx.keys.derived("skm-form")
    return hmac.new(key, f"{token}:{nonce}".encode(), hashlib.sha256).hexdigest()


def new_visit(ctx: Context, token: str) -> str:
    nonce = secrets.token_urlsafe(16)
    return f"{nonce}.{_mac(ctx, token, nonce)}"


def parse_answers(values: Mapping[str, str]) -> tuple[list[int], dict[str, str | None]]:
    answers = []
    for i in range(1, skm.N_ELEMENTS + 1):
        raw = values.get(f"e{i}", "")
        if raw not in ("1", "2", "3", "4"):
            raise SurveyError("answers_required")
        answers.append(int(raw))
    profile: dict[str, str | None] = {}
    for name, allowed in PROFILE.items():
        value = values.get(name, "")
        if value and value not in allowed:
            raise SurveyError("profile_invalid")
        profile[name] = value or None
    return answers, profile


def _store(session: Session, survey_id: int, source: str, today: date, answers: list[int],
           profile: Mapping[str, str | None]) -> None:
    session.add(SkmResponse(survey_id=survey_id, source=source, answered_on=today,
                            **{f"e{i + 1}": a for i, a in enumerate(answers)}, **profile))


def submit(ctx: Context, token: str, visit: str, values: Mapping[str, str],
           source: str = "web") -> None:
    """A public response. Refused: an unknown or closed round, a forged or spent visit."""
    answers, profile = parse_answers(values)
    nonce, _dot, mac = visit.partition(".")
    if not nonce or not hmac.compare_digest(mac, _mac(ctx, token, nonce)):
        raise SurveyError("visit_invalid")
    today = ctx.today()
    with ctx.db.begin() as session:
        survey = session.scalars(select(SkmSurvey).where(SkmSurvey.token == token)).first()
        if survey is None or not survey.period_start <= today <= survey.period_end:
            raise SurveyError("survey_closed")
        session.add(SkmSpentNonce(nonce_hash=hashlib.sha256(visit.encode()).digest(),
                                  spent_on=today))
        try:
            session.flush()
        except IntegrityError as exc:
            raise SurveyError("already_sent") from exc
        _store(session, survey.id, source, today, answers, profile)


def enter_paper(ctx: Context, staff: StaffIdentity, survey_id: int,
                values: Mapping[str, str]) -> None:
    """A paper form typed in by staff: recorded as an act, never tied to a case."""
    answers, profile = parse_answers(values)
    with ctx.db.begin() as session:
        if session.get(SkmSurvey, survey_id) is None:
            raise SurveyError("unknown_survey")
        _store(session, survey_id, "paper", ctx.today(), answers, profile)
        _record(session, ctx, staff, "skm.paper", {"survey": survey_id})


@dataclass(frozen=True)
class SurveyResult:
    survey: SurveyInfo
    result: skm.Result | None
    by_source: dict[str, int]


def result_of(session: Session, survey: SkmSurvey, unit_name: str) -> SurveyResult:
    rows = session.execute(select(
        SkmResponse.source, SkmResponse.e1, SkmResponse.e2, SkmResponse.e3, SkmResponse.e4,
        SkmResponse.e5, SkmResponse.e6, SkmResponse.e7, SkmResponse.e8, SkmResponse.e9)
        .where(SkmResponse.survey_id == survey.id)).all()
    by_source: dict[str, int] = {}
    for row in rows:
        by_source[row[0]] = by_source.get(row[0], 0) + 1
    weights = skm.parse_weights(json.loads(survey.weights))
    result = skm.compute([tuple(row[1:]) for row in rows], weights)
    return SurveyResult(_info(survey, unit_name), result, by_source)


def results(ctx: Context, published_only: bool = False) -> list[SurveyResult]:
    with ctx.db() as session:
        query = select(SkmSurvey, Unit.name).join(Unit).order_by(SkmSurvey.period_start.desc(),
                                                                Unit.name)
        if published_only:
            query = query.where(SkmSurvey.published_at.is_not(None))
        return [result_of(session, s, name) for s, name in session.execute(query)]


def set_plan(ctx: Context, staff: StaffIdentity, survey_id: int,
             actions: Sequence[Mapping[str, str]]) -> None:
    """The follow-up plan: per action the element, term, programme, time and who is
    responsible (Lamp. II.F.2, II.G)."""
    plan = []
    for action in actions:
        element, term = action.get("element", ""), action.get("term", "")
        programme = " ".join(action.get("programme", "").split())[:500]
        when = " ".join(action.get("when", "").split())[:100]
        who = " ".join(action.get("who", "").split())[:200]
        if not (element.isdigit() and 1 <= int(element) <= skm.N_ELEMENTS) or \
                term not in TERMS or len(programme) < 5 or not when or not who:
            raise SurveyError("plan_invalid")
        plan.append({"element": element, "term": term, "programme": programme, "when": when,
                     "who": who})
    with ctx.db.begin() as session:
        survey = session.get(SkmSurvey, survey_id)
        if survey is None:
            raise SurveyError("unknown_survey")
        survey.follow_up_plan = json.dumps(plan)
        _record(session, ctx, staff, "skm.plan", {"survey": survey_id, "actions": len(plan)})


def publish(ctx: Context, staff: StaffIdentity, survey_id: int, now: datetime) -> None:
    with ctx.db.begin() as session:
        survey = session.get(SkmSurvey, survey_id)
        if survey is None:
            raise SurveyError("unknown_survey")
        survey.published_at = survey.published_at or now
        _record(session, ctx, staff, "skm.publish", {"survey": survey_id})
