"""Webhook alerts of a pipeline (``alerts:``): which events of its run and of its tasks call
which URL.

```yaml
alerts:
  - url: https://hooks.example/cube
    on: [failure, timeout]      # failure / success / timeout / retry (default: failure, timeout)
    scope: run                  # run (default) / task / both
    tasks: [train]              # task alerts of these tasks only (default: every task)
```

Only http and https addresses without credentials are accepted: an address ends up in logs
and on the run's page, and a receiver checks the ``X-Cube-Signature`` header instead of a
password. The engine records a delivery for each alert that matches a move (see
``cubestudio.alerts``); a sender posts it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from cubestudio.errors import FieldError
from cubestudio.spec.render import suggest

if TYPE_CHECKING:
    from cubestudio.spec.model import PipelineSpec

AlertEvent = Literal["failure", "success", "timeout", "retry"]
MAX_URL = 2048
MAX_ALERTS = 20  # deliveries per event stay few, whatever the pipeline says


def check_webhook_url(value: str) -> str:
    """The URL if a webhook may be posted to it; ValueError saying why and what to write."""
    if len(value) > MAX_URL:
        raise ValueError(f"the URL is longer than {MAX_URL} characters: use a shorter address")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError("the URL holds spaces or control characters: percent-encode them")
    try:
        parts = urlsplit(value)
        port = parts.port  # raises on a port that is not a number in range
    except ValueError as err:
        raise ValueError(f"{value!r} is not a URL ({err}): write https://host/path") from None
    if not parts.scheme:
        raise ValueError(f"{value!r} has no scheme: write https://{value.lstrip('/')}")
    if parts.scheme.lower() not in ("http", "https"):
        raise ValueError(
            f"{value!r} is a {parts.scheme}: URL; a webhook is posted over http:// or https:// "
            "only: give the receiver's https://host/path"
        )
    if parts.username is not None or parts.password is not None:
        raise ValueError(
            "the URL holds credentials (user:password@): they would show in logs and on the "
            "run's page; remove them and have the receiver check the X-Cube-Signature header"
        )
    if not parts.hostname:
        raise ValueError(f"{value!r} names no host: write https://host/path")
    if port == 0:
        raise ValueError(f"{value!r}: port 0 cannot be reached; give the receiver's port")
    return value


def mask_url(url: str) -> str:
    """The URL as shown to people: query values (often tokens) hidden, their keys kept; a
    bare query item (``?s3cret``) hidden whole."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<an unreadable URL>"
    items = parts.query.split("&") if parts.query else []
    query = "&".join(
        "" if not item else item.split("=", 1)[0] + "=***" if "=" in item else "***"
        for item in items
    )
    host = parts.netloc.rsplit("@", 1)[-1]  # credentials, refused in specs, never shown
    return urlunsplit((parts.scheme, host, parts.path, query, ""))


def _default_on() -> list[AlertEvent]:
    return ["failure", "timeout"]


class AlertSpec(BaseModel):
    """One webhook: where, on which events, for the run, its tasks, or both."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    url: Annotated[str, AfterValidator(check_webhook_url)]
    on: Annotated[list[AlertEvent], Field(min_length=1)] = Field(default_factory=_default_on)
    scope: Literal["run", "task", "both"] = "run"
    tasks: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _yaml_on(cls, data: Any) -> Any:
        """YAML 1.1 reads a bare ``on`` key as the boolean true (as GitHub Actions files
        know): take it back as ``on``."""
        if isinstance(data, dict) and True in data and "on" not in data:
            return {("on" if key is True else key): value for key, value in data.items()}
        return data

    def matches(self, event: str, task: str | None) -> bool:
        """Whether this alert fires for ``event`` of the run (``task`` None) or of a task."""
        if event not in self.on:
            return False
        if task is None:
            return self.scope != "task"
        if self.scope == "run":
            return False
        return not self.tasks or task in self.tasks


AlertFields = tuple(AlertSpec.model_fields)


def check_alerts(spec: PipelineSpec) -> list[FieldError]:
    """Rules that need the rest of the pipeline: the task names an alert filters on."""
    errors: list[FieldError] = []
    names = [task.name for task in spec.all_tasks()]
    for i, alert in enumerate(spec.alerts):
        if alert.tasks and alert.scope == "run":
            errors.append(
                FieldError(
                    f"alerts[{i}].tasks",
                    "tasks chooses which tasks' events are sent, and this alert has scope: "
                    "run: set scope: task (or both), or remove tasks",
                )
            )
        for j, name in enumerate(alert.tasks):
            if name not in names:
                errors.append(
                    FieldError(
                        f"alerts[{i}].tasks[{j}]", f"unknown task '{name}'{suggest(name, names)}"
                    )
                )
    return errors
