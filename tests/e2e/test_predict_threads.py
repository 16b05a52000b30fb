"""test_predict_threads.py - issue 15: `predictd predict --threads N` parses, predicts and
formats blocks of lines on N threads; its output must be the same bytes for every N and
its errors the same (the first bad row in file order, its line or row number, exit 1, no
--output file). Inputs are built so that blocks end in awkward places: more lines than a
block holds (4096), lines long enough that a block is cut by bytes mid-line, blank lines,
CRLF, a UTF-8 BOM, a last line without its newline, missing values ("", nan, NaN), quoted
cells, ignored columns, string columns. The results are also checked against the library
(XGBoost, scikit-learn). Every run is bounded by parity_util.RUN_TIMEOUT.
"""
import os
import subprocess

import numpy as np
import pytest

import parity_util as pu
import strings_cases as sc

pytestmark = pytest.mark.skipif("PREDICTD_BIN" not in os.environ,
                                reason="PREDICTD_BIN is not set (make test sets it)")

THREADS = (1, 2, 3, 7)
N_ROWS = 3 * 4096 + 517
NF = 5


def run(model, csv, out=None, threads=1, proba=True):
    cmd = [os.environ["PREDICTD_BIN"], "predict", model, "--input", csv,
           "--threads", str(threads)]
    if out:
        cmd += ["--output", out]
    if proba:
        cmd.append("--proba")
    return subprocess.run(cmd, capture_output=True, timeout=pu.RUN_TIMEOUT)


@pytest.fixture(scope="module")
def xgb_model(tmp_path_factory):
    import xgboost as xgb
    d = tmp_path_factory.mktemp("threads")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(2000, NF))
    X[rng.random(X.shape) < 0.05] = np.nan
    y = (np.nan_to_num(X[:, 0]) + np.nan_to_num(X[:, 1]) > 0).astype(int)
    names = ["f%d" % i for i in range(NF)]
    bst = xgb.train({"objective": "binary:logistic", "max_depth": 5, "nthread": 1, "seed": 0},
                    xgb.DMatrix(X, y, feature_names=names), 40)
    path = str(d / "xgb.json")
    bst.save_model(path)
    return bst, path, names


def awkward_csv(path, names, X, bad=None):
    """X under names with BOM, CRLF, blank lines, a padding column (cut blocks mid-line),
    a quoted cell, "nan"/"NaN"/"" for missing, no final newline. bad: (row, text) puts
    text into feature 0 of that row. Returns {row index: file line number}."""
    rng = np.random.default_rng(7)
    lines, line_of = ["\ufeffpad," + ",".join(names[::-1]) + ',"q,uoted"'], {}
    for i, row in enumerate(X):
        if i % 997 == 5:
            lines.append("")  # a blank line: a line, not a row
        cells = []
        for j, v in enumerate(row[::-1]):
            k = len(row) - 1 - j
            if bad and bad[0] == i and k == 0:
                cells.append(bad[1])
            elif np.isnan(v):
                cells.append(["", "nan", "NaN", " nan"][i % 4])
            elif i % 5 == 0:
                cells.append('"%r"' % float(v))  # a quoted number
            else:
                cells.append(repr(float(v)))
        pad = "x" * int(rng.integers(0, 400)) if i % 3 else '"a,""b"""'
        lines.append(pad + "," + ",".join(cells) + ",z")
        line_of[i] = len(lines)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("\r\n".join(lines))  # no newline after the last line
    return line_of


def rows_x(n=N_ROWS, seed=3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, NF))
    X[rng.random(X.shape) < 0.04] = np.nan
    return X


def test_output_is_the_same_for_every_thread_count_and_matches_xgboost(xgb_model, tmp_path):
    import xgboost as xgb
    bst, model, names = xgb_model
    X = rows_x()
    csv = str(tmp_path / "x.csv")
    awkward_csv(csv, names, X)
    outs = {}
    for t in THREADS:
        out = str(tmp_path / ("y%d.csv" % t))
        r = run(model, csv, out, t)
        assert r.returncode == 0, r.stderr
        outs[t] = open(out, "rb").read()
        r = run(model, csv, None, t)  # stdout: the same bytes
        assert r.returncode == 0 and r.stdout == outs[t], r.stderr
    assert all(outs[t] == outs[1] for t in THREADS)
    header, rows = pu.read_csv(str(tmp_path / "y1.csv"))
    assert header == ["prediction", "proba_0", "proba_1"] and len(rows) == N_ROWS
    p1 = bst.inplace_predict(X.astype(np.float32))
    pu.assert_close([float(r[2]) for r in rows], p1, "xgboost probability")
    pu.assert_labels([int(r[0]) for r in rows], (p1 > 0.5).astype(int), "labels")


def test_regressor_values_are_the_same_for_every_thread_count(tmp_path):
    from sklearn.ensemble import GradientBoostingRegressor
    from predictd.export import export
    rng = np.random.default_rng(1)
    X = rng.normal(size=(500, NF))
    est = GradientBoostingRegressor(n_estimators=20, random_state=0).fit(X, X[:, 0] * 3)
    names = ["f%d" % i for i in range(NF)]
    model = str(tmp_path / "gbr.json")
    export(est, model, feature_names=names)
    Xq = rows_x()
    Xq[np.isnan(Xq)] = 0.5  # this model takes no missing values
    csv = str(tmp_path / "x.csv")
    awkward_csv(csv, names, Xq)
    outs = [run(model, csv, str(tmp_path / ("y%d.csv" % t)), t, proba=False) for t in THREADS]
    assert all(r.returncode == 0 for r in outs), [r.stderr for r in outs]
    got = [open(tmp_path / ("y%d.csv" % t), "rb").read() for t in THREADS]
    assert all(g == got[0] for g in got)
    _, rows = pu.read_csv(str(tmp_path / "y1.csv"))
    pu.assert_close([float(r[0]) for r in rows], est.predict(Xq), "regression values")


@pytest.mark.parametrize("bad_row,text,why", [
    (9001, "abc", "column 'f0': not a number: 'abc'"),
    (4095, "1\x002", "a NUL byte in the line"),
    (N_ROWS - 1, "1.5.5", "column 'f0': not a number: '1.5.5'"),
])
def test_a_bad_row_in_a_later_block_names_its_line_for_every_thread_count(
        xgb_model, tmp_path, bad_row, text, why):
    _, model, names = xgb_model
    X = rows_x()
    csv = str(tmp_path / "x.csv")
    line_of = awkward_csv(csv, names, X, bad=(bad_row, text))
    good = str(tmp_path / "good.csv")
    awkward_csv(good, names, X)
    r = run(model, good, None, 1)
    want_rows = r.stdout.split(b"\n")[:1 + bad_row]  # header and the rows before it
    for t in THREADS:
        out = tmp_path / ("y%d.csv" % t)
        r = run(model, csv, str(out), t)
        assert r.returncode == 1, (t, r.stderr)
        assert r.stderr.decode() == "predictd predict: %s: line %d: %s\n" % (
            csv, line_of[bad_row], why), t
        assert not out.exists() and not [p for p in os.listdir(tmp_path) if ".tmp." in p]
        r = run(model, csv, None, t)  # stdout: exactly the rows before it were written
        assert r.returncode == 1 and r.stdout.split(b"\n")[:-1] == want_rows, t


def test_string_columns_and_an_unknown_category_line(tmp_path):
    from predictd.export import export
    est = sc.fitted("strict_ridge")
    model = str(tmp_path / "m.json")
    export(est, model)
    df = sc.frame(N_ROWS, 5, nan=0.0)
    df = df.dropna(subset=sc.STRINGS)
    df[sc.NUMERIC] = df[sc.NUMERIC].fillna(1.0)
    cols = sc.COLUMNS[::-1]
    lines = [",".join(cols)]
    for i, rec in enumerate(df[cols].itertuples(index=False)):
        cells = ['"%s"' % v if isinstance(v, str) and i % 2 else
                 (v if isinstance(v, str) else repr(float(v))) for v in rec]
        lines.append(",".join(cells))
    csv = str(tmp_path / "x.csv")
    open(csv, "w").write("\n".join(lines) + "\n")
    outs = [run(model, csv, str(tmp_path / ("y%d.csv" % t)), t, proba=False) for t in THREADS]
    assert all(r.returncode == 0 for r in outs), [r.stderr for r in outs]
    got = [open(tmp_path / ("y%d.csv" % t), "rb").read() for t in THREADS]
    assert all(g == got[0] for g in got)
    _, rows = pu.read_csv(str(tmp_path / "y1.csv"))
    pu.assert_close([float(r[0]) for r in rows], est.predict(df), "string pipeline")
    bad = 6000
    parts = lines[bad + 1].split(",")
    parts[cols.index("plan")] = "platinum"
    lines[bad + 1] = ",".join(parts)
    open(csv, "w").write("\n".join(lines) + "\n")
    for t in THREADS:
        r = run(model, csv, str(tmp_path / "z.csv"), t, proba=False)
        assert r.returncode == 1 and ("%s: line %d: column 'plan': unknown category "
                                      "'platinum'" % (csv, bad + 2)) in r.stderr.decode(), t
        assert not (tmp_path / "z.csv").exists()


def test_a_row_the_model_refuses_is_named_by_its_row(tmp_path):
    from sklearn.naive_bayes import CategoricalNB
    from predictd.export import export
    rng = np.random.default_rng(2)
    X = rng.integers(0, 3, size=(300, 3)).astype(float)
    est = CategoricalNB().fit(X, (X[:, 0] > 0).astype(int))
    names = ["a", "b", "c"]
    model = str(tmp_path / "nb.json")
    export(est, model, feature_names=names)
    Q = rng.integers(0, 3, size=(N_ROWS, 3)).astype(float)
    Q[7000, 1] = 99
    lines = ["a,b,c"]
    for i, row in enumerate(Q):
        if i % 1000 == 1:
            lines.append("")  # blank lines are not rows
        lines.append(",".join(repr(v) for v in row))
    csv = str(tmp_path / "x.csv")
    open(csv, "w").write("\n".join(lines) + "\n")
    for t in THREADS:
        r = run(model, csv, str(tmp_path / "y.csv"), t)
        assert r.returncode == 1, r.stderr
        assert "%s: row 7000: feature 'b': 99 is not one of its categories" % csv \
            in r.stderr.decode(), (t, r.stderr)
        assert not (tmp_path / "y.csv").exists()


def test_output_to_a_fifo_is_written_in_place_not_replaced(xgb_model, tmp_path):
    """--output naming something that is not a regular file (a FIFO here; /dev/null in
    practice) is written as is: renaming a temporary file over it would replace it."""
    import stat
    import threading
    _, model, names = xgb_model
    csv = str(tmp_path / "x.csv")
    awkward_csv(csv, names, rows_x(300))
    fifo = str(tmp_path / "out.fifo")
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, "rb").read()), daemon=True)
    reader.start()
    r = run(model, csv, fifo, 2)
    reader.join(timeout=pu.RUN_TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)
    assert got and got[0] == run(model, csv, None, 2).stdout
