"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-26 19:49:58.078777
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "api_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("site", sa.String(length=40), nullable=True),
        sa.Column("label", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
    )
    op.create_table(
        "counters",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("site", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_counters")),
    )
    op.create_table(
        "device_status",
        sa.Column("device", sa.String(length=80), nullable=False),
        sa.Column("site", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("device", name=op.f("pk_device_status")),
    )
    op.create_table(
        "faq_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=40), nullable=True),
        sa.Column("service", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("search_text", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_entries")),
    )
    op.create_table(
        "forecasts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=40), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=False),
        sa.Column("hour_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("arrivals", sa.Double(), nullable=False),
        sa.Column("lo", sa.Double(), nullable=False),
        sa.Column("hi", sa.Double(), nullable=False),
        sa.Column("est_wait_min", sa.Double(), nullable=True),
        sa.Column("level", sa.String(length=16), nullable=False),
        sa.Column("model", sa.String(length=40), nullable=False),
        sa.Column("fitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_forecasts")),
        sa.UniqueConstraint(
            "site", "service", "hour_start", name=op.f("uq_forecasts_site_service_hour_start")
        ),
    )
    op.create_table(
        "number_sequences",
        sa.Column("site", sa.String(length=40), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "site", "service", "business_date", name=op.f("pk_number_sequences")
        ),
    )
    op.create_table(
        "site_sequences",
        sa.Column("site", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("site", name=op.f("pk_site_sequences")),
    )
    op.create_table(
        "tickets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("site", sa.String(length=40), nullable=False),
        sa.Column("service", sa.String(length=40), nullable=False),
        sa.Column("numbered_service", sa.String(length=40), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("display_number", sa.String(length=16), nullable=False),
        sa.Column("business_date", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("priority", sa.Boolean(), nullable=False),
        sa.Column("lang", sa.String(length=16), nullable=False),
        sa.Column("route", sa.Text(), nullable=False),
        sa.Column("route_index", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("queued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("counter", sa.String(length=40), nullable=True),
        sa.Column("recalls", sa.Integer(), nullable=False),
        sa.Column("called_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("idempotency_key", sa.String(length=200), nullable=True),
        sa.Column("request_hash", sa.String(length=64), nullable=True),
        sa.Column("issued_by", sa.String(length=80), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tickets")),
        sa.UniqueConstraint(
            "site", "idempotency_key", name=op.f("uq_tickets_site_idempotency_key")
        ),
        sa.UniqueConstraint(
            "site",
            "numbered_service",
            "business_date",
            "number",
            name=op.f("uq_tickets_site_numbered_service_business_date_number"),
        ),
        sa.UniqueConstraint("token", name=op.f("uq_tickets_token")),
    )
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.create_index("ix_tickets_queue", ["site", "business_date", "status"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("site", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("site", sa.String(length=40), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("type", sa.String(length=32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=True),
        sa.Column("counter", sa.String(length=40), nullable=True),
        sa.Column("staff", sa.String(length=80), nullable=True),
        sa.Column("service", sa.String(length=40), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_events_ticket_id_tickets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_events")),
        sa.UniqueConstraint("site", "seq", name=op.f("uq_events_site_seq")),
    )
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.create_index("ix_events_site_at", ["site", "at"], unique=False)
        batch_op.create_index("ix_events_ticket", ["ticket_id"], unique=False)

    op.create_table(
        "faq_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("content", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("edited_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("edited_by", sa.String(length=80), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"], ["faq_entries.id"], name=op.f("fk_faq_revisions_entry_id_faq_entries")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_faq_revisions")),
    )


def downgrade() -> None:

    op.drop_table("faq_revisions")
    with op.batch_alter_table("events", schema=None) as batch_op:
        batch_op.drop_index("ix_events_ticket")
        batch_op.drop_index("ix_events_site_at")

    op.drop_table("events")
    op.drop_table("users")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_queue")

    op.drop_table("tickets")
    op.drop_table("site_sequences")
    op.drop_table("number_sequences")
    op.drop_table("forecasts")
    op.drop_table("faq_entries")
    op.drop_table("device_status")
    op.drop_table("counters")
    op.drop_table("api_tokens")
