"""Issue 8, finding 10: answers about cases the actor may not see were oracles.

Declaring a conflict of interest answered 403 for a case naming the declarer's own unit and 303
for others, so a liaison learned which case numbers name its unit and a verifier which are
whistleblowing; the shared, sequential numbering showed whistleblowing reports to the verifier
as gaps. Now every answer about a case the actor may not see is the same 404 as for a number
that does not exist (the refusal still leaves a `denied` audit row), and new case numbers are
random.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.conftest import Clock, csrf_from, sign_in
from wbs.cases import intake
from wbs.context import Context
from wbs.enums import Channel, ReportKind
from wbs.models import AuditEntry, Case
from wbs.web.case_views import _action_call

NONCE_RE = re.compile(r"nonce-[A-Za-z0-9+/=_-]+|nonce=\"[^\"]+\"")
CSRF_RE = re.compile(r'name="csrf_token" value="[^"]+"')
# What every workflow form could carry: each action reads the fields it needs.
ACTION_FIELDS = {
    "reason": "Alasan yang cukup panjang", "text": "Jawaban atas pengaduan ini",
    "classification": "aspiration", "resolution_days": "10", "unit_1": "dinas-pupr",
    "target": "BPK", "suggested_unit": "dinas-pupr", "outcome": "substantiated",
    "purpose": "Verification and classification", "body": "Pesan", "decision": "approve",
}
ACTIONS = sorted(a for a in (
    "verify_and_dispose", "add_disposition", "request_info", "archive", "forward_external",
    "hand_to_apip", "apip_intake", "start_processing", "return_disposition", "answer",
    "coordinator_close") if _action_call(a, {}) is not None)
# Every staff route that takes a case number: (method, path template).
ROUTES = [
    ("GET", "/staf/kasus/{n}"),
    ("POST", "/staf/kasus/{n}/tujuan"),
    ("POST", "/staf/kasus/{n}/pesan"),
    ("GET", "/staf/kasus/{n}/lampiran/1"),
    ("POST", "/staf/kasus/{n}/konflik"),
    *[("POST", f"/staf/kasus/{{n}}/aksi/{a}") for a in ACTIONS],
    ("GET", "/staf/kasus/{n}/dosier.json"),
    ("GET", "/staf/kasus/{n}/dosier.pdf"),
    ("GET", "/staf/kasus/{n}/identitas"),
    ("POST", "/staf/kasus/{n}/identitas/minta"),
    ("GET", "/staf/kasus?mirip={n}"),
    ("GET", "/staf/kasus/{n}/ganti-rugi"),
    *[("POST", f"/staf/kasus/{{n}}/ganti-rugi/{step}") for step in ("klaim", "lengkap", "putusan")],
]
HEADERS = ("content-type", "location", "content-length", "retry-after", "cache-control",
           "content-disposition")


def _submit(ctx: Context, kind: ReportKind, unit: str) -> str:
    report = intake.ReportInput(kind=kind, title="Judul laporan", what="Isi laporan",
                                reported_unit=unit)
    return intake.submit(ctx, report, [], Channel.WEB).case_number


def _absent(ctx: Context, like: str) -> str:
    """A number of the same shape and length that names no case."""
    with ctx.db() as s:
        taken = set(s.scalars(select(Case.case_number)))
    for ch in "ZYXWVTSRQP":
        candidate = like[:-1] + ch
        if candidate not in taken:
            return candidate
    raise AssertionError("no free number")


def _denied(ctx: Context) -> int:
    with ctx.db() as s:
        return int(s.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.outcome == "denied")) or 0)


def _shape(response: Any, number: str) -> tuple[int, str, dict[str, str]]:
    body = CSRF_RE.sub('name="csrf_token" value="-"', response.text)
    body = NONCE_RE.sub("nonce", body).replace(number, "{n}")
    headers = {h: NONCE_RE.sub("nonce", response.headers.get(h, "")).replace(number, "{n}")
               for h in (*HEADERS, "content-security-policy")}
    if headers["content-length"]:
        headers["content-length"] = "*"  # compared through the body itself
    return response.status_code, body, headers


def _ask(client: TestClient, method: str, path: str, token: str) -> Any:
    if method == "GET":
        return client.get(path)
    return client.post(path, data={"csrf_token": token, **ACTION_FIELDS})


@pytest.fixture
def world(ctx: Context, demo: Any) -> dict[str, str]:
    return {
        # Held by the verifier team, naming the Dinas Kesehatan.
        "complaint_kesehatan": _submit(ctx, ReportKind.COMPLAINT, "dinas-kesehatan"),
        # Held by the verifier team, naming another unit.
        "complaint_other": _submit(ctx, ReportKind.COMPLAINT, "dinas-pupr"),
        # Held by APIP.
        "whistleblowing": _submit(ctx, ReportKind.WHISTLEBLOWING, "dinas-pupr"),
    }


# actor → the cases of `world` it may not see.
HIDDEN = {
    "penghubung.kesehatan": ["complaint_kesehatan", "complaint_other", "whistleblowing"],
    "verifikator": ["whistleblowing"],
    "pimpinan": ["whistleblowing"],
    "investigator": ["complaint_kesehatan"],
    "admin": ["complaint_other", "whistleblowing"],
}


@pytest.mark.parametrize("actor", sorted(HIDDEN))
def test_finding_10_a_hidden_case_answers_exactly_like_an_absent_one(
        client: TestClient, demo: Any, clock: Clock, ctx: Context, world: dict[str, str],
        actor: str) -> None:
    sign_in(client, demo[actor], actor, clock)
    token = csrf_from(client, "/staf/kata-sandi")
    differences = []
    for name in HIDDEN[actor]:
        hidden = world[name]
        absent = _absent(ctx, hidden)
        for method, template in ROUTES:
            before = _denied(ctx)
            seen = _ask(client, method, template.format(n=hidden), token)
            refused_with_trace = _denied(ctx) > before
            unknown = _ask(client, method, template.format(n=absent), token)
            if _shape(seen, hidden) != _shape(unknown, absent):
                differences.append((name, method, template, seen.status_code,
                                    unknown.status_code))
            assert seen.status_code in (403, 404), (name, template, seen.status_code)
            assert refused_with_trace, ("no denied audit row", name, template)
    assert differences == []


def test_finding_10_conflict_declaration_is_no_oracle(
        client: TestClient, demo: Any, clock: Clock, ctx: Context,
        world: dict[str, str]) -> None:
    """The exact oracle of the report: 403 for the own unit, 303 for the others."""
    sign_in(client, demo["penghubung.kesehatan"], "penghubung.kesehatan", clock)
    token = csrf_from(client, "/staf/kata-sandi")
    answers = {name: client.post(f"/staf/kasus/{number}/konflik",
                                 data={"csrf_token": token, "reason": "Saudara saya"}).status_code
               for name, number in world.items()}
    assert answers == dict.fromkeys(world, 404)


def test_finding_10_a_visible_case_still_takes_a_conflict(
        client: TestClient, demo: Any, clock: Clock, ctx: Context,
        world: dict[str, str]) -> None:
    sign_in(client, demo["verifikator"], "verifikator", clock)
    token = csrf_from(client, "/staf/kata-sandi")
    number = world["complaint_other"]
    answer = client.post(f"/staf/kasus/{number}/konflik",
                         data={"csrf_token": token, "reason": "Saudara saya"})
    assert answer.status_code == 303
    # From now on the case is hidden from this verifier, like any other it may not see.
    after = client.get(f"/staf/kasus/{number}")
    unknown = client.get(f"/staf/kasus/{_absent(ctx, number)}")
    assert after.status_code == 404
    assert _shape(after, number) == _shape(unknown, _absent(ctx, number))


def test_finding_10_case_numbers_reveal_no_order_or_count(ctx: Context, demo: Any) -> None:
    kinds = [ReportKind.COMPLAINT, ReportKind.WHISTLEBLOWING] * 10
    numbers = [_submit(ctx, kind, "dinas-pupr") for kind in kinds]
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        assert re.fullmatch(r"WBS-2026-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", number), number
    # The complaints a verifier sees say nothing of the whistleblowing reports between them:
    # the numbers do not follow the order of receipt (20! orders, one of them sorted).
    assert sorted(numbers) != numbers
