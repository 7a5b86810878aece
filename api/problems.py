"""Errors as RFC 9457 problem details (``application/problem+json``), whatever raised them."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from canhgac.core.errors import NotFound, StoreUnavailable, VersionConflict
from canhgac.incidents.models import InvalidChange
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"
RETRY_AFTER_SECONDS = 5
log = logging.getLogger(__name__)


class FieldError(BaseModel):
    field: str  # where the bad input is, e.g. "query.limit"
    message: str


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None


class InvalidParameter(Exception):
    """A parameter that passed type checks but names something that does not exist (→ 422)."""

    def __init__(self, field: str, message: str) -> None:
        self.field = field
        self.message = message
        super().__init__(f"{field}: {message}")


def problem(status: int, detail: str | None = None, *, errors: list[FieldError] | None = None,
            headers: dict[str, str] | None = None, extensions: dict[str, Any] | None = None) -> JSONResponse:
    """``extensions``: RFC 9457 extension members, e.g. the ``error`` object Elasticsearch shippers read."""
    body = Problem(title=HTTPStatus(status).phrase, status=status, detail=detail, errors=errors)
    return JSONResponse({**(extensions or {}), **body.model_dump(exclude_none=True)}, status_code=status,
                        headers=headers, media_type=PROBLEM_JSON)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries documenting the problems a route can return."""
    return {status: {"model": Problem, "description": HTTPStatus(status).phrase,
                     "content": {PROBLEM_JSON: {}}} for status in statuses}


def _location(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


async def _validation(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [FieldError(field=_location(tuple(e.get("loc", ()))), message=e.get("msg", "invalid"))
              for e in exc.errors()]
    fields = ", ".join(dict.fromkeys(e.field for e in errors))
    return problem(422, f"invalid request parameters: {fields}", errors=errors)


async def _invalid_parameter(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidParameter)
    return problem(422, exc.message, errors=[FieldError(field=exc.field, message=exc.message)])


async def _http(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and str(exc.detail).startswith("There was an error parsing the body"):
        return problem(422, "the body is not valid JSON", errors=[FieldError(field="body", message="not valid JSON")])
    detail = exc.detail if isinstance(exc.detail, str) and exc.detail != HTTPStatus(exc.status_code).phrase else None
    return problem(exc.status_code, detail, headers=dict(exc.headers or {}))


async def _not_found(_: Request, exc: Exception) -> JSONResponse:
    return problem(404, str(exc))


async def _invalid_change(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, InvalidChange)
    return problem(422, exc.message, errors=[FieldError(field=exc.field, message=exc.message)])


async def _stale(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, VersionConflict)
    return problem(412, "the incident changed since you read it: read it again (its ETag) and retry")


async def _unavailable(_: Request, exc: Exception) -> JSONResponse:
    log.warning("store unavailable: %s", exc)
    return problem(503, "the store is unavailable, try again later",
                   headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "internal error")


def _document_as_problem_json(app: FastAPI) -> None:
    """FastAPI files a response ``model`` under application/json; move it to application/problem+json."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            for operation in (op for path in schema["paths"].values() for op in path.values()):
                for response in operation.get("responses", {}).values():
                    content = response.get("content", {})
                    if PROBLEM_JSON in content and "application/json" in content:
                        content[PROBLEM_JSON] = content.pop("application/json")
        return app.openapi_schema  # type: ignore[return-value]  # set by generate()

    app.openapi = openapi  # type: ignore[method-assign]


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(InvalidParameter, _invalid_parameter)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(NotFound, _not_found)
    app.add_exception_handler(InvalidChange, _invalid_change)
    app.add_exception_handler(VersionConflict, _stale)
    app.add_exception_handler(StoreUnavailable, _unavailable)
    app.add_exception_handler(Exception, _unexpected)
    _document_as_problem_json(app)
