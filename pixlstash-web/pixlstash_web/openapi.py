"""The OpenAPI 3.1 document, generated from the endpoint declarations, and an offline docs page."""

from __future__ import annotations

import msgspec

from pixlstash import __version__

from .errors import ErrorBody
from .security import Policy

__all__ = ["DOCS_HTML", "openapi_document"]

_ERRORS = {
    400: "malformed request",
    413: "too large",
    415: "unsupported media type",
    401: "missing, unknown, expired or revoked credentials",
    403: "the credentials do not allow this",
    404: "not found",
    409: "conflict with the current state",
    410: "the share link expired or was revoked",
    422: "a field has a wrong type or value",
    429: "rate limited",
}


def _query_parameters(struct: type, components: dict) -> list[dict]:
    (schema,), defs = msgspec.json.schema_components([struct], ref_template="#/components/schemas/{name}")
    components.update(defs)
    name = schema["$ref"].rsplit("/", 1)[1]
    properties = defs[name].get("properties", {})
    required = set(defs[name].get("required", []))
    params = []
    for field, field_schema in properties.items():
        is_list = field_schema.get("type") == "array" or any(
            s.get("type") == "array" for s in field_schema.get("anyOf", [])
        )
        params.append(
            {
                "name": field,
                "in": "query",
                "required": field in required,
                "schema": field_schema,
                **({"style": "form", "explode": True} if is_list else {}),
            }
        )
    return params


def openapi_document(api) -> dict:
    components: dict = {}
    paths: dict = {}
    types: list = [ErrorBody]
    for endpoint in api.endpoints:
        for candidate in (endpoint.body, endpoint.response):
            if candidate is not None:
                types.append(candidate)
    refs, defs = msgspec.json.schema_components(types, ref_template="#/components/schemas/{name}")
    components.update(defs)
    ref_of = {id(t): r for t, r in zip(types, refs, strict=True)}
    error_ref = ref_of[id(ErrorBody)]
    for endpoint in api.endpoints:
        op: dict = {
            "summary": endpoint.summary,
            "tags": [endpoint.tag],
            "operationId": f"{endpoint.method.lower()}_{endpoint.handler.__name__}_{len(paths)}",
            "x-policy": endpoint.policy.value,
        }
        params = [
            {"name": name, "in": "path", "required": True, "schema": {"type": kind}}
            for name, kind in endpoint.path_params
        ]
        if endpoint.query is not None:
            params += _query_parameters(endpoint.query, components)
        if params:
            op["parameters"] = params
        if endpoint.body is not None:
            op["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": ref_of[id(endpoint.body)]}},
            }
        elif endpoint.request_schema is not None:
            op["requestBody"] = {"required": True, "content": endpoint.request_schema}
        responses: dict = {}
        if endpoint.status == 204:
            responses["204"] = {"description": "done"}
        elif endpoint.response is not None:
            responses[str(endpoint.status)] = {
                "description": "success",
                "content": {"application/json": {"schema": ref_of[id(endpoint.response)]}},
            }
        else:
            responses[str(endpoint.status)] = {
                "description": "success",
                "content": {endpoint.response_media: {"schema": {}}},
            }
        error_codes = {400, 404, 422}  # 404: any id in the path, query or body may name nothing
        if endpoint.policy not in (Policy.PUBLIC,):
            error_codes |= {401, 403}
        if endpoint.policy == Policy.SHARE:
            error_codes |= {404, 410}
        if endpoint.method in ("POST", "PATCH", "PUT", "DELETE"):
            error_codes |= {404, 409}
        if endpoint.body is not None or endpoint.request_schema is not None:
            error_codes |= {413, 415}
        for code, text in {**{c: _ERRORS[c] for c in error_codes}, **endpoint.extra_responses}.items():
            content = {"application/json": {"schema": error_ref}}
            if endpoint.error_pages:  # a browser lands there: a failure is a page, as well as JSON
                content["text/html"] = {"schema": {"type": "string"}}
            responses[str(code)] = {"description": text, "content": content}
        op["responses"] = responses
        if endpoint.policy in (Policy.READ, Policy.WRITE, Policy.ADMIN):
            op["security"] = [{"bearer": []}, {"session": []}]
        paths.setdefault(endpoint.openapi_path, {})[endpoint.method.lower()] = op
    document = {
        "openapi": "3.1.0",
        "info": {
            "title": "PixlStash API",
            "version": __version__,
            "description": 'Every failure answers {"error": {"code", "message", "details"}}.',
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer"},
                "session": {"type": "apiKey", "in": "cookie", "name": "pixlstash_session"},
            },
        },
    }
    _bound_integers(document)
    return document


_INT64 = (-(2**63), 2**63 - 1)


def _bound_integers(node: object) -> None:
    """Every integer is stored as SQLite's signed 64-bit integer: say so wherever no bound is given."""
    if isinstance(node, dict):
        if node.get("type") == "integer":
            if "minimum" not in node and "exclusiveMinimum" not in node:
                node["minimum"] = _INT64[0]
            if "maximum" not in node and "exclusiveMaximum" not in node:
                node["maximum"] = _INT64[1]
        for value in node.values():
            _bound_integers(value)
    elif isinstance(node, list):
        for value in node:
            _bound_integers(value)


DOCS_HTML = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>PixlStash API</title>
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:0;color:#1f2937;background:#f9fafb}
header{background:#111827;color:#fff;padding:16px 24px}main{max-width:1000px;margin:auto;padding:16px 24px}
.op{background:#fff;border:1px solid #e5e7eb;border-radius:8px;margin:8px 0;padding:8px 12px}
.m{display:inline-block;min-width:64px;font-weight:700;font-family:monospace}.GET{color:#2563eb}.POST{color:#16a34a}
.PATCH{color:#d97706}.PUT{color:#9333ea}.DELETE{color:#dc2626}code{font-size:13px}.p{color:#6b7280;font-size:12px}
details pre{background:#f3f4f6;padding:8px;overflow:auto;font-size:12px}h2{margin-top:28px}
</style></head><body><header><h1>PixlStash API</h1><div id="v"></div></header><main id="m">Loading…</main>
<script>
fetch('openapi.json').then(r=>r.json()).then(doc=>{
  document.getElementById('v').textContent='version '+doc.info.version+' — '+doc.info.description;
  const byTag={};
  for(const [path,ops] of Object.entries(doc.paths)) for(const [method,op] of Object.entries(ops)){
    (byTag[op.tags[0]]=byTag[op.tags[0]]||[]).push([method.toUpperCase(),path,op]);}
  const main=document.getElementById('m'); main.textContent='';
  for(const [tag,ops] of Object.entries(byTag)){
    const h=document.createElement('h2'); h.textContent=tag; main.append(h);
    for(const [method,path,op] of ops){
      const d=document.createElement('details'); d.className='op';
      const s=document.createElement('summary');
      s.innerHTML='<span class="m '+method+'"></span> <code></code> — <span class="t"></span> <span class="p"></span>';
      s.querySelector('.m').textContent=method; s.querySelector('code').textContent=path;
      s.querySelector('.t').textContent=op.summary; s.querySelector('.p').textContent='('+op['x-policy']+')';
      const pre=document.createElement('pre'); pre.textContent=JSON.stringify(op,null,2);
      d.append(s,pre); main.append(d);}}
});
</script></body></html>
"""
