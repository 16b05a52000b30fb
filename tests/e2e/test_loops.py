"""test_loops.py - `predictd serve --loops N`: several event-loop threads serve HTTP on one
port, sharing the models, the worker pool and the metrics. End to end through the real
binary (also under TSan: the Makefile's TSAN_E2E list runs this file):

- many connections at once reach every loop (predictd_http_loop_connections_total), and every
  answer is right: inline predictions, and pool-routed ones whose completion must come back
  to the loop that read the request;
- /metrics counts the requests of every loop (exact sums), /models is the same everywhere;
- a SIGHUP reload is served by every loop; SIGTERM answers every request in flight on
  every loop and the process exits 0;
- the option: N, auto, PREDICTD_LOOPS, its bounds, and the explicit-control refusal.

No timing assertion; every wait and every load loop is bounded (BOUND seconds, counts)."""
import json
import os
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import PredictdServer, connect, forget, http_get, predictd_bin, read_response
from models_util import heavy_rows, write_heavy_mlp

BOUND = 60.0           # seconds any wait may take (TSan, 2 busy cores)
N_CONN = 32            # connections opened at once: SO_REUSEPORT spreads them over the loops
PER_CONN = 20          # requests per connection in the load tests
JSON = b"Content-Type: application/json\r\n"
SEED_BODY = b'{"feature1": 1.0, "feature2": 2.0}'


def post(path, body, extra=b""):
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n" + JSON + extra +
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def get(path):
    return b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n\r\n"


def loop_threads(pid):
    """Names of the process's pd-loop-* threads."""
    out = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/comm") as f:
                name = f.read().strip()
        except OSError:
            continue
        if name.startswith("pd-loop-"):
            out.append(name)
    return out


def run_clients(port, make_requests, n_conn=N_CONN):
    """Opens n_conn connections at once, each sends its requests one by one and reads the
    answers; returns [(status, headers, body)] per connection (in order)."""
    results = [None] * n_conn
    errors = []
    barrier = threading.Barrier(n_conn)

    def client(i):
        try:
            s = connect(port, timeout=BOUND)
            barrier.wait(timeout=BOUND)  # every connection is open before any request
            got = []
            for raw in make_requests(i):
                s.sendall(raw)
                r = read_response(s)
                got.append((r.status, r.headers, r.body))
            forget(s)
            results[i] = got
        except Exception as e:  # noqa: BLE001 - reported below with its connection
            errors.append((i, repr(e)))

    threads = [threading.Thread(target=client, args=(i,)) for i in range(n_conn)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(BOUND)
    assert not errors, errors
    assert all(r is not None for r in results)
    return results


def metric(text, name, **labels):
    """The value of one series in a Prometheus text body (0 when absent)."""
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    for line in text.splitlines():
        if line.startswith(name + ("{" + want + "}" if want else " ")):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


@pytest.fixture(scope="module")
def heavy_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("loops")
    write_heavy_mlp(d)
    with open(os.path.join(os.path.dirname(__file__), "..", "..", "models", "seed.json")) as f:
        (d / "seed.json").write_text(f.read())
    return d


def test_every_loop_serves_and_pool_answers_come_back(heavy_dir, spawn_server):
    srv = spawn_server("--loops", "2", "--workers", "2", "--default-model", "seed",
                       str(heavy_dir))
    assert sorted(loop_threads(srv.proc.pid)) == ["pd-loop-0", "pd-loop-1"]
    rows = heavy_rows(2)
    heavy = rows[0]
    expected_heavy = None
    s = connect(srv.port)
    s.sendall(post("/models/heavy/predict", heavy))
    r = read_response(s)
    forget(s)
    assert r.status == 200, r.body
    expected_heavy = r.json()

    def reqs(i):
        for k in range(PER_CONN * 2):
            if k % 4 == 0:   # the pool (always), its answer encoded back on this loop
                yield post("/predict_non_blocking", SEED_BODY)
            elif k % 4 == 1:  # a heavy model: the pool, by cost
                yield post("/models/heavy/predict", heavy)
            elif k % 4 == 2:
                yield post("/predict", SEED_BODY)  # tiny model: on the loop
            else:
                yield get("/health")

    results = run_clients(srv.port, reqs)
    for conn in results:
        for k, (status, headers, body) in enumerate(conn):
            assert status == 200, body
            if k % 4 in (0, 2):
                assert json.loads(body) == {"prediction": 1}
            elif k % 4 == 1:
                assert json.loads(body) == expected_heavy
    # both loops served: the kernel spread the connections over both loops' sockets
    text = http_get(srv.port, "/metrics").body.decode()
    per_loop = [metric(text, "predictd_http_loop_connections_total", loop=str(i))
                for i in range(2)]
    assert all(n > 0 for n in per_loop), per_loop
    assert sum(per_loop) >= N_CONN + 2


def test_metrics_sum_every_loop_and_models_are_process_wide(spawn_server):
    srv = spawn_server("--loops", "2")
    base = metric(http_get(srv.port, "/metrics").body.decode(),
                  "predictd_http_requests_total", route="/health", method="GET", status="200")
    results = run_clients(srv.port, lambda i: (get("/health") for _ in range(PER_CONN)))
    assert all(st == 200 for conn in results for st, _, _ in conn)
    text = http_get(srv.port, "/metrics").body.decode()
    n = metric(text, "predictd_http_requests_total", route="/health", method="GET",
               status="200")
    assert n - base == N_CONN * PER_CONN
    assert metric(text, "predictd_pool_workers") >= 1
    catalogs = run_clients(srv.port, lambda i: [get("/models")], n_conn=16)
    bodies = {c[0][2] for c in catalogs}
    assert len(bodies) == 1  # the same models on every loop
    assert "seed" in [m["name"] for m in json.loads(bodies.pop())["models"]]


def test_codec_queue_metrics_sum_every_loop(spawn_server):
    """Each loop's pipeline has its own codec queue, all named codec:decode-encode: its
    series are their sum (the last loop's alone was shown before), so every big body
    (decoded on a worker) sent over 16 connections spread on both loops is counted."""
    srv = spawn_server("--loops", "2", "--workers", "2", "--default-model", "seed",
                       "--decode-on-worker-above", "1024")
    body = json.dumps([{"feature1": 1.0 + i, "feature2": 2.0} for i in range(200)]).encode()
    assert len(body) > 1024
    results = run_clients(srv.port, lambda i: [post("/predict", body)], n_conn=16)
    assert all(st == 200 for conn in results for st, _, _ in conn)
    text = http_get(srv.port, "/metrics").body.decode()
    submitted = metric(text, "predictd_pool_jobs_submitted_total", model="codec:decode-encode")
    completed = metric(text, "predictd_pool_jobs_total", model="codec:decode-encode",
                       outcome="completed")
    assert submitted >= 16, text  # one decode task per request at least, on both loops
    assert completed == submitted
    spread = [metric(text, "predictd_http_loop_connections_total", loop=str(k))
              for k in range(2)]
    assert sum(spread) >= 16


def linear_doc(value):
    return {"format": "predictd-model", "version": 1, "name": "m", "model_version": "1",
            "task": "regression", "features": ["feature1", "feature2"],
            "steps": [{"type": "linear", "link": "identity", "coef": [[0, 0]],
                       "intercept": [value]}]}


def test_sighup_reload_is_seen_by_every_loop(tmp_path, spawn_server):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "m.json").write_text(json.dumps(linear_doc(1.0)))
    srv = spawn_server("--loops", "2", str(repo))
    path = "/models/m/predict"
    first = run_clients(srv.port, lambda i: [post(path, SEED_BODY)], n_conn=16)
    assert {json.loads(c[0][2])["prediction"] for c in first} == {1.0}
    tmp = repo / "m.json.tmp~"
    tmp.write_text(json.dumps(linear_doc(2.0)))
    os.replace(tmp, repo / "m.json")
    srv.signal(signal.SIGHUP)
    deadline = time.monotonic() + BOUND
    while True:  # the main loop applies the reload; then every new connection sees it
        s = connect(srv.port)
        s.sendall(post(path, SEED_BODY))
        r = read_response(s)
        forget(s)
        if r.status == 200 and r.json()["prediction"] == 2.0:
            break
        assert time.monotonic() < deadline, "the reload was never served"
        time.sleep(0.05)
    after = run_clients(srv.port, lambda i: [post(path, SEED_BODY)])
    assert {json.loads(c[0][2])["prediction"] for c in after} == {2.0}


def test_sigterm_answers_everything_in_flight_on_every_loop(heavy_dir):
    srv = PredictdServer(["--loops", "2", "--workers", "1", "--default-model", "seed",
                          str(heavy_dir)]).start()
    body = heavy_rows(1)[0]
    socks = [connect(srv.port, timeout=BOUND) for _ in range(N_CONN)]
    for s in socks:  # pipelined: each connection has several requests in flight
        s.sendall(post("/models/heavy/predict", body) * 3)
    time.sleep(0.2)  # not a timing assertion: the answers are checked whatever the timing
    srv.signal(signal.SIGTERM)
    for s in socks:
        for _ in range(3):
            r = read_response(s)
            assert r.status == 200, r.body
        forget(s)
    assert srv.wait(BOUND) == 0, srv.stderr_text()
    err = srv.stderr_text()
    assert "draining 2 loops" in err
    assert "Sanitizer" not in err and "runtime error:" not in err, err


def run_serve(*args, env=None, timeout=BOUND):
    """Runs `predictd serve ARGS` expecting it to exit by itself; returns (code, stderr)."""
    p = subprocess.run([predictd_bin(), "serve", *args], capture_output=True, text=True,
                       timeout=timeout, env=dict(os.environ, **(env or {})))
    return p.returncode, p.stderr


def test_loops_option(tmp_path, spawn_server):
    code, err = run_serve("--loops", "65")
    assert code == 2 and "--loops" in err
    code, err = run_serve("--loops", "many")
    assert code == 2 and "--loops" in err
    p = subprocess.run([predictd_bin(), "serve", "--help"], capture_output=True, text=True,
                       timeout=BOUND)
    assert p.returncode == 0 and "--loops N|auto" in p.stdout + p.stderr
    assert "PREDICTD_LOOPS" in p.stdout + p.stderr
    token = tmp_path / "token"
    token.write_text("secret-token-0123456789")
    code, err = run_serve("--loops", "2", "--model-control", "explicit", "--admin-token-file",
                          str(token), "--port", "0")
    assert code == 1 and "--model-control explicit works with one loop only" in err
    srv = spawn_server(env={"PREDICTD_LOOPS": "2"})
    assert "with 2 event loops" in srv.stderr_text()
    cpus = os.cpu_count()
    srv = spawn_server("--loops", "auto")
    if cpus and cpus > 1:
        assert f"with {min(cpus, 64)} event loops" in srv.stderr_text()
    assert http_get(srv.port, "/health").status == 200
    srv = spawn_server("--loops", "1")
    assert "event loops" not in srv.stderr_text()  # one loop: today's server, unchanged
    assert "predictd_http_loop_connections_total" not in http_get(srv.port, "/metrics").body.decode()


def test_two_servers_cannot_share_a_port_by_accident(spawn_server):
    """The kernel lets another socket of the same user with SO_REUSEPORT join a group, so a
    second server with --loops on a taken port would quietly take a share of the first
    one's connections. It must fail instead, as with one loop."""
    srv = spawn_server("--loops", "2")
    code, err = run_serve("--loops", "2", "--port", str(srv.port), timeout=BOUND)
    assert code == 1, err
    assert "cannot listen" in err or "in use" in err
