"""categorical.py - XGBoost categorical splits (issue 10): predictd's pd_model_predict
(src/model compiled -O2 into a shared library here, tree_cat.c's walk, 1 thread) against
xgboost's Booster.predict (nthread=1) on a 300-round depth-6 binary:logistic model with 2
categorical and 2 numeric columns, a 20,000-row batch and single rows, in CPU time (the
machine is shared); then the same shape with numeric splits only (tree.c's kernels).
Predictions are checked equal before timing counts. Single-row xgboost includes its
Python predict overhead (a DMatrix per row, built outside the timing).

    /usr/bin/python3 bench/categorical.py"""
import ctypes
import glob
import os
import subprocess
import tempfile
import time

import numpy as np
import xgboost as xgb

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
TMP = tempfile.mkdtemp(prefix="pd-catbench-")
subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-D_GNU_SOURCE", "-I" + ROOT + "/src"] +
               sorted(glob.glob(ROOT + "/src/model/*.c") + glob.glob(ROOT + "/src/util/*.c")) +
               ["-ljansson", "-lm", "-o", TMP + "/libpd.so"], check=True, timeout=300)
lib = ctypes.CDLL(TMP + "/libpd.so")
lib.pd_model_scratch_size.restype = ctypes.c_size_t
rng = np.random.default_rng(0)
n = 20000
X = np.column_stack([rng.integers(0, 30, n), rng.normal(size=n), rng.integers(0, 200, n),
                     rng.normal(size=n)]).astype(float)
y = (np.isin(X[:, 0], range(0, 30, 3)) ^ (X[:, 2] % 7 < 3) ^ (X[:, 1] > 0)).astype(float)
for label, types in (("categorical", ["c", "q", "c", "q"]), ("numeric", None)):
    dm = xgb.DMatrix(X, y, feature_types=types, enable_categorical=types is not None)
    b = xgb.train({"objective": "binary:logistic", "tree_method": "hist", "max_depth": 6,
                   "max_cat_to_onehot": 1, "nthread": 1}, dm, 300)
    path = "%s/%s.ubj" % (TMP, label)
    b.save_model(path)
    m, err = ctypes.c_void_p(), ctypes.create_string_buffer(512)
    rc = lib.pd_model_load(path.encode(), ctypes.byref(m), err, ctypes.c_size_t(512))
    assert rc == 0, err.value
    x = np.ascontiguousarray(X)
    proba = np.zeros((n, 2)); cls = np.zeros(n, dtype=np.int32)
    ws = ctypes.create_string_buffer(lib.pd_model_scratch_size(m, ctypes.c_size_t(n)) + 8)
    ptrs = (ctypes.c_void_p * 3)(cls.ctypes.data, None, proba.ctypes.data)
    def pd(rows):
        lib.pd_model_predict(m, x.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(rows), ws, ptrs)
    dq = xgb.DMatrix(X, feature_types=types, enable_categorical=types is not None)
    pd(n); t = time.process_time(); pd(n); tp = time.process_time() - t
    b.set_param({"nthread": 1}); b.predict(dq)
    dq2 = xgb.DMatrix(X, feature_types=types, enable_categorical=types is not None, nthread=1)
    t = time.process_time(); w = b.predict(dq2); tx = time.process_time() - t
    assert np.array_equal(proba[:, 1], w.astype(np.float64))
    t = time.process_time()
    for i in range(2000): pd(1)
    ts = (time.process_time() - t) / 2000
    d1 = xgb.DMatrix(X[:1], feature_types=types, enable_categorical=types is not None)
    t = time.process_time()
    d1s = [xgb.DMatrix(X[i:i + 1], feature_types=types, enable_categorical=types is not None)
           for i in range(200)]
    t = time.process_time()
    for i in range(200): b.predict(d1s[i])
    tx1 = (time.process_time() - t) / 200
    print("%-11s batch %d rows: predictd %.0f rows/s, xgboost %.0f rows/s; single row: "
          "predictd %.1f us, xgboost predict(DMatrix) %.1f us"
          % (label, n, n / tp, n / tx, ts * 1e6, tx1 * 1e6))
