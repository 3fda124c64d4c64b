"""The sender: claims due deliveries of the outbox, posts them, records how each try went.

``tick(now)`` is one turn at an injected time (tests drive retries without sleeping);
``run(stop)`` turns on the wall clock until ``stop`` is set. A turn claims up to ``batch``
deliveries in one transaction, posts them outside any transaction (several at once, each
within ``timeout`` seconds per network step) and records the outcomes in a second one, so
neither the engine nor another sender ever waits on a receiver.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import httpx
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError

from cubestudio import __version__
from cubestudio.alerts.signing import sign
from cubestudio.errors import CubeError
from cubestudio.spec.alerts import check_webhook_url, mask_url
from cubestudio.store import alerts as store
from cubestudio.store.db import Database

MAX_TRIES = 8
FIRST_DELAY = 5.0  # seconds before the second try; doubled after each failed one
MAX_DELAY = 600.0
# A claimed delivery is its sender's for this long: well over the longest try (a few network
# steps of `timeout` seconds each), so two senders never post it at once unless one was
# paused past it (then the receiver sees the same X-Cube-Delivery twice).
HOLD = timedelta(seconds=120)
ERROR_CHARS = 300  # of a refusal's body kept in last_error

Log = Callable[[dict[str, Any]], None]


def retry_delay(tries: int) -> float:
    """Seconds after the ``tries``-th failed try before the next: 5, 10, 20 ... 600."""
    return min(MAX_DELAY, FIRST_DELAY * 2.0 ** max(0, tries - 1))


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class TryResult:
    error: str | None  # None: delivered
    final: bool = False  # an error no later try can cure (the URL itself is refused)


class AlertSender:
    def __init__(
        self,
        db: Database,
        *,
        key: bytes,
        base_url: str = "",
        client: httpx.Client | None = None,
        timeout: float = 5.0,
        batch: int = 20,
        workers: int = 8,
        max_tries: int = MAX_TRIES,
        log: Log | None = None,
    ) -> None:
        self.db = db
        self.key = key
        self.base_url = base_url.rstrip("/")
        self.batch = batch
        self.max_tries = max_tries
        self.log: Log = log or (lambda _entry: None)
        # Redirects are never followed: a receiver could send the request on to another
        # scheme or to an address the pipeline's author never named.
        self._client = client or httpx.Client(timeout=timeout, follow_redirects=False)
        self._own_client = client is None
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="alert")

    def __enter__(self) -> AlertSender:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._own_client:
            self._client.close()

    # -- turns ------------------------------------------------------------------------------
    def tick(self, now: datetime) -> int:
        """One turn at ``now``: how many deliveries it tried."""
        with self.db.begin() as conn:
            rows = store.claim_due(conn, now=now, hold_until=now + HOLD, limit=self.batch)
        if not rows:
            return 0
        results = list(self._pool.map(lambda row: self._try(row, now), rows))
        with self.db.begin() as conn:
            for row, result in zip(rows, results, strict=True):
                self._record(conn, row, result, now)
        return len(rows)

    def run(
        self,
        stop: threading.Event,
        *,
        clock: Callable[[], datetime] = utcnow,
        interval: float = 2.0,
    ) -> int:
        """Turn until ``stop`` is set: at once while a full batch was due, else every
        ``interval`` seconds. A turn that fails as a whole (the database is away) is tried
        again after ``interval``. Returns the turns made."""
        turns = 0
        while not stop.is_set():
            try:
                tried = self.tick(clock())
            except (CubeError, DBAPIError) as err:
                self.log({"event": "turn_failed", "error": str(err).splitlines()[0]})
                stop.wait(interval)
                continue
            turns += 1
            if tried < self.batch:
                stop.wait(interval)
        return turns

    # -- one delivery -----------------------------------------------------------------------
    def body(self, row: dict[str, Any], now: datetime) -> bytes:
        """The JSON posted: the recorded event with the run's project and address and the
        time of this try."""
        payload = json.loads(row["payload"])
        project = row.get("project")
        run_url = None
        if project is not None:
            run_url = f"{self.base_url}/api/v1/projects/{project}/runs/{row['run_id']}"
        payload.update(project=project, run_url=run_url, sent_at=now.isoformat())
        return json.dumps(payload, sort_keys=True, separators=(",", ":")).encode()

    def _try(self, row: dict[str, Any], now: datetime) -> TryResult:
        try:
            check_webhook_url(row["url"])  # recorded from a checked spec; checked again here
        except ValueError as err:
            return TryResult(f"the URL is refused: {err}", final=True)
        body = self.body(row, now)
        stamp = str(int(now.timestamp()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"cube-studio/{__version__}",
            "X-Cube-Event": row["event"],
            "X-Cube-Delivery": str(row["id"]),
            "X-Cube-Timestamp": stamp,
            "X-Cube-Signature": sign(self.key, timestamp=stamp, body=body),
        }
        try:
            with self._client.stream("POST", row["url"], content=body, headers=headers) as answer:
                return _judge(answer)
        except Exception as err:  # httpx.HTTPError mostly; no receiver may end the sender
            return TryResult(f"{type(err).__name__}: {err}".rstrip(": "))

    def _record(
        self, conn: Connection, row: dict[str, Any], result: TryResult, now: datetime
    ) -> None:
        tries = row["tries"]
        entry = {
            "id": row["id"],
            "run_id": row["run_id"],
            "task": row["task_name"],
            "alert": row["event"],
            "url": mask_url(row["url"]),
            "tries": tries,
        }
        if result.error is None:
            status, when = store.DELIVERED, None
        elif result.final or tries >= self.max_tries:
            status, when = store.FAILED, None
        else:
            status, when = store.PENDING, now + timedelta(seconds=retry_delay(tries))
        kept = store.finish(
            conn,
            delivery_id=row["id"],
            tries=tries,
            status=status,
            now=now,
            next_try_at=when,
            error=result.error,
        )
        if not kept:  # another sender claimed it again meanwhile: its outcome counts
            self.log({**entry, "event": "claim_lost"})
            return
        name = {store.DELIVERED: "delivered", store.FAILED: "failed"}.get(status, "retry")
        extra = {"error": result.error} if result.error else {}
        if when is not None:
            extra["next_try_at"] = when.isoformat()
        self.log({**entry, "event": name, **extra})


def _judge(answer: httpx.Response) -> TryResult:
    status = answer.status_code
    if 200 <= status < 300:
        return TryResult(None)
    if 300 <= status < 400:
        where = answer.headers.get("location", "nowhere")
        return TryResult(
            f"HTTP {status}: a redirect to {mask_url(where)}, not followed (webhooks never "
            "follow redirects): put the final https address in the pipeline's alerts"
        )
    return TryResult(f"HTTP {status} {answer.reason_phrase}: {_head(answer)}".rstrip(": "))


def _head(answer: httpx.Response) -> str:
    """The start of a refusal's body, on one line: enough to say why, never all of it."""
    taken = b""
    for chunk in answer.iter_bytes():
        taken += chunk
        if len(taken) >= ERROR_CHARS:
            break
    return " ".join(taken[:ERROR_CHARS].decode("utf-8", "replace").split())
