"""The store: SQLAlchemy Core tables, Alembic migrations and keyword-only functions.

SQLite (WAL) by default; PostgreSQL and MySQL/MariaDB through ``CUBE_DATABASE_URL``. The store
is the truth for recovery: an engine that restarts rebuilds its state from here. Functions take
a connection inside a transaction that the caller owns, so one engine turn is one commit.
"""
