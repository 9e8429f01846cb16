"""Migration 0160 on a database that already holds cases: it must not copy-and-drop `cases`
(SQLite refuses while rows reference it) and it backfills the first response and the outcome
in working days (2 March 2026 → 25 March: 12, 26 March: 13, across the March holidays)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import create_engine, text

from wbs import migrate


def test_upgrade_of_a_populated_database_backfills_the_dates(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    migrate.upgrade(url, revision="0150")  # the head before 0160
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(text("INSERT INTO units (id, slug, name, kind, public_key, created_at) "
                       "VALUES (1, 'u', 'U', 'agency', :k, '2026-01-01')"), {"k": b"k"})
        for i, (received, answered, closed) in enumerate([
                ("2026-03-02", "2026-03-25", "2026-03-26"), ("2026-03-02", None, "2026-03-05"),
                ("2026-03-10", None, None)], 1):
            c.execute(text(
                "INSERT INTO cases (id, case_number, lookup_hash, reporter_salt, kind, channel, "
                "state, received_on, receiving_unit_id, at_apip, identity_provided, "
                "report_sealed, report_digest, code_needs_replacing) VALUES (:i, :n, :h, :s, "
                "'complaint', 'web', 'closed', :r, 1, 0, 0, :b, :d, 0)"),
                {"i": i, "n": f"N{i}", "h": bytes([i]) * 32, "s": b"s" * 16, "r": received,
                 "b": b"x", "d": b"d" * 32})
            c.execute(text("INSERT INTO case_tasks (case_id, unit_id, state, assigned_on) "
                           "VALUES (:i, 1, 'answered', :r)"), {"i": i, "r": received})
            c.execute(text("INSERT INTO deadlines (case_id, task_id, kind, rule_key, start_on, "
                           "due_on) VALUES (:i, :i, 'answer', 'answer_14', :r, :r)"),
                      {"i": i, "r": received})
            # A reporter's message is no response; the staff answer is.
            c.execute(text("INSERT INTO messages (case_id, author_kind, kind, body_sealed, "
                           "created_on) VALUES (:i, 'reporter', 'message', :b, '2026-03-03')"),
                      {"i": i, "b": b"x"})
            if answered:
                c.execute(text("INSERT INTO messages (case_id, author_kind, kind, body_sealed, "
                               "created_on) VALUES (:i, 'staff', 'answer', :b, :o)"),
                          {"i": i, "b": b"x", "o": answered})
            if closed:
                c.execute(text('INSERT INTO case_events (case_id, state, "on", note_key) '
                               "VALUES (:i, 'closed', :o, 'x')"), {"i": i, "o": closed})
    migrate.upgrade(url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT first_response_on, response_wd, completed_on, "
                              "completion_wd FROM cases ORDER BY id")).all()
        categories = c.execute(text("SELECT COUNT(*) FROM case_categories")).scalar()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        ("2026-03-25", 12, "2026-03-26", 13),
        ("2026-03-05", 3, "2026-03-05", 3),  # archived without a message: the outcome
        (None, None, None, None)]
    assert categories == 10
