"""openapi_util.py - what the OpenAPI and /docs tests share: the routes predictd must
document, checks of a document against the official OpenAPI 3.0 schema and the rules that
schema cannot express, and model files for a repository.

  expected_routes(explicit=False)   -> {(METHOD, pattern)}: the prediction route table
                                       (parsed from src/api/predict_routes.c) and the
                                       loop-side routes
  operations(doc)                   -> {(METHOD, pattern): operation}
  validate(doc)                     official schema (Debian's openapi-specification, with
                                       python3-jsonschema) + refs, path parameters, ids
  validate_value(doc, schema, v)    a value against one of the document's schemas
  linear_doc(name, features), stump_doc(name, features)   predictd model files
"""
import copy
import json
import os
import re

import jsonschema

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OPENAPI_30_SCHEMA = "/usr/share/openapi-specification/schemas/v3.0/schema.json"
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")

# The routes that answer on the loop, besides the prediction table (health.c, catalog.c,
# app.c, openapi.c, docs.c), and those of explicit model control (control.c).
LOOP_ROUTES = {("GET", "/health"), ("GET", "/v2/health/live"), ("GET", "/v2/health/ready"),
               ("GET", "/ping"), ("GET", "/models"), ("GET", "/v1/models/{name}"),
               ("GET", "/metrics"), ("GET", "/openapi.json"), ("GET", "/docs"),
               ("GET", "/docs/{file}")}
CONTROL_ROUTES = {("POST", "/v2/repository/index"),
                  ("POST", "/v2/repository/models/{name}/load"),
                  ("POST", "/v2/repository/models/{name}/unload")}


def prediction_routes():
    """{(METHOD, pattern)} of pd_predict_routes(), read from its table's source."""
    with open(os.path.join(ROOT, "src", "api", "predict_routes.c")) as f:
        src = f.read()
    rows = set(re.findall(r'\{\s*"(GET|POST|PUT|DELETE|PATCH)",\s*"(/[^"]*)"', src))
    assert rows, "no route rows found in src/api/predict_routes.c"
    return rows


def expected_routes(explicit=False):
    return prediction_routes() | LOOP_ROUTES | (CONTROL_ROUTES if explicit else set())


def operations(doc):
    return {(m.upper(), path): op for path, item in doc["paths"].items()
            for m, op in item.items() if m in METHODS}


def _walk(v, path=()):
    if isinstance(v, dict):
        for k, x in v.items():
            yield from _walk(x, path + (k,))
        yield path, v
    elif isinstance(v, list):
        for i, x in enumerate(v):
            yield from _walk(x, path + (i,))


def validate(doc):
    """Raises when doc is not a valid OpenAPI 3.0 document: the official JSON schema, then
    what it cannot check (every $ref resolves, the path parameters are exactly the
    template's, operationIds are unique)."""
    with open(OPENAPI_30_SCHEMA) as f:
        schema = json.load(f)
    errors = sorted(jsonschema.Draft4Validator(schema).iter_errors(doc),
                    key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message[:300]}"
                                 for e in errors[:20])
    schemas = doc.get("components", {}).get("schemas", {})
    for where, obj in _walk(doc):
        ref = obj.get("$ref")
        if isinstance(ref, str):
            assert ref.startswith("#/components/schemas/"), (where, ref)
            assert ref.split("/")[-1] in schemas, (where, ref)
    ids = [op["operationId"] for op in operations(doc).values()]
    assert len(ids) == len(set(ids)), ids
    for (method, path), op in operations(doc).items():
        in_template = re.findall(r"\{([^}]+)\}", path)
        declared = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
        assert sorted(in_template) == sorted(declared), (method, path, declared)
        assert all(p["required"] for p in op.get("parameters", []) if p["in"] == "path")


def _json_schema(s):
    """An OpenAPI 3.0 schema object as JSON Schema (nullable -> a null type too)."""
    if isinstance(s, list):
        return [_json_schema(x) for x in s]
    if not isinstance(s, dict):
        return s
    out = {k: _json_schema(v) for k, v in s.items() if k not in ("nullable", "example")}
    if s.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]} if "type" in s or "$ref" in s else out
    return out


def validate_value(doc, schema, value):
    """Raises jsonschema.ValidationError when value does not follow schema (an OpenAPI
    schema object of doc, whose $refs resolve in doc)."""
    root = {"components": {"schemas": {k: _json_schema(v) for k, v in
                                       copy.deepcopy(doc["components"]["schemas"]).items()}}}
    resolver = jsonschema.RefResolver("", root)
    jsonschema.Draft4Validator(_json_schema(schema), resolver=resolver).validate(value)


def linear_doc(name, features, value=1.0, version="1"):
    """A regressor that answers `value` for every row; takes no missing values."""
    return {"format": "predictd-model", "version": 1, "name": name, "model_version": version,
            "task": "regression", "features": list(features),
            "steps": [{"type": "linear", "link": "identity", "coef": [[0] * len(features)],
                       "intercept": [value]}]}


def stump_doc(name, features):
    """A one-split tree regressor on features[0] that takes missing values."""
    return {"format": "predictd-model", "version": 1, "name": name, "task": "regression",
            "features": list(features), "missing_values": True,
            "steps": [{"type": "tree_ensemble", "n_outputs": 1, "aggregate": "sum",
                       "input_type": "float32", "comparison": "le",
                       "post_transform": "identity",
                       "trees": [{"feature": [0, -1, -1], "threshold": [0.5, 0, 0],
                                  "left": [1, -1, -1], "right": [2, -1, -1],
                                  "value": [0, 1, 2], "missing_left": [1, 0, 0]}]}]}


def write_model(path, doc):
    """Writes doc to path through a temp file and a rename."""
    tmp = str(path) + ".tmp~"
    with open(tmp, "w") as f:
        json.dump(doc, f)
    os.replace(tmp, path)
