"""Helpers of the exporter and parity tests: the bundled datasets, fitting the cases of
parity_cases.py, a pure-numpy reference evaluator of the predictd model format (used to test the
exporter without the C binary), CSV round trips and the comparison rule.

Comparison rule (documented in docs/exporting.md): a predicted value or probability `a`
matches the library's `b` when |a - b| <= RTOL * max(|b|, FLOOR), RTOL = 1e-6 and
FLOOR = 1e-6, i.e. 1e-6 relative, with an absolute floor of 1e-12 for numbers near 0
(where a sum of terms of size ~1 that cancels can only be compared absolutely). Labels
must be identical. Cases marked exact (single trees and forests, XGBoost) must match
bit for bit, as the library computes them in float32 / by a fixed summation order.

All loops are bounded: trees by MAX_DEPTH, the binary by RUN_TIMEOUT seconds.
"""

import csv
import functools
import os
import subprocess
import warnings

import numpy as np

from parity_cases import CASES, CASES_BY_ID, Case  # noqa: F401  (the table, parity_cases.py)

RTOL = 1e-6
FLOOR = 1e-6
MAX_DEPTH = 1000            # the loader's depth limit bounds the reference traversal
RUN_TIMEOUT = 120           # seconds for one `predictd predict` run
NAN_FRACTION = 0.1          # share of cells blanked in the missing-value cases


# ---- datasets ------------------------------------------------------------------------

@functools.lru_cache(maxsize=None)
def dataset(name):
    """(X float64, y, feature names) of a bundled scikit-learn dataset; "iris_str" has
    string labels, names ending in "_cat" are floored to integers (category indexes),
    names ending in "_nan" have NAN_FRACTION of cells (and row 0) missing,
    "_nansplit" replaces the first feature by noise blanked on most rows of class 1, so that boosting
    learns "split on NaN" nodes (HistGradientBoosting's +inf thresholds)."""
    from sklearn import datasets
    base = name.rsplit("_nan", 1)[0]
    cat = base.endswith("_cat")
    base = base[:-4] if cat else base
    loader = {"iris": datasets.load_iris, "iris_str": datasets.load_iris,
              "wine": datasets.load_wine, "breast_cancer": datasets.load_breast_cancer,
              "diabetes": datasets.load_diabetes, "digits": datasets.load_digits}[base]
    d = loader()
    X = np.array(d.data, dtype=np.float64)
    y = d.target
    names = [str(n).replace(" ", "_") for n in d.feature_names] if base != "iris_str" \
        else list(d.feature_names)
    if base == "iris_str":
        y = np.asarray(d.target_names)[y]
    if cat:  # category indexes (CategoricalNB): the values floored to integers
        X = np.floor(X)
    if name.endswith("_nan"):
        rng = np.random.default_rng(0)
        X[rng.random(X.shape) < NAN_FRACTION] = np.nan
        X[0, :] = np.nan
    if name.endswith("_nansplit"):
        rng = np.random.default_rng(1)
        X[:, 0] = rng.random(len(y))
        X[(y == 1) & (rng.random(len(y)) < 0.9), 0] = np.nan
    return X, y, names


def fit(case):
    """The fitted estimator of a case (cached per process)."""
    return _fit(case.id)


@functools.lru_cache(maxsize=None)
def _fit(case_id):
    case = CASES_BY_ID[case_id]
    X, y, _ = dataset(case.data)
    if case.holdout:
        X, y = X[::2], y[::2]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ConvergenceWarning of small max_iter
        return case.make().fit(X, y)


def query_rows(case):
    """The rows a case is predicted on: its whole dataset, or with holdout the odd rows
    (the estimator was fitted on the even ones)."""
    X = dataset(case.data)[0]
    return X[1::2] if case.holdout else X


# ---- the library's answers ---------------------------------------------------------

def library_outputs(est, X):
    """(labels or values, proba or None) as the library predicts them."""
    if hasattr(est, "predict_proba") and hasattr(est, "classes_"):
        return est.predict(X), est.predict_proba(X)
    return est.predict(X), None


def library_method(est, name, X):
    """est.<name>(X) as float64; a Pipeline that does not expose the method (e.g.
    predict_joint_log_proba) runs its transformers, then the final estimator's method."""
    if not hasattr(est, name) and hasattr(est, "steps"):
        X = est[:-1].transform(X)
        est = est[-1]
    return np.asarray(getattr(est, name)(X), dtype=np.float64)


# ---- reference evaluator of the format -----------------------------------------------

def _sigmoid(z):
    from scipy.special import expit
    return expit(z)


def _softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def _scale(step, x):
    t = step["type"]
    if t == "binarizer":
        return (x > step["threshold"]).astype(np.float64)
    if t in ("standard_scaler", "robust_scaler"):
        c = step.get("mean", step.get("center"))
        if c is not None:
            x = x - np.array(c)
        if "scale" in step:
            x = x / np.array(step["scale"])
        return x
    if t == "minmax_scaler":
        return x * np.array(step["scale"]) + np.array(step["min"])
    if t == "maxabs_scaler":
        return x / np.array(step["scale"])
    raise AssertionError("unknown scaler " + t)


def _leaves(tree, x, le):
    feat = np.array(tree["feature"])
    thr = np.array(tree["threshold"], dtype=np.float64)
    left, right = np.array(tree["left"]), np.array(tree["right"])
    ml = np.array(tree.get("missing_left", np.zeros(len(feat), dtype=int)))
    rows = np.arange(x.shape[0])
    node = np.zeros(x.shape[0], dtype=np.int64)
    for _ in range(MAX_DEPTH + 1):
        f = feat[node]
        inner = f >= 0
        if not inner.any():
            return node
        v = x[rows, np.where(inner, f, 0)]
        with np.errstate(invalid="ignore"):
            go_left = v <= thr[node] if le else v < thr[node]
        go_left = np.where(np.isnan(v), ml[node] == 1, go_left)
        node = np.where(inner, np.where(go_left, left[node], right[node]), node)
    raise AssertionError("tree deeper than %d" % MAX_DEPTH)


def _ensemble(step, x):
    n_out = step["n_outputs"]
    if step["input_type"] == "float32":
        x = x.astype(np.float32).astype(np.float64)
    acc = np.zeros((x.shape[0], n_out))
    for t in step["trees"]:
        leaf = _leaves(t, x, step["comparison"] == "le")
        value = np.array(t["value"], dtype=np.float64)
        if "output" in t:
            acc[:, t["output"]] += value[leaf]
        else:
            acc += value.reshape(-1, n_out)[leaf]
    if step["aggregate"] == "average":
        acc /= len(step["trees"])
    return acc + np.array(step.get("base_score", [0.0] * n_out))


def _mlp(step, x):
    acts = {"identity": lambda a: a, "relu": lambda a: np.maximum(a, 0), "tanh": np.tanh,
            "logistic": _sigmoid}
    for i, layer in enumerate(step["layers"]):
        x = x @ np.array(layer["weights"]) + np.array(layer["bias"])
        if i < len(step["layers"]) - 1:
            x = acts[step["activation"]](x)
    return x


# Step types the reference evaluator below computes; newer types are checked against the
# library through the binary only (test_parity*.py).
REFERENCE_TYPES = {"standard_scaler", "minmax_scaler", "maxabs_scaler", "robust_scaler",
                   "binarizer", "linear", "tree_ensemble", "mlp", "categorical_nb"}


def _categorical_nb(step, x):
    """categorical_nb: jll = Σ_j feature_log_prob[j][:, x_j] + class_log_prior (x_j the
    category index); proba = exp(jll - logsumexp(jll))."""
    blocks = step["feature_log_prob"]
    jll = np.zeros((len(x), len(step["class_log_prior"])))
    for j, block in enumerate(blocks):
        jll += np.asarray(block)[:, x[:, j].astype(np.int64)].T
    jll = jll + np.asarray(step["class_log_prior"])
    m = jll.max(axis=1, keepdims=True)
    lse = np.log(np.exp(jll - m).sum(axis=1, keepdims=True)) + m
    return jll.argmax(axis=1), np.exp(jll - lse)


def reference_predict(doc, X):
    """(class indexes or values, proba or None) of a model document on X (NaN = missing),
    computed from the format's definition alone (step types in REFERENCE_TYPES)."""
    x = np.array(X, dtype=np.float64)
    for step in doc["steps"][:-1]:
        x = _scale(step, x)
    est = doc["steps"][-1]
    if est["type"] == "categorical_nb":
        return _categorical_nb(est, x)
    if est["type"] == "linear":
        z = x @ np.array(est["coef"]).T + np.array(est["intercept"])
        link = est["link"]
        if link == "exp":
            return np.exp(z[:, 0]), None
        z = z * est.get("proba_scale", 1.0) if link == "logistic" else z
    elif est["type"] == "tree_ensemble":
        z = _ensemble(est, x)
        link = {"normalize": "identity"}.get(est["post_transform"], est["post_transform"])
    else:
        z = _mlp(est, x)
        link = est["output_activation"]
    if doc["task"] == "regression":
        return z[:, 0], None
    if link == "logistic":
        p = _sigmoid(z[:, 0])
        return (z[:, 0] > 0).astype(int), np.column_stack([1 - p, p])
    if link == "ovr":
        s = _sigmoid(z)
        return z.argmax(axis=1), s / s.sum(axis=1, keepdims=True)
    if link in ("decision", "modified_huber"):
        idx = (z[:, 0] > 0).astype(int) if z.shape[1] == 1 else z.argmax(axis=1)
        if link == "decision":
            return idx, np.full((len(z), len(doc["classes"])), np.nan)
        p = (np.clip(z, -1, 1) + 1) / 2
        if z.shape[1] == 1:
            return idx, np.column_stack([1 - p[:, 0], p[:, 0]])
        s = p.sum(axis=1, keepdims=True)
        p[s[:, 0] == 0] = 1
        s[s == 0] = p.shape[1]
        return idx, p / s
    proba = _softmax(z) if link == "softmax" else z
    return proba.argmax(axis=1), proba


# ---- CSV and the binary --------------------------------------------------------------

def write_csv(path, names, X):
    """Writes X under a header of names; NaN as an empty cell, numbers by repr (exact)."""
    assert not any("," in n or '"' in n for n in names), names
    with open(path, "w") as f:
        f.write(",".join(names) + "\n")
        for row in X:
            f.write(",".join("" if np.isnan(v) else repr(float(v)) for v in row) + "\n")


def read_csv(path):
    """(header, rows) of predictd's output CSV."""
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows, "empty output " + path
    return rows[0], rows[1:]


def run_predict(model_path, csv_path, out_path, proba=True, extra=()):
    """Runs `$PREDICTD_BIN predict`; returns the CompletedProcess (never hangs)."""
    binary = os.environ["PREDICTD_BIN"]
    cmd = [binary, "predict", model_path, "--input", csv_path, "--output", out_path]
    if proba:
        cmd.append("--proba")
    return subprocess.run(cmd + list(extra), capture_output=True, text=True,
                          timeout=RUN_TIMEOUT)


def binary_outputs(doc, model_path, X, tmp_path, extra=()):
    """(labels or values, proba or None) of `predictd predict` on X (--proba for
    classifiers; predictd refuses it for a regressor)."""
    csv_in, csv_out = str(tmp_path / "x.csv"), str(tmp_path / "y.csv")
    write_csv(csv_in, doc["features"], X)
    r = run_predict(model_path, csv_in, csv_out, proba=doc["task"] == "classification",
                    extra=extra)
    assert r.returncode == 0, "predictd predict failed (%d): %s" % (r.returncode, r.stderr)
    header, rows = read_csv(csv_out)
    assert len(rows) == X.shape[0], "%d output rows for %d inputs" % (len(rows), X.shape[0])
    assert header[0] == "prediction", header
    if doc["task"] == "regression":
        assert header == ["prediction"], header
        return np.array([float(r[0]) for r in rows]), None
    classes = doc["classes"]
    assert header[1:] == ["proba_%s" % c for c in classes], header
    labels = np.array([r[0] for r in rows])
    proba = np.array([[float(v) for v in r[1:]] for r in rows])
    return labels, proba


# ---- named outputs through the C API (ctypes) ----------------------------------------

_NATIVE = {}
CC_TIMEOUT = 120            # seconds to compile src/model into a shared library


def _native_lib():
    """src/model (and src/util) compiled once per process into a shared library, for the
    outputs `predictd predict` does not print (pd_model_predict_ex's named outputs)."""
    import ctypes
    import glob
    import tempfile
    if "lib" in _NATIVE:
        return _NATIVE["lib"]
    root = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    srcs = sorted(glob.glob(os.path.join(root, "src", "model", "*.c")) +
                  glob.glob(os.path.join(root, "src", "util", "*.c")))
    out = os.path.join(tempfile.mkdtemp(prefix="pd-native-"), "libpdmodel.so")
    subprocess.run(["cc", "-shared", "-fPIC", "-O1", "-D_GNU_SOURCE",
                    "-I" + os.path.join(root, "src")] + srcs +
                   ["-ljansson", "-lm", "-o", out], check=True, timeout=CC_TIMEOUT)
    lib = ctypes.CDLL(out)

    class Output(ctypes.Structure):
        _fields_ = [("name", ctypes.c_char_p), ("width", ctypes.c_size_t),
                    ("description", ctypes.c_char_p)]

    class Schema(ctypes.Structure):  # pd_model_schema_t, in model.h's order
        P = ctypes.c_void_p
        _fields_ = [("name", P), ("version", P), ("source", P), ("kind", P),
                    ("task", ctypes.c_int), ("n_features", ctypes.c_size_t),
                    ("feature_names", P), ("n_classes", ctypes.c_size_t),
                    ("labels_are_strings", ctypes.c_int), ("class_labels_str", P),
                    ("class_labels_int", P), ("missing_ok", ctypes.c_int),
                    ("proba_ok", ctypes.c_int), ("n_outputs", ctypes.c_size_t),
                    ("outputs", ctypes.POINTER(Output))]

    lib.pd_model_schema.restype = ctypes.POINTER(Schema)
    lib.pd_model_scratch_size.restype = ctypes.c_size_t
    _NATIVE["lib"] = lib
    return lib


def native_outputs(model_path, X):
    """{"label": class indexes or None, "value", "proba", and every named output} of a
    model file on X, computed by pd_model_predict_ex in this process."""
    import ctypes
    lib = _native_lib()
    m, err = ctypes.c_void_p(), ctypes.create_string_buffer(1024)
    rc = lib.pd_model_load(model_path.encode(), ctypes.byref(m), err, ctypes.c_size_t(1024))
    assert rc == 0, err.value.decode()
    try:
        s = lib.pd_model_schema(m).contents
        n = X.shape[0]
        x = np.ascontiguousarray(X, dtype=np.float64)
        cls = np.zeros(n, dtype=np.int32)
        val = np.zeros(n)
        proba = np.zeros((n, max(s.n_classes, 1)))
        outs = {s.outputs[k].name.decode(): np.zeros((n, s.outputs[k].width))
                for k in range(s.n_outputs)}
        names = [s.outputs[k].name.decode() for k in range(s.n_outputs)]
        extra = (ctypes.c_void_p * max(len(names), 1))(
            *[outs[k].ctypes.data for k in names])
        scratch = ctypes.create_string_buffer(lib.pd_model_scratch_size(m, ctypes.c_size_t(n))
                                              + 8)
        ptrs = (ctypes.c_void_p * 3)(cls.ctypes.data, val.ctypes.data, proba.ctypes.data)
        rc = lib.pd_model_predict_ex(m, x.ctypes.data_as(ctypes.c_void_p), ctypes.c_size_t(n),
                                     scratch, ptrs, extra)
        assert rc == 0, rc
        res = {"label": cls if s.task == 0 else None, "value": val, "proba": proba}
        res.update({k: v[:, 0] if v.shape[1] == 1 else v for k, v in outs.items()})
        return res
    finally:
        lib.pd_model_free(m)


# ---- comparison ----------------------------------------------------------------------

def assert_close(got, want, what, exact=False):
    """Element-wise comparison by the module's rule (or bit-exact); the message lists the
    first mismatches with their row numbers."""
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    assert got.shape == want.shape, "%s: shape %s, expected %s" % (what, got.shape, want.shape)
    if exact:
        bad = ~((got == want) | (np.isnan(got) & np.isnan(want)))
    else:
        bad = ~(np.abs(got - want) <= RTOL * np.maximum(np.abs(want), FLOOR))
    if bad.any():
        idx = np.argwhere(bad)[:5]
        detail = "; ".join("at %s got %r want %r" % (tuple(int(i) for i in ix),
                                                      float(got[tuple(ix)]),
                                                      float(want[tuple(ix)])) for ix in idx)
        raise AssertionError("%s: %d of %d differ (%s): %s"
                             % (what, int(bad.sum()), bad.size,
                                "exact" if exact else "rel 1e-6", detail))


def assert_labels(got, want, what):
    """Labels compared as the text predictd prints (ints print as ints)."""
    got = [str(g) for g in got]
    want = [str(w.item() if hasattr(w, "item") else w) for w in want]
    diff = [i for i, (g, w) in enumerate(zip(got, want)) if g != w]
    assert len(got) == len(want) and not diff, \
        "%s: %d labels differ, first rows %s: got %s want %s" % (
            what, len(diff), diff[:5], [got[i] for i in diff[:5]],
            [want[i] for i in diff[:5]])
