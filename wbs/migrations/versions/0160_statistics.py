"""statistics: categories, determination, follow-up, response and completion days; targets;
the satisfaction survey (SKM)

Revision ID: 0160
Revises: 0150
"""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from alembic import op


revision = '0160'
down_revision = '0150'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_categories',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('name_id', sa.String(length=200), nullable=False),
    sa.Column('name_en', sa.String(length=200), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_categories')),
    sa.UniqueConstraint('slug', name=op.f('uq_case_categories_slug'))
    )
    op.create_table('skm_spent_nonces',
    sa.Column('nonce_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('spent_on', sa.Date(), nullable=False),
    sa.PrimaryKeyConstraint('nonce_hash', name=op.f('pk_skm_spent_nonces'))
    )
    with op.batch_alter_table('skm_spent_nonces', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_skm_spent_nonces_spent_on'), ['spent_on'], unique=False)

    op.create_table('stat_targets',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.Column('completed_pct', sa.Integer(), nullable=False),
    sa.CheckConstraint('completed_pct >= 0 AND completed_pct <= 100', name=op.f('ck_stat_targets_completed_pct')),
    sa.CheckConstraint('received >= 0', name=op.f('ck_stat_targets_received')),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_stat_targets'))
    )
    op.create_table('skm_surveys',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('service', sa.String(length=200), nullable=False),
    sa.Column('period_start', sa.Date(), nullable=False),
    sa.Column('period_end', sa.Date(), nullable=False),
    sa.Column('token', sa.String(length=32), nullable=False),
    sa.Column('weights', sa.Text(), nullable=False),
    sa.Column('population', sa.Integer(), nullable=True),
    sa.Column('for_complaints', sa.Boolean(), nullable=False),
    sa.Column('follow_up_plan', sa.Text(), nullable=False),
    sa.Column('published_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint('period_end >= period_start', name=op.f('ck_skm_surveys_period')),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_skm_surveys_unit_id_units')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skm_surveys')),
    sa.UniqueConstraint('token', name=op.f('uq_skm_surveys_token')),
    sa.UniqueConstraint('unit_id', 'period_start', name=op.f('uq_skm_surveys_unit_id'))
    )
    with op.batch_alter_table('skm_surveys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_skm_surveys_unit_id'), ['unit_id'], unique=False)

    op.create_table('skm_responses',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('survey_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=8), nullable=False),
    sa.Column('answered_on', sa.Date(), nullable=False),
    sa.Column('e1', sa.SmallInteger(), nullable=False),
    sa.Column('e2', sa.SmallInteger(), nullable=False),
    sa.Column('e3', sa.SmallInteger(), nullable=False),
    sa.Column('e4', sa.SmallInteger(), nullable=False),
    sa.Column('e5', sa.SmallInteger(), nullable=False),
    sa.Column('e6', sa.SmallInteger(), nullable=False),
    sa.Column('e7', sa.SmallInteger(), nullable=False),
    sa.Column('e8', sa.SmallInteger(), nullable=False),
    sa.Column('e9', sa.SmallInteger(), nullable=False),
    sa.Column('sex', sa.String(length=8), nullable=True),
    sa.Column('age_band', sa.String(length=8), nullable=True),
    sa.Column('education', sa.String(length=16), nullable=True),
    sa.Column('occupation', sa.String(length=16), nullable=True),
    sa.CheckConstraint("source IN ('web', 'paper', 'mailbox')", name=op.f('ck_skm_responses_source')),
    sa.CheckConstraint('e1 BETWEEN 1 AND 4', name=op.f('ck_skm_responses_e1')),
    sa.CheckConstraint('e2 BETWEEN 1 AND 4', name=op.f('ck_skm_responses_e2')),
    sa.CheckConstraint('e3 BETWEEN 1 AND 4', name=op.f('ck_skm_responses_e3')),
    sa.CheckConstraint('e4 BETWEEN 1 AND 4', name=op.f('ck_skm_responses_e4')),
    sa.CheckConstraint('e5 BETWEEN 1 AND 4', name=op.f('ck_skm_responses_e5')),
    sa.CheckConstraint('e6 BETWEEN 1 AND 4', name=op.f('ck_skm_responses_e6')),
    sa.CheckConstraint('e7 BETWEEN 1 AND 4', name=op.f('ck_skm_responses_e7')),
    sa.CheckConstraint('e8 BETWEEN 1 AND 4', name=op.f('ck_skm_responses_e8')),
    sa.CheckConstraint('e9 BETWEEN 1 AND 4', name=op.f('ck_skm_responses_e9')),
    sa.ForeignKeyConstraint(['survey_id'], ['skm_surveys.id'], name=op.f('fk_skm_responses_survey_id_skm_surveys')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_skm_responses'))
    )
    with op.batch_alter_table('skm_responses', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_skm_responses_survey_id'), ['survey_id'], unique=False)

    if op.get_bind().dialect.name == "sqlite":
        _add_columns_sqlite()
    else:
        with op.batch_alter_table('case_tasks', schema=None) as batch_op:
            batch_op.add_column(sa.Column('followup_kind', sa.String(length=16), nullable=True))
            batch_op.add_column(sa.Column('improvement_promised', sa.Boolean(), server_default=sa.false(), nullable=False))

        with op.batch_alter_table('cases', schema=None) as batch_op:
            batch_op.add_column(sa.Column('category_id', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('determination', sa.String(length=16), nullable=True))
            batch_op.add_column(sa.Column('first_response_on', sa.Date(), nullable=True))
            batch_op.add_column(sa.Column('response_wd', sa.Integer(), nullable=True))
            batch_op.add_column(sa.Column('completed_on', sa.Date(), nullable=True))
            batch_op.add_column(sa.Column('completion_wd', sa.Integer(), nullable=True))
            batch_op.create_foreign_key(batch_op.f('fk_cases_category_id_case_categories'), 'case_categories', ['category_id'], ['id'])
            batch_op.create_check_constraint(
                'determination', "determination IS NULL OR determination IN ('dispute', 'violation')")
        with op.batch_alter_table('case_tasks', schema=None) as batch_op:
            batch_op.create_check_constraint(
                'followup', "followup_kind IS NULL OR followup_kind IN "
                "('staff', 'system', 'procedure', 'oversight', 'facilities')")
    _seed_categories()
    _backfill()


DETERMINATION_CHECK = "determination IS NULL OR determination IN ('dispute', 'violation')"
FOLLOWUP_CHECK = ("followup_kind IS NULL OR followup_kind IN "
                  "('staff', 'system', 'procedure', 'oversight', 'facilities')")


def _add_columns_sqlite() -> None:
    """Plain ADD COLUMN, constraints inline: a batch migration would copy `cases` and
    `case_tasks` and drop the originals, which SQLite refuses while other rows reference them
    (foreign keys are enforced)."""
    op.execute("ALTER TABLE case_tasks ADD COLUMN followup_kind VARCHAR(16) "
               f"CONSTRAINT ck_case_tasks_followup CHECK ({FOLLOWUP_CHECK})")
    op.add_column('case_tasks', sa.Column('improvement_promised', sa.Boolean(),
                                          server_default=sa.false(), nullable=False))
    op.execute("ALTER TABLE cases ADD COLUMN category_id INTEGER CONSTRAINT "
               "fk_cases_category_id_case_categories REFERENCES case_categories (id)")
    op.execute("ALTER TABLE cases ADD COLUMN determination VARCHAR(16) "
               f"CONSTRAINT ck_cases_determination CHECK ({DETERMINATION_CHECK})")
    for name, kind in (('first_response_on', sa.Date()), ('response_wd', sa.Integer()),
                       ('completed_on', sa.Date()), ('completion_wd', sa.Integer())):
        op.add_column('cases', sa.Column(name, kind, nullable=True))


# The regulations' own examples (RULES §2): what whistleblowing reports, what a complaint
# berkadar pengawasan is about, and the other kinds. The administrator edits the list.
CATEGORIES = (
    ("korupsi", "Dugaan tindak pidana korupsi", "Suspected corruption"),
    ("penyalahgunaan-wewenang", "Penyalahgunaan wewenang", "Abuse of authority"),
    ("pelanggaran-hukum", "Pelanggaran hukum oleh pejabat", "Legal violation by officials"),
    ("ketidakdisiplinan", "Ketidakdisiplinan pegawai", "Staff indiscipline"),
    ("keuangan-negara", "Pemborosan atau penyimpangan uang dan sumber daya negara",
     "Waste or misuse of state money or resources"),
    ("standar-pelayanan", "Pelayanan tidak sesuai standar", "Service not meeting its standard"),
    ("kewajiban-larangan", "Pengabaian kewajiban atau pelanggaran larangan",
     "Neglected duty or broken prohibition"),
    ("informasi", "Permintaan informasi", "Information request"),
    ("aspirasi", "Aspirasi dan saran", "Suggestion"),
    ("lain-lain", "Lain-lain", "Other"),
)


def _seed_categories() -> None:
    table = sa.table('case_categories', sa.column('slug', sa.String), sa.column('name_id', sa.String),
                     sa.column('name_en', sa.String), sa.column('active', sa.Boolean),
                     sa.column('position', sa.Integer))
    op.bulk_insert(table, [{"slug": slug, "name_id": name_id, "name_en": name_en, "active": True,
                            "position": i} for i, (slug, name_id, name_en) in enumerate(CATEGORIES)])


def _backfill() -> None:
    """The first response and the outcome of the cases already there, in working days by the
    calendar of today (the hooks record later ones with the calendar of their day)."""
    from wbs.cases.sla import CalendarOverride, WorkingCalendar

    conn = op.get_bind()
    calendar = WorkingCalendar(CalendarOverride(d, w, lbl) for d, w, lbl in conn.execute(
        sa.text("SELECT day, working, label FROM calendar_overrides")))
    rows = conn.execute(sa.text(
        "SELECT c.id, c.received_on, "
        "(SELECT MIN(m.created_on) FROM messages m WHERE m.case_id = c.id "
        " AND m.author_kind = 'staff'), "
        "(SELECT MIN(e.\"on\") FROM case_events e WHERE e.case_id = c.id "
        " AND e.state IN ('closed', 'archived', 'forwarded')) FROM cases c")).all()
    for case_id, received, responded, completed in rows:
        received, responded, completed = (_day(v) for v in (received, responded, completed))
        assert received is not None  # noqa: S101 (NOT NULL column)
        if completed is not None and (responded is None or completed < responded):
            responded = completed
        conn.execute(sa.text(
            "UPDATE cases SET first_response_on = :r, response_wd = :rw, completed_on = :c, "
            "completion_wd = :cw WHERE id = :id"), {
            "id": case_id, "r": responded, "c": completed,
            "rw": None if responded is None else calendar.working_days_between(received, responded),
            "cw": None if completed is None else calendar.working_days_between(received, completed)})


def _day(value: object) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])



def downgrade() -> None:
    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_case_tasks_followup'), type_='check')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('ck_cases_determination'), type_='check')
        batch_op.drop_constraint(batch_op.f('fk_cases_category_id_case_categories'), type_='foreignkey')
        batch_op.drop_column('completion_wd')
        batch_op.drop_column('completed_on')
        batch_op.drop_column('response_wd')
        batch_op.drop_column('first_response_on')
        batch_op.drop_column('determination')
        batch_op.drop_column('category_id')

    with op.batch_alter_table('case_tasks', schema=None) as batch_op:
        batch_op.drop_column('improvement_promised')
        batch_op.drop_column('followup_kind')

    with op.batch_alter_table('skm_responses', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_skm_responses_survey_id'))

    op.drop_table('skm_responses')
    with op.batch_alter_table('skm_surveys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_skm_surveys_unit_id'))

    op.drop_table('skm_surveys')
    op.drop_table('stat_targets')
    with op.batch_alter_table('skm_spent_nonces', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_skm_spent_nonces_spent_on'))

    op.drop_table('skm_spent_nonces')
    op.drop_table('case_categories')
