"""`cube server` (the REST API, with the engine service and the scheduler as supervised child
processes), `cube user create` and `cube token create|list|revoke` (local: straight on the
store, as a platform admin on the machine would)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from cubestudio.errors import CubeError
from cubestudio.settings import get_settings

user_app = typer.Typer(no_args_is_help=True, help="Users of the server (local, on the store).")
token_app = typer.Typer(no_args_is_help=True, help="API tokens for programs (shown once).")
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON.")]


def _now() -> datetime:
    return datetime.now(UTC)


def _cube() -> list[str]:
    """This same cube: the children run the installed code of the server."""
    return [sys.executable, "-m", "cubestudio.cli.main"]


@dataclass
class Child:
    """A supervised child process: restarted when it dies, with a growing pause, until the
    server stops."""

    name: str
    argv: list[str]
    proc: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    stopping: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        self.proc = subprocess.Popen(
            self.argv,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            preexec_fn=_die_with_parent(),
        )

    def watch(self) -> None:
        while not self.stopping.is_set():
            assert self.proc is not None
            code = self.proc.wait()
            if self.stopping.is_set():
                return
            self.restarts += 1
            pause = min(30.0, 0.5 * 2 ** min(self.restarts, 6))
            typer.echo(
                f"cube server: the {self.name} exited with {code}; restarting in {pause:g} s",
                err=True,
            )
            if self.stopping.wait(pause):
                return
            self.start()

    def stop(self) -> None:
        """SIGTERM (a graceful stop: the engine releases its leases), then wait."""
        self.stopping.set()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def _die_with_parent() -> Callable[[], None] | None:
    """On Linux, a child gets SIGTERM when the server dies, even by SIGKILL (prctl
    PR_SET_PDEATHSIG), so that no engine or scheduler outlives it unsupervised; SIGTERM lets
    the engine hand its runs over. libc is loaded here: the child only calls it."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1

    def arm() -> None:
        libc.prctl(pr_set_pdeathsig, signal.SIGTERM)

    return arm


def server(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8080,
    no_engine: Annotated[
        bool, typer.Option("--no-engine", help="Do not start the engine service.")
    ] = False,
    no_scheduler: Annotated[
        bool, typer.Option("--no-scheduler", help="Do not start the cron scheduler.")
    ] = False,
    no_alerts: Annotated[
        bool, typer.Option("--no-alerts", help="Do not start the webhook sender of alerts.")
    ] = False,
) -> None:
    """Serve the REST API at http://HOST:PORT/api/v1 until Ctrl-C or SIGTERM.

    The engine service (`cube engine`), the cron scheduler (`cube scheduler`) and the
    webhook sender of alerts (`cube alerts send`) run as child processes, restarted if they
    die. In production run `cube server --no-engine --no-scheduler --no-alerts` beside
    separate replicas of each on PostgreSQL."""
    import uvicorn

    from cubestudio.api.app import create_app
    from cubestudio.auth.users import ensure_admin
    from cubestudio.cli.setup import open_db
    from cubestudio.store.templates import ensure_builtins
    from cubestudio.web import mount_ui

    settings = get_settings()
    db = open_db(settings)
    first = ensure_admin(db, home=settings.home_dir, password=settings.admin_password, now=_now())
    with db.begin() as conn:  # the palette is complete from the first request
        ensure_builtins(conn, now=_now())
    app = create_app(settings, db)
    mount_ui(app, settings.ui_dir)
    url = f"http://{host}:{port}"
    children = []
    if not no_engine:
        children.append(Child("engine service", [*_cube(), "engine", "--id", _engine_id()]))
    if not no_scheduler:
        children.append(Child("scheduler", [*_cube(), "scheduler"]))
    if not no_alerts:
        children.append(Child("alert sender", [*_cube(), "alerts", "send", "--base-url", url]))
    _announce(url, first.password, first.path, [c.name for c in children])
    for child in children:
        child.start()
        threading.Thread(target=child.watch, name=child.name, daemon=True).start()
    # uvicorn re-raises the SIGTERM it caught once it has shut down: as an exception here,
    # so that the children are stopped (gracefully) before the server exits.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    try:
        uvicorn.run(app, host=host, port=port, log_level="warning", access_log=False)
    finally:
        for child in children:
            child.stop()
        db.dispose()


def _exit_on_signal(signum: int, _frame: Any) -> None:
    raise SystemExit(128 + signum)


def _engine_id() -> str:
    import socket

    return f"{socket.gethostname()}-server"


def _announce(url: str, password: str | None, path: Path | None, children: list[str]) -> None:
    lines = [f"Cube Studio on {url} (API {url}/api/v1, docs {url}/api/v1/docs)"]
    if password is not None:
        lines.append(f"first start: user admin, password {password} (kept in {path}, mode 0600)")
    else:
        lines.append("log in with an existing user (the first one is `admin`)")
    if children:
        lines.append("with " + " and ".join(children))
    for line in lines:
        typer.echo(line, err=True)


# -- users and tokens ---------------------------------------------------------------------------
@user_app.command("create")
def user_create(
    name: Annotated[str, typer.Argument(help="The user's name.")],
    admin: Annotated[bool, typer.Option("--admin", help="A platform admin.")] = False,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
    json_out: JsonOption = False,
) -> None:
    """Create a user. It belongs to no project until a project admin adds it."""
    from cubestudio.auth.users import create_user
    from cubestudio.cli.setup import open_db

    password = sys.stdin.readline().rstrip("\r\n") if password_stdin else None
    db = open_db()
    user_id = create_user(db, name=name, password=password, is_admin=admin, now=_now())
    result = {"id": user_id, "name": name, "is_admin": admin}
    typer.echo(json.dumps(result) if json_out else f"user {name} created")


def _user_id(db: Any, name: str) -> int:
    from cubestudio.store import accounts

    with db.begin() as conn:
        row = accounts.get_user(conn, name=name)
    if row is None:
        raise CubeError(f"--user: no user {name} (`cube user create {name}` makes one)")
    return int(row["id"])


def _default_user() -> str:
    return os.environ.get("CUBE_USER", "admin")


@token_app.command("create")
def token_create(
    name: Annotated[str, typer.Option("--name", help="What the token is for, e.g. ci.")],
    user: Annotated[str | None, typer.Option("--user", help="Whose token (default admin).")] = None,
    expires_days: Annotated[
        float | None,
        typer.Option("--expires-days", min=0, help="Days it lasts (default 90; 0: never)."),
    ] = None,
    json_out: JsonOption = False,
) -> None:
    """Create an API token; it is printed this once and stored only as a hash."""
    from cubestudio.auth.users import create_token
    from cubestudio.cli.setup import open_db

    db = open_db()
    issued = create_token(
        db, user_id=_user_id(db, user or _default_user()), name=name, now=_now(), days=expires_days
    )
    expires = issued.expires_at.isoformat() if issued.expires_at else None
    if json_out:
        result = {"token": issued.token, "id": issued.token_id, "name": name}
        typer.echo(json.dumps({**result, "prefix": issued.prefix, "expires_at": expires}))
        return
    typer.echo(issued.token)
    typer.echo(f"token {issued.token_id} ({name}), expires {expires or 'never'}: "
               "shown this once", err=True)  # fmt: skip


@token_app.command("list")
def token_list(
    user: Annotated[str | None, typer.Option("--user", help="Whose tokens.")] = None,
    json_out: JsonOption = False,
) -> None:
    """The user's API tokens (never the tokens themselves)."""
    from cubestudio.cli.setup import open_db
    from cubestudio.store import accounts

    db = open_db()
    with db.begin() as conn:
        rows = accounts.list_tokens(conn, user_id=_user_id(db, user or _default_user()))
    items = [
        {
            "id": r["id"],
            "name": r["name"],
            "prefix": r["prefix"],
            "created_at": r["created_at"].isoformat(),
            "expires_at": r["expires_at"].isoformat() if r["expires_at"] else None,
            "revoked": r["revoked_at"] is not None,
        }
        for r in rows
    ]
    if json_out:
        typer.echo(json.dumps(items))
        return
    for item in items:
        state = "revoked" if item["revoked"] else f"expires {item['expires_at'] or 'never'}"
        typer.echo(f"{item['id']:>4}  {item['name']:<20} {item['prefix']}…  {state}")


@token_app.command("revoke")
def token_revoke(
    token_id: Annotated[int, typer.Argument(help="The token's id (`cube token list`).")],
    user: Annotated[str | None, typer.Option("--user", help="Whose token.")] = None,
) -> None:
    """Revoke a token at once."""
    from cubestudio.cli.setup import open_db
    from cubestudio.store import accounts

    db = open_db()
    with db.begin() as conn:
        accounts.revoke_token(
            conn, user_id=_user_id(db, user or _default_user()), token_id=token_id, now=_now()
        )
    typer.echo(f"token {token_id} revoked")


def register(app: typer.Typer) -> None:
    app.command()(server)
    app.add_typer(user_app, name="user")
    app.add_typer(token_app, name="token")
