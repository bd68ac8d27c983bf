"""analyst view v_claim_gaps: each claim's gap as of the latest gap snapshot of its business

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03

The gap needs Wilson intervals, smoothing and the claim's own period (reviewwatch/gap/), which
plain SQL would have to repeat; the cycle's snapshot stage stores the computed report, and this
view unnests its `claims` (the report's JSON schema, schema_version 1). One row per claim of
the newest snapshot of each business; a prediction appears under `kind = 'prediction'`.
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# (column, JSON path below a claim, SQL type on PostgreSQL)
COLUMNS = (
    ("claim_key", ("claim_key",), "TEXT"),
    ("origin", ("origin",), "TEXT"),
    ("kind", ("kind",), "TEXT"),
    ("metric", ("metric",), "TEXT"),
    ("topic", ("topic",), "TEXT"),
    ("scale", ("scale",), "DOUBLE PRECISION"),
    ("claimed", ("claimed",), "DOUBLE PRECISION"),
    ("label", ("label",), "TEXT"),
    ("period", ("period",), "TEXT"),
    ("window_since", ("window", "since"), "TEXT"),
    ("window_until", ("window", "until"), "TEXT"),
    ("mentions", ("mentions",), "INTEGER"),
    ("perceived", ("perceived", "value"), "DOUBLE PRECISION"),
    ("perceived_low", ("perceived", "low"), "DOUBLE PRECISION"),
    ("perceived_high", ("perceived", "high"), "DOUBLE PRECISION"),
    ("gap", ("gap", "value"), "DOUBLE PRECISION"),
    ("gap_low", ("gap", "low"), "DOUBLE PRECISION"),
    ("gap_high", ("gap", "high"), "DOUBLE PRECISION"),
    ("shortfall", ("shortfall",), "DOUBLE PRECISION"),
    ("verdict", ("verdict",), "TEXT"),
    ("status", ("status",), "TEXT"),
    ("evidence_url", ("evidence_url",), "TEXT"),
    ("evidence_text", ("evidence_text",), "TEXT"),
)


def _sqlite_value(path: tuple[str, ...], _type: str) -> str:
    return f"json_extract(j.value, '$.{'.'.join(path)}')"


def _postgresql_value(path: tuple[str, ...], sql_type: str) -> str:
    *parents, leaf = path
    expr = "j.value" + "".join(f"->'{p}'" for p in parents) + f"->>'{leaf}'"
    return expr if sql_type == "TEXT" else f"CAST({expr} AS {sql_type})"


def _view(dialect: str) -> str:
    value = _postgresql_value if dialect == "postgresql" else _sqlite_value
    unnest = (
        "CROSS JOIN LATERAL json_array_elements(CAST(g.report AS json)->'claims') AS j(value)"
        if dialect == "postgresql"
        else "CROSS JOIN json_each(g.report, '$.claims') AS j"
    )
    columns = ",\n    ".join(f"{value(path, sql_type)} AS {name}" for name, path, sql_type in COLUMNS)
    return f"""
CREATE VIEW v_claim_gaps AS
SELECT
    g.id AS snapshot_id,
    g.business_id AS business_id,
    b.slug AS business,
    g.taken_at AS taken_at,
    {columns}
FROM gap_snapshots g
JOIN businesses b ON b.id = g.business_id
{unnest}
WHERE g.id = (SELECT MAX(g2.id) FROM gap_snapshots g2 WHERE g2.business_id = g.business_id)
"""


def upgrade() -> None:
    op.execute(_view(op.get_bind().dialect.name))


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS v_claim_gaps")
