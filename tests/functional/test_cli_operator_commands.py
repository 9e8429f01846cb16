"""The operator's command line (`wbs user | unit | demo | calendar | recovery | jobs | serve`): what
each command prints, its exit code, what it refuses, and what a refusal leaves untouched.

Every command runs in-process through `wbs.cli.main` against the test database (SQLite, and
PostgreSQL in `make pg`), configured through the same WBS_* variables an operator sets.
"""

from __future__ import annotations

import io
import json
import re
import stat
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from tests.conftest import Clock, sign_in
from wbs import audit, cli, instance
from wbs.context import Context
from wbs.models import AuditEntry, Case, RecoveryKey, Unit, UnitKeyWrap, User
from wbs.settings import Settings

SECRET_RE = re.compile(r"secret: ([A-Z2-7]{16,})")


@pytest.fixture
def operator(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The instance of the `settings` fixture, as the environment of a shell names it."""
    for name, value in (("DATABASE_URL", settings.database_url),
                        ("KEYS_DIR", str(settings.keys_dir)), ("DATA_DIR", str(settings.data_dir)),
                        ("BASE_URL", settings.base_url), ("ARGON2", settings.argon2.encode()),
                        ("ENV", "development")):
        monkeypatch.setenv(f"WBS_{name}", value)
    for name in ("WBS_NEW_PASSWORD", "WBS_MEMBER_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    return settings


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def actions(ctx: Context) -> list[str]:
    with ctx.db() as session:
        return list(session.scalars(select(AuditEntry.action).order_by(AuditEntry.seq)))


def outcomes(ctx: Context) -> list[tuple[str, str]]:
    with ctx.db() as session:
        return [(row.action, row.outcome) for row in session.execute(
            select(AuditEntry.action, AuditEntry.outcome).order_by(AuditEntry.seq))]


def log_verifies(ctx: Context) -> bool:
    k = ctx.audit_keys
    with ctx.db() as session:
        return audit.verify_log(session, k.public, k.origin, k.key_name).ok


def add_user(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, username: str,
             role: str, unit: str | None, password: str) -> tuple[int, str, str]:
    monkeypatch.setenv("WBS_NEW_PASSWORD", password)
    extra = ["--unit", unit] if unit else []
    return run(capsys, "user", "add", username, "--name", f"Nama {username}", "--role", role,
               *extra)


def test_user_add_refuses_an_unknown_unit_a_short_password_and_a_role_foreign_to_the_unit(
        operator: Settings, ctx: Context, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(capsys, "unit", "add", "inspektorat", "--name", "Inspektorat Daerah",
               "--kind", "apip")[0] == 0
    assert add_user(capsys, monkeypatch, "budi", "investigator", "nowhere",
                    "a-long-password-1") == (2, "", "wbs: no unit nowhere\n")
    assert add_user(capsys, monkeypatch, "budi", "investigator", "inspektorat",
                    "short-pw") == (2, "", "wbs: password must have at least 12 characters\n")
    code, out, err = add_user(capsys, monkeypatch, "budi", "liaison", "inspektorat",
                              "a-long-password-1")
    assert (code, out) == (2, "") and err == "wbs: a liaison cannot belong to this unit\n"
    with ctx.db() as session:
        assert session.scalar(select(func.count()).select_from(User)) == 0
    assert actions(ctx) == ["unit.create"]  # the refusals changed nothing
    assert run(capsys, "user", "list") == (0, "", "")


def test_a_user_added_on_the_command_line_signs_in_with_the_secret_it_printed_once(
        operator: Settings, ctx: Context, client: TestClient, clock: Clock,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    code, out, _ = add_user(capsys, monkeypatch, "Auditor", "auditor", None, "a-long-password-1")
    assert code == 0 and out.startswith("user Auditor created. Enrol this TOTP secret now")
    assert "access to the unit's cases" not in out  # no unit, no key to wait for
    secret = SECRET_RE.search(out)
    assert secret
    assert sign_in(client, {"password": "a-long-password-1", "totp_secret": secret.group(1)},
                   "auditor", clock).status_code == 303  # stored lower-cased
    code, out, _ = run(capsys, "user", "list")
    assert code == 0 and out.split() == ["auditor", "auditor", "active"]
    assert actions(ctx) == ["user.create", "auth.sign_in"] and log_verifies(ctx)


def test_disable_removes_keys_and_sessions_and_reset_gives_a_new_password_and_secret(
        operator: Settings, ctx: Context, app: Any, clock: Clock,
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert run(capsys, "unit", "add", "inspektorat", "--name", "Inspektorat Daerah",
               "--kind", "apip")[0] == 0
    code, out, _ = add_user(capsys, monkeypatch, "investigator", "investigator", "inspektorat",
                            "first-password-1")
    assert code == 0 and "unless this is the unit's first member" in out
    secret = SECRET_RE.search(out)
    assert secret
    creds = {"password": "first-password-1", "totp_secret": secret.group(1)}
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as client:
        assert sign_in(client, creds, "investigator", clock).status_code == 303
        clock.advance(seconds=30)

        assert run(capsys, "user", "disable", "nobody") == (2, "", "wbs: no user nobody\n")
        code, out, _ = run(capsys, "user", "disable", "investigator")
        assert code == 0 and out.startswith("user investigator disabled; removed ")
        assert "1 unit key wraps" in out and "1 sessions" in out
        assert client.get("/staf").status_code in (302, 303)  # its session is gone
        assert sign_in(client, creds, "investigator", clock).status_code == 401
        assert run(capsys, "user", "list")[1].split() == ["investigator", "investigator",
                                                          "disabled"]
        with ctx.db() as session:
            assert session.scalar(select(func.count()).select_from(UnitKeyWrap)) == 0

        monkeypatch.setenv("WBS_NEW_PASSWORD", "too-short")
        assert run(capsys, "user", "reset", "investigator") == (
            2, "", "wbs: password must have at least 12 characters\n")
        monkeypatch.setenv("WBS_NEW_PASSWORD", "second-password-2")
        assert run(capsys, "user", "reset", "nobody") == (2, "", "wbs: no user nobody\n")
        code, out, _ = run(capsys, "user", "reset", "investigator")
        assert code == 0 and "the old private key cannot be recovered" in out
        new_secret = SECRET_RE.search(out)
        assert new_secret and new_secret.group(1) != secret.group(1)
    assert outcomes(ctx) == [("unit.create", "allowed"), ("key.unit.grant", "allowed"),
                             ("user.create", "allowed"), ("auth.sign_in", "allowed"),
                             ("user.disable", "allowed"), ("auth.sign_in", "denied"),
                             ("user.reset", "allowed")]
    assert log_verifies(ctx)


def test_unit_add_refuses_a_slug_taken_and_unit_list_prints_every_unit(
        operator: Settings, ctx: Context, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "unit", "add", "dinas-kesehatan", "--name", "Dinas Kesehatan",
               "--kind", "agency") == (
        0, "unit dinas-kesehatan created; its key goes to its first member\n", "")
    assert run(capsys, "unit", "add", "dinas-kesehatan", "--name", "Lain", "--kind", "bumd") == (
        2, "", "wbs: unit dinas-kesehatan already exists\n")
    assert run(capsys, "unit", "add", "bumd-air", "--name", "Perumda Air Minum",
               "--kind", "bumd")[0] == 0
    code, out, _ = run(capsys, "unit", "list")
    assert code == 0
    assert [line.split(None, 2) for line in out.splitlines()] == [
        ["bumd-air", "bumd", "Perumda Air Minum"],
        ["dinas-kesehatan", "agency", "Dinas Kesehatan"]]
    assert actions(ctx) == ["unit.create", "unit.create"]


def test_unit_rotate_refuses_wrong_password_and_non_members_then_rotates(
        operator: Settings, ctx: Context, demo: dict[str, dict[str, str]],
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    before = actions(ctx)
    monkeypatch.setenv("WBS_MEMBER_PASSWORD", "not-the-password")
    assert run(capsys, "unit", "rotate", "inspektorat", "--member", "investigator") == (
        2, "", "wbs: wrong password (or the account is disabled)\n")
    monkeypatch.setenv("WBS_MEMBER_PASSWORD", demo["verifikator"]["password"])
    assert run(capsys, "unit", "rotate", "inspektorat", "--member", "verifikator") == (
        2, "", "wbs: verifikator is not a member of inspektorat\n")
    monkeypatch.setenv("WBS_MEMBER_PASSWORD", demo["investigator"]["password"])
    assert run(capsys, "unit", "rotate", "inspektorat", "--member", "ghost") == (
        2, "", "wbs: no user ghost\n")
    # Refusals rotate nothing; each leaves a denied row.
    assert outcomes(ctx)[len(before):] == [("key.unit.rotate", "denied")] * 3
    with ctx.db() as session:
        serial = session.scalars(select(Unit.key_serial)
                                 .where(Unit.slug == "inspektorat")).one()
    assert run(capsys, "unit", "rotate", "inspektorat", "--member", "investigator") == (
        0, f"unit inspektorat: key pair {serial + 1}; 0 case keys re-wrapped\n", "")
    assert outcomes(ctx)[len(before) + 3:] == [("key.unit.rotate.start", "allowed"),
                                               ("key.unit.rotate", "allowed")]


def test_unit_rotate_refuses_a_member_who_was_never_given_the_unit_key(
        operator: Settings, ctx: Context, demo: dict[str, dict[str, str]],
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    assert add_user(capsys, monkeypatch, "investigator3", "investigator", "inspektorat",
                    "third-password-3")[0] == 0
    monkeypatch.setenv("WBS_MEMBER_PASSWORD", "third-password-3")
    assert run(capsys, "unit", "rotate", "inspektorat", "--member", "investigator3") == (
        2, "", "wbs: investigator3 does not hold the unit's key\n")


def test_demo_refuses_outside_development_and_writes_its_credentials_once(
        operator: Settings, ctx: Context, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    path = operator.data_dir / "demo-credentials.json"
    monkeypatch.setenv("WBS_ENV", "production")
    code, out, err = run(capsys, "demo")
    assert (code, out) == (2, "") and "only runs with WBS_ENV=development" in err
    assert not path.exists() and actions(ctx) == []

    monkeypatch.setenv("WBS_ENV", "development")
    code, out, _ = run(capsys, "demo")
    assert code == 0 and f"written to {path} (0600)" in out
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    written = json.loads(path.read_text())
    assert written["admin"]["role"] == "administrator" and written["admin"]["unit"] == "sekretariat"
    assert all(v["password"].startswith("demo-") for v in written.values())

    code, out, _ = run(capsys, "demo", "--cases", "7")
    assert code == 0 and out.splitlines() == [
        f"demo data already present; credentials are in {path}",
        "7 bulk cases added (metadata only: their sealed content is a fixed blob no key opens)"]
    assert json.loads(path.read_text()) == written  # the first credentials are kept
    with ctx.db() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 7


def test_calendar_commands_set_days_and_rules_and_refuse_bad_input(
        operator: Settings, ctx: Context, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "calendar", "holiday", "2026-08-28", "Hari jadi kabupaten")
    assert code == 0 and "2026-08-28  holiday  Hari jadi kabupaten" in out.splitlines()
    code, out, _ = run(capsys, "calendar", "workday", "2026-12-24", "Cuti bersama dibatalkan")
    assert code == 0 and "2026-12-24  working  Cuti bersama dibatalkan" in out.splitlines()
    code, out, _ = run(capsys, "calendar", "rule", "missing_data", "30", "calendar_days")
    assert code == 0
    changed = [line for line in out.splitlines() if line.endswith("(changed)")]
    assert [line.split() for line in changed] == [["missing_data", "30", "calendar_days",
                                                   "(changed)"]]
    code, out, _ = run(capsys, "calendar", "list")
    assert code == 0 and "2026-08-28  holiday  Hari jadi kabupaten" in out

    before = actions(ctx)
    assert run(capsys, "calendar", "holiday", "28-08-2026", "Salah") == (
        2, "", "wbs: dates are YYYY-MM-DD\n")
    assert run(capsys, "calendar", "holiday", "2026-09-01", "  ") == (
        2, "", "wbs: label_required\n")
    assert run(capsys, "calendar", "rule", "no_such_rule", "3", "working_days") == (
        2, "", "wbs: unknown_rule\n")
    assert actions(ctx) == before  # nothing changed, nothing recorded


def test_recovery_setup_and_use_through_standard_input(
        operator: Settings, ctx: Context, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    for slug, kind in (("inspektorat", "apip"), ("tim-pengelola", "verifier_team")):
        assert run(capsys, "unit", "add", slug, "--name", slug.title(), "--kind", kind)[0] == 0
    assert run(capsys, "recovery", "setup", "--holders", "Sekda;Sekda", "--threshold", "2") == (
        2, "", "wbs: name 2 to 16 different officials, separated by ';', and a threshold between "
               "2 and their number\n")
    code, out, _ = run(capsys, "recovery", "setup", "--holders", "Sekda; Inspektur;Kominfo",
                       "--threshold", "2")
    assert code == 0 and "any 2 of these 3 officials" in out
    blocks = out.split("\n\n")[1:]
    assert [block.split(":\n")[0] for block in blocks] == ["Sekda", "Inspektur", "Kominfo"]
    words = [block.split(":\n  ")[1].strip() for block in blocks]
    assert all(len(w.split()) == 33 for w in words)
    assert run(capsys, "recovery", "setup", "--holders", "A;B", "--threshold", "2") == (
        2, "", "wbs: a recovery key exists already\n")
    with ctx.db() as session:
        assert session.get(RecoveryKey, 1) is not None
    for username, role, unit in (("investigator", "investigator", "inspektorat"),
                                 ("verifikator", "verifier", "tim-pengelola")):
        assert add_user(capsys, monkeypatch, username, role, unit, "a-long-password-1")[0] == 0

    def use(slug: str, to: str, shares: list[str]) -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(shares) + "\n\n"))
        return run(capsys, "recovery", "use", slug, "--to", to)

    assert use("inspektorat", "investigator", words[:1]) == (
        2, "", "wbs: the shares do not fit together or are too few\n")
    assert use("inspektorat", "verifikator", words[1:]) == (
        2, "", "wbs: verifikator is not an active member of inspektorat\n")
    # The refused uses gave nothing and each left a denied row.
    assert [o for a, o in outcomes(ctx) if a == "recovery.use"] == ["denied", "denied"]
    code, out, _ = use("inspektorat", "investigator", [words[0], words[2]])
    assert (code, out) == (0, "investigator holds the key of inspektorat again; this use is "
                              "audited and shown on the transparency page\n")
    assert outcomes(ctx)[-1] == ("recovery.use", "allowed") and log_verifies(ctx)


def test_recovery_use_before_any_setup_says_so(
        operator: Settings, ctx: Context, demo: dict[str, dict[str, str]],
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from shamir_mnemonic import generate_mnemonics

    shares = generate_mnemonics(1, [(2, 3)], b"\x02" * 32)[0][:2]
    monkeypatch.setattr("sys.stdin", io.StringIO("\n".join(shares)))
    assert run(capsys, "recovery", "use", "inspektorat", "--to", "investigator") == (
        2, "", "wbs: no recovery key was set up (wbs recovery setup)\n")


def test_jobs_run_prints_each_count_by_name(operator: Settings, ctx: Context,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "jobs", "run")
    assert code == 0
    counts = dict(pair.split("=") for pair in out.split())
    assert list(counts) == sorted(counts)
    assert counts["cases_shredded"] == "0" and counts["emails_sent"] == "0"
    assert int(counts["audit_tree_size"]) >= 0


def test_serve_refuses_to_start_without_safe_instance_keys(
        operator: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    key = Path(operator.keys_dir) / instance.PEPPER_FILE
    key.chmod(0o644)
    code, out, err = run(capsys, "serve", "--port", "0")
    assert (code, out) == (2, "") and err.startswith("wbs: ") and key.name in err
    # Every command that reads the keys refuses the same way, before touching the database.
    code, _, err = run(capsys, "jobs", "run")
    assert code == 2 and key.name in err


def test_init_keeps_the_keys_it_finds_and_names_the_profile_and_its_time_zone(
        operator: Settings, ctx: Context, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from wbs.integrations import keys as lapor_keys
    from wbs.profiles import store

    before = {p.name: p.read_bytes() for p in Path(operator.keys_dir).iterdir()}
    code, out, _ = run(capsys, "init", "--profile", "jayapura")
    assert code == 0 and out.splitlines() == [
        f"instance keys already exist in {operator.keys_dir}; kept",
        f"created connector key {operator.keys_dir / lapor_keys.KEY_FILE} (mode 0600)",
        "database schema is at the latest migration",
        "regional rule profile: jayapura (Perbup Jayapura 58/2023)",
        "note: this profile's region keeps Asia/Jayapura; set WBS_TIMEZONE"]
    assert {n: (Path(operator.keys_dir) / n).read_bytes() for n in before} == before
    assert store.current(ctx).name == "jayapura"

    monkeypatch.setenv("WBS_TIMEZONE", "Asia/Jayapura")  # the note has been followed
    code, out, _ = run(capsys, "init", "--profile", "jayapura")
    assert code == 0 and "note:" not in out and "connector key" not in out
    with pytest.raises(SystemExit) as exit_:
        run(capsys, "init", "--profile", "atlantis")
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "invalid choice: 'atlantis'" in err and "kapuas" in err  # the shipped names offered
    assert store.current(ctx).name == "jayapura"


class Terminal(io.StringIO):
    """Standard error as a terminal: progress bars are drawn only there."""

    def isatty(self) -> bool:
        return True


def test_backup_asks_for_the_passphrase_twice_and_draws_its_progress_on_a_terminal(
        operator: Settings, ctx: Context, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    archive = tmp_path / "typed.backup"
    typed = iter(["a passphrase typed", "a passphrase mistyped"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(typed))
    assert run(capsys, "backup", str(archive)) == (2, "", "wbs: the two passphrases differ\n")
    assert not archive.exists()

    typed = iter(["a passphrase typed", "a passphrase typed"])
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    code = cli.main(["backup", str(archive)])
    out = capsys.readouterr().out
    assert code == 0 and out == f"backup written to {archive} ({archive.stat().st_size:,} bytes)\n"
    bars = terminal.getvalue()
    assert bars.startswith("\rbackup: [") and bars.endswith("\n")  # the last bar ends its line
    last = bars.rstrip("\n").split("\r")[-1]
    assert re.fullmatch(r"backup: \[#{30}\] ([0-9.,]+) / \1 MB", last)

    # Restore asks once, and a wrong passphrase installs nothing.
    typed = iter(["not the passphrase"])
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert cli.main(["restore", str(archive), "--force"]) == 2
    assert terminal.getvalue() == "wbs: wrong passphrase, or the backup is damaged\n"


def test_demo_cases_draw_a_bar_counted_in_cases_on_a_terminal(
        operator: Settings, ctx: Context, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)
    assert cli.main(["demo", "--cases", "3"]) == 0
    last = terminal.getvalue().rstrip("\n").split("\r")[-1]
    assert last == "cases: [" + "#" * 30 + "] 3 / 3 cases"
    assert "\r" not in capsys.readouterr().out  # the bar stays off standard output


def test_lapor_import_names_a_file_it_cannot_read(
        operator: Settings, ctx: Context, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "lapor-export.json"
    assert run(capsys, "lapor", "import", str(missing)) == (
        2, "", f"wbs: cannot read {missing}: No such file or directory\n")
    assert actions(ctx) == []


def test_serve_hands_uvicorn_its_limits_and_keeps_its_access_log_and_server_header_off(
        operator: Settings, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    from wbs import serving

    seen: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: seen.update(app=app, **kw))
    monkeypatch.delenv("WBS_RATE_LIMIT_PROCESSES", raising=False)
    monkeypatch.setenv(serving.HEADER_TIMEOUT_ENV, "")
    monkeypatch.setenv("WBS_TRUSTED_PROXIES", "10.0.0.1")
    assert cli.main(["serve", "--workers", "3", "--header-timeout", "2.5", "--keep-alive", "7",
                     "--limit-concurrency", "40", "--max-header-bytes", "8192",
                     "--proxy-headers"]) == 0
    import logging
    import os

    assert seen["app"] == "wbs.asgi:app" and seen["workers"] == 3
    assert seen["http"] == "wbs.serving:WbsH11Protocol"
    assert (seen["access_log"], seen["server_header"]) == (False, False)
    assert (seen["timeout_keep_alive"], seen["limit_concurrency"],
            seen["h11_max_incomplete_event_size"]) == (7, 40, 8192)
    assert seen["proxy_headers"] is True and seen["forwarded_allow_ips"] == "10.0.0.1"
    # Spawned workers learn the head deadline and their share of the rate ceilings here.
    assert os.environ[serving.HEADER_TIMEOUT_ENV] == "2.5"
    assert os.environ["WBS_RATE_LIMIT_PROCESSES"] == "3"
    assert logging.getLogger("uvicorn.access").disabled


def test_jobs_loop_runs_until_stopped_and_logs_a_failure_without_its_message(
        operator: Settings, ctx: Context, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    import threading
    import time

    from wbs import jobs

    real = jobs.run_all
    rounds: list[int] = []

    def flaky(context: Context) -> dict[str, int]:
        rounds.append(1)
        if len(rounds) == 1:
            raise RuntimeError("Pak Budi reported the bupati")  # data in an exception message
        return real(context)

    monkeypatch.setattr(jobs, "run_all", flaky)
    caplog.set_level("INFO", logger="wbs")
    stop = cli.jobs_loop(operator, 0.01)
    deadline = time.monotonic() + 30
    while len(rounds) < 2 or not any(r.getMessage() == "jobs_run" for r in caplog.records):
        assert time.monotonic() < deadline, "the loop did not run twice"
        time.sleep(0.02)
    stop.set()
    worker = next(t for t in threading.enumerate() if t.name == "wbs-jobs")
    worker.join(timeout=30)
    assert not worker.is_alive()
    failed = next(r for r in caplog.records if r.getMessage() == "jobs_failed")
    assert failed.levelname == "ERROR"
    fields = failed.fields  # type: ignore[attr-defined]
    assert fields["exception"] == "RuntimeError" and "Budi" not in str(fields)
    ran = next(r for r in caplog.records if r.getMessage() == "jobs_run")
    assert ran.fields["cases_shredded"] == 0  # type: ignore[attr-defined]


def test_hold_list_prints_every_hold(operator: Settings, ctx: Context, demo: Any,
                                     capsys: pytest.CaptureFixture[str],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.functional.workflow_helpers import file_report

    assert run(capsys, "hold", "list") == (0, "", "")
    number = file_report(ctx).number
    monkeypatch.setenv("SUDO_USER", "pak.operator")
    assert run(capsys, "hold", "add", number, "--reason", "Penyidikan  Kejaksaan")[0] == 0
    code, out, _ = run(capsys, "hold", "list")
    [line] = out.splitlines()
    assert code == 0 and re.fullmatch(
        rf"{number}  since \d{{4}}-\d{{2}}-\d{{2}}  by cli:pak\.operator: Penyidikan Kejaksaan",
        line)
    assert actions(ctx)[-1] == "case.legal_hold"


def test_a_backup_sealed_to_a_key_restores_with_its_identity_file(
        operator: Settings, ctx: Context, tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    from pyrage import x25519

    def no_prompt(prompt: str = "") -> str:
        raise AssertionError(f"asked {prompt!r}: a key-sealed backup needs no passphrase")

    monkeypatch.setattr("getpass.getpass", no_prompt)
    assert run(capsys, "unit", "add", "inspektorat", "--name", "Inspektorat", "--kind",
               "apip")[0] == 0
    identity = x25519.Identity.generate()
    archive = tmp_path / "kunci.backup"
    code, out, _ = run(capsys, "backup", str(archive), "--recipient", str(identity.to_public()))
    assert code == 0 and out.startswith(f"backup written to {archive}")
    key_file = tmp_path / "identity.txt"
    key_file.write_text(str(identity) + "\n")
    # Without the identity file: refused at once, without asking for a passphrase it cannot use.
    assert run(capsys, "restore", str(archive)) == (
        2, "", "wbs: this backup is sealed to a public key: give its identity file\n")
    code, out, _ = run(capsys, "restore", str(archive), "--identity", str(key_file), "--force")
    assert code == 0 and out.startswith("restored ") and "audit log OK: 1 entries" in out


def test_serve_starts_the_jobs_loop_when_asked(
        operator: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    import uvicorn

    started: list[tuple[str, float]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: None)
    monkeypatch.setattr(cli, "jobs_loop",
                        lambda settings, every: started.append((settings.database_url, every)))
    assert cli.main(["serve", "--jobs-every", "300"]) == 0
    assert started == [(operator.database_url, 300)]
    assert cli.main(["serve"]) == 0 and len(started) == 1  # 0, the default: no loop


def test_files_that_cannot_be_read_are_named_not_a_traceback(
        operator: Settings, ctx: Context, tmp_path: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "tidak-ada"
    archive = tmp_path / "baru.backup"
    expected = (2, "", f"wbs: {missing}: No such file or directory\n")
    assert run(capsys, "restore", str(missing), "--passphrase-file", str(missing)) == expected
    assert run(capsys, "backup", str(archive), "--passphrase-file", str(missing)) == expected
    assert not archive.exists()
    assert run(capsys, "restore", str(missing), "--identity", str(missing)) == expected
    assert run(capsys, "audit", "verify", "--checkpoint", str(missing)) == expected
