"""SQLAlchemy models: the units tree, people and their roles, channel accounts, invites, directives, the outbox,
reports, reminders and the audit log. The same schema runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from storage import fit

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UtcDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both backends (SQLite stores naive text, so re-attach UTC on load)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Id = BigInteger().with_variant(Integer, "sqlite")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class Unit(Base):
    """A party organisation in a tree of any depth; leaves (`is_cell`) are the cells that receive and report."""

    __tablename__ = "units"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64), default="")
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    # "/1/7/42/": ancestors then self, so a subtree is one indexed prefix match.
    path: Mapped[str] = mapped_column(String(1024), index=True, default="/")
    depth: Mapped[int] = mapped_column(Integer, default=0)
    is_cell: Mapped[bool] = mapped_column(Boolean, default=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # A unit merged into another (bot/services/unit_changes.py): retired, its history counted toward this one.
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))


class UnitSplit(Base):
    """A unit split into several (bot/services/unit_changes.py): one row per successor. The retired unit's
    `successor_id` names the main one (its board staff went there); these rows say where the rest of it went, so
    its history counts toward each successor by where its cells now are (bot/services/levels.py)."""

    __tablename__ = "unit_splits"
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    successor_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    split_at: Mapped[datetime]


class Person(Base):
    __tablename__ = "people"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    full_name: Mapped[str] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(20), index=True)
    preferred_channel: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime]


class Role(Base):
    """What a person may do where: `secretary` of a unit, `board` over a unit's subtree, or global `admin`."""

    __tablename__ = "roles"
    __table_args__ = (UniqueConstraint("person_id", "kind", "unit_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)


class ChannelAccount(Base):
    """A person's identity on one platform; one person may have one per channel."""

    __tablename__ = "channel_accounts"
    __table_args__ = (UniqueConstraint("channel", "user_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    chat_id: Mapped[str] = mapped_column(String(64))
    display_name: Mapped[str] = mapped_column(String(255), default="")
    linked_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    person: Mapped[Person] = relationship(lazy="selectin")


class Invite(Base):
    """A single-use join code; only its hash is stored, so a database leak reveals no usable code."""

    __tablename__ = "invites"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    role_kind: Mapped[str] = mapped_column(String(16))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    account_id: Mapped[int | None] = mapped_column(ForeignKey("channel_accounts.id", ondelete="SET NULL"))

    person: Mapped[Person] = relationship(lazy="selectin")


class Conversation(Base):
    """Where a platform user is in a multi-step flow; kept in the database so nothing is lost on restart."""

    __tablename__ = "conversations"
    __table_args__ = (UniqueConstraint("channel", "user_id"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    user_id: Mapped[str] = mapped_column(String(64))
    flow: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(64), default="")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime]


class ProcessedUpdate(Base):
    """Platform update ids already handled, so a webhook retry never acts twice."""

    __tablename__ = "processed_updates"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    update_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)


class SetAsideUpdate(Base):
    """A platform update that can never be handled (malformed): kept for inspection instead of blocking the
    receive loop; its payload is the raw update as it came."""

    __tablename__ = "set_aside_updates"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    channel: Mapped[str] = mapped_column(String(16))
    update_key: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(500))
    payload: Mapped[str] = mapped_column(Text)


class AuditEntry(Base):
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(64), default="")  # "cli", "telegram:123", ...
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class StoredFile(Base):
    """A file in the content-addressed store under `<data>/files/`."""

    __tablename__ = "files"
    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(255))
    mime: Mapped[str] = mapped_column(String(128))
    size: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime]


class ChannelFile(Base):
    """The platform's handle for an uploaded file, so each file is uploaded once per channel and name (a resend
    by handle shows the name it was uploaded under)."""

    __tablename__ = "channel_files"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("files.sha256"), primary_key=True)
    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    ref: Mapped[str] = mapped_column(String(255))


class Outbox(Base):
    """One delivery to one chat: an ordered list of messages, sent part by part, durable across crashes."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "next_attempt_at"),
        Index("ix_outbox_chat", "channel", "chat_id", "id"),
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    chat_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    directive_id: Mapped[int | None] = mapped_column(ForeignKey("directives.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    parts: Mapped[list[Any]] = mapped_column()
    next_part: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(64))
    # What delivering it cost (bot.core.events.Cost: free, quota, paid; None: not sent or the platform did not say)
    # and how many of its platform messages were paid, so a broadcast's costs can be summed.
    cost: Mapped[str | None] = mapped_column(String(16))
    paid: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class DirectiveStatus(StrEnum):
    """Where a directive is in its life; only bot.services.directives moves it from one to the next."""

    DRAFT = "draft"  # being prepared by a board member
    CANCELLED = "cancelled"  # the draft was dropped
    SENDING = "sending"  # queued: some target's delivery is not finished yet
    SENT = "sent"  # every target's delivery is finished (sent, blocked, failed or unregistered)
    REPLACED = (
        "replaced"  # a correction took its place (meta "replaced_by"); its reports moved to the correction
    )


class Directive(Base):
    __tablename__ = "directives"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(64), index=True)
    issuer_code: Mapped[str | None] = mapped_column(String(32))
    doc_type: Mapped[str | None] = mapped_column(String(16))
    parent_body: Mapped[str | None] = mapped_column(String(255))
    issuer: Mapped[str | None] = mapped_column(String(255))
    place: Mapped[str | None] = mapped_column(String(128))
    issued_on: Mapped[date | None] = mapped_column(Date)
    subject: Mapped[str | None] = mapped_column(Text)
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    body_text: Mapped[str] = mapped_column(Text, default="")
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[date | None] = mapped_column(Date)
    form_key: Mapped[str | None] = mapped_column(String(64))
    reminder_policy: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default=DirectiveStatus.DRAFT)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))  # the board's unit that sent it
    created_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    # The period now open (bot.services.cycles): 1 for a one-off directive; a recurring one (meta "schedule")
    # counts up as each period's deadline passes, and `deadline` is then the open period's deadline.
    cycle: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class DirectiveCycle(Base):
    """One period of a recurring directive and its deadline; the primary key is what keeps two instances from
    opening the same period twice."""

    __tablename__ = "directive_cycles"
    directive_id: Mapped[int] = mapped_column(
        ForeignKey("directives.id", ondelete="CASCADE"), primary_key=True
    )
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    deadline: Mapped[date] = mapped_column(Date)
    opened_at: Mapped[datetime]


class DirectiveFile(Base):
    __tablename__ = "directive_files"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    directive_id: Mapped[int] = mapped_column(ForeignKey("directives.id", ondelete="CASCADE"), index=True)
    sha256: Mapped[str] = mapped_column(ForeignKey("files.sha256"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The name the board gave the file in this directive (None: older rows, the stored file's first name).
    name: Mapped[str | None] = mapped_column(String(255), nullable=True)

    file: Mapped[StoredFile] = relationship(lazy="joined")


class DirectiveTarget(Base):
    """One target cell of a directive and how far it got: the row every status figure is counted from."""

    __tablename__ = "directive_targets"
    __table_args__ = (
        Index("ix_targets_unit", "unit_id"),
        Index("ix_targets_delivery", "directive_id", "delivery"),  # is any still undelivered? (settling)
    )
    directive_id: Mapped[int] = mapped_column(
        ForeignKey("directives.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    delivery: Mapped[str] = mapped_column(
        String(16), default="pending"
    )  # pending/sent/blocked/failed/unregistered
    delivery_error: Mapped[str | None] = mapped_column(Text)
    delivered_at: Mapped[datetime | None]
    acknowledged_at: Mapped[datetime | None]
    reported_at: Mapped[datetime | None]
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    # Switched off by a board member for the cells in their scope only (/nhacnho ... tat), not for other boards'.
    reminders_off: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Handoff(Base):
    """An upper board's directive handed to the board of a unit below it (one with its own board staff), and what
    that board did with it: re-issued it as its own directive (`reissue_id`), forwarded it unchanged to its cells,
    or nothing yet; and when it sent its own aggregated report upward (bot.services.levels)."""

    __tablename__ = "handoffs"
    directive_id: Mapped[int] = mapped_column(
        ForeignKey("directives.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), primary_key=True)
    received_at: Mapped[datetime]
    # pending / forwarded / reissued, or held: kept for the unit's board until one of its members joins
    action: Mapped[str] = mapped_column(String(16), default="pending")
    acted_at: Mapped[datetime | None]
    reissue_id: Mapped[int | None] = mapped_column(ForeignKey("directives.id", ondelete="SET NULL"))
    reported_at: Mapped[datetime | None]
    report_late: Mapped[bool] = mapped_column(Boolean, default=False)
    # The upper directive's period the report upward answered (1 for a one-off directive): a recurring one's
    # unit is "reported up" only for that period, reminded and escalated afresh in the next.
    report_cycle: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The figures the report upward was built from (bot.services.rollup `snapshot`): what the upper board adds up
    # when it aggregates from the intermediate reports.
    report_figures: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class HandoffFile(Base):
    """A file (a guide, the unit's own document) the board of a unit below added to an upper directive handed to
    it, sent with that directive to the cells under the unit when it forwards it (bot.services.levels.forward):
    the upper directive's own files stay in `directive_files`, shared by every unit."""

    __tablename__ = "handoff_files"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    directive_id: Mapped[int] = mapped_column(ForeignKey("directives.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    sha256: Mapped[str] = mapped_column(ForeignKey("files.sha256"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(255))  # the name the board gave it


class FormDef(Base):
    __tablename__ = "forms"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    title: Mapped[str] = mapped_column(String(255))
    spec: Mapped[dict[str, Any]] = mapped_column()
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class Report(Base):
    """One version of a cell's report on a directive; the row with `is_latest` is the one that counts."""

    __tablename__ = "reports"
    __table_args__ = (
        UniqueConstraint("directive_id", "unit_id", "version"),
        Index("ix_reports_latest", "directive_id", "is_latest"),
        Index("ix_reports_recent", "submitted_at", "version", "directive_id"),  # the summary's new reports
    )
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    directive_id: Mapped[int] = mapped_column(ForeignKey("directives.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_latest: Mapped[bool] = mapped_column(Boolean, default=True)
    values: Mapped[dict[str, Any]] = mapped_column()
    ref: Mapped[str] = mapped_column(String(16), index=True)
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    submitted_at: Mapped[datetime] = mapped_column(index=True)
    channel: Mapped[str] = mapped_column(String(16), default="")  # "web": entered by a board member, by proxy
    # The board's review of this version: None while just received, then "accepted" or "returned" (with a comment).
    review: Mapped[str | None] = mapped_column(String(16))
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_at: Mapped[datetime | None]
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    # The directive's period open when it was submitted; `is_latest` marks the version that counts in the
    # period now open, so a closed period's reports are read by their cycle (bot.services.cycles).
    cycle: Mapped[int] = mapped_column(Integer, default=1, server_default="1")


class Reminder(Base):
    """A reminder that was sent (or decided), so a restart neither repeats nor loses one."""

    __tablename__ = "reminders"
    __table_args__ = (UniqueConstraint("directive_id", "unit_id", "rule"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    directive_id: Mapped[int] = mapped_column(ForeignKey("directives.id", ondelete="CASCADE"))
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    rule: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]


class DailySummary(Base):
    __tablename__ = "daily_summaries"
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    at: Mapped[datetime]


class Download(Base):
    """A signed-link download of a directive file, which also counts as the cell having received it."""

    __tablename__ = "downloads"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    directive_id: Mapped[int] = mapped_column(ForeignKey("directives.id", ondelete="CASCADE"))
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


class ZaloOaToken(Base):
    """The Zalo OA's current token pair. Zalo rotates the refresh token on every renewal and the old one stops
    working, so the newest pair lives here (not in settings) and is replaced in the transaction that renews it."""

    __tablename__ = "zalo_oa_tokens"
    oa_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text, default="")
    access_expires_at: Mapped[datetime]
    refresh_token: Mapped[str] = mapped_column(Text)
    # SHA-256 digests (space-separated) of every configured refresh token seen: one never seen replaces the pair.
    seed_hashes: Mapped[str] = mapped_column(Text, default="")
    renewals: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]


class DocumentNumber(Base):
    """One number of the board's own document register: documents of one type issued under one symbol are
    numbered from 01 in each committee term (Hướng dẫn 36-HD/VPTW, 1.3.1). The unique key is what keeps two
    board members confirming at once from taking the same number."""

    __tablename__ = "document_numbers"
    __table_args__ = (UniqueConstraint("issuer_code", "doc_type", "term", "number"),)
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    issuer_code: Mapped[str] = mapped_column(String(32))
    doc_type: Mapped[str] = mapped_column(String(16))
    term: Mapped[str] = mapped_column(String(32))
    number: Mapped[int] = mapped_column(Integer)
    directive_id: Mapped[int | None] = mapped_column(
        ForeignKey("directives.id", ondelete="SET NULL"), index=True
    )
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(128), default="")


fit.install(Base)  # every row fitted to its columns before it is written (storage/fit.py)


class WebLogin(Base):
    """A one-time sign-in link to the board's web dashboard; only the token's hash is stored."""

    __tablename__ = "web_logins"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class WebSession(Base):
    """A signed-in browser: the cookie carries a secret whose hash is `key_hash`; `csrf` guards its forms."""

    __tablename__ = "web_sessions"
    id: Mapped[int] = mapped_column(Id, primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"), index=True)
    csrf: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    user_agent: Mapped[str | None] = mapped_column(String(200))  # shown in the list of open sessions
    last_seen_at: Mapped[datetime | None]
