"""test_reload.py - the model lifecycle end to end: a repository with versions, a skipped
bad file, hot reload under load with no failed request (poll mode, SIGHUP), a corrupt
replacement that keeps the old version, removal and addition, and the explicit control
API behind its bearer token.

The models are tiny hand-written linear regressors whose value is their version (an
intercept), so every answer says which version computed it; X-Model-Version must agree.
Every load loop is bounded in count and time (BOUND seconds, LOAD_THREADS x ...)."""
import json
import os
import signal
import threading
import time

import pytest

from conftest import PredictdServer, connect, forget, http_get, read_response, request

BOUND = 60.0          # seconds any wait may take
APPLY_WITHIN = 2.0    # a change must be served within this (the promise)
LOAD_THREADS = 3
JSON = {"Content-Type": "application/json"}
BODY = b'{"feature1": 1.0, "feature2": 2.0}'


def linear_doc(name, value, version="1"):
    """A regressor on feature1, feature2 that answers `value` for every row."""
    return {"format": "predictd-model", "version": 1, "name": name, "model_version": version,
            "task": "regression", "features": ["feature1", "feature2"],
            "steps": [{"type": "linear", "link": "identity", "coef": [[0, 0]],
                       "intercept": [value]}]}


def write_atomic(path, doc):
    """Writes doc to path through a temp file and rename (as deploy tools do)."""
    tmp = str(path) + ".tmp~"
    with open(tmp, "w") as f:
        f.write(doc if isinstance(doc, str) else json.dumps(doc))
    os.replace(tmp, path)


def predict(port, path="/models/m/predict", sock=None):
    r = request(port, "POST", path, BODY, JSON, sock=sock)
    return r


def wait_for(fn, timeout=BOUND, every=0.02):
    """Polls fn() until it returns a true value; returns (value, seconds waited)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        v = fn()
        if v:
            return v, time.monotonic() - t0
        time.sleep(every)
    raise TimeoutError(f"condition not met within {timeout}s")


def value_of(port, path="/models/m/predict"):
    r = predict(port, path)
    return r.json()["prediction"] if r.status == 200 else None


def serve(spawn_server, *args, **kw):
    return spawn_server("--log-level", "info", *args, **kw)


# ---------------------------------------------------------------- repository

def test_repository_layouts_and_versions(tmp_path, spawn_server):
    repo = tmp_path / "repo"
    (repo / "b").mkdir(parents=True)
    (repo / "c" / "1").mkdir(parents=True)
    (repo / "c" / "2").mkdir()
    write_atomic(repo / "a.json", linear_doc("a", 1.0))
    write_atomic(repo / "b" / "model.json", linear_doc("whatever", 2.0))   # folder name wins
    write_atomic(repo / "c" / "1" / "model.json", linear_doc("c", 10.0))
    write_atomic(repo / "c" / "2" / "anyname.bin", linear_doc("c", 20.0))  # by content
    srv = serve(spawn_server, str(repo))
    models = {m["name"]: m for m in http_get(srv.port, "/models").json()["models"]}
    assert set(models) == {"a", "b", "c"}
    assert [v["version"] for v in models["c"]["versions"]] == ["1", "2"]
    assert models["c"]["state"] == "ready"
    r = predict(srv.port, "/models/c/predict")
    assert r.json() == {"prediction": 20.0} and r.headers["x-model-version"] == "2"
    r = predict(srv.port, "/models/c/versions/1/predict")
    assert r.json() == {"prediction": 10.0} and r.headers["x-model-version"] == "1"
    assert predict(srv.port, "/models/c/versions/3/predict").status == 404
    assert value_of(srv.port, "/models/b/predict") == 2.0


def test_version_policy_latest_n_and_specific(tmp_path, spawn_server):
    repo = tmp_path / "repo"
    for v in (1, 2, 3):
        (repo / "m" / str(v)).mkdir(parents=True)
        write_atomic(repo / "m" / str(v) / "model.json", linear_doc("m", float(v)))
    (repo / "m" / "settings.json").write_text(json.dumps({"version_policy": {"latest": 2}}))
    srv = serve(spawn_server, str(repo))
    m = http_get(srv.port, "/models").json()["models"][0]
    assert [v["version"] for v in m["versions"]] == ["2", "3"]
    assert predict(srv.port, "/models/m/versions/1/predict").status == 404
    (repo / "m" / "settings.json").write_text(json.dumps({"version_policy": {"specific": [1]}}))
    srv.signal(signal.SIGHUP)
    wait_for(lambda: value_of(srv.port) == 1.0)
    assert predict(srv.port, "/models/m/versions/3/predict").status == 404


def test_bad_file_is_skipped_and_reported(tmp_path, spawn_server):
    repo = tmp_path / "repo"
    repo.mkdir()
    write_atomic(repo / "good.json", linear_doc("good", 1.0))
    write_atomic(repo / "bad.json", '{"format": "predictd-model", "version": 1')
    srv = serve(spawn_server, str(repo))
    assert value_of(srv.port, "/models/good/predict") == 1.0
    models = {m["name"]: m for m in http_get(srv.port, "/models").json()["models"]}
    assert models["bad"]["state"] == "failed" and "invalid JSON" in models["bad"]["reason"]
    assert "bad.json" in srv.stderr_text()
    metrics = http_get(srv.port, "/metrics").body.decode()
    assert 'predictd_model_loads_total{model="bad",outcome="failed"} 1' in metrics
    assert http_get(srv.port, "/v2/health/ready").status == 200
    strict = PredictdServer(("--strict", str(repo))).start(wait=False)
    assert strict.wait() == 1
    assert "bad.json" in strict.stderr_text()


# ---------------------------------------------------------------- reload under load

class Load:
    """LOAD_THREADS keep-alive clients posting to /models/m/predict until stopped;
    records every status, version header and connection error."""

    def __init__(self, port):
        self.port, self.stop, self.lock = port, threading.Event(), threading.Lock()
        self.statuses, self.errors, self.n = {}, [], 0
        self.threads = [threading.Thread(target=self.run) for _ in range(LOAD_THREADS)]

    def run(self):
        sock = connect(self.port)
        deadline = time.monotonic() + 4 * BOUND
        try:
            while not self.stop.is_set() and time.monotonic() < deadline:
                try:
                    r = predict(self.port, sock=sock)
                except OSError as e:
                    with self.lock:
                        self.errors.append(repr(e))
                    forget(sock)
                    sock.close()
                    sock = connect(self.port)
                    continue
                with self.lock:
                    self.statuses[r.status] = self.statuses.get(r.status, 0) + 1
                    self.n += 1
        finally:
            forget(sock)
            sock.close()

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join(BOUND)


def test_poll_reload_under_load_fails_no_request(tmp_path, spawn_server):
    repo = tmp_path / "repo"
    repo.mkdir()
    path = repo / "m.json"
    write_atomic(path, linear_doc("m", 0.0, "0"))
    srv = serve(spawn_server, "--model-control", "poll", str(repo))
    waits = []
    with Load(srv.port) as load:
        for i in range(1, 21):
            write_atomic(path, linear_doc("m", float(i % 2 + 1), str(i)))
            _, took = wait_for(lambda: value_of(srv.port) == float(i % 2 + 1) and
                               predict(srv.port).headers["x-model-version"] == str(i))
            waits.append(took)
    assert load.errors == [] and set(load.statuses) == {200}, (load.statuses, load.errors)
    assert load.n > 100
    assert max(waits) <= APPLY_WITHIN, waits
    metrics = http_get(srv.port, "/metrics").body.decode()
    assert 'predictd_model_loads_total{model="m",outcome="loaded"} 21' in metrics


def test_corrupt_replacement_keeps_the_old_version(tmp_path, spawn_server):
    repo = tmp_path / "repo"
    repo.mkdir()
    write_atomic(repo / "m.json", linear_doc("m", 1.0))
    srv = serve(spawn_server, "--model-control", "poll", str(repo))
    write_atomic(repo / "m.json", '{"format": "predictd-model", "version": 1, "name": "m"')
    wait_for(lambda: "reason" in http_get(srv.port, "/models").json()["models"][0])
    assert value_of(srv.port) == 1.0
    m = http_get(srv.port, "/models").json()["models"][0]
    assert m["state"] == "ready" and "invalid JSON" in m["reason"]
    write_atomic(repo / "m.json", linear_doc("m", 3.0, "2"))
    wait_for(lambda: value_of(srv.port) == 3.0, timeout=APPLY_WITHIN + 1)


def test_remove_then_add(tmp_path, spawn_server):
    repo = tmp_path / "repo"
    repo.mkdir()
    write_atomic(repo / "m.json", linear_doc("m", 1.0))
    write_atomic(repo / "keep.json", linear_doc("keep", 5.0))
    srv = serve(spawn_server, "--model-control", "poll", str(repo))
    os.unlink(repo / "m.json")
    wait_for(lambda: predict(srv.port).status == 404, timeout=APPLY_WITHIN + 1)
    write_atomic(repo / "new.json", linear_doc("new", 7.0))
    wait_for(lambda: value_of(srv.port, "/models/new/predict") == 7.0, timeout=APPLY_WITHIN + 1)
    assert value_of(srv.port, "/models/keep/predict") == 5.0


def test_sighup_rescans_in_mode_none_and_100_reloads_leak_nothing(tmp_path, spawn_server):
    repo = tmp_path / "repo"
    repo.mkdir()
    write_atomic(repo / "m.json", linear_doc("m", 0.0))
    srv = serve(spawn_server, str(repo))  # --model-control none (the default)
    for i in range(1, 101):
        write_atomic(repo / "m.json", linear_doc("m", float(i), str(i)))
        srv.signal(signal.SIGHUP)
        wait_for(lambda: value_of(srv.port) == float(i))
    assert srv.proc.poll() is None
    # the spawn_server fixture fails the test on any LeakSanitizer report at exit


# ---------------------------------------------------------------- explicit control

def test_explicit_mode_needs_a_token(tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    write_atomic(repo / "m.json", linear_doc("m", 1.0))
    srv = PredictdServer(("--model-control", "explicit", str(repo))).start(wait=False)
    assert srv.wait() == 2
    assert "token" in srv.stderr_text()


def test_explicit_load_unload_with_and_without_token(tmp_path, spawn_server):
    repo = tmp_path / "repo"
    repo.mkdir()
    write_atomic(repo / "m.json", linear_doc("m", 1.0))
    write_atomic(repo / "n.json", linear_doc("n", 2.0))
    token = tmp_path / "token"
    token.write_text("s3cret\n")
    srv = serve(spawn_server, "--model-control", "explicit", "--admin-token-file", str(token),
                str(repo))
    ok = {"Authorization": "Bearer s3cret", **JSON}
    bad = {"Authorization": "Bearer nope", **JSON}
    assert request(srv.port, "POST", "/v2/repository/models/m/unload", b"", bad).status == 401
    assert request(srv.port, "POST", "/v2/repository/models/m/unload", b"", JSON).status == 401
    assert value_of(srv.port) == 1.0                     # nothing changed
    r = request(srv.port, "POST", "/v2/repository/index", b"{}", ok)
    assert r.status == 200
    assert {(e["name"], e["state"]) for e in r.json()} == {("m", "READY"), ("n", "READY")}
    assert request(srv.port, "POST", "/v2/repository/models/m/unload", b"", ok).status == 200
    assert predict(srv.port).status == 404
    write_atomic(repo / "m.json", linear_doc("m", 4.0, "2"))
    assert request(srv.port, "POST", "/v2/repository/models/m/load", b"", ok).status == 200
    assert value_of(srv.port) == 4.0
    r = request(srv.port, "POST", "/v2/repository/models/zzz/load", b"", ok)
    assert r.status == 400 and "error" in r.json()
    # env var instead of a file
    srv2 = serve(spawn_server, "--model-control", "explicit", str(repo),
                 env={"PREDICTD_ADMIN_TOKEN": "envtok"})
    r = request(srv2.port, "POST", "/v2/repository/index", b"{}",
                {"Authorization": "Bearer envtok"})
    assert r.status == 200
