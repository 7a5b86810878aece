"""Log push: ``POST /api/v1/ingest`` (NDJSON or plain lines) and an Elasticsearch-compatible endpoint under
``/api/v1/ingest/es`` so that the stock Elasticsearch outputs of Fluent Bit, Vector and Logstash can ship to
Canh Gác. Each push token belongs to one ``type: http`` log source of one system; the events are that
system's. The work happens in ``collectors/push.py``; this module is the HTTP surface.

Limits (``collection.http``): the token is checked before the body is read; a request over a size limit is refused
whole (413) and one over its token's rate (429, ``Retry-After``) too, in both cases with nothing stored."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

import orjson
from canhgac.api.es_compat import ES_HEADERS, ES_PREFIX, Templates, es_error
from canhgac.api.limits import PushRateLimiter, RequestTooLarge
from canhgac.api.problems import problem, problem_responses
from canhgac.collectors.push import BodyTooLarge, PushResult, PushTarget, count_lines, decompress
from canhgac.core.config_collection import HttpInput
from fastapi import APIRouter, Depends, Header, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

router = APIRouter(tags=["ingest"])
ES_VERSION = "8.17.0"  # what we answer to version probes; the bulk API is the same from 7.x to 9.x
SUBMIT_TIMEOUT = 10.0


class IngestResult(BaseModel):
    received: int
    events: int
    dead_letters: int  # lines that did not become events
    dead_letters_summarised: int = 0  # of those, counted in one summary dead letter instead of kept one by one


def _collection(request: Request) -> Any:
    return getattr(request.app.state, "collection", None)


def _token(authorization: str | None, api_key: str | None) -> str | None:
    """The push token from ``X-API-Key``, ``Authorization: Bearer``, ``ApiKey`` (Logstash ``api_key``:
    base64 of ``id:key``, or the key alone) or ``Basic`` (any user name, the token as password)."""
    if api_key:
        return api_key
    if not authorization or " " not in authorization:
        return None
    scheme, _, value = authorization.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    if scheme == "bearer":
        return value
    if scheme in ("basic", "apikey"):
        try:
            decoded = base64.b64decode(value, validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return value if scheme == "apikey" else None
        if ":" in decoded:
            return decoded.split(":", 1)[1]
        return decoded if scheme == "apikey" else None
    return None


async def _body(request: Request, limits: HttpInput) -> bytes:
    """The uncompressed body, bounded (``RequestLimits`` already refused an over-long ``Content-Length``)."""
    chunks = []
    try:
        async for chunk in request.stream():
            chunks.append(chunk)
    except RequestTooLarge:
        raise BodyTooLarge(f"the body is over {limits.max_body_bytes} bytes") from None
    return decompress(b"".join(chunks), request.headers.get("content-encoding"), limits.max_uncompressed_bytes)


_es_error = es_error  # Elasticsearch's own error body (api/es_compat.py), which its clients can decode


def _too_large(exc: BodyTooLarge) -> str:
    return f"yêu cầu quá lớn, hãy gửi lô nhỏ hơn — the request is too large ({exc}); send smaller batches"


def _slow_down(seconds: int) -> str:
    return (f"mã đẩy log này gửi quá nhanh, thử lại sau {seconds} giây — this push token is over its rate limit; "
            f"retry in {seconds} s")


class Pusher:
    """The authenticated push source of a request, or an answer refusing it (in the caller's dialect)."""

    def __init__(self, request: Request, authorization: Annotated[str | None, Header()] = None,
                 x_api_key: Annotated[str | None, Header()] = None) -> None:
        self.collection = _collection(request)
        self.limits: HttpInput = request.app.state.settings.collection.http
        self.rate: PushRateLimiter = request.app.state.push_rate
        self.target: PushTarget | None = None
        self.refusal: tuple[int, str] | None = None
        if self.collection is None or not self.collection.settings.collection.http.enabled:
            self.refusal = (503, "log push is not enabled in this process (run canhgac serve)")
            return
        self.target = self.collection.push.authenticate(_token(authorization, x_api_key))
        if self.target is None:
            self.refusal = (401, "a push token of a system's http log source is required")


PusherDep = Annotated[Pusher, Depends(Pusher)]
UNAUTHORIZED = {"WWW-Authenticate": 'Basic realm="canhgac", Bearer realm="canhgac"'}


@router.post("/ingest", response_model=IngestResult, status_code=202,
             responses=problem_responses(401, 413, 415, 429, 503),
             summary="Push log records: NDJSON (one JSON document per line) or plain log lines (text/plain)")
async def ingest(request: Request, pusher: PusherDep) -> Any:
    if pusher.refusal is not None:
        status, detail = pusher.refusal
        return problem(status, detail, headers=UNAUTHORIZED if status == 401 else None)
    assert pusher.target is not None
    content_type = request.headers.get("content-type", "application/x-ndjson").split(";")[0].strip().lower()
    if content_type not in ("application/x-ndjson", "application/json", "application/jsonl", "text/plain"):
        return problem(415, f"send application/x-ndjson or text/plain, not {content_type}")
    if (wait := pusher.rate.request(pusher.target.id)) is not None:
        return problem(429, _slow_down(wait), headers={"Retry-After": str(wait)})
    try:
        body = await _body(request, pusher.limits)
        lines = count_lines(body, pusher.limits.max_lines)
    except BodyTooLarge as exc:
        return problem(413, _too_large(exc))
    except ValueError as exc:
        return problem(415, str(exc))
    if (wait := pusher.rate.lines(pusher.target.id, lines)) is not None:
        return problem(429, _slow_down(wait), headers={"Retry-After": str(wait)})
    result = await run_in_threadpool(pusher.collection.push.lines_batch, pusher.target, body,
                                     json_lines=content_type != "text/plain",
                                     max_dead_letters=pusher.limits.max_dead_letters)
    if not await _submitted(pusher, result):
        return problem(503, "the store is down and the spool is full; retry later", headers={"Retry-After": "5"})
    return IngestResult(received=result.batch.lines, events=len(result.batch.events),
                        dead_letters=result.dead_letters, dead_letters_summarised=result.summarised)


async def _submitted(pusher: Pusher, result: PushResult) -> bool:
    assert pusher.target is not None
    accepted = await run_in_threadpool(pusher.collection.delivery.submit, result.batch, timeout=SUBMIT_TIMEOUT)
    if not accepted:
        pusher.collection.board.error(pusher.target.id, "a push was refused: the store is down, the spool full")
    return accepted


@router.post(ES_PREFIX + "/_bulk", include_in_schema=True,
             summary="Elasticsearch bulk API for Fluent Bit, Vector and Logstash (index/create actions)")
@router.post(ES_PREFIX + "/{index}/_bulk", include_in_schema=False)
@router.put(ES_PREFIX + "/_bulk", include_in_schema=False)
@router.put(ES_PREFIX + "/{index}/_bulk", include_in_schema=False)
async def bulk(request: Request, pusher: PusherDep, index: str | None = None) -> Response:
    if pusher.refusal is not None:
        status, detail = pusher.refusal
        kind = "security_exception" if status == 401 else "unavailable_exception"
        return _es_error(status, kind, detail, UNAUTHORIZED if status == 401 else None)
    assert pusher.target is not None
    if (wait := pusher.rate.request(pusher.target.id)) is not None:
        return _es_error(429, "es_rejected_execution_exception", _slow_down(wait), {"Retry-After": str(wait)})
    try:
        body = await _body(request, pusher.limits)
        lines = count_lines(body, pusher.limits.max_lines)
    except BodyTooLarge as exc:
        return _es_error(413, "content_too_long_exception", _too_large(exc))
    except ValueError as exc:
        return _es_error(400, "parse_exception", str(exc))
    if (wait := pusher.rate.lines(pusher.target.id, lines)) is not None:
        return _es_error(429, "es_rejected_execution_exception", _slow_down(wait), {"Retry-After": str(wait)})
    result = await run_in_threadpool(pusher.collection.push.bulk, pusher.target, body,
                                     max_dead_letters=pusher.limits.max_dead_letters,
                                     max_items=pusher.limits.max_bulk_items, index=index)
    if not await _submitted(pusher, result):  # 429 is what every shipper retries with backoff
        return _es_error(429, "es_rejected_execution_exception", "the store is down and the spool is full",
                         {"Retry-After": "5"})
    answer: dict[str, Any] = {"took": 1, "errors": result.errors, "items": result.items}
    if result.items_not_listed:  # not an Elasticsearch member; shippers ignore it, people reading logs do not
        answer["items_not_listed"] = result.items_not_listed
    return JSONResponse(answer, headers=ES_HEADERS)


@router.get(ES_PREFIX, include_in_schema=False)
@router.get(ES_PREFIX + "/", include_in_schema=False)
@router.head(ES_PREFIX + "/", include_in_schema=False)
def es_root(pusher: PusherDep) -> Response:
    """What shippers ask before sending (Logstash, Vector's version probe)."""
    if pusher.refusal is not None:
        return _es_error(pusher.refusal[0], "security_exception", pusher.refusal[1], UNAUTHORIZED)
    return JSONResponse({"name": "canhgac", "cluster_name": "canhgac", "cluster_uuid": "canhgac",
                         "version": {"number": ES_VERSION, "build_flavor": "default", "build_type": "canhgac",
                                     "lucene_version": "9.12.0", "minimum_wire_compatibility_version": "7.17.0",
                                     "minimum_index_compatibility_version": "7.0.0"},
                         "tagline": "You Know, for Search"}, headers=ES_HEADERS)


@router.get(ES_PREFIX + "/_cluster/health", include_in_schema=False)
def es_health(pusher: PusherDep) -> Response:
    if pusher.refusal is not None:
        return _es_error(pusher.refusal[0], "security_exception", pusher.refusal[1], UNAUTHORIZED)
    return JSONResponse({"cluster_name": "canhgac", "status": "green", "timed_out": False, "number_of_nodes": 1},
                        headers=ES_HEADERS)


@router.get(ES_PREFIX + "/_license", include_in_schema=False)
def es_license(pusher: PusherDep) -> Response:
    if pusher.refusal is not None:
        return _es_error(pusher.refusal[0], "security_exception", pusher.refusal[1], UNAUTHORIZED)
    return JSONResponse({"license": {"status": "active", "type": "basic", "uid": "canhgac"}}, headers=ES_HEADERS)





def _templates(request: Request) -> Templates:
    state = request.app.state
    if not hasattr(state, "es_templates"):
        state.es_templates = Templates()
    return state.es_templates


@router.api_route(ES_PREFIX + "/{kind:path}/{name}", methods=["GET", "HEAD", "PUT", "POST", "DELETE"],
                  include_in_schema=False)
async def es_templates(request: Request, kind: str, name: str, pusher: PusherDep) -> Response:
    """Index, legacy and component templates and ILM policies that shippers check for and install: kept so that
    they answer as a cluster would, never applied (Canh Gác has its own; api/es_compat.py)."""
    if pusher.refusal is not None:
        return _es_error(pusher.refusal[0], "security_exception", pusher.refusal[1], UNAUTHORIZED)
    if kind not in Templates.KINDS:
        return _es_error(400, "illegal_argument_exception",
                         f"no handler found for uri [{request.url.path}] and method [{request.method}]")
    templates = _templates(request)
    if request.method in ("PUT", "POST"):
        try:
            body = orjson.loads(await request.body() or b"{}")
        except orjson.JSONDecodeError as exc:
            return _es_error(400, "parse_exception", f"request body is not JSON: {exc}")
        templates.put(kind, name, body)
        return JSONResponse({"acknowledged": True}, headers=ES_HEADERS)
    if request.method == "DELETE":
        if templates.delete(kind, name):
            return JSONResponse({"acknowledged": True}, headers=ES_HEADERS)
        return _es_error(404, *Templates.missing(kind, name))
    body = templates.get(kind, name)
    if body is None:
        if request.method == "HEAD":
            return Response(status_code=404, headers=ES_HEADERS)
        if kind == "_template":  # Elasticsearch answers a missing legacy template with an empty object
            return JSONResponse({}, status_code=404, headers=ES_HEADERS)
        return _es_error(404, *Templates.missing(kind, name))
    if request.method == "HEAD":
        return Response(status_code=200, headers=ES_HEADERS)
    return JSONResponse(Templates.answer(kind, name, body), headers=ES_HEADERS)
