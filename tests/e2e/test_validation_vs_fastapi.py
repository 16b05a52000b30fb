"""test_validation_vs_fastapi.py - request validation, side by side: the article's FastAPI
app (tests/e2e/fastapi_seed_app.py, Debian's fastapi 0.92 + pydantic 1.10 under uvicorn
with uvloop and httptools) and `predictd serve models/seed.json`, both serving the same
scikit-learn model (predictd.demo.train_seed), get every request of
tests/data/validation_cases.json over raw sockets:

- FastAPI must still answer as recorded (status and body, byte for byte): the golden file
  is current for the installed FastAPI;
- predictd must answer what FastAPI answers, byte for byte, for every 4xx; for a 200 both
  answer {"prediction": <int>} with the same label; where FastAPI answers 500 (a value that
  is not finite) predictd answers the recorded 422 value_error.number.not_finite_number.

A JSON array body (the cases marked is_list) is one row to the article's route, which
dict()s it, but a list of rows to predictd's (List[InputData]): FastAPI still answers
those as recorded here, and predictd's list answers are checked against FastAPI's
List[InputData] route in test_list_vs_fastapi.py and test_rows_api.py.

Every wait is bounded (READY_TIMEOUT for start-up, socket timeouts per request).
"""
import base64
import json
import os
import subprocess
import sys
import tempfile
import time

import pytest

from conftest import HOST, PredictdServer, connect, forget, free_port, read_response

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CASES_PATH = os.path.join(ROOT, "tests", "data", "validation_cases.json")
SEED_MODEL = os.path.join(ROOT, "models", "seed.json")
READY_TIMEOUT = 30.0
PATH = "/predict_non_blocking"


def load_cases():
    with open(CASES_PATH, encoding="utf-8") as f:
        cases = json.load(f)
    for c in cases:
        c["raw"] = (c["body"].encode("utf-8") if "body" in c
                    else base64.b64decode(c["body_b64"]))
    return cases


CASES = load_cases()


def post(port, path, content_type, body):
    """One POST with exactly these headers (Content-Type absent when None)."""
    s = connect(port)
    try:
        head = [f"POST {path} HTTP/1.1", f"Host: {HOST}:{port}", f"Content-Length: {len(body)}"]
        if content_type is not None:
            head.append(f"Content-Type: {content_type}")
        s.sendall(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        return read_response(s)
    finally:
        forget(s)
        s.close()


@pytest.fixture(scope="module")
def fastapi_app(tmp_path_factory):
    """The article's app as its own process, serving the seed model from a joblib file."""
    sys.path.insert(0, os.path.join(ROOT, "python"))
    try:
        import joblib
        from predictd.demo import train_seed
    finally:
        sys.path.pop(0)
    model_path = str(tmp_path_factory.mktemp("seed") / "seed.joblib")
    joblib.dump(train_seed(), model_path)
    port = free_port()
    log = tempfile.TemporaryFile()  # its 500 tracebacks: a pipe nobody reads would fill up
    env = dict(os.environ, PD_SKLEARN_MODEL=model_path, PD_FEATURES="feature1,feature2")
    proc = subprocess.Popen(
        ["/usr/bin/python3", os.path.join(ROOT, "tests", "e2e", "fastapi_seed_app.py"),
         "--port", str(port)], env=env, stdout=subprocess.DEVNULL, stderr=log)
    deadline = time.monotonic() + READY_TIMEOUT
    try:
        while True:
            if proc.poll() is not None:
                log.seek(0)
                pytest.fail("fastapi_seed_app exited: " + log.read().decode()[-2000:])
            try:
                s = connect(port, timeout=2)
                s.sendall(f"GET /health HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
                if read_response(s).status == 200:
                    s.close()
                    break
                s.close()
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("fastapi_seed_app did not answer /health in time")
            time.sleep(0.1)
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def predictd():
    srv = PredictdServer([SEED_MODEL]).start()
    yield srv
    srv.stop()
    err = srv.stderr_text()
    assert "Sanitizer" not in err and "runtime error:" not in err, err


def ids(cases):
    return [c["name"] for c in cases]


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_fastapi_answers_as_recorded(fastapi_app, case):
    r = post(fastapi_app, PATH, case["content_type"], case["raw"])
    assert r.status == case["status"], r
    if case["status"] == 200:
        # the recorded body came from the generator's model; here only the shape is fixed
        assert set(r.json()) == {"prediction"} and isinstance(r.json()["prediction"], int)
    else:
        assert r.body.decode("utf-8", "replace") == case["response"]


SINGLE = [c for c in CASES if not c.get("is_list")]


@pytest.mark.parametrize("case", SINGLE, ids=ids(SINGLE))
def test_predictd_answers_as_fastapi(fastapi_app, predictd, case):
    theirs = post(fastapi_app, PATH, case["content_type"], case["raw"])
    ours = post(predictd.port, PATH, case["content_type"], case["raw"])
    if theirs.status == 500:  # deliberate difference: not finite -> 422
        assert ours.status == case["expect_status"] == 422, ours
        assert ours.body.decode() == case["expect_response"]
        return
    assert ours.status == theirs.status, (ours, theirs)
    if theirs.status == 200:
        assert ours.json() == theirs.json(), (ours, theirs)
        assert isinstance(ours.json()["prediction"], int)
    else:
        assert ours.body == theirs.body
        assert ours.headers.get("content-type", "").startswith("application/json")


@pytest.mark.parametrize("path", ["/predict_blocking", "/predict_non_blocking", "/predict"])
def test_not_finite_is_422_on_every_prediction_route(predictd, path):
    for body in (b'{"feature1": NaN, "feature2": 1}', b'{"feature1": 1e400, "feature2": 1}',
                 b'{"feature1": "-inf", "feature2": 1}', b'{"feature1": 1' + b"0" * 400 +
                 b', "feature2": 1}'):
        r = post(predictd.port, path, "application/json", body)
        assert r.status == 422, (body, r)
        assert r.json() == {"detail": [{
            "loc": ["body", "feature1"], "msg": "ensure this value is a finite number",
            "type": "value_error.number.not_finite_number"}]}
