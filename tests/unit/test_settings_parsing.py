"""Operator settings: a typo is refused at start-up with a message naming it, never guessed at
(a retention of days instead of years would destroy last week's cases); secrets never print."""

from __future__ import annotations

from datetime import time

import pytest

from wbs.settings import (
    DEFAULT_RATE_CEILINGS,
    DEFAULT_RATE_LIMITS,
    DEFAULT_RETENTION,
    Secret,
    Settings,
    parse_batch_times,
    parse_rate_ceilings,
    parse_rate_limits,
    parse_retention,
)

ONION = "a" * 56 + ".onion"


def test_retention_changes_only_what_it_names_and_never_below_30_days() -> None:
    assert parse_retention("") == DEFAULT_RETENTION
    changed = {name: (n, unit) for name, n, unit in
                   parse_retention(" complaint=10y , archived=1m")}
    assert changed["complaint"] == (10, "y") and changed["archived"] == (1, "m")
    assert changed["whistleblowing"] == (5, "y")
    for typo in ("complaint=29d", "complaint=0y", "complaint=5", "komplain=5y",
                 "complaint=5w", "complaint=1000y"):
        with pytest.raises(ValueError, match="retention"):
            parse_retention(typo)


def test_notice_batch_times_are_sorted_minutes_and_at_least_one() -> None:
    assert parse_batch_times("15:00, 08:00:45,12:00,08:00") == (time(8), time(12), time(15))
    with pytest.raises(ValueError, match="HH:MM"):
        parse_batch_times("8 pagi")
    with pytest.raises(ValueError, match="at least one"):
        parse_batch_times(" , ")


def test_rate_limits_and_ceilings_change_only_what_they_name() -> None:
    limits = {name: (n, s) for name, n, s in parse_rate_limits("report=5/h, status=60/10m")}
    assert limits["report"] == (5, 3600) and limits["status"] == (60, 600)
    assert limits["signin"] == {n: (c, s) for n, c, s in DEFAULT_RATE_LIMITS}["signin"]
    for typo in ("report=0/h", "report=5/0m", "reports=5/h", "report=5/w", "report5/h"):
        with pytest.raises(ValueError, match="rate limit"):
            parse_rate_limits(typo)
    ceilings = dict(parse_rate_ceilings("report=3"))
    assert ceilings["report"] == 3 and ceilings["status"] == dict(DEFAULT_RATE_CEILINGS)["status"]
    for typo in ("report=0", "reports=3", "report=-1"):
        with pytest.raises(ValueError, match="rate ceiling"):
            parse_rate_ceilings(typo)


def test_secrets_do_not_print_themselves() -> None:
    secret = Secret("kata-sandi-smtp")
    assert "kata" not in repr(secret) and "kata" not in str(secret)
    assert "kata" not in repr(Settings(smtp_password=secret))
    assert secret.get() == "kata-sandi-smtp" and secret and not Secret("")


def test_hosts_served() -> None:
    production = Settings(base_url="https://wbs.contohkab.go.id")
    assert production.hosts == ("wbs.contohkab.go.id",) and not production.development
    development = Settings(env="development", onion_address=ONION)
    assert development.hosts == ("127.0.0.1", ONION, "localhost")
    listed = Settings(allowed_hosts=("wbs.a.go.id", ONION), onion_address=ONION)
    assert listed.hosts == ("wbs.a.go.id", ONION)
    assert Settings(base_url="not a url").hosts == ("127.0.0.1",)
    assert production.secure_cookies


def test_the_environment_is_read_and_typos_stop_the_start() -> None:
    env = {"WBS_ENV": "development", "WBS_DATA_DIR": "/srv/wbs", "WBS_BASE_URL": "https://w.id/",
           "WBS_ONION_ADDRESS": "HTTP://" + ONION.upper() + "/",
           "WBS_ALLOWED_HOSTS": " W.ID ,, *.w.id", "WBS_LAPOR_EVERY_COMPLAINT": "Yes",
           "WBS_IDENTITY_REQUEST_DAYS": "0", "WBS_RETENTION": "complaint=6y",
           "WBS_NOTICE_BATCH_TIMES": "09:30"}
    settings = Settings.from_env(env)
    assert settings.database_url == "sqlite:////srv/wbs/wbs.sqlite3"
    assert str(settings.mail_dir) == "/srv/wbs/mail" and settings.base_url == "https://w.id"
    assert settings.onion_address == ONION and settings.allowed_hosts == ("w.id", "*.w.id")
    assert settings.lapor_every_complaint and settings.identity_request_days == 1
    assert settings.notice_batch_times == (time(9, 30),)
    assert {n: (a, u) for n, a, u in settings.retention}["complaint"] == (6, "y")
    for name, typo in (("ONION_ADDRESS", "wbs.onion"), ("RETENTION", "complaint=1d"),
                       ("RATE_LIMITS", "report=1/x"), ("ARGON2", "argon2id$m=1,t=1,p=1")):
        with pytest.raises(ValueError):
            Settings.from_env({f"WBS_{name}": typo})
