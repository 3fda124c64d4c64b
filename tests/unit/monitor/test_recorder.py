"""The recorder on every backend: batched writes, exact peaks, an attempt's end, an adopted
attempt carrying on from its stored peaks, a database outage that loses nothing."""

from __future__ import annotations

from collections.abc import Hashable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, func, select

from cubestudio.engine.launcher import AttemptKey
from cubestudio.errors import StoreError
from cubestudio.monitor.recorder import MetricsRecorder
from cubestudio.monitor.sampler import Sample
from cubestudio.store import metrics as store
from cubestudio.store import runs as runs_store
from cubestudio.store.db import Database
from cubestudio.store.tables import attempt_metrics, attempt_samples

A = AttemptKey("r1", "train", 1)
B = AttemptKey("r1", "eval", 1)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class FakeSampler:
    """Gives the rss set per attempt, cpu = rss / 10."""

    def __init__(self) -> None:
        self.rss: dict[Hashable, int] = {}
        self.closed = False

    def sample(self, roots: Mapping[Any, int], now: float) -> dict[Any, Sample]:
        return {k: Sample(now, self.rss[k] / 10, self.rss[k], 1) for k in roots if k in self.rss}

    def forget(self, key: Hashable) -> None:
        pass

    def close(self) -> None:
        self.closed = True


class Counting:
    """The database, counting the transactions begun."""

    def __init__(self, db: Database) -> None:
        self.db, self.transactions = db, 0

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        self.transactions += 1
        with self.db.begin() as conn:
            yield conn

    def dispose(self) -> None:
        pass


def _recorder(db: Any, sampler: FakeSampler, clock: Clock, **kw: Any) -> MetricsRecorder:
    return MetricsRecorder(lambda: db, sampler=sampler, clock=clock, **kw)  # type: ignore[arg-type]


def _rows(db: Database) -> dict[tuple[str, int], Any]:
    with db.begin() as conn:
        rows = conn.execute(select(attempt_metrics)).mappings().all()
    return {(r["task_name"], r["attempt"]): r for r in rows}


def _points(db: Database, task: str) -> int:
    with db.begin() as conn:
        query = select(func.count()).where(attempt_samples.c.task_name == task)
        return int(conn.execute(query).scalar_one())


def test_writes_are_batched_and_peaks_exact(db: Database) -> None:
    clock, sampler = Clock(), FakeSampler()
    counting = Counting(db)
    recorder = _recorder(counting, sampler, clock, flush_seconds=5.0)
    for second in range(12):
        sampler.rss = {A: 100 + (900 if second == 4 else second), B: 50}
        recorder.sample({A: 1, B: 2})
        clock.now += 1.0
    assert counting.transactions == 3  # at 0 s, 5 s and 10 s: not 24 (one per sample)
    rows = _rows(db)
    assert rows[("train", 1)]["rss_max"] == 1000 and rows[("train", 1)]["cpu_max"] == 100.0
    assert rows[("train", 1)]["samples"] == 11 and not rows[("train", 1)]["ended"]
    assert rows[("train", 1)]["rss"] == 110  # the latest sample written
    assert _points(db, "train") == 11


def test_an_attempt_end_is_written_at_once_when_nothing_else_runs(db: Database) -> None:
    clock, sampler = Clock(), FakeSampler()
    counting = Counting(db)
    recorder = _recorder(counting, sampler, clock, flush_seconds=60.0)
    sampler.rss = {A: 300, B: 10}
    for _ in range(3):
        recorder.sample({A: 1, B: 2})
        clock.now += 1.0
    recorder.finish(A)  # B still runs: A waits for the next round
    assert not _rows(db)[("train", 1)]["ended"]
    recorder.sample({B: 2})  # the next round writes it
    assert _rows(db)[("train", 1)]["ended"]
    recorder.finish(B)  # the last one: written now
    rows = _rows(db)
    assert rows[("eval", 1)]["ended"] and rows[("eval", 1)]["rss_max"] == 10
    assert recorder.series == {}  # nothing kept for ended attempts
    recorder.close()
    assert sampler.closed


def test_an_adopted_attempt_carries_on_from_its_stored_peaks(db: Database) -> None:
    clock, sampler = Clock(), FakeSampler()
    first = _recorder(db, sampler, clock)
    sampler.rss = {A: 5000}
    first.sample({A: 1})
    first.flush()
    clock.now += 30.0  # the engine died; another adopts the attempt
    second = _recorder(db, FakeSampler(), clock)
    second.sampler.rss = {A: 100}  # type: ignore[attr-defined]
    second.sample({A: 1})
    second.finish(A)
    row = _rows(db)[("train", 1)]
    assert row["rss_max"] == 5000 and row["rss"] == 100 and row["samples"] == 2
    assert row["cpu_avg"] == 255.0 and row["ended"]
    assert row["first_at"] == datetime.fromtimestamp(1_000_000.0, UTC)


def test_a_database_outage_loses_nothing_and_raises_nothing(db: Database) -> None:
    clock, sampler = Clock(), FakeSampler()
    logged: list[tuple[str, dict[str, Any]]] = []
    state = {"down": True}

    def open_db() -> Database:
        if state["down"]:
            raise StoreError("cannot reach the database at test")
        return db

    recorder = MetricsRecorder(
        open_db,
        sampler=sampler,
        clock=clock,
        flush_seconds=1.0,
        log=lambda event, **fields: logged.append((event, fields)),  # type: ignore[arg-type]
    )
    sampler.rss = {A: 70}
    for _ in range(4):
        recorder.sample({A: 1})
        clock.now += 1.0
    assert len(logged) == 1 and logged[0][0] == "metrics_not_written"  # once an outage
    assert "cannot reach the database" in logged[0][1]["error"]
    state["down"] = False
    recorder.sample({A: 1})
    assert _rows(db)[("train", 1)]["samples"] == 5
    assert _points(db, "train") == 5


def test_a_deleted_run_takes_its_metrics_along(db: Database) -> None:
    now = datetime.now(UTC)
    with db.begin() as conn:
        pipeline_id, _ = runs_store.upsert_pipeline(
            conn, name="p", spec_json="{}", creator="ann", now=now
        )
        run = {
            "id": "r1", "pipeline_id": pipeline_id, "pipeline_name": "p", "status": "succeeded",
            "trigger": "manual", "execution_date": now, "creator": "ann", "runner": "ann",
            "cluster_name": "local", "spec": "{}", "params": "{}", "created_at": now,
            "stop_requested": False,
        }  # fmt: skip
        runs_store.insert_run(conn, run=run, tasks=[])
    clock, sampler = Clock(), FakeSampler()
    recorder = _recorder(db, sampler, clock)
    sampler.rss = {A: 1}
    recorder.sample({A: 1})
    recorder.finish(A)
    with db.begin() as conn:
        assert len(store.of_run(conn, run_id="r1")) == 1
        runs_store.delete_run(conn, run_id="r1", statuses={"succeeded"})
        assert store.of_run(conn, run_id="r1") == []
        assert store.series_of_run(conn, run_id="r1") == []
