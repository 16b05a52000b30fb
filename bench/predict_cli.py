#!/usr/bin/env python3
"""`predictd predict` on a ROWS-row CSV (default 1,000,000) with --threads 1 and 2, for a
300-tree depth-6 XGBoost model and a small one (logistic regression, 20 features): wall
time, CPU time and the 2-vs-1-thread wall ratio (issue 15's target: >= 1.8x), median of
--rounds runs each, alternating. The outputs of both thread counts are compared byte for
byte. Because the machine may be shared, it also prints how the 2-thread run's CPU time
is split between the reading/writing thread and the workers (sampled from
/proc/PID/task every few ms, so the last few ms of a thread can be missed): the serial
share bounds what any number of free cores could give (Amdahl).

  /usr/bin/python3 bench/predict_cli.py [--bin build/release/predictd] [--rows N]
"""
import argparse
import filecmp
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
NF = 20
TICK = os.sysconf("SC_CLK_TCK")


def make_models(tmp):
    import xgboost as xgb
    from sklearn.linear_model import LogisticRegression
    from predictd import export
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5000, NF))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
    names = ["f%d" % i for i in range(NF)]
    bst = xgb.train({"objective": "binary:logistic", "max_depth": 6, "nthread": 2, "seed": 0},
                    xgb.DMatrix(X, y, feature_names=names), 300)
    paths = {"xgboost 300 x depth 6": os.path.join(tmp, "xgb.json"),
             "logistic regression": os.path.join(tmp, "small.json")}
    bst.save_model(paths["xgboost 300 x depth 6"])
    export.export(LogisticRegression().fit(X, y), paths["logistic regression"],
                  feature_names=names)
    return names, paths


def make_csv(path, names, rows):
    """rows rows: 50,000 distinct ones (2% missing cells) repeated."""
    rng = np.random.default_rng(1)
    distinct = min(rows, 50000)
    X = rng.normal(size=(distinct, NF))
    X[rng.random(X.shape) < 0.02] = np.nan
    lines = "".join(",".join("" if np.isnan(v) else repr(float(v)) for v in r) + "\n"
                    for r in X)
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for _ in range(rows // distinct):
            f.write(lines)
        rest = rows % distinct
        if rest:
            f.write("".join(lines.splitlines(True)[:rest]))


def thread_ticks(pid):
    """{tid: utime + stime ticks} of the live threads of pid."""
    out = {}
    try:
        for tid in os.listdir("/proc/%d/task" % pid):
            try:
                with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                out[int(tid)] = int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                pass
    except OSError:
        pass
    return out


def run(binary, model, csv, out, threads):
    """(wall s, CPU s, {tid: CPU s}) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.Popen([binary, "predict", model, "--input", csv, "--output", out,
                          "--threads", str(threads)])
    seen = {}
    while p.poll() is None:
        seen.update(thread_ticks(p.pid))
        time.sleep(0.005)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        sys.exit("predictd predict failed (exit %d)" % p.returncode)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, {t: v / TICK for t, v in seen.items()}, p.pid


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "release", "predictd"))
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        names, models = make_models(tmp)
        csv = os.path.join(tmp, "x.csv")
        make_csv(csv, names, a.rows)
        print("predictd predict, %d rows x %d features (%.0f MB), --threads 1 vs 2, median of %d"
              % (a.rows, NF, os.path.getsize(csv) / 1e6, a.rounds))
        print("load average before: %s" % " ".join(open("/proc/loadavg").read().split()[:3]))
        for label, model in models.items():
            res = {1: [], 2: []}
            outs = {t: os.path.join(tmp, "y%d.csv" % t) for t in res}
            for _ in range(a.rounds):
                for t in res:
                    res[t].append(run(a.bin, model, csv, outs[t], t))
            same = filecmp.cmp(outs[1], outs[2], shallow=False)
            w1 = statistics.median(r[0] for r in res[1])
            w2 = statistics.median(r[0] for r in res[2])
            c1 = statistics.median(r[1] for r in res[1])
            c2 = statistics.median(r[1] for r in res[2])
            # the 2-thread run with the median wall time: its CPU split
            med = sorted(res[2], key=lambda r: r[0])[len(res[2]) // 2]
            main_cpu = med[2].get(med[3], 0.0)
            workers = sorted((v for t, v in med[2].items() if t != med[3]), reverse=True)
            total = main_cpu + sum(workers)
            print("%s:" % label)
            print("    wall  1 thread %6.2f s   2 threads %6.2f s   ratio %.2fx (target >= 1.8)"
                  % (w1, w2, w1 / w2))
            print("    CPU   1 thread %6.2f s   2 threads %6.2f s" % (c1, c2))
            if total > 0:
                print("    2 threads, CPU by thread: reader/writer %.2f s (%.1f%%), workers %s;"
                      " with two free cores the wall ratio could reach %.2fx" % (
                          main_cpu, 100 * main_cpu / total,
                          " + ".join("%.2f s" % w for w in workers),
                          c1 / max(workers[0] if workers else total, main_cpu)))
            print("    outputs identical for 1 and 2 threads: %s" % ("yes" if same else "NO"))
            if not same:
                sys.exit(1)


if __name__ == "__main__":
    main()
