"""index digests by business, recipient and id (each digest stage's own lookups)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

Every digest a cycle composes asks for the business's previous digest to the recipient (the
latest id below its own) and for the recipients it has sent to since the cycle began. Without
an index on the business these read every digest of every business (a walk of the primary key
backwards, or a scan): a cost that grows with the table, a day's worth of digests a day.
Created without batch mode, as 0004.
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_digests_business_recipient", "digests",
                    ["business_id", "recipient", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_digests_business_recipient", table_name="digests")
