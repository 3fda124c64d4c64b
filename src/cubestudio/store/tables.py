"""Table definitions. The schema itself is created by the Alembic migrations in
``migrations/versions``; keep the two in step (a test compares them)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy.dialects import mysql


class UTCDateTime(TypeDecorator[datetime]):
    """Stored as naive UTC with microseconds on every backend; read back as aware UTC."""

    impl = DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> Any:
        if dialect.name == "mysql":
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(DateTime())

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


metadata = MetaData()

pipelines = Table(
    "pipelines",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("creator", String(128), nullable=False),
    Column("spec", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

templates = Table(
    "templates",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("version", Integer, primary_key=True),  # immutable once registered
    Column("spec", Text, nullable=False),
    Column("creator", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("run_id", String(40), ForeignKey("runs.id"), primary_key=True),
    Column("task_name", String(63), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("name", String(63), primary_key=True),
    Column("kind", String(8), nullable=False),  # file / folder
    Column("size", BigInteger, nullable=False),  # bytes, a folder's files summed
    # Hex sha256 of the stored bytes (a folder: of its sorted paths and file digests), checked
    # on every hand-out; NULL for rows from before migration 0004 (their size is checked).
    Column("sha256", String(64)),
    Column("uri", Text, nullable=False),  # where the artifact store keeps it
    Column("created_at", UTCDateTime, nullable=False),
)

runs = Table(
    "runs",
    metadata,
    Column("id", String(40), primary_key=True),
    Column("pipeline_id", Integer, ForeignKey("pipelines.id"), nullable=False),
    Column("pipeline_name", String(63), nullable=False),
    Column("status", String(16), nullable=False),
    Column("trigger", String(16), nullable=False),
    Column("execution_date", UTCDateTime, nullable=False),
    Column("creator", String(128), nullable=False),
    Column("runner", String(128), nullable=False),
    Column("cluster_name", String(63), nullable=False),
    Column("spec", Text, nullable=False),  # snapshot of the pipeline at trigger time
    Column("params", Text, nullable=False),  # JSON: the resolved parameter values
    Column("created_at", UTCDateTime, nullable=False),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("deadline", UTCDateTime),  # run timeout, as data so a restarted engine enforces it
    Column("message", Text),
    Column("stop_requested", Boolean, nullable=False, default=False),
    # The process driving the run; `cube resume` adopts the run only when it is gone.
    Column("engine_pid", Integer),
    Column("engine_host", String(255)),
    Column("engine_start", String(32)),
    # The lease (engine service): only lease_owner may act on the run, and every write of a
    # turn is conditional on lease_epoch, which each claim bumps (fencing).
    Column("lease_owner", String(160)),
    Column("lease_epoch", Integer, nullable=False, default=0, server_default="0"),
    Column("lease_expires_at", UTCDateTime),
    Index("ix_runs_created_at", "created_at"),
    Index("ix_runs_status", "status"),
    Index("ix_runs_lease_owner", "lease_owner"),
    Index("ix_runs_pipeline_created", "pipeline_id", "created_at"),
)

task_runs = Table(
    "task_runs",
    metadata,
    Column("run_id", String(40), ForeignKey("runs.id"), primary_key=True),
    Column("name", String(63), primary_key=True),
    Column("position", Integer, nullable=False),  # order in the file, for display
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    # Attempts made before the last `cube retry`/`rerun`: retries are counted from there.
    Column("retry_base", Integer, nullable=False, default=0),
    Column("exit_code", Integer),
    Column("started_at", UTCDateTime),
    Column("finished_at", UTCDateTime),
    Column("next_try_at", UTCDateTime),  # a retry waiting for its delay
    Column("message", Text),
    Column("outputs", Text),  # JSON {name: value} of the attempt that succeeded
)

attempts = Table(
    "attempts",
    metadata,
    Column("run_id", String(40), ForeignKey("runs.id"), primary_key=True),
    Column("task_name", String(63), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("status", String(16), nullable=False),
    Column("exit_code", Integer),
    Column("started_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
    Column("deadline", UTCDateTime),  # started_at + the task's timeout
    Column("kill_reason", String(16)),  # "stop" / "timeout" / "run_timeout": intent, then act
    Column("kill_at", UTCDateTime),  # when SIGKILL follows the SIGTERM already sent
    Column("message", Text),
    Column("outputs", Text),
    Column("engine_id", String(128)),  # the engine that launched it (migration 0005)
)

# -- the engine service (migration 0005) --------------------------------------------------------

engines = Table(
    "engines",
    metadata,
    # `cube engine` (id: the host name, or --id) and every `cube run` driving its own run.
    Column("id", String(128), primary_key=True),
    Column("host", String(255), nullable=False),
    # This process's token, "<id>/<random>": what it writes as lease_owner, so a paused
    # process is told apart from a later one started with the same id.
    Column("instance", String(160), nullable=False),
    Column("pid", Integer, nullable=False),
    Column("process_start", String(32), nullable=False),  # with pid: defeats pid reuse
    Column("kind", String(16), nullable=False),  # service / cli
    Column("max_runs", Integer, nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("heartbeat_at", UTCDateTime, nullable=False),
    Column("stopped_at", UTCDateTime),  # a clean exit; a dead engine just stops beating
)

run_leases = Table(
    "run_leases",
    metadata,
    # One row per claim of a run: which engine drove which part of it, and how that ended.
    Column("run_id", String(40), ForeignKey("runs.id"), primary_key=True),
    Column("epoch", Integer, primary_key=True, autoincrement=False),
    Column("engine_id", String(128), nullable=False),
    Column("host", String(255), nullable=False),
    Column("claimed_at", UTCDateTime, nullable=False),
    Column("ended_at", UTCDateTime),
    Column("end_reason", String(32)),  # finished / released / lost
)

# -- the scheduler (migration 0002) -------------------------------------------------------------

schedules = Table(
    "schedules",
    metadata,
    # One schedule per pipeline, applied with `cube schedule apply`.
    Column("pipeline_id", Integer, ForeignKey("pipelines.id"), primary_key=True),
    Column("spec", Text, nullable=False),  # the applied pipeline: scheduled runs snapshot it
    Column("applied_by", String(128), nullable=False),  # the runner of its scheduled runs
    Column("start_at", UTCDateTime, nullable=False),  # the effective start (reset on changes)
    # Every tick up to this instant has its record; None: never planned (the first sight).
    Column("planned_through", UTCDateTime),
    Column("paused", Boolean, nullable=False, default=False),
    Column("applied_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

schedule_records = Table(
    "schedule_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("pipeline_id", Integer, ForeignKey("pipelines.id"), nullable=False),
    Column("execution_date", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # comed / created / expired / skipped
    Column("trigger", String(16), nullable=False),  # schedule / backfill
    Column("run_id", String(40), ForeignKey("runs.id")),
    Column("message", Text),  # why a comed record waits, or why it was skipped
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # When its run was handed to a launcher: intent first, so a restarted scheduler knows a
    # run that never started (still pending long after this) needs launching again.
    Column("launched_at", UTCDateTime),
    Column("launches", Integer, nullable=False, default=0),  # tries, capped: see admission
    UniqueConstraint("pipeline_id", "execution_date", name="uq_schedule_records_tick"),
    Index("ix_schedule_records_status", "pipeline_id", "status", "execution_date"),
)
