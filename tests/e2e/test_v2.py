"""test_v2.py - the Open Inference Protocol (KServe V2 / Triton) end to end through the real
binary, checked the way its users check it:

- the curl examples of KServe's V2 docs (iris-input-v2.json) and of Triton's binary tensor
  data extension, run with the real curl;
- raw bytes exactly as Triton's Python HTTP client (tritonclient.http) builds and reads
  them: rapidjson's compact JSON, no Content-Type, Inference-Header-Content-Length, inputs
  with binary_data_size, outputs with binary_data (binary_data_output when none is named),
  answers split at the header's length and decoded with numpy.frombuffer, BYTES as 4-byte
  length-prefixed strings, errors read from {"error": ...};
- predictions equal to scikit-learn's / XGBoost's predict and predict_proba on the same
  rows (as the float32 / float16 the client sent when it sent those), NaN rows for the
  models that take missing values, both input layouts (one [N, n_features] tensor, one
  tensor per feature as MLServer's pandas codec sends);
- server and model metadata, readiness, statistics, versions, parameters.timeout (504),
  a full queue (503 + Retry-After), the row limit (413), unknown models (404).

Models: the zoo of test_rows_api.py (trained there, deterministic). Every wait is bounded
(socket timeouts, BOUND, subprocess timeouts)."""
import json
import os
import struct
import subprocess

import numpy as np
import pytest

from conftest import connect, http_get, request
from test_predict_pool import heavy_model, post as raw_post, read_n  # noqa: F401
from test_rows_api import assert_values, library, srv, zoo  # noqa: F401

BOUND = 120.0          # seconds for one exchange (ASan)
HLEN = "Inference-Header-Content-Length"
NP_TYPES = {"BOOL": np.bool_, "UINT8": np.uint8, "UINT16": np.uint16, "UINT32": np.uint32,
            "UINT64": np.uint64, "INT8": np.int8, "INT16": np.int16, "INT32": np.int32,
            "INT64": np.int64, "FP16": np.float16, "FP32": np.float32, "FP64": np.float64}


# ---------------------------------------------------------------- what tritonclient does

def compact(obj):
    """rapidjson.dumps(obj) as tritonclient calls it: compact separators."""
    return json.dumps(obj, separators=(",", ":"))


def triton_request(inputs, outputs=None, request_id="", parameters=None):
    """The body and headers tritonclient.http.InferenceServerClient.infer sends.
    inputs: [(name, numpy array, datatype, binary)]; outputs: [(name, binary)] or None."""
    req, params, raws = {}, dict(parameters or {}), []
    if request_id:
        req["id"] = request_id
    tensors = []
    for name, arr, dt, binary in inputs:
        t = {"name": name, "shape": list(arr.shape), "datatype": dt}
        if binary:
            raw = np.ascontiguousarray(arr).tobytes()
            t["parameters"] = {"binary_data_size": len(raw)}
            raws.append(raw)
        else:
            t["data"] = [None if isinstance(v, float) and np.isnan(v) else v
                         for v in (x.item() for x in arr.flatten())]
        tensors.append(t)
    req["inputs"] = tensors
    if outputs:
        req["outputs"] = [{"name": n, "parameters": {"binary_data": b}} for n, b in outputs]
    else:
        params["binary_data_output"] = True
    if params:
        req["parameters"] = params
    head = compact(req).encode()
    if not raws:
        return head, {}
    return head + b"".join(raws), {HLEN: str(len(head))}


def triton_result(r):
    """What tritonclient's InferResult makes of an answer: {name: numpy array}, and the
    JSON part. Fails like the client (InferenceServerException) on a non-200."""
    assert r.status == 200, f"InferenceServerException: {r.json()['error']} ({r.status})"
    hl = r.headers.get(HLEN.lower())
    if hl is None:
        head, buf = json.loads(r.body), b""
    else:
        head, buf = json.loads(r.body[:int(hl)]), r.body[int(hl):]
    out, at = {}, 0
    for o in head["outputs"]:
        size = (o.get("parameters") or {}).get("binary_data_size")
        if size is None:
            dt = object if o["datatype"] == "BYTES" else NP_TYPES[o["datatype"]]
            out[o["name"]] = np.array(o["data"], dtype=dt).reshape(o["shape"])
            continue
        raw = buf[at:at + size]
        at += size
        if o["datatype"] == "BYTES":
            vals, i = [], 0
            while i < len(raw):
                (n,) = struct.unpack_from("<I", raw, i)
                vals.append(raw[i + 4:i + 4 + n].decode())
                i += 4 + n
            out[o["name"]] = np.array(vals, dtype=object).reshape(o["shape"])
        else:
            out[o["name"]] = np.frombuffer(raw, dtype=NP_TYPES[o["datatype"]]).reshape(
                o["shape"])
    assert at == len(buf), "binary data left over"
    return out, head


def infer(port, name, body, headers=None, version=None, sock=None):
    path = f"/v2/models/{name}" + (f"/versions/{version}" if version else "") + "/infer"
    return request(port, "POST", path, body, headers or {}, sock=sock)


def check(models, name, X, got, proba=True):
    """got's predict (and predict_proba) equal the library's on rows X."""
    want = library(models, name, X)
    if name in ("hgbr", "ridge"):
        assert_values(list(got["predict"]), want, name)
    else:
        assert [v.item() if hasattr(v, "item") else v for v in got["predict"]] == want
    if proba and "predict_proba" in got:
        p = library(models, name, X, proba=True)
        for i, row in enumerate(got["predict_proba"]):
            assert_values(list(row), list(p[i]), f"{name} proba row {i}")


# ---------------------------------------------------------------- the docs' examples

IRIS_V2 = {"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32",
                       "data": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}]}


def curl(*args):
    out = subprocess.run(["curl", "-s", "-S", "--max-time", str(int(BOUND)), *args],
                         capture_output=True, timeout=BOUND + 10)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_kserve_docs_curl_example(zoo, srv, tmp_path):
    models, _ = zoo
    f = tmp_path / "iris-input-v2.json"
    f.write_text(json.dumps(IRIS_V2, indent=2))
    got = json.loads(curl("-H", "Content-Type: application/json", "-d", f"@{f}",
                          f"http://127.0.0.1:{srv.port}/v2/models/iris/infer"))
    assert got["model_name"] == "iris" and got["model_version"] == "1"
    assert [o["name"] for o in got["outputs"]] == ["predict", "predict_proba"]
    assert got["outputs"][0]["datatype"] == "BYTES" and got["outputs"][0]["shape"] == [2]
    assert got["outputs"][1]["datatype"] == "FP64" and got["outputs"][1]["shape"] == [2, 3]
    X = np.array(IRIS_V2["inputs"][0]["data"], dtype=np.float32).astype(np.float64)
    check(models, "iris", X, {"predict": got["outputs"][0]["data"],
                              "predict_proba": np.array(got["outputs"][1]["data"]).reshape(2, 3)})


def test_triton_docs_binary_example_with_curl(zoo, srv, tmp_path):
    """Triton's binary_data example, adapted to the seed model: the JSON header, then the
    tensor's raw bytes, Inference-Header-Content-Length, output as binary."""
    models, _ = zoo
    X = np.array([[0.5, -1.25], [3.0, 2.0], [-4.0, 1.0]], dtype=np.float32)
    head = json.dumps({"model_name": "seed", "inputs": [
        {"name": "input0", "shape": [3, 2], "datatype": "FP32",
         "parameters": {"binary_data_size": X.nbytes}}],
        "outputs": [{"name": "predict", "parameters": {"binary_data": True}}]},
        indent=2).encode()
    req, resp, hdrs = tmp_path / "req.bin", tmp_path / "resp.bin", tmp_path / "headers.txt"
    req.write_bytes(head + X.tobytes())
    curl("-H", "Content-Type: application/octet-stream", "-H", f"{HLEN}: {len(head)}",
         "--data-binary", f"@{req}", "-o", str(resp), "-D", str(hdrs),
         f"http://127.0.0.1:{srv.port}/v2/models/seed/infer")
    headers = {k.strip().lower(): v.strip() for k, _, v in
               (line.partition(":") for line in hdrs.read_text().splitlines()[1:] if line)}
    assert headers["content-type"] == "application/octet-stream"
    body = resp.read_bytes()
    n = int(headers[HLEN.lower()])
    meta = json.loads(body[:n])
    assert meta["outputs"] == [{"name": "predict", "datatype": "INT64", "shape": [3],
                                "parameters": {"binary_data_size": 24}}]
    got = np.frombuffer(body[n:], dtype="<i8")
    assert got.tolist() == library(models, "seed", X.astype(np.float64))


# ---------------------------------------------------------------- parity with the libraries

@pytest.mark.parametrize("name", ["hgb", "hgbr", "xgb", "ridge", "iris", "seed"])
@pytest.mark.parametrize("form", ["matrix_json", "matrix_binary", "columns_json",
                                  "columns_binary"])
def test_predictions_equal_library(zoo, srv, name, form):
    """FP64 rows (NaN where the dataset has it) in each layout, as Triton's client sends
    them; answers read as it reads them."""
    models, _ = zoo
    _, names, X = models[name]
    binary = form.endswith("binary")
    if form.startswith("matrix"):
        inputs = [("input-0", X, "FP64", binary)]
    else:
        inputs = [(n, X[:, i].copy(), "FP64", binary) for i, n in enumerate(names)]
    body, headers = triton_request(inputs, request_id=f"{name}-{form}")
    r = infer(srv.port, name, body, headers)
    got, head = triton_result(r)
    assert head["id"] == f"{name}-{form}" and head["model_name"] == name
    assert r.headers["x-model-version"] == head["model_version"] == "1"
    assert r.headers["content-type"] == "application/octet-stream"
    check(models, name, X, got)


@pytest.mark.parametrize("dt", ["FP32", "FP16"])
@pytest.mark.parametrize("binary", [True, False])
def test_narrow_floats_are_the_floats_sent(zoo, srv, dt, binary):
    """FP32 / FP16 rows predict as the library predicts on those float32 / float16 values
    (JSON values are the client's numpy scalars' .item(), as tritonclient sends them)."""
    models, _ = zoo
    for name in ("iris", "hgb", "xgb"):
        _, names, X = models[name]
        Xn = X.astype(NP_TYPES[dt])
        body, headers = triton_request([("x", Xn, dt, binary)],
                                       outputs=[("predict", False), ("predict_proba", True)])
        got, _ = triton_result(infer(srv.port, name, body, headers))
        check(models, name, Xn.astype(np.float64), got)


def test_integer_and_bool_columns_mlserver_style(zoo, srv):
    """MLServer's pandas-style request: one tensor per feature, each its own datatype,
    [N] or [N, 1], with "content_type" parameters (ignored)."""
    models, _ = zoo
    X = np.array([[1, 0], [-3, 1], [7, 1], [0, 0]], dtype=np.float64)
    req = {"parameters": {"content_type": "pd"}, "inputs": [
        {"name": "feature2", "shape": [4, 1], "datatype": "BOOL",
         "parameters": {"content_type": "np"}, "data": [[False], [True], [True], [False]]},
        {"name": "feature1", "shape": [4], "datatype": "INT8", "data": [1, -3, 7, 0]}],
        "outputs": [{"name": "predict"}]}
    r = infer(srv.port, "seed", json.dumps(req).encode(), {"Content-Type": "application/json"})
    got, head = triton_result(r)
    assert r.headers["content-type"] == "application/json" and HLEN.lower() not in r.headers
    assert [o["name"] for o in head["outputs"]] == ["predict"]
    check(models, "seed", X, got)


def test_missing_values_in_json_and_binary(zoo, srv):
    """NaN rows (null in JSON, NaN in binary; a feature tensor left out) for the models that
    take missing values; refused for one that does not."""
    models, _ = zoo
    for name in ("hgb", "xgb"):
        _, names, X = models[name]
        assert np.isnan(X).any()
        for binary in (False, True):
            body, headers = triton_request([("input-0", X, "FP64", binary)])
            check(models, name, X, triton_result(infer(srv.port, name, body, headers))[0])
        # a feature not sent at all is missing in every row
        Xm = X.copy()
        Xm[:, 3] = np.nan
        inputs = [(n, Xm[:, i].copy(), "FP64", True) for i, n in enumerate(names) if i != 3]
        body, headers = triton_request(inputs)
        check(models, name, Xm, triton_result(infer(srv.port, name, body, headers))[0])
    body, headers = triton_request([("x", np.array([[np.nan, 1.0]]), "FP64", True)])
    r = infer(srv.port, "seed", body, headers)
    assert r.status == 400
    assert r.json() == {"error": "input 'x': element 0 (row 0, feature 'feature1'): NaN, and "
                                 "the model takes no missing values"}


def test_big_requests_decoded_and_encoded_on_workers(zoo, srv):
    """Bodies past --decode-on-worker-above and answers past the loop's encode limit: the
    binary answer keeps its Content-Type and header when a worker encoded it."""
    models, _ = zoo
    _, names, X = models["hgb"]
    big = np.tile(X, (2000 // len(X) + 1, 1))[:2000]
    for binary in (False, True):
        body, headers = triton_request([("input-0", big, "FP64", binary)])
        assert len(body) > 64 * 1024
        r = infer(srv.port, "hgb", body, headers)
        got, _ = triton_result(r)
        assert r.headers["content-type"] == "application/octet-stream"
        check(models, "hgb", big, got)


# ---------------------------------------------------------------- metadata, ready, stats

def test_server_and_model_metadata(srv):
    r = http_get(srv.port, "/v2")
    assert r.status == 200
    meta = r.json()
    assert meta["name"] == "predictd" and meta["version"]
    assert {"binary_tensor_data", "statistics"} <= set(meta["extensions"])
    m = http_get(srv.port, "/v2/models/iris").json()
    assert m["name"] == "iris" and m["versions"] == ["1"] and m["platform"] == "sklearn"
    feats = [t["name"] for t in m["inputs"][1:]]
    assert m["inputs"][0] == {"name": "input-0", "datatype": "FP64", "shape": [-1, 4],
                              "parameters": {"form": "matrix"}}
    assert len(feats) == 4 and all(t["shape"] == [-1] for t in m["inputs"][1:])
    assert m["outputs"] == [{"name": "predict", "datatype": "BYTES", "shape": [-1]},
                            {"name": "predict_proba", "datatype": "FP64", "shape": [-1, 3]}]
    assert m["parameters"]["classes"] == ["setosa", "versicolor", "virginica"]
    x = http_get(srv.port, "/v2/models/xgb/versions/1").json()
    assert x["platform"] == "xgboost" and x["outputs"][0]["datatype"] == "INT64"
    assert x["parameters"]["missing_values"] is True
    assert all(t["parameters"]["optional"] for t in x["inputs"][1:])
    rg = http_get(srv.port, "/v2/models/ridge").json()
    assert rg["outputs"] == [{"name": "predict", "datatype": "FP64", "shape": [-1]}]
    for path, msg in (("/v2/models/nope", "unknown model 'nope'"),
                      ("/v2/models/iris/versions/9", "model 'iris' has no version '9' loaded")):
        r = http_get(srv.port, path)
        assert r.status == 404 and r.json() == {"error": msg}


def test_model_ready(srv):
    for path in ("/v2/models/iris/ready", "/v2/models/iris/versions/1/ready"):
        r = http_get(srv.port, path)
        assert r.status == 200 and r.json() == {"name": "iris", "ready": True}
    r = http_get(srv.port, "/v2/models/iris/versions/2/ready")
    assert r.status == 503 and r.json() == {"name": "iris", "ready": False}
    r = http_get(srv.port, "/v2/models/nope/ready")
    assert r.status == 404 and r.json() == {"error": "unknown model 'nope'"}
    assert http_get(srv.port, "/v2/health/ready").status == 200
    assert http_get(srv.port, "/v2/health/live").status == 200


def test_statistics_count_this_versions_requests(zoo, spawn_server):
    s = spawn_server("--workers", "2", zoo[1])
    X = np.array([[1.0, 2.0]] * 5)
    for _ in range(3):
        body, headers = triton_request([("x", X, "FP64", True)])
        assert infer(s.port, "seed", body, headers).status == 200
    assert infer(s.port, "seed", b'{"inputs": []}').status == 400
    assert request(s.port, "POST", "/models/seed/predict", b'{"feature1":1,"feature2":2}',
                   {"Content-Type": "application/json"}).status == 200
    st = http_get(s.port, "/v2/models/seed/stats").json()["model_stats"]
    assert len(st) == 1 and st[0]["name"] == "seed" and st[0]["version"] == "1"
    v = st[0]
    inf = v["inference_stats"]
    assert inf["success"]["count"] == 4 and inf["fail"]["count"] == 1
    assert v["inference_count"] == 16 and v["last_inference"] > 0
    assert inf["compute_input"]["count"] == 5 and inf["compute_output"]["count"] == 4
    assert inf["queue"]["count"] == inf["compute_infer"]["count"] == 4
    assert v["execution_count"] == sum(b["compute_infer"]["count"] for b in v["batch_stats"])
    assert {b["batch_size"] for b in v["batch_stats"]} == {1, 5}
    assert all(inf[k]["ns"] > 0 for k in ("success", "compute_input", "compute_infer"))
    one = http_get(s.port, "/v2/models/seed/versions/1/stats").json()["model_stats"]
    assert one == st
    every = http_get(s.port, "/v2/models/stats").json()["model_stats"]
    assert {m["name"] for m in every} == {"hgb", "hgbr", "ridge", "xgb", "iris", "seed"}
    assert http_get(s.port, "/v2/models/seed/versions/4/stats").status == 404
    assert http_get(s.port, "/v2/models/nope/stats").json() == {"error": "unknown model 'nope'"}


# ---------------------------------------------------------------- versions, limits, errors

def test_version_routes_and_unknown_models(srv):
    body, headers = triton_request([("x", np.array([[1.0, 2.0]]), "FP64", False)],
                                   outputs=[("predict", False)])
    r = infer(srv.port, "seed", body, headers, version="1")
    assert r.status == 200 and r.json()["model_version"] == "1"
    for name, version in (("seed", "2"), ("nope", None)):
        r = infer(srv.port, name, body, headers, version=version)
        assert r.status == 404
        assert r.json() == {"error": "no such model or version is loaded"}
    r = request(srv.port, "GET", "/v2/models/seed/infer")
    assert r.status == 405


def test_bad_requests_say_what_was_expected(srv):
    cases = [
        ({"inputs": [{"name": "x", "shape": [1, 3], "datatype": "FP64", "data": [1, 2, 3]}]},
         "input 'x': expected shape [N, 2] (N rows of the model's 2 features), got [1, 3]"),
        ({"inputs": [{"name": "x", "shape": [2, 2], "datatype": "FP64", "data": [[1, 2], [3]]}]},
         "input 'x': data[1] holds 1 values, shape [2, 2] says 2"),
        ({"inputs": [{"name": "feature1", "shape": [1], "datatype": "FP64", "data": [1]}]},
         "\"inputs\": no input for feature 'feature2', and the model takes no missing values "
         "(send one [N] tensor per feature, or one [N, 2] tensor)"),
        ({"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64", "data": [1, 2]}],
          "outputs": [{"name": "output-0"}]},
         "outputs[0]: unknown output 'output-0' (the model's outputs: predict, predict_proba, "
         "decision_function)"),
    ]
    for req, msg in cases:
        r = infer(srv.port, "seed", json.dumps(req).encode())
        assert r.status == 400 and r.json() == {"error": msg}, r
        assert r.headers["content-type"] == "application/json"
    r = infer(srv.port, "seed", b'{"inputs": [', {})
    assert r.status == 400 and r.json()["error"].startswith("body: invalid JSON: ")


def test_row_limit_is_413(zoo, spawn_server):
    s = spawn_server("--max-rows", "3", zoo[1])
    body, headers = triton_request([("x", np.ones((4, 2)), "FP64", True)])
    r = infer(s.port, "seed", body, headers)
    assert r.status == 413
    assert r.json() == {"error": "input 'x': 4 rows, more than the server's limit of 3"}
    body, headers = triton_request([("x", np.ones((3, 2)), "FP64", True)])
    assert infer(s.port, "seed", body, headers).status == 200


def v2_post(name, rows, params=None):
    """A pipelined V2 request of the heavy model (features feature1, feature2)."""
    req = {"inputs": [{"name": "x", "shape": [len(rows), 2], "datatype": "FP64",
                       "data": [[r["feature1"], r["feature2"]] for r in rows]}],
           "outputs": [{"name": "predict"}]}
    if params:
        req["parameters"] = params
    return raw_post(f"/v2/models/{name}/infer", json.dumps(req).encode())


def heavy_v2_rows(n):
    from models_util import heavy_rows
    return [json.loads(b) for b in heavy_rows(n)]


def test_timeout_parameter_answers_504(spawn_server, heavy_model):
    """parameters.timeout (us) bounds the wait in the queue like --queue-timeout: pipelined
    requests that would wait longer are answered 504; without it they all run."""
    srv = spawn_server("--workers", "1", "--max-batch", "1", "--inline-below-us", "0",
                       heavy_model)
    rows = heavy_v2_rows(12)
    s = connect(srv.port, timeout=BOUND)
    s.sendall(b"".join(v2_post("heavy", [r], {"timeout": 2000}) for r in rows))
    answers = read_n(s, len(rows))
    s.close()
    statuses = [a[0] for a in answers]
    assert 504 in statuses and 200 in statuses, statuses
    for status, headers, body in answers:
        if status == 504:
            assert json.loads(body) == {"error": "the request waited too long for a worker"}
    s = connect(srv.port, timeout=BOUND)
    s.sendall(b"".join(v2_post("heavy", [r], {"timeout": 60000000}) for r in rows))
    assert [a[0] for a in read_n(s, len(rows))] == [200] * len(rows)
    s.close()
    st = http_get(srv.port, "/v2/models/heavy/stats").json()["model_stats"][0]
    assert st["inference_stats"]["fail"]["count"] == statuses.count(504)


def test_full_queue_is_503_with_retry_after(spawn_server, heavy_model):
    srv = spawn_server("--workers", "1", "--max-queue", "1", heavy_model)
    rows = heavy_v2_rows(30)
    s = connect(srv.port, timeout=BOUND)
    s.sendall(b"".join(v2_post("heavy", [r]) for r in rows))
    answers = read_n(s, len(rows))
    s.close()
    statuses = [a[0] for a in answers]
    assert 503 in statuses and 200 in statuses, statuses
    for status, headers, body in answers:
        if status == 503:
            assert headers["retry-after"] == "1"
            assert json.loads(body) == {"error": "the model's queue is full"}
        else:
            assert json.loads(body)["outputs"][0]["data"][0] in (0, 1)


def test_a_model_still_loading_is_503_not_404(tmp_path, spawn_server):
    """Explicit mode: while a slow model's first version loads (the heavy MLP's cost
    measurement takes a while under ASan), readiness says 503 and inference answers 503
    with Retry-After; once loaded, 200."""
    from models_util import write_heavy_mlp
    from test_reload import linear_doc, write_atomic
    repo = tmp_path / "repo"
    repo.mkdir()
    write_atomic(repo / "m.json", linear_doc("m", 1.0))
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    srv = spawn_server("--model-control", "explicit", "--admin-token-file", str(token),
                       str(repo))
    (repo / "heavy" / "1").mkdir(parents=True)  # a model folder: its name is known early
    write_heavy_mlp(repo / "heavy" / "1")
    load = connect(srv.port, timeout=BOUND)
    load.sendall(b"POST /v2/repository/models/heavy/load HTTP/1.1\r\nHost: x\r\n"
                 b"Authorization: Bearer s3cret\r\nContent-Length: 0\r\n\r\n")
    body = json.dumps({"inputs": [{"name": "x", "shape": [1, 2], "datatype": "FP64",
                                   "data": [0.5, -0.5]}]}).encode()
    seen = []
    for _ in range(2000):  # bounded: the load answers well before
        ready = http_get(srv.port, "/v2/models/heavy/ready")
        if ready.status == 503:
            r = infer(srv.port, "heavy", body)
            seen.append(r.status)
            if r.status == 503:
                assert r.headers["retry-after"] == "1"
                assert r.json() == {"error": "the model is loading"}
                break
        elif ready.status == 200:
            break
    assert 503 in seen, "the load ended before it could be seen"
    from conftest import read_response
    assert read_response(load).status == 200
    load.close()
    assert http_get(srv.port, "/v2/models/heavy/ready").status == 200
    assert infer(srv.port, "heavy", body).status == 200
