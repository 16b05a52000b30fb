"""shapes.py - the tree kernel over a grid of ensemble shapes, two bench_kernels binaries
side by side (e.g. today's kernel kept as a baseline build, and the new one), so no shape
regresses unnoticed.

    /usr/bin/python3 bench/kernels/shapes.py --base /tmp/kbase/bench_kernels_base \
        [--new build/release/bench_kernels] [--trees 100,500,1000] [--depths 4,6,8,12]
        [--features 10,50,200] [--rows 4096] [--repeat 1]

Models are synthetic XGBoost JSON files (binary:logistic, so the float32-accumulating
walk is measured): random trees whose depth is exactly the shape's (one path always
reaches it; other branches stop early with a small probability, and depth-12 trees are
thinned to about 1,500 nodes as real deep trees are), random features and thresholds.
Rows are standard normal; the "nan" variant sets 5% of the values to NaN (so nearly every
64-row block holds one and the missing-value walk is timed). For each shape and variant
both binaries run back to back, alternating which goes first on each repeat; the table
reports rows/s (batch) and ns (single row) of each and the ratio new/base (batch) and
base/new (single row): above 1 means the new kernel is faster.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np


def rand_tree(rng, depth, nf, thin):
    """One tree as XGBoost's JSON arrays, exactly `depth` deep."""
    left, right, feat, thr, dl = [], [], [], [], []

    def node():
        left.append(-1), right.append(-1), feat.append(0), thr.append(0.0), dl.append(0)
        return len(left) - 1

    root = node()
    stack = [(root, 0, True)]
    while stack:
        i, d, spine = stack.pop()
        p_leaf = 0.0 if spine else (0.1 if depth <= 8 else thin)
        if d == depth or (not spine and rng.random() < p_leaf):
            thr[i] = float(np.float32(rng.normal() * 0.1))
            continue
        a, b = node(), node()
        left[i], right[i] = a, b
        feat[i] = int(rng.integers(nf))
        thr[i] = float(np.float32(rng.normal() * 0.7))
        dl[i] = int(rng.integers(2))
        go = int(rng.integers(2))
        stack.append((a, d + 1, spine and go == 0))
        stack.append((b, d + 1, spine and go == 1))
    n = len(left)
    return {"left_children": left, "right_children": right, "split_indices": feat,
            "split_conditions": thr, "default_left": dl, "split_type": [0] * n,
            "tree_param": {"num_nodes": str(n)}}


def model(path, n_trees, depth, nf, seed):
    rng = np.random.default_rng(seed)
    trees = [rand_tree(rng, depth, nf, 0.22) for _ in range(n_trees)]
    doc = {"learner": {
        "learner_model_param": {"base_score": "5E-1", "num_feature": str(nf),
                                "num_class": "0"},
        "objective": {"name": "binary:logistic"},
        "gradient_booster": {"name": "gbtree",
                             "model": {"trees": trees, "tree_info": [0] * n_trees}}},
        "version": [1, 7, 6]}
    with open(path, "w") as f:
        json.dump(doc, f)
    return sum(len(t["left_children"]) for t in trees)


def run(bench, mpath, xpath, n, nf):
    env = dict(os.environ, PD_BENCH_CLOCK="thread")  # CPU time: less disturbed by neighbours
    out = subprocess.run([bench, mpath, xpath, str(n), str(nf)], capture_output=True,
                         text=True, timeout=600, env=env)
    if out.returncode != 0:
        sys.exit("%s failed: %s" % (bench, out.stderr))
    return {k: float(v) for k, v in (line.split() for line in out.stdout.splitlines())}


def main():
    ap = argparse.ArgumentParser()
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    ap.add_argument("--base", required=True)
    ap.add_argument("--new", default=os.path.join(root, "build", "release", "bench_kernels"))
    ap.add_argument("--trees", default="100,500,1000")
    ap.add_argument("--depths", default="4,6,8,12")
    ap.add_argument("--features", default="10,50,200")
    ap.add_argument("--rows", type=int, default=4096)
    ap.add_argument("--repeat", type=int, default=1)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="pd-shapes-")
    print("%5s %3s %4s %4s %8s | %10s %10s %6s | %8s %8s %6s" % (
        "trees", "dep", "feat", "nan", "nodes", "base r/s", "new r/s", "batch",
        "base ns", "new ns", "single"))
    worst = None
    for nt in map(int, a.trees.split(",")):
        for dep in map(int, a.depths.split(",")):
            for nf in map(int, a.features.split(",")):
                mpath = os.path.join(tmp, "m.json")
                nodes = model(mpath, nt, dep, nf, nt * 1000 + dep * 10 + nf)
                rng = np.random.default_rng(nf)
                X = rng.normal(size=(a.rows, nf))
                for nan in (0, 1):
                    if nan:
                        X = X.copy()
                        X[rng.random(X.shape) < 0.05] = np.nan
                    xpath = os.path.join(tmp, "x.f64")
                    X.astype(np.float64).tofile(xpath)
                    rb, rn = [], []
                    for k in range(a.repeat):
                        order = [(a.base, rb), (a.new, rn)]
                        for b, acc in (order if k % 2 == 0 else order[::-1]):
                            acc.append(run(b, mpath, xpath, a.rows, nf))
                    bb = np.median([r["predictd_batch_rows_per_s"] for r in rb])
                    nb = np.median([r["predictd_batch_rows_per_s"] for r in rn])
                    bs = np.median([r["predictd_single_ns"] for r in rb])
                    ns = np.median([r["predictd_single_ns"] for r in rn])
                    print("%5d %3d %4d %4s %8d | %10.0f %10.0f %5.2fx | %8.0f %8.0f %5.2fx" % (
                        nt, dep, nf, "yes" if nan else "no", nodes, bb, nb, nb / bb, bs, ns,
                        bs / ns), flush=True)
                    w = min(nb / bb, bs / ns)
                    worst = w if worst is None else min(worst, w)
    print("worst ratio (batch or single row) new/base: %.2fx" % worst)


if __name__ == "__main__":
    main()
