"""Connecting to the database and keeping its schema at the latest migration."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, create_engine, event, exc, text
from sqlalchemy.engine import Engine, make_url

from cubestudio.errors import StoreError
from cubestudio.private import private_file, private_folder, tighten_if_present

HEAD_REVISION = "0008"
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
    """The URL with its password hidden, for messages.

    The password runs to the *last* ``@`` of the address: an unescaped ``@`` in it
    (``user:secret@pw@host``) is parsed by SQLAlchemy as part of the host, which would show
    ``pw@host``. Hiding up to the last ``@`` may hide more than the password, never less.
    """
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest:
        query = rest.find("?")
        before = rest[:query] if query >= 0 else rest
        # The last @ before the query; a ? inside the password hides its @ from that look.
        cut = before.rfind("@") if "@" in before else rest.rfind("@")
        user, colon, _password = rest[:cut].partition(":")
        if colon:
            url = f"{scheme}://{user}:hidden@{rest[cut + 1 :]}"
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
        if parsed.host and "@" in parsed.host:
            # Only an unescaped @ in the password gets here (`user:p@ss@host`): the driver
            # would try to reach the host `ss@host` and name it, password piece included.
            raise StoreError(
                f"CUBE_DATABASE_URL {safe_url(self.url)}: the password holds an '@': write "
                "it as %40 (user:p%40ss@host)"
            )
        self.backend = parsed.get_backend_name()
        self._held: Connection | None = None
        options: dict[str, Any] = {"future": True}
        if self.backend == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                _private_sqlite_file(Path(parsed.database))
            options["connect_args"] = {"timeout": 30, "isolation_level": None}
            # A server's request threads each hold a connection for a moment: keep enough
            # open that they are not closed and opened again (each open runs the PRAGMAs).
            options["pool_size"] = 20
            options["max_overflow"] = 40
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
    def read(self) -> Iterator[Connection]:
        """A transaction that only reads: on SQLite a deferred one (BEGIN), which reads a
        snapshot beside the writers (WAL) instead of taking the write lock as begin() does.
        Elsewhere the same as begin()."""
        try:
            with self.engine.connect() as conn:
                conn.execution_options(cube_read_only=True)
                with conn.begin():
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
        with self.engine.connect() as conn, _migration_lock(conn):
            # Another process may have migrated while this one waited for the lock.
            if _current_revision(conn) != HEAD_REVISION:
                _upgrade(conn)

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


# PostgreSQL advisory locks are keyed by integers: this one, with the schema's name hashed.
_PG_MIGRATION_LOCK = 0x43554245  # "CUBE"
_MYSQL_LOCK_WAIT = 300  # seconds; migrations take well under one


@contextmanager
def _migration_lock(conn: Connection) -> Iterator[None]:
    """Hold the database's migration lock, in a transaction that commits on leaving: engine
    replicas, schedulers and servers start together, and two of them migrating a fresh
    database at once would both create the same tables. The loser waits, then finds the
    schema current. Keyed per schema or database, so unrelated ones never wait on each other.
    """
    backend = conn.dialect.name
    if backend == "postgresql":  # transaction-scoped: released by the commit, or the crash
        with conn.begin():
            conn.execute(
                text("SELECT pg_advisory_xact_lock(:key, hashtext(current_schema()))"),
                {"key": _PG_MIGRATION_LOCK},
            )
            yield
        return
    if backend == "mysql":  # MySQL DDL commits as it goes: a session lock spans all of it
        name = "LEFT(CONCAT('cubestudio-migrate:', DATABASE()), 64)"
        got = conn.execute(text(f"SELECT GET_LOCK({name}, {_MYSQL_LOCK_WAIT})")).scalar()
        conn.commit()
        if got != 1:
            where = conn.engine.url.render_as_string(hide_password=True)
            raise StoreError(
                f"database {where}: another process has held the migration lock for "
                f"{_MYSQL_LOCK_WAIT}s (SHOW PROCESSLIST shows it); try again once it ends"
            )
        try:
            with conn.begin():
                yield
        finally:
            conn.execute(text(f"SELECT RELEASE_LOCK({name})"))
            conn.commit()
        return
    # SQLite: every transaction here opens with BEGIN IMMEDIATE (see _configure_sqlite), which
    # takes the database's write lock: a second migrator waits in busy_timeout until the
    # first commits (in WAL mode, BEGIN EXCLUSIVE would take no more than that).
    # Foreign keys are off meanwhile (a pragma that only works outside a transaction): a
    # migration in batch mode copies a table other tables point at, drops it and renames the
    # copy, which SQLite's own procedure for schema changes does with them off. They are
    # checked before the commit.
    raw = conn.connection.dbapi_connection
    assert raw is not None
    raw.execute("PRAGMA foreign_keys=OFF")
    try:
        with conn.begin():
            yield
            broken = conn.exec_driver_sql("PRAGMA foreign_key_check").first()
            if broken is not None:
                raise StoreError(f"the migration broke a foreign key: {tuple(broken)}")
    finally:
        raw.execute("PRAGMA foreign_keys=ON")


def _upgrade(conn: Connection, revision: str = "head", *, down: bool = False) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    (command.downgrade if down else command.upgrade)(config, revision)


def migrate(db: Database, revision: str, *, down: bool = False) -> None:
    """Up (or down) to ``revision`` under the migration lock, as ensure_schema goes to the
    head: for tests of a migration with data written at an older revision."""
    with db.engine.connect() as conn, _migration_lock(conn):
        _upgrade(conn, revision, down=down)


def _is_connect_failure(err: exc.OperationalError) -> bool:
    words = str(err.orig).lower()
    return any(
        w in words for w in ("connect", "refused", "unknown host", "timeout", "access denied")
    )


def _private_sqlite_file(path: Path) -> None:
    """The database file private to the user, created so before SQLite creates it with the
    process's umask (an empty file is an empty database), and its folder 0700 when made here
    (an existing one is the user's to keep as it is). SQLite gives the -wal and -shm files the
    database file's mode; older ones are tightened too."""
    private_folder(
        path.parent,
        label=f"the database folder {path.parent}",
        fix="point CUBE_DATABASE_URL (or CUBE_HOME) at a folder",
        tighten=False,
    )
    private_file(path, fix="point CUBE_DATABASE_URL at a database file")
    for suffix in ("-wal", "-shm", "-journal"):
        tighten_if_present(path.with_name(path.name + suffix))


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
        read_only = conn.get_execution_options().get("cube_read_only", False)
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")
