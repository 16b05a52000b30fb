"""test_openapi.py - GET /openapi.json and the files of GET /docs, end to end.

The document must validate as OpenAPI 3.0 (the official schema from Debian's
openapi-specification), list every route the server serves (the prediction table and the
loop-side routes, each of which answers a request), describe each model's input row with
the right optional features, agree with FastAPI's own document of the article's app, hold
examples that the server accepts and answers as documented, and follow the models when
they change (poll mode on a temp repository). /docs serves Swagger UI's page and the files
of npm's swagger-ui-dist byte for byte, off the loop, and says how to install them when
they are missing. Every wait is bounded (BOUND)."""
import json
import os
import re
import shutil
import threading
import time
from urllib.parse import quote

import jsonschema
import pytest

import openapi_util as ou
from conftest import PredictdServer, http_get, request

BOUND = 30.0        # seconds any wait may take
JSON = {"Content-Type": "application/json"}
DOCS_DIR = os.path.join(ou.ROOT, "web", "node_modules", "swagger-ui-dist")
PARALLEL_GETS = 8   # concurrent first requests for one asset


def get_doc(port):
    r = http_get(port, "/openapi.json")
    assert r.status == 200 and r.headers["content-type"] == "application/json", r
    return r.json()


def fill(path, op):
    """path with each {param} replaced by the first value its schema lists (or "x")."""
    for p in op.get("parameters", []):
        values = p["schema"].get("enum") or ["x"]
        path = path.replace("{%s}" % p["name"], quote(values[0], safe=""))
    return path


@pytest.fixture(scope="module")
def srv():
    """The demo models (seed: the default, iris), as `make run` serves them."""
    s = PredictdServer(("--default-model", "seed", os.path.join(ou.ROOT, "models"))).start()
    yield s
    assert s.stop() == 0
    assert "Sanitizer" not in s.stderr_text() and "runtime error:" not in s.stderr_text()


def test_document_validates_as_openapi_3(srv):
    doc = get_doc(srv.port)
    assert doc["openapi"].startswith("3.0.")
    ou.validate(doc)
    broken = json.loads(json.dumps(doc))  # the check itself must catch a broken document
    broken["paths"]["/predict"]["post"]["responses"] = {"200": {"content": {}}}
    with pytest.raises(AssertionError):
        ou.validate(broken)


def test_every_route_is_listed_and_answers(srv):
    doc = get_doc(srv.port)
    ops = ou.operations(doc)
    missing = ou.expected_routes() - set(ops)
    assert not missing, f"routes the server serves but the document lacks: {missing}"
    undocumented = [k for k, op in ops.items() if op.get("x-predictd-undocumented")]
    assert not undocumented, (
        f"routes with no description: {undocumented}; add a row to src/api/openapi_routes.c "
        "(loop-side routes) or to src/api/openapi_codecs.c (a codec's routes)")
    for (method, path), op in ops.items():
        r = request(srv.port, method, fill(path, op), b"" if method == "POST" else None,
                    JSON if method == "POST" else None)
        assert not (r.status in (404, 405) and r.body == b'{"detail":"Not Found"}'
                    or r.status == 405), (method, path, r)
    assert not any(k in ops for k in ou.CONTROL_ROUTES)  # explicit mode only
    assert set(doc["components"]["schemas"]) >= {"seed", "iris", "HTTPValidationError"}


def test_each_model_has_its_input_schema(srv):
    doc = get_doc(srv.port)
    models = {m["name"]: m for m in http_get(srv.port, "/models").json()["models"]}
    for name, m in models.items():
        s = doc["components"]["schemas"][name]
        assert list(s["properties"]) == m["features"]
        assert all(p["type"] == "number" for p in s["properties"].values())
        assert s.get("required", []) == [i["name"] for i in m["inputs"] if not i["optional"]]
        assert set(s["example"]) == set(m["features"])
    op = doc["paths"]["/models/{name}/predict"]["post"]
    name_param, outputs_param = op["parameters"]
    assert name_param["in"] == "path" and sorted(name_param["schema"]["enum"]) == sorted(models)
    # ?outputs=: a comma list of the output names the route's models offer
    assert outputs_param["in"] == "query" and outputs_param["explode"] is False
    names = outputs_param["schema"]["items"]["enum"]
    assert names[0] == "predict" and ("predict_proba" in names) == any(
        any(o["name"] == "predict_proba" for o in m["outputs"]) for m in models.values())
    assert set(names) == {o["name"] for m in models.values() for o in m["outputs"]}
    proba = doc["paths"]["/models/{name}/predict_proba"]["post"]["parameters"][0]
    assert proba["schema"]["enum"] == [n for n, m in models.items()
                                       if m["task"] == "classification"]
    assert "'seed'" in doc["paths"]["/predict"]["post"]["description"]


def test_fastapi_style_routes_match_fastapis_own_document(srv):
    """The article's app (tests/e2e/fastapi_seed_app.py) documented by FastAPI 0.92 itself:
    the same input row, the same 422 schemas."""
    import fastapi_seed_app

    class Model:
        def predict(self, rows):
            return [0 for _ in rows]

    theirs = fastapi_seed_app.create_app(Model()).openapi()
    ours = get_doc(srv.port)
    strip = lambda s: {k: v for k, v in s.items() if k not in ("title", "description",  # noqa
                                                              "example")}
    their_row = theirs["components"]["schemas"]["InputData"]
    our_row = ours["components"]["schemas"]["seed"]
    assert strip(our_row)["required"] == their_row["required"]
    assert {k: strip(v) for k, v in our_row["properties"].items()} == \
        {k: strip(v) for k, v in their_row["properties"].items()}
    for name in ("HTTPValidationError", "ValidationError"):
        assert ours["components"]["schemas"][name] == theirs["components"]["schemas"][name]
    their_op = theirs["paths"]["/predict_non_blocking"]["post"]
    our_op = ours["paths"]["/predict_non_blocking"]["post"]
    assert our_op["responses"]["422"]["content"]["application/json"]["schema"] == \
        their_op["responses"]["422"]["content"]["application/json"]["schema"]
    assert our_op["requestBody"]["required"] is True


def _model_of(example_key):
    for suffix in ("-list", "-objects", "-split", "-records"):
        if example_key.endswith(suffix):
            return example_key[: -len(suffix)]
    return example_key


def test_request_examples_are_answered_as_documented(srv):
    """Every request example of every prediction route, sent to the model it is for, is
    answered 200 with a body that follows the documented 200 schema (and the examples follow
    their own schemas)."""
    doc = get_doc(srv.port)
    sent = 0
    for (method, path), op in ou.operations(doc).items():
        for media, content in op.get("requestBody", {}).get("content", {}).items():
            for key, ex in content.get("examples", {}).items():
                if media == "application/json":
                    ou.validate_value(doc, content["schema"], ex["value"])
                url = path.replace("{name}", _model_of(key)).replace("{version}", "1")
                body = ex["value"] if media == "text/csv" else json.dumps(ex["value"])
                r = request(srv.port, method, url, body.encode(), {"Content-Type": media})
                assert r.status == 200, (method, url, key, r)
                answer = op["responses"]["200"]["content"]["application/json"]
                ou.validate_value(doc, answer["schema"], r.json())
                assert r.headers["x-model-version"] == "1"
                sent += 1
    assert sent >= 20


def test_error_examples_follow_their_schemas(srv):
    doc = get_doc(srv.port)
    n = 0
    for (method, path), op in ou.operations(doc).items():
        for status, resp in op["responses"].items():
            for media, content in resp.get("content", {}).items():
                for ex in content.get("examples", {}).values():
                    if media == "application/json":
                        ou.validate_value(doc, content["schema"], ex["value"])
                        n += 1
    assert n > 50
    # and real error answers follow the documented schemas
    for path, body, status in (("/models/nope/predict", b"{}", "404"),
                               ("/v1/models/nope:predict", b"{}", "404"),
                               ("/predict", b'{"feature1": 1}', "422"),
                               ("/v1/models/seed:predict", b'{"instances": [[1]]}', "400"),
                               ("/invocations", b"{}", "400")):
        r = request(srv.port, "POST", path, body, JSON)
        assert str(r.status) == status, (path, r)
        op = ou.operations(doc)[("POST", doc_path(doc, path))]
        ou.validate_value(doc, op["responses"][status]["content"]["application/json"]["schema"],
                          r.json())


def doc_path(doc, path):
    """The document's path template that matches a concrete path."""
    for template in doc["paths"]:
        pattern = "^" + re.sub(r"\\{[^}]+\\}", "[^/]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            return template
    raise KeyError(path)


def wait_doc(port, pred):
    t0 = time.monotonic()
    while time.monotonic() - t0 < BOUND:
        doc = get_doc(port)
        if pred(doc):
            return doc
        time.sleep(0.05)
    raise TimeoutError("the document did not change within %ss" % BOUND)


def names_of(doc):
    return doc["paths"]["/models/{name}/predict"]["post"]["parameters"][0]["schema"].get(
        "enum", [])


def test_document_follows_models_added_and_removed(tmp_path, spawn_server):
    repo = tmp_path / "repo"
    repo.mkdir()
    ou.write_model(repo / "a.json", ou.linear_doc("a", ["feature1", "feature2"]))
    s = spawn_server("--model-control", "poll", "--poll-interval", "0.2", str(repo))
    doc = get_doc(s.port)
    assert names_of(doc) == ["a"] and doc["components"]["schemas"]["a"]["required"] == \
        ["feature1", "feature2"]
    ou.write_model(repo / "b.json", ou.stump_doc("b", ["x", "y", "z"]))
    doc = wait_doc(s.port, lambda d: "b" in names_of(d))
    ou.validate(doc)
    b = doc["components"]["schemas"]["b"]
    assert list(b["properties"]) == ["x", "y", "z"] and "required" not in b
    assert all(p["nullable"] is True for p in b["properties"].values())
    lst = doc["paths"]["/models/{name}/predict"]["post"]["requestBody"]["content"][
        "application/json"]["examples"]["b-list"]["value"]
    assert lst[1] == {"x": 0.0, "y": 0.0}   # an optional feature omitted
    r = request(s.port, "POST", "/models/b/predict_proba", b'{"x": 1}', JSON)
    schema = doc["paths"]["/models/{name}/predict_proba"]["post"]["responses"]["422"][
        "content"]["application/json"]["schema"]
    assert r.status == 422 and "regressor" in r.json()["detail"]
    ou.validate_value(doc, schema, r.json())
    # the same file replaced with other inputs (a new version in place of the old one)
    ou.write_model(repo / "b.json", ou.stump_doc("b", ["x", "w"]))
    doc = wait_doc(s.port, lambda d: list(d["components"]["schemas"]["b"]["properties"]) ==
                   ["x", "w"])
    assert get_doc(s.port) == doc   # unchanged registry: the same document
    os.remove(repo / "a.json")
    doc = wait_doc(s.port, lambda d: names_of(d) == ["b"])
    ou.validate(doc)
    assert "a" not in doc["components"]["schemas"]
    # a new version with other inputs gets a schema of its own on the version routes
    (repo / "c" / "1").mkdir(parents=True)
    (repo / "c" / "2").mkdir()
    ou.write_model(repo / "c" / "1" / "model.json", ou.linear_doc("c", ["p"], version="1"))
    ou.write_model(repo / "c" / "2" / "model.json", ou.linear_doc("c", ["p", "q"], version="2"))
    doc = wait_doc(s.port, lambda d: "c" in names_of(d))
    ou.validate(doc)
    assert list(doc["components"]["schemas"]["c"]["properties"]) == ["p", "q"]
    assert list(doc["components"]["schemas"]["c_v1"]["properties"]) == ["p"]
    ver = doc["paths"]["/models/{name}/versions/{version}/predict"]["post"]
    refs = json.dumps(ver["requestBody"]["content"]["application/json"]["schema"])
    assert "#/components/schemas/c_v1" in refs and "#/components/schemas/c\"" in refs


def test_explicit_mode_documents_the_control_api(tmp_path, spawn_server):
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    s = spawn_server("--model-control", "explicit", "--admin-token-file", str(token),
                     os.path.join(ou.ROOT, "models"))
    doc = get_doc(s.port)
    ou.validate(doc)
    ops = ou.operations(doc)
    assert ou.expected_routes(explicit=True) <= set(ops)
    for key in ou.CONTROL_ROUTES:
        assert ops[key]["security"] == [{"adminToken": []}]
        assert "401" in ops[key]["responses"]
    assert doc["components"]["securitySchemes"]["adminToken"]["scheme"] == "bearer"
    load = ops[("POST", "/v2/repository/models/{name}/load")]["parameters"][0]
    assert "enum" not in load["schema"]   # any model of the repository, loaded or not


# ---------------------------------------------------------------- /docs and its files

ASSETS = {"swagger-ui-bundle.js": "text/javascript; charset=utf-8",
          "swagger-ui.css": "text/css; charset=utf-8",
          "favicon-32x32.png": "image/png", "favicon-16x16.png": "image/png"}


def test_docs_page_and_assets_are_served_from_the_npm_package(srv):
    assert os.path.isfile(os.path.join(DOCS_DIR, "swagger-ui-bundle.js")), \
        "run scripts/bootstrap (npm ci in web/)"
    r = http_get(srv.port, "/docs")
    assert r.status == 200 and r.headers["content-type"] == "text/html; charset=utf-8"
    page = r.body.decode()
    for ref in ("/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "'/openapi.json'",
                "SwaggerUIBundle("):
        assert ref in page
    for name, ctype in ASSETS.items():
        with open(os.path.join(DOCS_DIR, name), "rb") as f:
            want = f.read()
        for _ in range(2):  # the first read from disk, then from memory
            r = http_get(srv.port, "/docs/" + name)
            assert r.status == 200 and r.headers["content-type"] == ctype
            assert r.body == want
    for bad in ("/docs/index.html", "/docs/..%2Fpackage.json", "/docs/swagger-ui.js.map"):
        assert http_get(srv.port, bad).status == 404


def test_concurrent_first_requests_share_one_read(spawn_server):
    s = spawn_server(os.path.join(ou.ROOT, "models"))
    with open(os.path.join(DOCS_DIR, "swagger-ui-bundle.js"), "rb") as f:
        want = f.read()
    results = [None] * PARALLEL_GETS

    def get(i):
        results[i] = http_get(s.port, "/docs/swagger-ui-bundle.js", timeout=BOUND)

    threads = [threading.Thread(target=get, args=(i,)) for i in range(PARALLEL_GETS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(BOUND)
    assert all(r is not None and r.status == 200 and r.body == want for r in results)
    assert http_get(s.port, "/health").status == 200


def test_docs_without_assets_answers_404_saying_how_to_install(tmp_path):
    """A binary outside the checkout, started elsewhere, finds no assets: /docs says so."""
    binary = tmp_path / "bin" / "predictd"
    binary.parent.mkdir()
    shutil.copy(os.environ["PREDICTD_BIN"], binary)
    s = PredictdServer((os.path.join(ou.ROOT, "models"),), binary=str(binary),
                       cwd=str(tmp_path)).start()
    try:
        r = http_get(s.port, "/docs")
        assert r.status == 404 and "scripts/bootstrap" in r.json()["detail"]
        assert http_get(s.port, "/docs/swagger-ui.css").status == 404
        assert http_get(s.port, "/openapi.json").status == 200
        assert "GET /docs answers 404" in s.stderr_text()
        s2 = PredictdServer(("--docs-dir", DOCS_DIR, os.path.join(ou.ROOT, "models")),
                            binary=str(binary), cwd=str(tmp_path)).start()
        try:
            assert http_get(s2.port, "/docs").status == 200
            assert http_get(s2.port, "/docs/swagger-ui.css").status == 200
        finally:
            assert s2.stop() == 0
    finally:
        assert s.stop() == 0


def test_a_wrong_docs_dir_stops_the_start(tmp_path):
    s = PredictdServer(("--docs-dir", str(tmp_path), os.path.join(ou.ROOT, "models")))
    s.start(wait=False)
    assert s.wait() == 1
    assert "--docs-dir" in s.stderr_text() and "swagger-ui-bundle.js" in s.stderr_text()


def test_asset_read_failures_are_404_and_retried(tmp_path, spawn_server):
    """A missing file is 404 (and read again once it is there); a file over the 8 MiB
    limit is 404 without being read; neither stops the server."""
    d = tmp_path / "ui"
    d.mkdir()
    (d / "swagger-ui-bundle.js").write_bytes(b"x" * (8 * 1024 * 1024 + 1))
    s = spawn_server("--docs-dir", str(d), os.path.join(ou.ROOT, "models"))
    r = http_get(s.port, "/docs/swagger-ui.css")
    assert r.status == 404 and "could not be read" in r.json()["detail"]
    assert str(d) not in r.json()["detail"]       # no server path to the client
    (d / "swagger-ui.css").write_bytes(b"body{}")
    r = http_get(s.port, "/docs/swagger-ui.css")
    assert r.status == 200 and r.body == b"body{}"
    r = http_get(s.port, "/docs/swagger-ui-bundle.js")
    assert r.status == 404 and "larger than the limit" in r.json()["detail"]
    assert http_get(s.port, "/docs").status == 200 and http_get(s.port, "/health").status == 200
