"""cycle runs, stages, workers seen, host activity

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06

Scale-out (#29): `cycle_runs` holds each business's daily cycle under a unique run key
(business_id, cycle_date), claimed by one scheduler however many run; `cycle_stages` its stages
as queued work (attempts, heartbeat, outcome); `workers_seen` the workers' heartbeats and
`host_activity` the requests per host and hour with the gaps observed, for `reviewwatch status`.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import storage.types

revision = '0011'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('host_activity',
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('hour', storage.types.UTCDateTime(), nullable=False),
    sa.Column('requests', sa.Integer(), nullable=False),
    sa.Column('min_gap_s', sa.Float(), nullable=True),
    sa.Column('gap_sum_s', sa.Float(), nullable=False),
    sa.Column('gaps', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('host', 'hour', name=op.f('pk_host_activity'))
    )
    op.create_table('workers_seen',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('hostname', sa.String(length=200), nullable=False),
    sa.Column('pid', sa.Integer(), nullable=False),
    sa.Column('queues', sa.String(length=200), nullable=False),
    sa.Column('concurrency', sa.Integer(), nullable=False),
    sa.Column('started_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('seen_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('tasks_done', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_workers_seen'))
    )
    op.create_table('cycle_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('business_id', sa.Integer(), nullable=False),
    sa.Column('cycle_date', sa.Date(), nullable=False),
    sa.Column('due_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('crawl_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('send_digest', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('claimed_by', sa.String(length=200), nullable=False),
    sa.Column('created_at', storage.types.UTCDateTime(), nullable=False),
    sa.Column('finished_at', storage.types.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['business_id'], ['businesses.id'], name=op.f('fk_cycle_runs_business_id_businesses'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_runs')),
    sa.UniqueConstraint('business_id', 'cycle_date', name=op.f('uq_cycle_runs_business_id_cycle_date'))
    )
    with op.batch_alter_table('cycle_runs', schema=None) as batch_op:
        batch_op.create_index('ix_cycle_runs_due_at', ['due_at'], unique=False)
        batch_op.create_index('ix_cycle_runs_status_crawl_at', ['status', 'crawl_at'], unique=False)

    op.create_table('cycle_stages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('cycle_id', sa.Integer(), nullable=False),
    sa.Column('stage', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('worker', sa.String(length=200), nullable=True),
    sa.Column('enqueued_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('started_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('heartbeat_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('finished_at', storage.types.UTCDateTime(), nullable=True),
    sa.Column('ok', sa.Boolean(), nullable=True),
    sa.Column('detail', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['cycle_id'], ['cycle_runs.id'], name=op.f('fk_cycle_stages_cycle_id_cycle_runs'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cycle_stages')),
    sa.UniqueConstraint('cycle_id', 'stage', name=op.f('uq_cycle_stages_cycle_id_stage'))
    )


def downgrade() -> None:
    op.drop_table('cycle_stages')
    with op.batch_alter_table('cycle_runs', schema=None) as batch_op:
        batch_op.drop_index('ix_cycle_runs_status_crawl_at')
        batch_op.drop_index('ix_cycle_runs_due_at')

    op.drop_table('cycle_runs')
    op.drop_table('workers_seen')
    op.drop_table('host_activity')
