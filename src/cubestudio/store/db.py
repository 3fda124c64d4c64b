"""Connecting to the database and keeping its schema at the latest migration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event, exc, text
from sqlalchemy.engine import Engine, make_url

from cubestudio.errors import StoreError

HEAD_REVISION = "0003"
MIGRATIONS = Path(__file__).with_name("migrations")


def normalize_url(url: str) -> str:
    """Pick the driver we ship for each backend when the URL names none."""
    for prefix, full in (
        ("postgres://", "postgresql+psycopg://"),
        ("postgresql://", "postgresql+psycopg://"),
        ("mysql://", "mysql+pymysql://"),
        ("mariadb://", "mysql+pymysql://"),
        ("mariadb+pymysql://", "mysql+pymysql://"),
    ):
        if url.startswith(prefix):
            return full + url[len(prefix) :]
    return url


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except exc.ArgumentError:
        return "<unparseable database URL>"


class Database:
    def __init__(self, url: str) -> None:
        self.url = normalize_url(url)
        try:
            parsed = make_url(self.url)
        except exc.ArgumentError:
            raise StoreError(
                f"CUBE_DATABASE_URL is not a database URL: {safe_url(self.url)} "
                "(use e.g. postgresql://user@host/db or sqlite:////path/cube.db)"
            ) from None
        self.backend = parsed.get_backend_name()
        self._held: Connection | None = None
        options: dict[str, Any] = {"future": True}
        if self.backend == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            options["connect_args"] = {"timeout": 30, "isolation_level": None}
        else:
            options["pool_pre_ping"] = True
            if self.backend == "mysql":
                options["connect_args"] = {"connect_timeout": 5}
            elif self.backend == "postgresql":
                options["connect_args"] = {"connect_timeout": 5}
        try:
            self.engine: Engine = create_engine(self.url, **options)
        except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as err:
            raise StoreError(f"cannot use database {safe_url(self.url)}: {err}") from None
        if self.backend == "sqlite":
            _configure_sqlite(self.engine)

    @property
    def display_url(self) -> str:
        return safe_url(self.url)

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """One transaction; committed on leaving the block, rolled back on an error."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except exc.OperationalError as err:
            if _is_connect_failure(err):
                raise self._unreachable(err) from None
            raise

    @contextmanager
    def turn(self) -> Iterator[Connection]:
        """A transaction on a connection held for the engine's life: checking a connection
        out of the pool for every turn costs more than the turn's own statements."""
        if self._held is None or self._held.closed:
            self._held = self.engine.connect()
        try:
            with self._held.begin():
                yield self._held
        except exc.OperationalError as err:
            self._held.close()
            if _is_connect_failure(err):
                raise self._unreachable(err) from None
            raise

    def ensure_schema(self) -> None:
        """Bring the schema to the latest migration (fast when it already is)."""
        try:
            with self.engine.connect() as conn:
                current = _current_revision(conn)
        except exc.OperationalError as err:
            raise self._unreachable(err) from None
        except exc.DBAPIError as err:
            raise StoreError(f"database {self.display_url} is not usable: {err.orig}") from None
        if current == HEAD_REVISION:
            return
        from alembic import command
        from alembic.config import Config

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            config.attributes["connection"] = conn
            command.upgrade(config, "head")

    def dispose(self) -> None:
        if self._held is not None:
            self._held.close()
            self._held = None
        self.engine.dispose()

    def _unreachable(self, err: exc.DBAPIError) -> StoreError:
        reason = str(err.orig).strip().splitlines()[0] if err.orig else str(err)
        return StoreError(f"cannot reach the database at {self.display_url}: {reason}")


def _current_revision(conn: Connection) -> str | None:
    from sqlalchemy import inspect

    if not inspect(conn).has_table("alembic_version"):
        return None
    row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    return str(row[0]) if row else None


def _is_connect_failure(err: exc.OperationalError) -> bool:
    words = str(err.orig).lower()
    return any(
        w in words for w in ("connect", "refused", "unknown host", "timeout", "access denied")
    )


def _configure_sqlite(engine: Engine) -> None:
    """WAL keeps every committed transaction across a kill -9 of the process (not across a
    power cut, with synchronous=NORMAL); BEGIN IMMEDIATE takes the write lock up front so two
    processes never deadlock upgrading a read lock."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")
