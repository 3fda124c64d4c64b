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
    Float,
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

# Integer ids that grow without end: BIGINT, but INTEGER on SQLite, where only an INTEGER
# PRIMARY KEY is the rowid that autoincrements.
BigId = BigInteger().with_variant(Integer(), "sqlite")
DEFAULT_PROJECT_ID = 1  # the `default` project (migration 0006): the local CLI's

pipelines = Table(
    "pipelines",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "project_id",
        Integer,
        ForeignKey("projects.id", name="fk_pipelines_project"),
        nullable=False,
        server_default="1",
    ),
    Column("name", String(63), nullable=False),  # unique in its project
    Column("creator", String(128), nullable=False),
    Column("spec", Text, nullable=False),  # the latest definition (its latest version's spec)
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # The number of its newest saved version (pipeline_versions); 0: never saved as a version
    # (a pipeline only ever run from a file by the CLI).
    Column("latest_version", Integer, nullable=False, server_default="0"),
    Column("deleted_at", UTCDateTime),  # deleted: hidden, its runs kept read-only
    UniqueConstraint("project_id", "name", name="uq_pipelines_project_name"),
)

pipeline_versions = Table(
    "pipeline_versions",
    metadata,
    # Every save of a pipeline, immutable: runs pin the version they were triggered from.
    Column("pipeline_id", Integer, ForeignKey("pipelines.id"), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("spec", Text, nullable=False),  # JSON of the pipeline's data (PipelineSpec)
    Column("layout", Text),  # JSON of the editor's extras: node positions, notes
    Column("author", String(128), nullable=False),
    Column("message", Text),
    Column("created_at", UTCDateTime, nullable=False),
)

templates = Table(
    "templates",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("version", Integer, primary_key=True),  # immutable once registered
    Column("spec", Text, nullable=False),
    Column("creator", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # NULL: platform-wide (registered by a platform admin); else the project that owns it.
    Column("project_id", Integer, ForeignKey("projects.id", name="fk_templates_project")),
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
    # The run's project (its pipeline's, kept here so every list filters on one column) and
    # the pipeline version it was triggered from (NULL: from a file, not a saved version).
    Column(
        "project_id",
        Integer,
        ForeignKey("projects.id", name="fk_runs_project"),
        nullable=False,
        server_default="1",
    ),
    Column("pipeline_version", Integer),
    Index("ix_runs_created_at", "created_at"),
    # The runs list's order (newest first, id breaking ties): read from the index, unsorted.
    Index("ix_runs_project_created", "project_id", "created_at", "id"),
    Index("ix_runs_project_status", "project_id", "status"),  # /metrics counts by status
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

# -- the server: users, projects, tokens, secrets, events, alerts (migration 0006) ---------------

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("description", Text, nullable=False, server_default=""),
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)

users = Table(
    "users",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(63), nullable=False, unique=True),
    Column("password_hash", String(255)),  # argon2; NULL: no password login (tokens only)
    Column("is_admin", Boolean, nullable=False, default=False),  # a platform admin
    Column("created_at", UTCDateTime, nullable=False),
    Column("disabled_at", UTCDateTime),
)

project_members = Table(
    "project_members",
    metadata,
    Column("project_id", Integer, ForeignKey("projects.id"), primary_key=True),
    Column("user_id", Integer, ForeignKey("users.id"), primary_key=True),
    Column("role", String(16), nullable=False),  # admin / developer / viewer
    Column("added_at", UTCDateTime, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    # Login sessions (kind "session") and API tokens for programs (kind "api"). Only the
    # SHA-256 of a token is kept: tokens are 256 random bits, so a fast hash is enough (a
    # password needs argon2 because people choose guessable ones).
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", Integer, ForeignKey("users.id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("name", String(63), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("prefix", String(16), nullable=False),  # shown in lists to tell tokens apart
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime),
    Column("last_used_at", UTCDateTime),
    Column("revoked_at", UTCDateTime),
    Index("ix_api_tokens_user", "user_id"),
)

project_secrets = Table(
    "project_secrets",
    metadata,
    Column("project_id", Integer, ForeignKey("projects.id"), primary_key=True),
    Column("name", String(63), primary_key=True),
    Column("ciphertext", Text, nullable=False),  # Fernet (AES-128-CBC + HMAC) of the value
    Column("created_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

events = Table(
    "events",
    metadata,
    # State changes of runs, tasks and attempts, written in the transaction that made them
    # (store.runs.save_changes): the server streams them (SSE) by id, so a client that comes
    # back with Last-Event-ID misses nothing.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", String(40), nullable=False),
    Column("kind", String(16), nullable=False),  # run / task / attempt
    Column("payload", Text, nullable=False),  # JSON
    Column("created_at", UTCDateTime, nullable=False),
    Index("ix_events_run", "run_id", "id"),
    # SQLite: never reuse the id of a deleted newest row (a stream past it would miss the
    # event that took it again).
    sqlite_autoincrement=True,
)

alert_deliveries = Table(
    "alert_deliveries",
    metadata,
    # One webhook call to make (an outbox): the engine records it in its turn, a sender
    # delivers it with retries, so a slow endpoint never blocks the engine.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", String(40), nullable=False),
    Column("task_name", String(63)),  # NULL: an alert on the run itself
    Column("event", String(16), nullable=False),  # failure / success / timeout / retry
    Column("url", Text, nullable=False),
    Column("payload", Text, nullable=False),  # the JSON body, signed when sent
    Column("status", String(16), nullable=False),  # pending / delivered / failed
    Column("tries", Integer, nullable=False, default=0),
    Column("next_try_at", UTCDateTime, nullable=False),
    Column("last_error", Text),
    Column("created_at", UTCDateTime, nullable=False),
    Column("delivered_at", UTCDateTime),
    Index("ix_alert_deliveries_due", "status", "next_try_at"),
    Index("ix_alert_deliveries_run", "run_id"),
)

# -- resource monitoring (migration 0007) -------------------------------------------------------

attempt_metrics = Table(
    "attempt_metrics",
    metadata,
    # One row per sampled attempt: its latest sample (what `cube top` shows) and its peaks,
    # exact over every raw sample; written in batches by the engine (monitor/recorder.py).
    Column("run_id", String(40), primary_key=True),
    Column("task_name", String(63), primary_key=True),
    Column("attempt", Integer, primary_key=True),
    Column("first_at", UTCDateTime, nullable=False),
    Column("sampled_at", UTCDateTime, nullable=False),  # of the latest sample
    Column("samples", Integer, nullable=False),
    Column("cpu", Float, nullable=False),  # percent of one core, the process tree summed
    Column("rss", BigInteger, nullable=False),  # bytes, the process tree summed
    Column("gpu_util", Float),  # percent; NULL: no NVIDIA GPU where it ran
    Column("gpu_mem", BigInteger),  # bytes
    Column("cpu_avg", Float, nullable=False),
    Column("cpu_max", Float, nullable=False),
    Column("rss_max", BigInteger, nullable=False),
    Column("gpu_util_max", Float),
    Column("gpu_mem_max", BigInteger),
    Column("ended", Boolean, nullable=False),  # the attempt ended: nothing more will come
)

attempt_samples = Table(
    "attempt_samples",
    metadata,
    # The downsampled series of an attempt (monitor/series.py): a point per second for its
    # first minute, coarser after; bounded per attempt.
    Column("id", BigId, primary_key=True, autoincrement=True),
    Column("run_id", String(40), nullable=False),
    Column("task_name", String(63), nullable=False),
    Column("attempt", Integer, nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("cpu", Float, nullable=False),  # mean over the point's samples
    Column("rss", BigInteger, nullable=False),  # largest of the point's samples
    Column("gpu_util", Float),
    Column("gpu_mem", BigInteger),
    Index("ix_attempt_samples_attempt", "run_id", "task_name", "attempt", "at"),
)

# -- admission (migration 0008) -------------------------------------------------------------------

queues = Table(
    "queues",
    metadata,
    # A project's queue (named as its project): a capability per resource (NULL: no limit)
    # and a weight in fair share. No row: no limit, weight 1.
    Column("name", String(63), primary_key=True),
    Column("cpu", Float),
    Column("memory", BigInteger),  # bytes
    Column("gpu", Integer),
    Column("weight", Float, nullable=False, server_default="1"),
    Column("updated_at", UTCDateTime, nullable=False),
)

allocations = Table(
    "allocations",
    metadata,
    # What an admitted task holds of the pool while it runs (one row per task: a task has at
    # most one running attempt), written in the transaction that admits it and deleted in
    # the one that ends its attempt. Every process that launches tasks (engine services,
    # `cube run` on its own) counts every row, so none hands out what another holds.
    Column("run_id", String(40), primary_key=True),
    Column("task_name", String(63), primary_key=True),
    Column("owner", String(160), nullable=False),  # the lease owner that admitted it
    Column("queue", String(63), nullable=False),
    Column("priority", Integer, nullable=False, server_default="0"),
    Column("cpu", Float, nullable=False),  # per worker
    Column("memory", BigInteger, nullable=False),  # per worker, bytes
    Column("gpu", Integer, nullable=False),  # per worker
    Column("shareable", Boolean, nullable=False),
    Column("workers", Integer, nullable=False),
    Column("gpus", Text, nullable=False),  # JSON [[index, ...] per worker]
    Column("granted_at", UTCDateTime, nullable=False),
)

# One row, locked (FOR UPDATE) by whoever decides admission: deciders in other processes
# wait, so two never hand out one GPU (SQLite's BEGIN IMMEDIATE serialises them anyway).
pool_lock = Table("pool_lock", metadata, Column("id", Integer, primary_key=True))
