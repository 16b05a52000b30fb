"""test_outputs.py - named outputs chosen per request, end to end through the real binary,
checked against scikit-learn 1.2 itself (the oracle) on every protocol:

- FastAPI-style routes: `?outputs=predict,decision_function` replaces the route's
  outputs; each named output is a member of its own name; an object body answers one
  row (a number for a one-wide output, as the library's 1-D array, else a list);
- KServe V1 and MLflow: `?outputs=...` adds members beside "predictions";
- Open Inference Protocol (V2): `outputs` in the body selects tensors, JSON or binary
  (Triton's extension, read with numpy.frombuffer as tritonclient reads it);
- unknown names refused with the model's outputs listed, in each protocol's error shape;
- /models, /v1/models/{name}, /v2/models/{name} and /openapi.json list the outputs.

Models (parity_cases.py): SVC rbf ovr with probabilities (string labels), SVC linear ovo,
a binary SVC (decision_function one wide), IsolationForest (score_samples,
decision_function), KMeans (transform). Every exchange is bounded by socket timeouts."""
import json
import struct

import numpy as np
import pytest

import parity_util as pu
from conftest import PredictdServer, http_get, request
from predictd.export import export

CASES = ("svc_rbf_multi_proba", "svc_linear_ovo", "svc_rbf_binary_proba", "isolation_forest",
         "kmeans")
ROWS = 25           # rows per request (a list body)
BOUND = 120.0       # seconds for one exchange (ASan)
HLEN = "Inference-Header-Content-Length"


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    """{case id: (fitted estimator, exported document, X rows, feature names)}, exported
    into one directory, named after the case."""
    d = tmp_path_factory.mktemp("outputs_models")
    out = {}
    for cid in CASES:
        case = pu.CASES_BY_ID[cid]
        est = pu.fit(case)
        _, _, names = pu.dataset(case.data)
        doc = export(est, str(d / (cid + ".json")), feature_names=names, name=cid)
        out[cid] = (est, doc, pu.query_rows(case)[:ROWS], names)
    return d, out


@pytest.fixture(scope="module")
def srv(models):
    s = PredictdServer(("--workers", "2", "--default-model", "svc_rbf_multi_proba",
                        str(models[0]))).start()
    yield s
    s.stop()


def post(port, path, body, ctype="application/json"):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    return request(port, "POST", path, data, {"Content-Type": ctype}, timeout=BOUND)


def named(port, cid):
    """The named outputs the served model declares, as /v1/models/{name} lists them after
    predict (and predict_proba)."""
    outs = http_get(port, "/v1/models/" + cid).json()["outputs"]
    return [o["name"] for o in outs if o["name"] not in ("predict", "predict_proba")]


def want(est, name, X):
    return pu.library_method(est, name, X)


def records(names, X):
    return [dict(zip(names, map(float, row))) for row in X]


def check_labels(got, est, X, what):
    pu.assert_labels(got, est.predict(X), what)


# ---------------------------------------------------------------- the catalog

def test_models_list_every_output_with_its_width(srv, models):
    cat = {m["name"]: m for m in http_get(srv.port, "/models").json()["models"]}
    for cid, (est, doc, X, names) in models[1].items():
        outs = cat[cid]["outputs"]
        assert outs[0]["name"] == "predict" and outs[0]["width"] == 1
        got = {o["name"]: o["width"] for o in outs}
        assert ("predict_proba" in got) == hasattr(est, "predict_proba"), (cid, got)
        for name, width in got.items():
            if name in ("predict", "predict_proba"):
                continue
            w = want(est, name, X[:2])
            assert width == (1 if w.ndim == 1 else w.shape[1]), (cid, name, width, w.shape)
            assert next(o for o in outs if o["name"] == name)["description"], (cid, name)
        assert {"decision_function", "score_samples", "transform"} & set(got), (cid, got)
        v1 = http_get(srv.port, "/v1/models/" + cid).json()
        assert v1["outputs"] == outs and v1["ready"] is True
        meta = http_get(srv.port, "/v2/models/" + cid).json()
        v2 = {o["name"]: o for o in meta["outputs"]}
        assert list(v2) == [o["name"] for o in outs], (cid, list(v2))
        for name, width in got.items():
            if name not in ("predict", "predict_proba"):
                assert v2[name]["datatype"] == "FP64"
                assert v2[name]["shape"] == ([-1] if width == 1 else [-1, width])


# ---------------------------------------------------------------- FastAPI-style

@pytest.mark.parametrize("cid", CASES)
def test_fastapi_outputs_match_scikit_learn(srv, models, cid):
    est, doc, X, names = models[1][cid]
    extra = named(srv.port, cid)
    assert extra, cid
    r = post(srv.port, "/models/%s/predict?outputs=predict,%s" % (cid, ",".join(extra)),
             records(names, X))
    assert r.status == 200, r
    body = r.json()
    assert set(body) == {"predictions", *extra}, body.keys()
    check_labels(body["predictions"], est, X, cid + " labels")
    for name in extra:
        pu.assert_close(body[name], want(est, name, X), "%s %s" % (cid, name))
    # one row (an object body): one value, a number for a one-wide output
    r1 = post(srv.port, "/models/%s/predict?outputs=%s" % (cid, extra[0]), records(names, X)[0])
    assert r1.status == 200, r1
    one = r1.json()
    assert list(one) == [extra[0]]
    w0 = want(est, extra[0], X[:1])
    if w0.ndim == 1:
        assert isinstance(one[extra[0]], float)
    pu.assert_close(np.asarray(one[extra[0]]), w0[0], cid + " one row")


def test_fastapi_without_parameter_is_unchanged_and_proba_by_name(srv, models):
    est, doc, X, names = models[1]["svc_rbf_multi_proba"]
    plain = post(srv.port, "/predict", records(names, X[:3]))
    assert plain.status == 200 and list(plain.json()) == ["predictions"]
    proba = post(srv.port, "/predict_proba", records(names, X[:3]))
    by_name = post(srv.port, "/predict?outputs=predict_proba", records(names, X[:3]))
    assert by_name.status == 200 and by_name.body == proba.body
    both = post(srv.port, "/predict_proba?outputs=predict,predict_proba&x=1",
                records(names, X[:3])).json()
    assert both["predictions"] == plain.json()["predictions"]
    assert both["probabilities"] == proba.json()["probabilities"]


# ---------------------------------------------------------------- KServe V1, MLflow

@pytest.mark.parametrize("cid", CASES)
def test_v1_outputs_beside_predictions(srv, models, cid):
    est, doc, X, names = models[1][cid]
    extra = named(srv.port, cid)
    r = post(srv.port, "/v1/models/%s:predict?outputs=%s" % (cid, "%2C".join(extra)),
             {"instances": X.tolist()})
    assert r.status == 200, r
    body = r.json()
    assert set(body) == {"predictions", *extra}
    check_labels(body["predictions"], est, X, cid + " v1 labels")
    for name in extra:
        pu.assert_close(body[name], want(est, name, X), "%s v1 %s" % (cid, name))


def test_mlflow_outputs_beside_predictions(srv, models, spawn_server):
    est, doc, X, names = models[1]["svc_rbf_multi_proba"]
    split = {"dataframe_split": {"columns": names, "data": X.tolist()}}
    r = post(srv.port, "/invocations?outputs=decision_function,predict_proba", split)
    assert r.status == 200, r
    body = r.json()
    assert list(body) == ["predictions", "predict_proba", "decision_function"]
    assert r.body.startswith(b'{"predictions": [')  # json.dumps spacing kept
    check_labels(body["predictions"], est, X, "mlflow labels")
    pu.assert_close(body["predict_proba"], est.predict_proba(X), "mlflow proba")
    pu.assert_close(body["decision_function"], want(est, "decision_function", X), "mlflow df")
    plain = post(srv.port, "/invocations", split)
    assert list(plain.json()) == ["predictions"]
    # KMeans as the default model: transform over CSV
    km, kdoc, KX, knames = models[1]["kmeans"]
    s = spawn_server("--default-model", "kmeans", str(models[0]))
    csv = ",".join(knames) + "\n" + "\n".join(",".join(repr(float(v)) for v in row)
                                              for row in KX) + "\n"
    r = post(s.port, "/invocations?outputs=transform", csv.encode(), "text/csv")
    assert r.status == 200, r
    pu.assert_close(r.json()["transform"], km.transform(KX), "mlflow kmeans transform")
    check_labels(r.json()["predictions"], km, KX, "mlflow kmeans labels")


# ---------------------------------------------------------------- Open Inference Protocol

def v2_infer(port, cid, X, outputs, binary_out=False):
    req = {"inputs": [{"name": "input-0", "shape": list(X.shape), "datatype": "FP64",
                       "data": X.ravel().tolist()}],
           "outputs": [{"name": o, "parameters": {"binary_data": True}} if binary_out
                       else {"name": o} for o in outputs]}
    body = json.dumps(req, separators=(",", ":")).encode()
    return request(port, "POST", "/v2/models/%s/infer" % cid, body, timeout=BOUND)


@pytest.mark.parametrize("cid", CASES)
def test_v2_outputs_select_tensors_json_and_binary(srv, models, cid):
    est, doc, X, names = models[1][cid]
    extra = named(srv.port, cid)
    r = v2_infer(srv.port, cid, X, extra)
    assert r.status == 200, r
    outs = r.json()["outputs"]
    assert [o["name"] for o in outs] == extra  # only those asked, in their order
    for o in outs:
        w = want(est, o["name"], X)
        assert o["datatype"] == "FP64" and o["shape"] == list(w.shape), (o["shape"], w.shape)
        pu.assert_close(np.asarray(o["data"]).reshape(w.shape), w, "%s v2 %s" % (cid, o["name"]))
    # binary outputs, predict first (as tritonclient reads them)
    r = v2_infer(srv.port, cid, X, ["predict", *extra], binary_out=True)
    assert r.status == 200 and r.headers["content-type"] == "application/octet-stream", r
    hl = int(r.headers[HLEN.lower()])
    head, at = json.loads(r.body[:hl]), hl
    for o in head["outputs"]:
        n = o["parameters"]["binary_data_size"]
        raw = r.body[at:at + n]
        at += n
        if o["name"] == "predict":
            if o["datatype"] == "BYTES":
                got, k = [], 0
                while k < len(raw):
                    (ln,) = struct.unpack_from("<I", raw, k)
                    got.append(raw[k + 4:k + 4 + ln].decode())
                    k += 4 + ln
            else:
                got = np.frombuffer(raw, "<i8").tolist()
            check_labels(got, est, X, cid + " v2 binary labels")
            continue
        w = want(est, o["name"], X)
        pu.assert_close(np.frombuffer(raw, "<f8").reshape(o["shape"]).reshape(w.shape), w,
                        "%s v2 binary %s" % (cid, o["name"]))
    assert at == len(r.body)


def test_v2_default_outputs_are_unchanged(srv, models):
    est, doc, X, names = models[1]["svc_rbf_multi_proba"]
    r = request(srv.port, "POST", "/v2/models/svc_rbf_multi_proba/infer",
                json.dumps({"inputs": [{"name": "input-0", "shape": list(X.shape),
                                        "datatype": "FP64", "data": X.tolist()}]}).encode(),
                timeout=BOUND)
    assert [o["name"] for o in r.json()["outputs"]] == ["predict", "predict_proba"]


# ---------------------------------------------------------------- bad names

def test_unknown_output_names_are_refused_with_the_models_outputs(srv, models):
    est, doc, X, names = models[1]["svc_linear_ovo"]
    listed = "predict, decision_function"
    r = post(srv.port, "/models/svc_linear_ovo/predict?outputs=predict,predict_proba",
             records(names, X[:1]))
    assert r.status == 422
    assert r.json() == {"detail": [{"loc": ["query", "outputs"], "type": "value_error",
                                    "msg": "outputs: unknown output 'predict_proba' (the "
                                           "model's outputs: %s)" % listed}]}
    r = post(srv.port, "/v1/models/svc_linear_ovo:predict?outputs=decision_functions",
             {"instances": X[:1].tolist()})
    assert r.status == 400 and r.json() == {
        "error": "outputs: unknown output 'decision_functions' (the model's outputs: %s)"
                 % listed}
    r = post(srv.port, "/invocations?outputs=transform",
             {"inputs": models[1]["svc_rbf_multi_proba"][2][:1].tolist()})
    assert r.status == 400 and r.json() == {
        "error_code": "BAD_REQUEST",
        "message": "outputs: unknown output 'transform' (the model's outputs: predict, "
                   "predict_proba, decision_function)"}
    r = v2_infer(srv.port, "svc_linear_ovo", X[:1], ["decision_function", "score_samples"])
    assert r.status == 400 and r.json() == {
        "error": "outputs[1]: unknown output 'score_samples' (the model's outputs: %s)"
                 % listed}
    r = post(srv.port, "/models/kmeans/predict?outputs=", records(models[1]["kmeans"][3],
                                                                  models[1]["kmeans"][2][:1]))
    assert r.status == 422 and "an empty output name" in r.json()["detail"][0]["msg"]


# ---------------------------------------------------------------- gathered on workers

def test_concurrent_small_requests_get_their_own_outputs(models, spawn_server):
    """Small requests of one model, asking for different outputs, gathered into shared
    kernel calls on the workers (every request on the pool: --inline-below-us 0): each
    answer holds what it asked for, equal to the library's, whatever it was batched with."""
    from concurrent.futures import ThreadPoolExecutor
    est, doc, X, names = models[1]["svc_rbf_multi_proba"]
    s = spawn_server("--workers", "2", "--inline-below-us", "0", "--max-batch", "64",
                     str(models[0]))
    asks = ["", "?outputs=decision_function", "?outputs=predict,predict_proba",
            "?outputs=predict_proba,decision_function"]

    def one(i):
        rows = X[i % len(X):i % len(X) + 1 + i % 3]
        return i, rows, post(s.port, "/models/svc_rbf_multi_proba/predict" + asks[i % 4],
                             records(names, rows))

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(64)))
    for i, rows, r in results:
        assert r.status == 200, r
        body = r.json()
        want_keys = [{"predictions"}, {"decision_function"}, {"predictions", "probabilities"},
                     {"probabilities", "decision_function"}][i % 4]
        assert set(body) == want_keys, (i, body.keys())
        if "predictions" in body:
            check_labels(body["predictions"], est, rows, "gathered labels")
        if "decision_function" in body:
            pu.assert_close(body["decision_function"], est.decision_function(rows), "gathered df")
        if "probabilities" in body:
            got = [[p[c] for c in est.classes_] for p in body["probabilities"]]
            pu.assert_close(got, est.predict_proba(rows), "gathered proba")
