#!/usr/bin/python3
"""bench/reload.py - /predict latency during a reload storm, side by side with the same load
without reloads (part of `make bench`).

One predictd serves a repository holding model m (a 300-tree random forest, so a reload
parses and swaps a real model); wrk loads POST /models/m/predict with keep-alive
connections for a fixed time, twice: steady, then while the model file is replaced (atomic
rename, alternating two versions) and SIGHUP is sent every 100 ms. Prints requests/s, p50,
p99, non-2xx answers and socket errors of both runs, and how many versions were swapped in
(from predictd_model_loads_total). Writes bench/results/reload.md. Bounded: wrk -d, one
server on 127.0.0.1 on a free port, stopped at the end.
"""
import argparse
import json
import os
import re
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

sys.path.insert(0, os.path.join(bl.ROOT, "python"))
sys.path.insert(0, os.path.join(bl.ROOT, "models"))

RESULTS = os.path.join(bl.ROOT, "bench", "results")
BODY = '{"feature1": 0.5, "feature2": -0.5}'
JSON_HDR = {"Content-Type": "application/json"}


def prepare(tmp, trees, depth):
    """Two versions of model m (different forests) as JSON docs, and the repository."""
    from predictd import demo
    from predictd.export import to_document
    docs = []
    for v, seed_depth in ((1, depth), (2, max(2, depth - 2))):
        est = demo.train_heavy_forest(n_trees=trees, depth=seed_depth)
        docs.append(json.dumps(to_document(est, feature_names=["feature1", "feature2"],
                                           name="m", model_version=str(v))))
    repo = os.path.join(tmp, "repo")
    os.mkdir(repo)
    with open(os.path.join(repo, "m.json"), "w") as f:
        f.write(docs[0])
    return repo, docs


def storm(repo, docs, pid, stop, period, counter):
    """Replaces m.json by rename and sends SIGHUP every `period` seconds until stop."""
    i = 0
    path = os.path.join(repo, "m.json")
    while not stop.wait(period):
        i += 1
        tmp = path + ".tmp~"
        with open(tmp, "w") as f:
            f.write(docs[i % 2])
        os.replace(tmp, path)
        os.kill(pid, signal.SIGHUP)
        counter.append(i)


def loads(port):
    _, text = bl.http_get(port, "/metrics")
    m = re.search(rb'predictd_model_loads_total\{model="m",outcome="loaded"\} (\d+)', text)
    return int(m.group(1)) if m else 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=6)
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--period", type=float, default=0.1, help="seconds between reloads")
    ap.add_argument("--trees", type=int, default=300)
    ap.add_argument("--depth", type=int, default=12)
    args = ap.parse_args()
    bl.raise_nofile()
    res = {}
    with tempfile.TemporaryDirectory(prefix="pd-reload-") as tmp:
        repo, docs = prepare(tmp, args.trees, args.depth)
        size_mb = os.path.getsize(os.path.join(repo, "m.json")) / 1e6
        port = bl.free_port()
        argv = [bl.PREDICTD, "serve", "--host", "127.0.0.1", "--port", str(port),
                "--log-level", "warning", "--workers", "2", repo]
        url = f"http://127.0.0.1:{port}/models/m/predict"
        with bl.server(argv, port) as proc:
            res["steady"] = bl.wrk(url, "POST", BODY, JSON_HDR, conns=args.conns,
                                   seconds=args.seconds)
            before, swaps, stop = loads(port), [], threading.Event()
            t = threading.Thread(target=storm, args=(repo, docs, proc.pid, stop, args.period,
                                                     swaps))
            t.start()
            res["reload storm"] = bl.wrk(url, "POST", BODY, JSON_HDR, conns=args.conns,
                                         seconds=args.seconds)
            stop.set()
            t.join(30)
            time.sleep(1.0)
            installed = loads(port) - before
    lines = ["# /predict during a reload storm", "",
             f"One run of `bench/reload.py`: model m is a {args.trees}-tree forest of depth "
             f"{args.depth} ({size_mb:.1f} MB of JSON); wrk {args.seconds}s, {args.conns} "
             f"keep-alive connections; during the storm m.json is replaced (rename) and "
             f"SIGHUP sent every {args.period * 1000:.0f} ms: {len(swaps)} replacements, "
             f"{installed} versions swapped in.", "",
             "| run | requests/s | p50 ms | p99 ms | non-2xx | socket errors |",
             "| --- | ---: | ---: | ---: | ---: | ---: |"]
    for name, r in res.items():
        lines.append(f"| {name} | {r['rps']:.0f} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | "
                     f"{r.get('non2xx', 0)} | {r.get('errors', 0)} |")
    text = "\n".join(lines) + "\n"
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "reload.md"), "w") as f:
        f.write(text)
    print(text)
    bad = sum(r.get("non2xx", 0) + r.get("errors", 0) for r in res.values())
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
