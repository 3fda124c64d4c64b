"""The sender against a real HTTP server on 127.0.0.1 (http.server in a thread): the webhook
arrives signed, a failed try is repeated with back-off on injected time, a redirect is never
followed, a delivery gives up after its tries, and two senders never post one at once."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import socket
import stat
import threading
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from cubestudio.alerts.sender import HOLD, MAX_TRIES, AlertSender
from cubestudio.alerts.signing import load_key, verify
from cubestudio.store import alerts as alert_store
from cubestudio.store.db import Database
from tests.conftest import Cube
from tests.unit.engine.conftest import Harness

KEY = b"test-webhook-key"


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """What the server got, and what it answers per path (200 once a path's list is spent)."""

    port: int = 0
    requests: list[Request] = field(default_factory=list)
    answers: dict[str, deque[tuple[int, dict[str, str]]]] = field(default_factory=dict)
    always: dict[str, int] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(self, path: str) -> tuple[int, dict[str, str]]:
        queued = self.answers.get(path)
        if queued:
            return queued.popleft()
        return self.always.get(path, 200), {}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    got = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 (http.server's name)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            path = self.path.split("?", 1)[0]
            got.requests.append(Request(self.path, dict(self.headers.items()), body))
            status, headers = got.answer(path)
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            text = b"receiver says no" if status >= 400 else b"ok"
            self.send_header("Content-Length", str(len(text)))
            self.end_headers()
            self.wfile.write(text)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    got.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield got
    server.shutdown()
    server.server_close()
    thread.join()


@pytest.fixture
def harness(sqlite_url: str) -> Iterator[Harness]:
    db = Database(sqlite_url)
    db.ensure_schema()
    yield Harness(db)
    db.dispose()


def failed_run(h: Harness, *urls: str) -> str:
    """A run whose task failed, with one run alert on failure per URL."""
    alerts = "".join(f'  - {{url: "{url}", on: [failure]}}\n' for url in urls)
    h.start(f'name: nightly\ntasks: [{{name: a, command: "false"}}]\nalerts:\n{alerts}')
    h.finish("a", 1)
    return h.ctl.run_id


def rows(db: Database, run_id: str) -> list[dict[str, Any]]:
    with db.begin() as conn:
        return [dict(r) for r in alert_store.of_run(conn, run_id=run_id)]


def test_a_webhook_arrives_signed_with_the_run_it_is_about(
    db: Database, receiver: Receiver
) -> None:
    h = Harness(db)
    run_id = failed_run(h, receiver.url("/hook?team=ml"))
    now = h.now + timedelta(seconds=1)
    with AlertSender(db, key=KEY, base_url="https://cube.example/") as sender:
        assert sender.tick(now) == 1
    [request] = receiver.requests
    assert request.path == "/hook?team=ml"
    headers = {k.lower(): v for k, v in request.headers.items()}
    stamp = headers["x-cube-timestamp"]
    assert stamp == str(int(now.timestamp()))
    # The receiver's check: HMAC-SHA256 of "<timestamp>.<body>" with the shared key.
    expected = hmac.new(KEY, stamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(headers["x-cube-signature"], f"sha256={expected}")
    assert not verify(
        KEY,
        timestamp=stamp,
        body=request.body.replace(b"failure", b"success"),
        signature=headers["x-cube-signature"],
        now=now.timestamp(),
    )
    [row] = rows(db, run_id)
    assert headers["x-cube-event"] == "failure"
    assert headers["x-cube-delivery"] == str(row["id"])
    assert headers["content-type"] == "application/json"
    sent = json.loads(request.body)
    assert sent == {
        **sent,
        "event": "failure",
        "scope": "run",
        "project": "default",
        "pipeline": "nightly",
        "run_id": run_id,
        "task": None,
        "status": "failed",
        "message": "failed: a",
        "run_url": f"https://cube.example/api/v1/projects/default/runs/{run_id}",
        "sent_at": now.isoformat(),
    }
    assert (row["status"], row["tries"], row["last_error"]) == ("delivered", 1, None)
    assert row["delivered_at"] == now


def test_a_refused_try_is_repeated_after_its_back_off(harness: Harness, receiver: Receiver) -> None:
    receiver.answers["/hook"] = deque([(500, {})])
    run_id = failed_run(harness, receiver.url("/hook"))
    t = harness.now
    with AlertSender(harness.db, key=KEY) as sender:
        assert sender.tick(t) == 1
        [row] = rows(harness.db, run_id)
        assert (row["status"], row["tries"]) == ("pending", 1)
        assert row["last_error"] == "HTTP 500 Internal Server Error: receiver says no"
        assert row["next_try_at"] == t + timedelta(seconds=5)
        assert sender.tick(t + timedelta(seconds=4.9)) == 0  # not due yet: nothing sent
        assert len(receiver.requests) == 1
        assert sender.tick(t + timedelta(seconds=5)) == 1
    [row] = rows(harness.db, run_id)
    assert (row["status"], row["tries"], row["last_error"]) == ("delivered", 2, None)
    first, second = ({k.lower(): v for k, v in r.headers.items()} for r in receiver.requests)
    assert first["x-cube-delivery"] == second["x-cube-delivery"]  # one delivery, two tries
    assert int(second["x-cube-timestamp"]) - int(first["x-cube-timestamp"]) == 5


def test_a_redirect_is_never_followed_and_counts_as_a_failure(
    harness: Harness, receiver: Receiver
) -> None:
    receiver.answers["/to-file"] = deque([(302, {"Location": "file:///etc/passwd"})])
    receiver.answers["/to-http"] = deque([(307, {"Location": receiver.url("/elsewhere")})])
    run_id = failed_run(harness, receiver.url("/to-file"), receiver.url("/to-http"))
    with AlertSender(harness.db, key=KEY) as sender:
        assert sender.tick(harness.now) == 2
    assert sorted(r.path for r in receiver.requests) == ["/to-file", "/to-http"]  # nothing more
    to_file, to_http = rows(harness.db, run_id)
    assert to_file["status"] == "pending" and to_file["tries"] == 1
    assert to_file["last_error"].startswith("HTTP 302: a redirect to file:///etc/passwd, not")
    assert "webhooks never follow redirects" in to_file["last_error"]
    assert to_http["last_error"].startswith(f"HTTP 307: a redirect to {receiver.url('/else')}")


def test_a_delivery_gives_up_after_its_tries(harness: Harness, receiver: Receiver) -> None:
    receiver.always["/down"] = 503
    run_id = failed_run(harness, receiver.url("/down"))
    now = harness.now
    waits = []
    with AlertSender(harness.db, key=KEY) as sender:
        for _ in range(MAX_TRIES):
            assert sender.tick(now) == 1
            [row] = rows(harness.db, run_id)
            if row["status"] == "pending":
                waits.append((row["next_try_at"] - now).total_seconds())
                now = row["next_try_at"]
        assert sender.tick(now + timedelta(days=1)) == 0
    assert waits == [5, 10, 20, 40, 80, 160, 320]
    [row] = rows(harness.db, run_id)
    assert (row["status"], row["tries"]) == ("failed", MAX_TRIES)
    assert row["last_error"].startswith("HTTP 503 Service Unavailable")
    assert len(receiver.requests) == MAX_TRIES


def test_an_unreachable_receiver_is_tried_again(harness: Harness) -> None:
    with socket.socket() as sock:  # a port nobody listens on once closed
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    run_id = failed_run(harness, f"http://127.0.0.1:{port}/hook")
    with AlertSender(harness.db, key=KEY) as sender:
        assert sender.tick(harness.now) == 1
    [row] = rows(harness.db, run_id)
    assert row["status"] == "pending" and row["last_error"].startswith("ConnectError")


def test_a_claimed_delivery_is_no_other_senders_until_its_hold_ends(db: Database) -> None:
    h = Harness(db)
    run_id = failed_run(h, "https://hooks.example/x")
    now = h.now
    with db.begin() as conn:
        [mine] = alert_store.claim_due(conn, now=now, hold_until=now + HOLD, limit=10)
        if db.backend != "sqlite":  # its row is locked meanwhile: a concurrent claim skips it
            with db.begin() as other:
                assert alert_store.claim_due(other, now=now, hold_until=now + HOLD, limit=10) == []
    assert mine["tries"] == 1 and mine["project"] == "default"
    with db.begin() as conn:
        assert alert_store.claim_due(conn, now=now, hold_until=now + HOLD, limit=10) == []
        [again] = alert_store.claim_due(conn, now=now + HOLD, hold_until=now + 2 * HOLD, limit=1)
        # The first sender, back from a try that outlived its hold, records nothing.
        stale = alert_store.finish(
            conn, delivery_id=mine["id"], tries=1, status="delivered", now=now + HOLD
        )
    assert again["tries"] == 2 and stale is False
    assert rows(db, run_id)[0]["status"] == "pending"


def test_run_turns_until_stopped(harness: Harness, receiver: Receiver) -> None:
    run_id = failed_run(harness, receiver.url("/hook"))
    stop = threading.Event()

    def log(entry: dict[str, Any]) -> None:
        if entry["event"] == "delivered":
            stop.set()

    with AlertSender(harness.db, key=KEY, log=log) as sender:
        turns = sender.run(stop, clock=lambda: harness.now, interval=0.01)
    assert turns >= 1 and rows(harness.db, run_id)[0]["status"] == "delivered"


def test_the_key_is_made_once_private_or_taken_from_the_setting(tmp_path: Path) -> None:
    home = tmp_path / "home"
    made = load_key(home=home, secret=None)
    assert len(made) == 64
    assert stat.S_IMODE(os.stat(home / "webhook.key").st_mode) == 0o600
    assert load_key(home=home, secret=None) == made
    assert load_key(home=home, secret="from-env") == b"from-env"


def test_verify_refuses_an_old_timestamp() -> None:
    body = b'{"event":"failure"}'
    signature = "sha256=" + hmac.new(KEY, b"1000." + body, hashlib.sha256).hexdigest()
    assert verify(KEY, timestamp="1000", body=body, signature=signature, now=1100)
    assert not verify(KEY, timestamp="1000", body=body, signature=signature, now=1400)


def test_cube_alerts_send_delivers_what_cube_run_recorded(
    tmp_path: Path, cube_sqlite: Cube, receiver: Receiver
) -> None:
    file = tmp_path / "p.yaml"
    file.write_text(
        "name: nightly\ntasks: [{name: a, command: 'exit 3'}]\n"
        f"alerts: [{{url: '{receiver.url('/hook')}', on: [failure], scope: both}}]\n"
    )
    ran = cube_sqlite.json("run", str(file), "--json", expect=1)
    env = {"CUBE_WEBHOOK_SECRET": "shared-secret"}
    sent = cube_sqlite("alerts", "send", "--once", "--base-url", "http://cube.test", env=env)
    assert sent.returncode == 0, sent.stderr
    assert [json.loads(line)["event"] for line in sent.stderr.splitlines()] == ["delivered"] * 2
    bodies = [json.loads(r.body) for r in receiver.requests]
    # Posted side by side (the sender's pool): they arrive in either order.
    assert sorted((b["scope"], b["task"] or "") for b in bodies) == [("run", ""), ("task", "a")]
    for request in receiver.requests:
        headers = {k.lower(): v for k, v in request.headers.items()}
        assert verify(
            b"shared-secret",
            timestamp=headers["x-cube-timestamp"],
            body=request.body,
            signature=headers["x-cube-signature"],
            now=datetime.now().timestamp(),
        )
    listed = cube_sqlite.json("alerts", "list", ran["run_id"], "--json", expect=0)
    assert [(d["event"], d["task"], d["status"]) for d in listed] == [
        ("failure", "a", "delivered"),
        ("failure", None, "delivered"),
    ]
