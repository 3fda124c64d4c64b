"""Whether a `cube` command acts on the local store or on a server, and `cube login` /
`cube logout`.

A server is chosen by `--server URL` (before the command), else ``CUBE_SERVER``, else the
file `cube login URL` wrote (``$CUBE_HOME/remote.json``, 0600: the URL, a token, a project).
The token is `--token`, else ``CUBE_TOKEN``, else the saved one, which is sent only to the
server it was issued by. The project is `--project`, else ``CUBE_PROJECT``, else the saved
one, else ``default``.

With a server chosen, the root command's callback (``route``) points the command about to
run at its remote implementation (``cubestudio.client.remote_routes.ROUTES``) before click
invokes it, so the command line is parsed by the command's own definition and the output,
`--json` and exit codes follow the same contract. A command without a remote implementation
fails with one line and exit 2: it never acts on the local store by mistake. Without a
server, nothing changes.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from cubestudio.errors import CubeError
from cubestudio.settings import get_settings

REMOTE_FILE = "remote.json"
DEFAULT_PROJECT = "default"
BOTH_WAYS = ("login", "logout")  # these choose for themselves what they talk to

ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        envvar="CUBE_SERVER",
        metavar="URL",
        help="Act on this Cube Studio server, not the local store (or `cube login URL`).",
    ),
]
TokenOption = Annotated[
    str | None,
    typer.Option(
        "--token",
        envvar="CUBE_TOKEN",
        metavar="TOKEN",
        help="The API token or login session for --server (`cube token create`).",
    ),
]
ProjectOption = Annotated[
    str | None,
    typer.Option(
        "--project",
        envvar="CUBE_PROJECT",
        metavar="NAME",
        help="The server's project to act in (default: default).",
    ),
]


@dataclass(frozen=True)
class Target:
    """The server a command acts on, and how it was chosen (for messages)."""

    url: str
    token: str | None
    project: str
    source: str  # "--server", "CUBE_SERVER" or "cube login"


@dataclass(frozen=True)
class Given:
    """The root command's --server, --token and --project, as given (or from the env)."""

    server: str | None
    token: str | None
    project: str | None
    server_source: str = "--server"


# The root's options, for `cube login` (which reads --token and --project).
GIVEN: ContextVar[Given | None] = ContextVar("cube_remote_given", default=None)


def remote_file() -> Path:
    return get_settings().home_dir / REMOTE_FILE


def saved_login() -> dict[str, str] | None:
    """What `cube login` kept, or None."""
    path = remote_file()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):  # no login; a bad CUBE_HOME is said later
        return None
    except (OSError, ValueError) as err:
        raise CubeError(
            f"{path} cannot be read ({err}): run `cube logout`, then `cube login URL` again"
        ) from None
    if not isinstance(data, dict) or not isinstance(data.get("url"), str):
        raise CubeError(f"{path} has no server URL: run `cube logout`, then `cube login URL`")
    return {k: str(v) for k, v in data.items() if isinstance(v, str)}


def same_server(a: str, b: str) -> bool:
    from cubestudio.client.http import api_base

    return api_base(a) == api_base(b)


def find_target(given: Given) -> Target | None:
    """The server chosen, or None: the local store."""
    server = (given.server or "").strip() or None
    saved = saved_login()
    if server is None and saved is None:
        return None
    url = server or (saved or {})["url"]
    source = given.server_source if server else "cube login"
    own = saved if saved is not None and same_server(saved["url"], url) else {}
    token = given.token or own.get("token")
    project = given.project or own.get("project") or DEFAULT_PROJECT
    return Target(url=url, token=token or None, project=project, source=source)


def route(ctx: typer.Context, given: Given) -> None:
    """Called by the root command before the command runs: with a server chosen, point
    the command (and a group's subcommands) at its remote implementation, or refuse it."""
    name = ctx.invoked_subcommand
    GIVEN.set(given)
    if name is None or name in BOTH_WAYS:
        return
    target = find_target(given)
    if target is None:
        return
    from cubestudio.client.remote_routes import ROUTES

    command = _subcommand(ctx.command, ctx, name)
    routes = ROUTES.get(name)
    if command is None:
        return  # click says the command does not exist
    if routes is None:
        # At invocation, not now: `cube X --help` still answers. A group's callback runs
        # before any of its subcommands, so this refuses them all.
        command.callback = functools.partial(_refuse, name, target)
        return
    if callable(routes):
        command.callback = functools.partial(routes, target)
        return
    assert isinstance(command, TyperGroup)
    for sub_name, sub in command.commands.items():
        remote = routes.get(sub_name)
        if remote is None:
            sub.callback = functools.partial(_refuse, f"{name} {sub_name}", target)
        else:
            sub.callback = functools.partial(remote, target)
    if routes.get(None) is not None:
        _route_group_callback(command, routes[None], target)


def _route_group_callback(group: TyperGroup, remote: Any, target: Target) -> None:
    """A group's own callback runs before any subcommand, and acts only without one (`cube
    runs` lists, `cube runs delete` does not): the remote one gets the group's context, to
    know which, through the group's invoke."""
    invoke = group.invoke

    def invoke_remote(ctx: typer.Context) -> Any:
        def callback(**params: Any) -> None:
            if ctx.invoked_subcommand is None:
                remote(target, **params)

        group.callback = callback
        return invoke(ctx)

    group.invoke = invoke_remote  # type: ignore[method-assign,assignment]


def _subcommand(group: Any, ctx: typer.Context, name: str) -> Any:
    return group.get_command(ctx, name) if isinstance(group, TyperGroup) else None


def local_only(command: str, target: Target) -> CubeError:
    how = {
        "--server": "leave out --server",
        "CUBE_SERVER": "unset CUBE_SERVER",
        "cube login": f"run `cube logout` (logged in to {target.url})",
    }[target.source]
    return CubeError(f"`cube {command}` works only on the local store: {how} to use it")


def _refuse(command: str, target: Target, **_params: Any) -> None:
    raise local_only(command, target)


def server_source(ctx: typer.Context, name: str = "server") -> str:
    """Whether the root's --server came from the command line or CUBE_SERVER."""
    source = ctx.get_parameter_source(name)
    return "CUBE_SERVER" if source is not None and source.name == "ENVIRONMENT" else "--server"


# -- cube login / cube logout ---------------------------------------------------------------


def login(
    url: Annotated[str, typer.Argument(help="The server, e.g. http://127.0.0.1:8080.")],
    username: Annotated[
        str | None, typer.Option("--username", "-u", help="Your user name (default: $USER).")
    ] = None,
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from stdin.")
    ] = False,
) -> None:
    """Log in to a server; later commands act on it until `cube logout`.

    The session's token is kept in $CUBE_HOME/remote.json (mode 0600). With an API token
    (`cube --token T login URL`, or CUBE_TOKEN), that token is checked and kept instead of
    a password login; `cube logout` then forgets it without revoking it."""
    from cubestudio.client.api import Client, login_token

    given = GIVEN.get() or Given(None, None, None)
    token, kind = given.token, "api-token"
    if token is None:
        name = username or _user_name()
        token, kind = login_token(url, name, _password(password_stdin)), "session"
    project = given.project or DEFAULT_PROJECT
    with Client(url, token, project=project) as client:
        me = client.http.json("GET", "/auth/me")
    url = url.strip().rstrip("/")
    save_login({"url": url, "token": token, "kind": kind, "project": project})
    typer.echo(f"logged in to {url} as {me['name']} (project {project})", err=True)


def logout() -> None:
    """Forget the server of `cube login`, revoking its session; commands act locally again."""
    from cubestudio.client.http import ClientError, Http

    try:
        saved = saved_login()
    except CubeError:  # unreadable: nothing to revoke, but it must go
        remote_file().unlink(missing_ok=True)
        typer.echo(f"removed the unreadable {remote_file()}", err=True)
        return
    if saved is None:
        typer.echo("not logged in to any server", err=True)
        return
    # A login session is revoked; an API token given to `cube --token T login` is not: it
    # belongs to whoever created it (a CI job, say), and `cube token revoke` ends it.
    if saved.get("kind") == "session":
        try:
            http = Http(saved["url"], saved.get("token"))
            try:
                http.request("POST", "/auth/logout")
            finally:
                http.close()
        except ClientError as err:  # expired already, or the server is away: forget it
            typer.echo(f"note: the session was not revoked on the server: {err}", err=True)
    remote_file().unlink(missing_ok=True)
    typer.echo(f"logged out of {saved['url']}", err=True)


def save_login(data: dict[str, str]) -> None:
    """Write remote.json as 0600 from its creation: it holds a token."""
    from cubestudio.private import private_folder

    home = get_settings().home_dir
    private_folder(home, label=f"CUBE_HOME={home}", fix="set CUBE_HOME to a folder")
    path = remote_file()
    tmp = path.with_name(f".{REMOTE_FILE}.{os.getpid()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), 0o600)
        json.dump(data, out)
    os.replace(tmp, path)


def _user_name() -> str:
    import getpass

    return getpass.getuser()


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not sys.stdin.isatty():
        raise CubeError("give the password with --password-stdin (stdin is not a terminal)")
    return str(typer.prompt("password", hide_input=True, err=True))


def register(app: typer.Typer) -> None:
    app.command()(login)
    app.command()(logout)
