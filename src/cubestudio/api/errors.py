"""One error format for every 4xx: ``{"error": {"code": ..., "message": ..., "field": ...}}``,
whether the error is ours (ApiError, a CubeError from below), FastAPI's request validation
(422 with the first failing field's path), or Starlette's (404 of an unknown route, 405). A
bug is a 500 with the same shape and nothing of the traceback."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from cubestudio.errors import CubeError, NotFoundError, SpecError, StateError, StoreError

log = logging.getLogger("cubestudio.api")


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        headers: dict[str, str] | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.headers = headers
        self.details = details


def not_found(what: str) -> ApiError:
    return ApiError(404, "not_found", f"{what} not found")


def body(
    code: str, message: str, field: str | None = None, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "field": field}
    if details:
        error["details"] = details
    return {"error": error}


def _api_error(_request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, ApiError)
    return JSONResponse(
        body(err.code, err.message, err.field, err.details), err.status, headers=err.headers
    )


def _cube_error(_request: Request, err: Exception) -> JSONResponse:
    """Errors of the layers below, in their own words."""
    if isinstance(err, SpecError):
        details = [{"field": e.path or None, "message": e.message} for e in err.errors]
        first = err.errors[0] if err.errors else None
        field = (first.path or None) if first else None
        return JSONResponse(body("invalid", str(err), field, details), 422)
    if isinstance(err, NotFoundError):
        return JSONResponse(body("not_found", str(err)), 404)
    if isinstance(err, StateError):
        return JSONResponse(body("conflict", str(err)), 409)
    if isinstance(err, StoreError):
        return JSONResponse(body("unavailable", str(err)), 503)
    return JSONResponse(body("bad_request", str(err)), 400)


def _validation_error(_request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, RequestValidationError)
    details = []
    for problem in err.errors():
        loc = [str(p) for p in problem.get("loc", ()) if p not in ("body", "query", "path")]
        details.append({"field": ".".join(loc) or None, "message": problem.get("msg", "")})
    first = details[0] if details else {"field": None, "message": "invalid request"}
    message = str(first["message"])
    if first["field"]:
        message = f"{first['field']}: {message}"
    return JSONResponse(body("invalid", message, first["field"], details), 422)


def _http_error(_request: Request, err: Exception) -> JSONResponse:
    assert isinstance(err, StarletteHTTPException)
    codes = {401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed"}
    message = err.detail if isinstance(err.detail, str) else "request refused"
    return JSONResponse(
        body(codes.get(err.status_code, "http_error"), message),
        err.status_code,
        headers=getattr(err, "headers", None),
    )


def _unexpected(request: Request, err: Exception) -> JSONResponse:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return JSONResponse(body("internal", "an internal error: the server log has the details"), 500)


def install(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(CubeError, _cube_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
