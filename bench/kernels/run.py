"""run.py - the kernel benchmark: predictd's native kernels against scikit-learn's
predict and libxgboost's C API (XGBoosterPredictFromDense, nthread=1), single-threaded, on
the same models and rows, reported as ratios.

    /usr/bin/python3 bench/kernels/run.py [--build-dir build/release] [--rows 4096]

Models, trained on make_classification data (20000 rows, 30 features, 15 informative; the
bundled datasets are too easy to grow full-depth trees on):
(a) RandomForestClassifier, 300 trees, max_depth 12, exported with predictd.export;
(b) XGBoost binary:logistic, 300 rounds, max_depth 6, loaded from its own JSON;
(b2) XGBoost multi:softprob, 10 classes x 100 rounds, max_depth 6.
The batch is the first --rows rows. Each timing runs for about a second
(bounded in iterations too). Targets (issue 15): (b) batch >= 3x and single row >= 8x
libxgboost, (b2) batch >= 2.5x, (a) batch >= 6x scikit-learn; loaded-model memory <= 1.5x
its node arrays. PD_TREE_KERNEL (generic, scalar, avx2, avx512) in the environment forces a
kernel variant; PD_BENCH_CLOCK=thread times predictd and libxgboost in thread CPU time.

Then (issue 11), on the first EXTRA_TRAIN rows, each against scikit-learn's predict limited
to one thread (threadpoolctl), single row and an EXTRA_BATCH-row batch, with the loaded
model's memory against the arrays it holds:
(c) SVC, rbf kernel; (d) KNeighborsClassifier (k=5, brute force over the training rows);
(e) IsolationForest (100 trees). Skip them with --no-extra."""
import argparse
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "python"))
BUDGET_S = 1.0
MAX_CALLS = 100000
EXTRA_TRAIN = 5000   # training rows of (c)-(e)
EXTRA_BATCH = 1000   # batch rows of (c)-(e)


def per_call(fn):
    """Mean seconds per call of fn over about BUDGET_S seconds."""
    n, t0 = 0, time.perf_counter()
    while True:
        fn()
        n += 1
        t = time.perf_counter() - t0
        if t >= BUDGET_S or n >= MAX_CALLS:
            return t / n


def run_c(bench, model, X, xgb_model=None):
    with tempfile.NamedTemporaryFile(suffix=".f64") as f:
        np.ascontiguousarray(X, dtype=np.float64).tofile(f.name)
        args = [bench, model, f.name, str(X.shape[0]), str(X.shape[1])]
        if xgb_model:
            args.append(xgb_model)
        out = subprocess.run(args, capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        sys.exit("bench_kernels failed: " + out.stderr)
    return {k: float(v) for k, v in (line.split() for line in out.stdout.splitlines())}


def extra(bench, X, y, names, tmp):
    """(c)-(e): SVC rbf, KNN, IsolationForest against scikit-learn on one thread."""
    from sklearn.ensemble import IsolationForest
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.svm import SVC
    from threadpoolctl import threadpool_limits
    from predictd.export import export

    Xt, yt = X[:EXTRA_TRAIN], y[:EXTRA_TRAIN]
    Xb = X[EXTRA_TRAIN:EXTRA_TRAIN + EXTRA_BATCH]
    svc = SVC().fit(Xt, yt)
    knn = KNeighborsClassifier(5, algorithm="brute").fit(Xt, yt)
    iso = IsolationForest(random_state=0).fit(Xt)
    models = [
        ("(c) SVC rbf: %d support vectors" % len(svc.support_), svc,
         svc.support_vectors_.nbytes + svc._dual_coef_.nbytes + svc._intercept_.nbytes),
        ("(d) KNeighborsClassifier k=5: %d training rows" % len(Xt), knn,
         knn._fit_X.nbytes + knn._y.nbytes),
        ("(e) IsolationForest: %d trees, %d nodes" % (
            len(iso.estimators_), sum(e.tree_.node_count for e in iso.estimators_)), iso,
         16 * sum(e.tree_.node_count for e in iso.estimators_)),
    ]
    for title, est, held in models:
        path = os.path.join(tmp, "extra.json")
        export(est, path, feature_names=names)
        r = run_c(bench, path, Xb)
        with threadpool_limits(1):
            sk_single = per_call(lambda: est.predict(Xb[:1]))
            sk_batch = per_call(lambda: est.predict(Xb))
        print(title)
        print("    single row: predictd %8.1f us   sklearn %8.1f us   ratio %6.1fx" % (
            r["predictd_single_ns"] / 1e3, sk_single * 1e6,
            sk_single * 1e9 / r["predictd_single_ns"]))
        print("    batch %d:  predictd %8.0f rows/s sklearn %8.0f rows/s ratio %6.1fx" % (
            len(Xb), r["predictd_batch_rows_per_s"], len(Xb) / sk_batch,
            r["predictd_batch_rows_per_s"] * sk_batch / len(Xb)))
        print("    memory: %d bytes loaded, the arrays it holds %d bytes: %.2fx" % (
            r["model_bytes"], held, r["model_bytes"] / held))


def multiclass(bench, names, tmp, rows):
    """(b2) XGBoost multi:softprob, 10 classes x 100 rounds x depth 6, against libxgboost."""
    from sklearn.datasets import make_classification
    import xgboost as xgb
    X, y = make_classification(n_samples=20000, n_features=30, n_informative=15,
                               n_classes=10, random_state=0)
    bst = xgb.train({"objective": "multi:softprob", "num_class": 10, "max_depth": 6,
                     "nthread": 1, "seed": 0}, xgb.DMatrix(X, y, feature_names=names), 100)
    path = os.path.join(tmp, "xgbm.json")
    bst.save_model(path)
    r = run_c(bench, path, X[:rows], path)
    print("(b2) XGBoost multi:softprob: %d trees (10 classes x 100 rounds), %d nodes, "
          "max_depth 6" % (r["trees"], r["nodes"]))
    print("    single row: predictd %8.1f us   libxgboost %8.1f us   ratio %6.1fx" % (
        r["predictd_single_ns"] / 1e3, r["xgboost_single_ns"] / 1e3,
        r["xgboost_single_ns"] / r["predictd_single_ns"]))
    print("    batch:      predictd %8.0f rows/s libxgboost %8.0f rows/s ratio %6.1fx (target >= 2.5)"
          % (r["predictd_batch_rows_per_s"], r["xgboost_batch_rows_per_s"],
             r["predictd_batch_rows_per_s"] / r["xgboost_batch_rows_per_s"]))
    print("    memory: %d bytes loaded, node arrays %d bytes: %.2fx" % (
        r["model_bytes"], r["node_array_bytes"], r["model_bytes"] / r["node_array_bytes"]))
    print("    predictions differing from libxgboost (first class's probability): %d of %d"
          % (r["xgboost_mismatches"], rows))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build-dir", default=os.path.join(ROOT, "build", "release"))
    ap.add_argument("--rows", type=int, default=4096)
    ap.add_argument("--no-extra", action="store_true", help="only (a) and (b)")
    a = ap.parse_args()
    subprocess.run(["cmake", "-S", ROOT, "-B", a.build_dir, "-DCMAKE_BUILD_TYPE=RelWithDebInfo"],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cmake", "--build", a.build_dir, "-j2", "--target", "bench_kernels"],
                   check=True, stdout=subprocess.DEVNULL)
    bench = os.path.join(a.build_dir, "bench_kernels")

    from sklearn.datasets import make_classification
    from sklearn.ensemble import RandomForestClassifier
    import xgboost as xgb
    from predictd.export import export

    X, y = make_classification(n_samples=20000, n_features=30, n_informative=15,
                               random_state=0)
    names = ["f%d" % i for i in range(X.shape[1])]
    Xb = X[: a.rows]
    tmp = tempfile.mkdtemp(prefix="pd-bench-")

    rf = RandomForestClassifier(n_estimators=300, max_depth=12, random_state=0, n_jobs=1)
    rf.fit(X, y)
    rf_path = os.path.join(tmp, "rf.json")
    export(rf, rf_path, feature_names=names)
    r = run_c(bench, rf_path, Xb)
    sk_single = per_call(lambda: rf.predict_proba(X[:1]))
    sk_batch = per_call(lambda: rf.predict_proba(Xb))
    print("(a) RandomForestClassifier: %d trees, %d nodes, max_depth 12" % (r["trees"], r["nodes"]))
    print("    single row: predictd %8.1f us   sklearn %8.1f us   ratio %6.1fx" % (
        r["predictd_single_ns"] / 1e3, sk_single * 1e6, sk_single * 1e9 / r["predictd_single_ns"]))
    print("    batch:      predictd %8.0f rows/s sklearn %8.0f rows/s ratio %6.1fx (target >= 6)" % (
        r["predictd_batch_rows_per_s"], len(Xb) / sk_batch,
        r["predictd_batch_rows_per_s"] * sk_batch / len(Xb)))
    print("    memory: %d bytes loaded, node arrays %d bytes: %.2fx" % (
        r["model_bytes"], r["node_array_bytes"], r["model_bytes"] / r["node_array_bytes"]))

    bst = xgb.train({"objective": "binary:logistic", "max_depth": 6, "nthread": 1,
                     "seed": 0}, xgb.DMatrix(X, y, feature_names=names), 300)
    xgb_path = os.path.join(tmp, "xgb.json")
    bst.save_model(xgb_path)
    r = run_c(bench, xgb_path, Xb, xgb_path)
    py_single = per_call(lambda: bst.inplace_predict(X[:1]))
    py_batch = per_call(lambda: bst.inplace_predict(Xb))
    s_ratio = r["xgboost_single_ns"] / r["predictd_single_ns"]
    b_ratio = r["predictd_batch_rows_per_s"] / r["xgboost_batch_rows_per_s"]
    print("(b) XGBoost binary:logistic: %d trees, %d nodes, max_depth 6" % (r["trees"], r["nodes"]))
    print("    single row: predictd %8.1f us   libxgboost %8.1f us   ratio %6.1fx (target >= 8)"
          % (r["predictd_single_ns"] / 1e3, r["xgboost_single_ns"] / 1e3, s_ratio))
    print("    batch:      predictd %8.0f rows/s libxgboost %8.0f rows/s ratio %6.1fx (target >= 3)"
          % (r["predictd_batch_rows_per_s"], r["xgboost_batch_rows_per_s"], b_ratio))
    print("    python Booster.inplace_predict: single %.1f us, batch %.0f rows/s" % (
        py_single * 1e6, len(Xb) / py_batch))
    print("    memory: %d bytes loaded, node arrays %d bytes: %.2fx (target <= 1.5)" % (
        r["model_bytes"], r["node_array_bytes"], r["model_bytes"] / r["node_array_bytes"]))
    print("    predictions differing from libxgboost: %d of %d" % (r["xgboost_mismatches"], len(Xb)))
    multiclass(bench, names, tmp, a.rows)
    if not a.no_extra:
        extra(bench, X, y, names, tmp)


if __name__ == "__main__":
    main()
