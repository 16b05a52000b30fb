#!/usr/bin/python3
"""bench/batch.py - many rows per request, side by side in one run (part of `make bench`):

  1. a 1,000-row JSON batch of the heavy forest (300 trees, depth 12) through predictd's
     /predict against the article's app with a List[InputData] route that runs
     model.predict on the whole batch through run_in_threadpool (target >= 8x its rows/s),
     and against predictd's own kernel on the same rows (the fraction of kernel speed that
     HTTP + JSON keep, the kernel run single-threaded and scaled by the workers);
  2. a 100,000-row request split into chunks that run on every worker, against the same
     rows run as one chunk (--max-batch 100000), and the latency of one-row requests sent
     meanwhile (a big request must not starve small ones);
  3. /health latency while 15 MiB bodies are being posted: decoded on workers (the default)
     and, for contrast, on the loop (--decode-on-worker-above 1 GiB).

Writes bench/results/batch.md and batch.json and prints the table. Every server listens
on 127.0.0.1 on a free port; every load is bounded in count and time.
"""
import argparse
import json
import os
import pickle
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

sys.path.insert(0, os.path.join(bl.ROOT, "python"))
sys.path.insert(0, os.path.join(bl.ROOT, "models"))

RESULTS = os.path.join(bl.ROOT, "bench", "results")
FASTAPI_APP = os.path.join(bl.ROOT, "tests", "e2e", "fastapi_seed_app.py")
KERNEL_BIN = os.path.join(bl.ROOT, "build", "release", "bench_kernels")
JSON_HDR = {"Content-Type": "application/json"}
BIG_ROWS = 100000
HEALTH_BODY_BYTES = 15 * 1024 * 1024


def rows_body(X):
    return json.dumps([{"feature1": float(a), "feature2": float(b)} for a, b in X])


def post(port, path, body, timeout=300.0):
    """One POST on a new connection; returns (status, body bytes, seconds)."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    t0 = time.perf_counter()
    c.request("POST", path, body=body, headers=JSON_HDR)
    r = c.getresponse()
    data = r.read()
    c.close()
    return r.status, data, time.perf_counter() - t0


def prepare(tmp, trees, depth):
    from predictd import demo
    from predictd.export import export
    est = demo.train_heavy_forest(n_trees=trees, depth=depth)
    js, pk = os.path.join(tmp, "heavy.json"), os.path.join(tmp, "heavy.pkl")
    export(est, js, feature_names=["feature1", "feature2"], name="heavy")
    with open(pk, "wb") as f:
        pickle.dump(est, f)
    X, _ = demo.heavy_data()
    return js, pk, X


def kernel_rows_per_s(model, X, tmp):
    """Single-threaded batch rows/s of predictd's kernel (bench_kernels), or None."""
    if not os.access(KERNEL_BIN, os.X_OK):
        return None
    xf = os.path.join(tmp, "x.f64")
    X.astype("float64").tofile(xf)
    out = subprocess.run([KERNEL_BIN, model, xf, str(len(X)), str(X.shape[1])],
                         capture_output=True, text=True, timeout=300, check=True).stdout
    for line in out.splitlines():
        k, _, v = line.partition(" ")
        if k == "predictd_batch_rows_per_s":
            return float(v)
    return None


def predictd_argv(port, model, extra=()):
    return [bl.PREDICTD, "serve", "--host", "127.0.0.1", "--port", str(port),
            "--log-level", "warning", "--workers", "2", *extra, model]


def scenario_batch(js, pk, X, secs, tmp):
    body = rows_body(X[:1000])
    res = {}
    port = bl.free_port()
    with bl.server(predictd_argv(port, js), port):
        r = bl.wrk(f"http://127.0.0.1:{port}/predict", "POST", body, JSON_HDR, conns=4,
                   seconds=secs)
        assert r["non2xx"] == 0 and r["requests"] > 0, r
        res["predictd /predict"] = dict(r, rows_per_s=r["rps"] * 1000)
    port = bl.free_port()
    env = dict(os.environ, PD_SKLEARN_MODEL=pk)
    with bl.server([bl.PY, FASTAPI_APP, "--port", str(port)], port, env=env):
        r = bl.wrk(f"http://127.0.0.1:{port}/predict_list", "POST", body, JSON_HDR, conns=4,
                   seconds=secs)
        assert r["non2xx"] == 0 and r["requests"] > 0, r
        res["FastAPI /predict_list"] = dict(r, rows_per_s=r["rps"] * 1000)
    res["kernel_1_thread_rows_per_s"] = kernel_rows_per_s(js, X[:1000], tmp)
    return res


def small_latency_while(port, busy, n_max=2000):
    """One-row POSTs to /predict_non_blocking, one at a time, while busy() is true;
    returns their latencies in ms."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    body = '{"feature1": 0.5, "feature2": -0.5}'
    lat = []
    while busy() and len(lat) < n_max:
        t0 = time.perf_counter()
        c.request("POST", "/predict_non_blocking", body=body, headers=JSON_HDR)
        c.getresponse().read()
        lat.append((time.perf_counter() - t0) * 1000)
    c.close()
    return lat


def scenario_big(js, X, repeats):
    body = rows_body(X[:BIG_ROWS] if len(X) >= BIG_ROWS else
                     [X[i % len(X)] for i in range(BIG_ROWS)])
    res = {}
    for label, extra in (("chunks of 64 rows on every worker", ()),
                         ("one chunk (--max-batch 100000)", ("--max-batch", str(BIG_ROWS)))):
        port = bl.free_port()
        argv = predictd_argv(port, js, ("--max-rows", str(BIG_ROWS), "--max-body-size",
                                        str(64 << 20), *extra))
        with bl.server(argv, port):
            post(port, "/predict", body)  # warm-up
            times, done = [], threading.Event()
            lat = []
            t = threading.Thread(target=lambda: lat.extend(
                small_latency_while(port, lambda: not done.is_set())))
            t.start()
            try:
                for _ in range(repeats):
                    st, _, secs = post(port, "/predict", body)
                    assert st == 200, st
                    times.append(secs)
            finally:
                done.set()
                t.join(60)
        best = min(times)
        res[label] = {"seconds": best, "rows_per_s": BIG_ROWS / best,
                      "small_p50_ms": bl.percentile(lat, 50),
                      "small_p99_ms": bl.percentile(lat, 99), "small_n": len(lat)}
    return res


def scenario_health(js, X, secs):
    body = rows_body([X[i % len(X)] for i in range(10000)]).encode()
    body += b" " * (HEALTH_BODY_BYTES - len(body))
    res = {}
    for label, extra in (("decoded on workers (default)", ()),
                         ("decoded on the loop (--decode-on-worker-above 1 GiB)",
                          ("--decode-on-worker-above", str(1 << 30)))):
        port = bl.free_port()
        with bl.server(predictd_argv(port, js, ("--max-body-size", str(32 << 20), *extra)),
                       port):
            stop, posted = threading.Event(), []

            def poster():
                while not stop.is_set() and len(posted) < 200:
                    posted.append(post(port, "/predict", body)[0])

            th = [threading.Thread(target=poster) for _ in range(2)]
            for t in th:
                t.start()
            samples = bl.probe_health(port, secs)
            stop.set()
            for t in th:
                t.join(120)
        lat = [ms for _, ms in samples]
        res[label] = {"p50_ms": bl.percentile(lat, 50), "p99_ms": bl.percentile(lat, 99),
                      "max_ms": max(lat) if lat else float("nan"), "probes": len(lat),
                      "bodies_posted": len(posted), "all_200": set(posted) <= {200}}
    return res


def report(batch, big, health, args):
    p, f = batch["predictd /predict"], batch["FastAPI /predict_list"]
    k = batch["kernel_1_thread_rows_per_s"]
    lines = ["# Many rows per request", "",
             f"One run of `bench/batch.py` ({os.cpu_count()} CPUs, predictd --workers 2); heavy "
             f"forest: {args.heavy_trees} trees, depth {args.heavy_depth}.", "",
             "## 1. 1,000-row JSON batches (wrk, 4 connections, "
             f"{args.seconds}s)", "",
             "| server | requests/s | rows/s | p50 ms | p99 ms |", "| --- | ---: | ---: | ---: | ---: |"]
    for name in ("predictd /predict", "FastAPI /predict_list"):
        r = batch[name]
        lines.append(f"| {name} | {r['rps']:.1f} | {r['rows_per_s']:.0f} | {r['p50_ms']:.1f} | "
                     f"{r['p99_ms']:.1f} |")
    lines += ["", f"predictd / FastAPI rows/s: **{p['rows_per_s'] / f['rows_per_s']:.1f}×** "
              "(target ≥ 8×)."]
    if k:
        lines.append(f"Kernel alone, one thread: {k:.0f} rows/s; × 2 workers = {2 * k:.0f}; "
                     f"HTTP + JSON keep **{p['rows_per_s'] / (2 * k):.0%}** of it.")
    lines += ["", f"## 2. One {BIG_ROWS:,}-row request (best of {args.repeats}), and one-row "
              "requests sent meanwhile", "",
              "| run | seconds | rows/s | one-row p50 ms | one-row p99 ms | one-row requests |",
              "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in big.items():
        lines.append(f"| {name} | {r['seconds']:.3f} | {r['rows_per_s']:.0f} | "
                     f"{r['small_p50_ms']:.2f} | {r['small_p99_ms']:.2f} | {r['small_n']} |")
    a, b = list(big.values())
    lines += ["", f"Chunked / one chunk rows/s: **{a['rows_per_s'] / b['rows_per_s']:.2f}×**.",
              "", f"## 3. /health while 15 MiB bodies (10,000 rows) are posted by 2 clients "
              f"({args.seconds}s)", "",
              "| decoding | /health p50 ms | p99 ms | max ms | probes | bodies | all 200 |",
              "| --- | ---: | ---: | ---: | ---: | ---: | --- |"]
    for name, r in health.items():
        lines.append(f"| {name} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | {r['max_ms']:.1f} | "
                     f"{r['probes']} | {r['bodies_posted']} | {r['all_200']} |")
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--heavy-trees", type=int, default=300)
    ap.add_argument("--heavy-depth", type=int, default=12)
    args = ap.parse_args()
    bl.raise_nofile()
    with tempfile.TemporaryDirectory(prefix="pd-batch-") as tmp:
        js, pk, X = prepare(tmp, args.heavy_trees, args.heavy_depth)
        batch = scenario_batch(js, pk, X, args.seconds, tmp)
        big = scenario_big(js, X, args.repeats)
        health = scenario_health(js, X, args.seconds)
    text = report(batch, big, health, args)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "batch.md"), "w") as f:
        f.write(text)
    strip = lambda d: {k: ({kk: vv for kk, vv in v.items() if kk != "raw"}
                           if isinstance(v, dict) else v) for k, v in d.items()}
    with open(os.path.join(RESULTS, "batch.json"), "w") as f:
        json.dump({"batch": strip(batch), "big": big, "health": health}, f, indent=1)
    print(text)


if __name__ == "__main__":
    main()
