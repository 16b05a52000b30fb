#!/usr/bin/python3
"""bench/v2.py - 1,000-row XGBoost batches through the Open Inference Protocol (part of
`make bench`), side by side in one run:

  1. the kernel alone: predictd's XGBoost kernel on the same 1,000 rows (bench_kernels,
     single-threaded, whole batch per call), scaled by the server's workers: the most
     rows/s any protocol could reach;
  2. POST /v2/models/xgb/infer with the rows as JSON (one [1000, 30] FP64 tensor, output
     predict), as KServe's and MLServer's clients send them;
  3. the same with Triton's binary tensor data extension (raw little-endian FP64 after the
     JSON part, predict asked for as binary), as tritonclient.http sends them;
  4. POST /predict with the same rows as a FastAPI-style List[InputData] JSON body.

Each HTTP run is wrk with 4 connections for --seconds; reported: requests/s, rows/s, p50 and
p99, the share of the ceiling (kernel x workers) reached, and the share of kernel speed
kept: rows per CPU-second of the server (/proc) against the kernel's rows per second on
one CPU. Every answer is checked once before the
runs (same labels through all three routes). Model: XGBoost binary:logistic, 300 rounds,
max_depth 6, on make_classification data (20000 rows, 30 features), the model of
bench/kernels/run.py. Writes bench/results/v2.md and v2.json; every server listens on
127.0.0.1 on a free port; every load is bounded in time.

    /usr/bin/python3 bench/v2.py [--seconds 5] [--workers 2]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

RESULTS = os.path.join(bl.ROOT, "bench", "results")
KERNEL_BIN = os.path.join(bl.ROOT, "build", "release", "bench_kernels")
ROWS = 1000
CONNS = 4
KERNEL_RUNS = 3        # kernel measurements before and after the HTTP runs; the best counts
HLEN = "Inference-Header-Content-Length"


def prepare(tmp):
    """The XGBoost model file, its feature names and the 1,000 rows."""
    import xgboost as xgb
    from sklearn.datasets import make_classification
    X, y = make_classification(n_samples=20000, n_features=30, n_informative=15,
                               random_state=0)
    names = [f"f{i}" for i in range(X.shape[1])]
    bst = xgb.train({"objective": "binary:logistic", "max_depth": 6, "nthread": 1, "seed": 0},
                    xgb.DMatrix(X, y, feature_names=names), 300)
    path = os.path.join(tmp, "xgb.json")
    bst.save_model(path)
    return path, names, np.ascontiguousarray(X[:ROWS], dtype=np.float64), bst


def kernel_rows_per_s(model, X, tmp, runs=KERNEL_RUNS):
    """Single-threaded batch rows/s of predictd's kernel on X (bench_kernels), the best
    of `runs` runs: on a shared machine the slower ones measure other processes too."""
    if not os.access(KERNEL_BIN, os.X_OK):
        sys.exit(f"{KERNEL_BIN} is missing: cmake --build build/release --target bench_kernels")
    xf = os.path.join(tmp, "x.f64")
    X.tofile(xf)
    best = 0.0
    for _ in range(runs):
        out = subprocess.run([KERNEL_BIN, model, xf, str(len(X)), str(X.shape[1])],
                             capture_output=True, text=True, timeout=300, check=True).stdout
        vals = dict(line.split() for line in out.splitlines())
        best = max(best, float(vals["predictd_batch_rows_per_s"]))
    return best


def bodies(names, X, tmp):
    """{label: (path, body file, headers)} of the three requests."""
    v2_json = json.dumps({"inputs": [{"name": "input-0", "shape": list(X.shape),
                                      "datatype": "FP64", "data": X.tolist()}],
                          "outputs": [{"name": "predict"}]}).encode()
    head = json.dumps({"inputs": [{"name": "input-0", "shape": list(X.shape),
                                   "datatype": "FP64",
                                   "parameters": {"binary_data_size": X.nbytes}}],
                       "outputs": [{"name": "predict", "parameters": {"binary_data": True}}]},
                      separators=(",", ":")).encode()
    v2_bin = head + X.astype("<f8").tobytes()
    fastapi = json.dumps([dict(zip(names, map(float, row))) for row in X]).encode()
    out = {}
    for label, path, body, headers in (
            ("V2 JSON", "/v2/models/xgb/infer", v2_json, {"Content-Type": "application/json"}),
            ("V2 binary", "/v2/models/xgb/infer", v2_bin,
             {"Content-Type": "application/octet-stream", HLEN: str(len(head))}),
            ("/predict JSON", "/predict", fastapi, {"Content-Type": "application/json"})):
        f = os.path.join(tmp, label.replace(" ", "_").replace("/", "") + ".body")
        with open(f, "wb") as fh:
            fh.write(body)
        out[label] = (path, f, headers, len(body))
    return out


def labels_of(label, status, headers, body):
    """The 1,000 labels of one answer."""
    assert status == 200, (label, status, body[:300])
    if label == "/predict JSON":
        return json.loads(body)["predictions"]
    hl = headers.get(HLEN.lower())
    if hl is None:
        return json.loads(body)["outputs"][0]["data"]
    return np.frombuffer(body[int(hl):], dtype="<i8").tolist()


def check_answers(port, reqs, want):
    import http.client
    for label, (path, f, headers, _) in reqs.items():
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        with open(f, "rb") as fh:
            c.request("POST", path, body=fh.read(), headers=headers)
        r = c.getresponse()
        got = labels_of(label, r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
        c.close()
        assert got == want, f"{label}: predictions differ from XGBoost's"


def run(args):
    with tempfile.TemporaryDirectory(prefix="pd-v2-") as tmp:
        model, names, X, bst = prepare(tmp)
        import xgboost as xgb
        want = (bst.predict(xgb.DMatrix(X, feature_names=names)) > 0.5).astype(int).tolist()
        kernel = kernel_rows_per_s(model, X, tmp)
        reqs = bodies(names, X, tmp)
        port = bl.free_port()
        argv = [bl.PREDICTD, "serve", "--host", "127.0.0.1", "--port", str(port),
                "--log-level", "warning", "--workers", str(args.workers), model]
        res = {}
        with bl.server(argv, port) as proc:
            check_answers(port, reqs, want)
            for label, (path, f, headers, size) in reqs.items():
                cpu0 = bl.cpu_seconds(proc.pid)
                r = bl.wrk(f"http://127.0.0.1:{port}{path}", "POST", None, headers,
                           conns=CONNS, seconds=args.seconds, body_file=f)
                cpu = bl.cpu_seconds(proc.pid) - cpu0
                assert r["non2xx"] == 0 and r["errors"] == 0, (label, r["raw"])
                r.pop("raw")
                res[label] = dict(r, rows_per_s=r["rps"] * ROWS, body_bytes=size,
                                  server_cpu_s=cpu,
                                  rows_per_cpu_s=r["requests"] * ROWS / cpu if cpu else 0)
        kernel = max(kernel, kernel_rows_per_s(model, X, tmp))
    return kernel, res


def report(kernel, res, args):
    cap = kernel * args.workers
    lines = ["# Open Inference Protocol (V2): 1,000-row XGBoost batches", "",
             f"One run of `bench/v2.py` ({os.cpu_count()} CPUs, predictd --workers "
             f"{args.workers}, wrk {CONNS} connections, {args.seconds}s each); XGBoost "
             "binary:logistic, 300 trees of depth 6, 30 features.", "",
             f"Kernel alone (bench_kernels, one thread, 1,000 rows per call, best of "
             f"{2 * KERNEL_RUNS} runs): {kernel:,.0f} "
             f"rows/s; x {args.workers} workers = **{cap:,.0f} rows/s**, the ceiling.", "",
             "| route | body bytes | requests/s | rows/s | p50 ms | p99 ms | share of the "
             "ceiling | server CPU s | rows per server CPU-second | share of kernel speed |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for label, r in res.items():
        lines.append(f"| {label} | {r['body_bytes']:,} | {r['rps']:.1f} | "
                     f"{r['rows_per_s']:,.0f} | {r['p50_ms']:.2f} | {r['p99_ms']:.2f} | "
                     f"{r['rows_per_s'] / cap:.0%} | {r['server_cpu_s']:.2f} | "
                     f"{r['rows_per_cpu_s']:,.0f} | **{r['rows_per_cpu_s'] / kernel:.0%}** |")
    b, j = res["V2 binary"]["rows_per_s"], res["V2 JSON"]["rows_per_s"]
    lines += ["", f"V2 binary / V2 JSON rows/s: **{b / j:.2f}x**; V2 binary / /predict JSON: "
              f"**{b / res['/predict JSON']['rows_per_s']:.2f}x**.", "",
              "Share of the ceiling: rows/s against the kernel on every worker, with wrk on "
              "the same CPUs as the server (so below 100% even for a free protocol). Share of "
              "kernel speed: rows per CPU-second the server spent (all its threads: HTTP, "
              "decoding, the kernel on 64-row chunks, encoding, the loop) against the kernel's "
              "rows per CPU-second alone - what the protocol keeps of the kernel's speed."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    bl.raise_nofile()
    kernel, res = run(args)
    text = report(kernel, res, args)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "v2.md"), "w") as f:
        f.write(text)
    with open(os.path.join(RESULTS, "v2.json"), "w") as f:
        json.dump({"kernel_1_thread_rows_per_s": kernel, "workers": args.workers,
                   "runs": res}, f, indent=1)
    print(text)


if __name__ == "__main__":
    main()
