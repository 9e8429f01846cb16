"""Review of the late merges (cov-core, pg_dump password handling): `_pg_target` now builds the
libpq URI anew without the URL's password, but copies the query string whole. A password given
as a query parameter (`?password=...`, which psycopg and libpq both accept) stays in the URI that
is passed to pg_dump / pg_restore on the command line (readable by any local user via ps /
/proc/<pid>/cmdline), and is not moved to PGPASSWORD."""

from __future__ import annotations

from wbs.ops import backup


def test_review_late_a_query_password_never_reaches_argv() -> None:
    libpq, env, _schema = backup._pg_target(
        "postgresql+psycopg://wbs@db.example:5432/wbs?password=s3cret-pw&sslmode=require")
    assert "s3cret-pw" not in libpq, libpq
    assert env.get("PGPASSWORD") == "s3cret-pw"


def test_review_late_a_userinfo_password_never_reaches_argv() -> None:
    libpq, env, _schema = backup._pg_target("postgresql+psycopg://wbs:s3cret-pw@db.example/wbs")
    assert "s3cret-pw" not in libpq and env["PGPASSWORD"] == "s3cret-pw"
