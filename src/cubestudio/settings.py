"""One settings object, read from the environment with the prefix ``CUBE_``.

``CUBE_HOME`` (default ``~/.cube``) holds the SQLite database, run directories and logs;
``CUBE_DATABASE_URL`` selects PostgreSQL or MySQL/MariaDB instead of SQLite.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CUBE_", extra="ignore")

    home: Path = Path("~/.cube")
    database_url: str | None = None
    # Seconds between SIGTERM and SIGKILL when a task is stopped or times out.
    kill_grace: float = 10.0
    # Seconds one task's templates may take to render (CUBE_RENDER_TIMEOUT) before the
    # renderer process is killed and the task fails; see spec/renderer.py.
    render_timeout: float = 2.0
    # Seconds a run's lease lasts unless its engine renews it (CUBE_ENGINE_LEASE): how long
    # a dead engine's runs wait before another engine takes them over.
    engine_lease: float = 15.0
    # Where artifacts are kept: empty for $CUBE_HOME/artifacts, or s3://bucket/prefix.
    artifact_store: str | None = None
    s3_endpoint_url: str | None = None
    # The server (cube server). CUBE_SECRET_KEY: the Fernet key of project secrets (else
    # $CUBE_HOME/secret.key); CUBE_ADMIN_PASSWORD: the first admin's password (else one is
    # generated and kept in $CUBE_HOME/admin-password); login sessions last session_hours.
    secret_key: str | None = None
    admin_password: str | None = None
    session_hours: float = 12.0
    # The key that signs webhook alerts (CUBE_WEBHOOK_SECRET), else $CUBE_HOME/webhook.key,
    # created on first use; receivers check X-Cube-Signature with it (see cubestudio.alerts).
    webhook_secret: str | None = None
    # The web UI's build served at / (CUBE_UI_DIR); default: the package's web/dist.
    ui_dir: Path | None = None
    # Seconds between resource samples of each running task (CUBE_MONITOR_INTERVAL: CPU,
    # memory, GPU; see cubestudio.monitor); at least 1 in effect (the local driver's tick);
    # 0 turns monitoring off.
    monitor_interval: float = 1.0
    # Fault injection for the crash tests: "<point>:<task>" makes the engine SIGKILL itself there.
    failpoint: str | None = None
    # The pool admission hands out (engine/admission): empty for this machine's cores,
    # memory and NVIDIA GPUs; CUBE_POOL_CPU "16" or "500m", CUBE_POOL_MEMORY "64Gi",
    # CUBE_POOL_GPU a count of (possibly virtual) GPUs, indices 0..n-1.
    pool_cpu: str | None = None
    pool_memory: str | None = None
    pool_gpu: str | None = None

    @property
    def home_dir(self) -> Path:
        return self.home.expanduser().resolve()

    @property
    def runs_dir(self) -> Path:
        return self.home_dir / "runs"

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.home_dir / 'cube.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
