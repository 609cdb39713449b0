"""A small typed routing layer over Starlette: every route declares its policy and its types.

Handlers stay thin: ``@api.get(path, policy=..., summary=..., tag=...)`` over ``def handler(ctx, query:
Struct, body: Struct) -> Type`` (the signature's types are the route's, said once; the decorator may only
say more of the answer, for a handler that returns a Response itself), and the layer authenticates,
enforces the policy (deny by default), parses the path, query and JSON body with msgspec, runs the handler
(in a worker thread unless it is ``async``), and encodes the result. The same declarations generate the
OpenAPI document, so it is always complete.
"""

from __future__ import annotations

import functools
import inspect
import re
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import msgspec
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from pixlstash.auth import Principal
from pixlstash.errors import BadInput, NotFound, TooLarge, UnsupportedMedia
from pixlstash.library import Library
from pixlstash.pictures.visibility import enter
from pixlstash.sharing.service import Share

from .picture_guard import PICTURE_PARAMS, require_visible_named, require_visible_path
from .security import Policy, authorise
from .state import AppState

__all__ = ["Api", "Endpoint", "PolicyRoute", "RequestContext", "decode_json", "json_response"]

_encoder = msgspec.json.Encoder()
_MAX_JSON_BODY = 1 << 20
_PATH_PARAM = re.compile(r"{(\w+)(?::\w+)?}")


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(_encoder.encode(value), status_code=status, media_type="application/json", headers=headers)


class PolicyRoute(Route):
    """A Starlette route that knows who may call it (the route-table test checks every route has one)."""

    def __init__(
        self,
        path: str,
        endpoint: Callable,
        *,
        methods: list[str],
        policy: Policy,
        name: str | None = None,
        include_in_schema: bool = True,
    ) -> None:
        super().__init__(path, endpoint, methods=methods, name=name, include_in_schema=include_in_schema)
        self.policy = policy


@dataclass
class Endpoint:
    method: str
    path: str
    handler: Callable
    policy: Policy
    summary: str
    tag: str
    query: type | None = None
    body: type | None = None
    response: Any = None
    status: int = 200
    raw: bool = False  # the handler returns a Response itself (files, streams)
    request_schema: dict | None = None  # a non-JSON body (multipart uploads), described by hand
    response_media: str = "application/json"
    extra_responses: dict[int, str] = field(default_factory=dict)
    error_pages: bool = False  # its failures are HTML pages for a browser (the sign-in callback)

    @property
    def openapi_path(self) -> str:
        return _PATH_PARAM.sub(lambda m: "{" + m.group(1) + "}", self.path)

    @property
    def path_params(self) -> list[tuple[str, str]]:
        return [(m.group(1), "integer" if ":int" in m.group(0) else "string") for m in _PATH_PARAM.finditer(self.path)]


@dataclass
class RequestContext:
    """What a handler gets: the request, the app's shared objects, and who is calling."""

    request: Request
    state: AppState
    principal: Principal | None
    share: Share | None = None
    path: dict[str, Any] = field(default_factory=dict)

    @property
    def library(self) -> Library:
        return self.state.library


@functools.cache  # a query type's fields never change; resolving its hints took half a filtered request
def _list_fields(struct: type) -> frozenset[str]:
    hints = typing.get_type_hints(struct)
    found = set()
    for name, hint in hints.items():
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin is list or any(typing.get_origin(a) is list for a in args):
            found.add(name)
    return frozenset(found)


def parse_query(request: Request, struct: type) -> Any:
    """Query string -> Struct. Repeated keys fill list fields (``tags=a&tags=b``)."""
    lists = _list_fields(struct)
    data: dict[str, Any] = {}
    for key in set(request.query_params.keys()):
        values = request.query_params.getlist(key)
        if key in lists:
            data[key] = values
        else:
            data[key] = values[-1]
    try:
        return msgspec.convert(data, struct, strict=False)
    except msgspec.ValidationError as error:
        raise InvalidInput(f"invalid query parameter: {error}") from None


class InvalidInput(BadInput):
    """Well-formed but wrong: a field of the wrong type, out of range, unknown (422)."""

    code = "invalid"


async def parse_body(request: Request, struct: type) -> Any:
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("application/json"):
        raise UnsupportedMedia("send the body as application/json")
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > _MAX_JSON_BODY:
        raise TooLarge(f"a JSON body is at most {_MAX_JSON_BODY:,} bytes")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > _MAX_JSON_BODY:
            raise TooLarge(f"a JSON body is at most {_MAX_JSON_BODY:,} bytes")
    document = decode_json(raw or b"null")
    try:
        return msgspec.convert(_integral_floats_to_int(document), struct, strict=True)
    except msgspec.ValidationError as error:
        raise InvalidInput(f"invalid request body: {error}") from None
    except RecursionError:
        raise BadInput("malformed JSON: nested too deeply") from None


def decode_json(raw: bytes | str) -> Any:
    """A JSON document from a client; anything unreadable, nesting too deep included, is a 400."""
    try:
        return msgspec.json.decode(raw)
    except msgspec.DecodeError as error:
        raise BadInput(f"malformed JSON: {error}") from None
    except RecursionError:
        raise BadInput("malformed JSON: nested too deeply") from None


def _integral_floats_to_int(value: Any) -> Any:
    """JSON Schema counts 3.0 as an integer; so do we. Nothing else is coerced."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**63:
        return int(value)
    if isinstance(value, list):
        return [_integral_floats_to_int(v) for v in value]
    if isinstance(value, dict):
        return {k: _integral_floats_to_int(v) for k, v in value.items()}
    return value


class Api:
    """The endpoint registry for ``/api/v1`` and the pages around it."""

    def __init__(self, prefix: str = "/api/v1") -> None:
        self.prefix = prefix
        self.endpoints: list[Endpoint] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        policy: Policy,
        summary: str,
        tag: str,
        query: type | None = None,
        body: type | None = None,
        response: Any = None,
        status: int | None = None,
        raw: bool = False,
        response_media: str = "application/json",
        prefix: bool = True,
        extra_responses: dict[int, str] | None = None,
        request_schema: dict | None = None,
        error_pages: bool = False,
    ) -> Callable:
        def register(handler: Callable) -> Callable:
            hints = _declared_types(handler)
            # A handler that returns nothing answers 204 No Content unless the route says otherwise.
            nothing = "return" in hints and hints["return"] in (None, type(None))
            self.endpoints.append(
                Endpoint(
                    method,
                    (self.prefix if prefix else "") + path,
                    handler,
                    policy,
                    summary,
                    tag,
                    query or hints.get("query"),
                    body or hints.get("body"),
                    response or _json_type(hints.get("return")),
                    status or (204 if nothing else 200),
                    raw,
                    request_schema,
                    response_media,
                    extra_responses or {},
                    error_pages,
                )
            )
            return handler

        return register

    def get(self, path: str, **kwargs) -> Callable:
        return self.route("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> Callable:
        return self.route("POST", path, **kwargs)

    def patch(self, path: str, **kwargs) -> Callable:
        return self.route("PATCH", path, **kwargs)

    def put(self, path: str, **kwargs) -> Callable:
        return self.route("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs) -> Callable:
        return self.route("DELETE", path, **kwargs)

    def routes(self) -> list[PolicyRoute]:
        """Starlette routes, one per path, dispatching on method."""
        by_path: dict[str, dict[str, Endpoint]] = {}
        for endpoint in self.endpoints:
            by_path.setdefault(endpoint.path, {})[endpoint.method] = endpoint
        routes = []
        for path, methods in by_path.items():
            policies = {e.policy for e in methods.values()}
            routes.append(
                PolicyRoute(
                    path,
                    _dispatcher(methods),
                    methods=list(methods),
                    policy=policies.pop() if len(policies) == 1 else Policy.MIXED,
                )
            )
        return routes


def _declared_types(handler: Callable) -> dict[str, Any]:
    """The handler's own annotations: its ``query`` and ``body`` parameters' types and what it returns are
    what the route parses and answers (said once, in the signature)."""
    try:
        return typing.get_type_hints(handler)
    except NameError as error:  # a type imported only for type checkers, or defined inside a function
        raise TypeError(
            f"{handler.__module__}.{handler.__qualname__}: {error}; the types in a route's signature must be "
            "importable from its module"
        ) from None


def _json_type(returned: Any) -> Any:
    """What a handler's return annotation says of its JSON answer: nothing for None or a Response."""
    if returned is None or returned is type(None) or (isinstance(returned, type) and issubclass(returned, Response)):
        return None
    return returned


def _dispatcher(methods: dict[str, Endpoint]) -> Callable:
    async def endpoint(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await _run(methods[method], request)

    return endpoint


_INT64_MAX = 2**63 - 1


async def _run(endpoint: Endpoint, request: Request) -> Response:
    state: AppState = request.state.pixlstash
    for value in request.path_params.values():
        if isinstance(value, int) and value > _INT64_MAX:
            raise NotFound("no such item (ids are 64-bit)")
    principal, share = await authorise(request, state, endpoint.policy)
    # From here on, every picture query of this request sees only what its account may see (the request's
    # task has its own context, which ends with it; the thread pool runs in a copy of it).
    enter(principal.audience if principal is not None else None)
    ctx = RequestContext(request, state, principal, share, dict(request.path_params))
    if PICTURE_PARAMS & ctx.path.keys():
        await run_in_threadpool(require_visible_path, ctx)
    args: list[Any] = [ctx]
    if endpoint.query is not None:
        args.append(parse_query(request, endpoint.query))
    if endpoint.body is not None:
        args.append(await parse_body(request, endpoint.body))
    if principal is not None and not principal.audience.sees_all and len(args) > 1:
        await run_in_threadpool(require_visible_named, ctx, args[1:])
    if inspect.iscoroutinefunction(endpoint.handler):
        result = await endpoint.handler(*args)
    else:
        result = await run_in_threadpool(endpoint.handler, *args)
    if endpoint.raw or isinstance(result, Response):
        return result
    if endpoint.status == 204:
        return Response(status_code=204)
    return json_response(result, endpoint.status)
