"""The HTTP layer of the client: one httpx connection pool to a server's /api/v1, the bearer
token, and the API's error format turned into exceptions.

Every 4xx and 5xx answer is ``{"error": {"code", "message", "field", "details"?}}``; each
becomes a ``ClientError`` carrying those, of the subclass that matches the local error the
CLI would raise for the same mistake (a ``NotFound`` is a ``NotFoundError``, an ``Invalid``
a ``SpecError`` with one line per problem, a ``Conflict`` a ``StateError``), so that the
remote CLI prints the same lines and exits with the same codes as the local one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from cubestudio.errors import CubeError, FieldError, NotFoundError, SpecError, StateError

API_PREFIX = "/api/v1"
TIMEOUT = 30.0  # seconds to connect, or between two reads of an answer


class ClientError(CubeError):
    """An answer of the server that is not a success (or no answer at all: status 0)."""

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        code: str = "",
        field: str | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        # Not super(): in Invalid's MRO that would be SpecError's, which takes a list.
        CubeError.__init__(self, message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.details = details or []


class Unauthorized(ClientError):
    """401: no token, or one that is unknown, revoked or expired."""


class Forbidden(ClientError):
    """403: the caller's role in the project does not allow this."""


class NotFound(ClientError, NotFoundError):
    """404: no such run, pipeline, template or project (or one the caller may not see)."""


class Conflict(ClientError, StateError):
    """409: the object is not in a state that allows this (a run that already ended)."""


class Invalid(ClientError, SpecError):
    """422: the request, the pipeline or its params are invalid; ``errors`` has every
    problem as a FieldError, as `cube validate` reports them."""

    def __init__(self, message: str, **kwargs: Any) -> None:
        ClientError.__init__(self, message, **kwargs)
        self.errors = [
            FieldError(d.get("field") or "", str(d.get("message", ""))) for d in self.details
        ] or [FieldError(self.field or "", _without_field(message, self.field))]


class Unreachable(ClientError):
    """No answer: the server is down, the address is wrong, or the network failed."""


def _without_field(message: str, field: str | None) -> str:
    prefix = f"{field}: "
    return message.removeprefix(prefix) if field else message


_BY_STATUS: dict[int, type[ClientError]] = {
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: Invalid,
}


def api_base(url: str) -> str:
    """``http://host:8080``, ``http://host:8080/`` and ``http://host:8080/api/v1`` all
    name the same server; the base every path is relative to."""
    url = url.strip().rstrip("/")
    if not url.startswith(("http://", "https://")):
        raise ClientError(f"server {url!r}: give its URL with http:// or https://")
    return url.removesuffix(API_PREFIX) + API_PREFIX


def error_of(response: httpx.Response) -> ClientError:
    """The exception an error answer stands for."""
    try:
        body = response.json()
        error = body["error"] if isinstance(body, dict) else None
    except (ValueError, KeyError):
        error = None
    if not isinstance(error, dict):
        # Not our API's format: a proxy's page, or another service at this address.
        text = response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
        message = f"the server answered {response.status_code} {response.reason_phrase}"
        return _BY_STATUS.get(response.status_code, ClientError)(
            f"{message}: {text}" if text else message, status=response.status_code
        )
    cls = _BY_STATUS.get(response.status_code, ClientError)
    return cls(
        str(error.get("message") or f"error {response.status_code}"),
        status=response.status_code,
        code=str(error.get("code") or ""),
        field=error.get("field"),
        details=error.get("details") if isinstance(error.get("details"), list) else None,
    )


class Http:
    """Requests to one server as one caller. ``token``: a login session's or an API
    token's; without one only login works."""

    def __init__(
        self,
        url: str,
        token: str | None = None,
        *,
        timeout: float = TIMEOUT,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.url = url.strip().rstrip("/")
        self.base = api_base(url)
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        self._client = httpx.Client(
            base_url=self.base, headers=headers, timeout=timeout, transport=transport
        )

    def close(self) -> None:
        self._client.close()

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The answer to one request; a ClientError unless it is a success."""
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.HTTPError as err:
            raise self._unreachable(err) from None
        if response.is_error:
            raise error_of(response)
        return response

    def json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.request(method, path, **kwargs)
        return response.json() if response.content else None

    @contextmanager
    def stream(
        self, method: str, path: str, *, read_timeout: float | None = None, **kwargs: Any
    ) -> Iterator[httpx.Response]:
        """An answer read as it arrives (an event stream); ``read_timeout``: the longest
        silence accepted (the server sends a keep-alive within it)."""
        timeout = httpx.Timeout(self._client.timeout.connect, read=read_timeout)
        try:
            with self._client.stream(method, path, timeout=timeout, **kwargs) as response:
                if response.is_error:
                    response.read()
                    raise error_of(response)
                yield response
        except httpx.HTTPError as err:
            raise self._unreachable(err) from None

    def _unreachable(self, err: httpx.HTTPError) -> Unreachable:
        if isinstance(err, httpx.TimeoutException):
            why = "it did not answer in time"
        else:
            why = str(err) or type(err).__name__
        return Unreachable(f"cannot reach the server at {self.url}: {why}")


class SseEvent:
    """One Server-Sent Event: its name (``message`` unless named), data and id."""

    __slots__ = ("data", "event", "id")

    def __init__(self, event: str, data: str, event_id: str | None) -> None:
        self.event, self.data, self.id = event, data, event_id


def sse_events(response: httpx.Response) -> Iterator[SseEvent]:
    """The events of a text/event-stream answer as they arrive, as EventSource parses
    them (comments, the keep-alives, are skipped)."""
    name, event_id = "message", None
    data: list[str] = []
    for line in response.iter_lines():
        if line == "":
            if data:
                yield SseEvent(name, "\n".join(data), event_id)
            name, data, event_id = "message", [], None
            continue
        key, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if key == "event":
            name = value
        elif key == "data":
            data.append(value)
        elif key == "id":
            event_id = value
