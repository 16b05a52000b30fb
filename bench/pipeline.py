#!/usr/bin/python3
"""bench/pipeline.py - the pipeline teams ship (part of `make bench`, issue 10): a churn-style
scikit-learn Pipeline fitted on a pandas DataFrame - ColumnTransformer(numbers:
SimpleImputer(median) + StandardScaler; three string columns: SimpleImputer(most_frequent)
+ OneHotEncoder(handle_unknown="ignore")) + GradientBoostingClassifier(100 trees) - exported
and served by predictd, against scikit-learn's own predict_proba on a DataFrame in the same
machine:

  1. one row: scikit-learn's predict_proba on a one-row DataFrame (in process, no HTTP)
     against a POST of one JSON row to predictd's /models/churn/predict_proba over a kept-
     alive connection (HTTP, JSON, string lookup, imputing, encoding and the trees);
  2. a 1,000-row batch: the same, with 1,000 rows (a DataFrame / a JSON list);
  3. the 1,000 rows asking for labels only (predict / .../predict): the probabilities'
     JSON (3,000 floats in Python's repr) is a large part of the answer in 2.

Medians of REPEAT runs after WARMUP; the ratio is scikit-learn's time over predictd's.
Writes bench/results/pipeline.md and pipeline.json and prints the table. The server
listens on 127.0.0.1 on a free port; every loop is bounded by its count.
"""
import http.client
import json
import os
import statistics
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib as bl  # noqa: E402

sys.path.insert(0, os.path.join(bl.ROOT, "python"))
sys.path.insert(0, os.path.join(bl.ROOT, "tests", "e2e"))

RESULTS = os.path.join(bl.ROOT, "bench", "results")
REPEAT = {"one row": 300, "1,000 rows": 30, "1,000 rows, labels": 30}
WARMUP = 10
BATCH = 1000


def churn_pipeline():
    """The fitted pipeline and the query rows (strings_cases' churn-like data)."""
    import strings_cases as sc
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import GradientBoostingClassifier
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler
    df = sc.frame(2000, 1)
    pipe = Pipeline([("ct", ColumnTransformer([
        ("num", Pipeline([("imp", SimpleImputer(strategy="median")),
                          ("sc", StandardScaler())]), sc.NUMERIC),
        ("cat", Pipeline([("imp", SimpleImputer(strategy="most_frequent")),
                          ("oh", OneHotEncoder(handle_unknown="ignore"))]), sc.STRINGS)])),
        ("gb", GradientBoostingClassifier(n_estimators=100, max_depth=3, random_state=0))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipe.fit(df, sc.target(df, True))
    return pipe, sc.frame(BATCH, 2, unseen=0.05), sc


def timed(fn, n):
    for _ in range(WARMUP):
        fn()
    t = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return statistics.median(t)


def main():
    from predictd.export import export
    pipe, q, sc = churn_pipeline()
    one = q.iloc[:1]
    rows = sc.json_rows(q)
    bodies = {"one row": json.dumps(rows[0]).encode(), "1,000 rows": json.dumps(rows).encode()}
    bodies["1,000 rows, labels"] = bodies["1,000 rows"]
    frames = {"one row": one, "1,000 rows": q, "1,000 rows, labels": q}
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        export(pipe, os.path.join(tmp, "churn.json"))
        port = bl.free_port()
        with bl.server([bl.PREDICTD, "serve", "--host", "127.0.0.1", "--port", str(port),
                        tmp], port):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)

            def call(body, route="predict_proba"):
                conn.request("POST", "/models/churn/" + route, body=body,
                             headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                data = r.read()
                assert r.status == 200, data
                return data
            got = json.loads(call(bodies["1,000 rows"]))["probabilities"]
            want = pipe.predict_proba(q)
            err = max(abs(p[str(c)] - want[i][j]) for i, p in enumerate(got)
                      for j, c in enumerate(pipe.classes_))
            for what in REPEAT:
                labels = what.endswith("labels")
                sk_fn = pipe.predict if labels else pipe.predict_proba
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    sk = timed(lambda: sk_fn(frames[what]), REPEAT[what])
                pd_t = timed(lambda: call(bodies[what], "predict" if labels else
                                          "predict_proba"), REPEAT[what])
                out[what] = {"sklearn_ms": sk * 1e3, "predictd_ms": pd_t * 1e3,
                             "ratio": sk / pd_t}
            conn.close()
    lines = ["# Churn pipeline: scikit-learn vs predictd over HTTP", "",
             "ColumnTransformer (imputer + scaler on 3 numbers, imputer + one-hot on 3 string "
             "columns) + GradientBoostingClassifier(100 trees); median of %s runs; largest "
             "probability difference over the 1,000 rows: %.3g." % (
                 "/".join(str(v) for v in REPEAT.values()), err), "",
             "| request | scikit-learn (in process) | predictd (HTTP + JSON) | ratio |",
             "| --- | --- | --- | --- |"]
    for what, r in out.items():
        lines.append("| %s | %.3f ms | %.3f ms | %.1fx |" % (
            what, r["sklearn_ms"], r["predictd_ms"], r["ratio"]))
    text = "\n".join(lines) + "\n"
    print(text)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "pipeline.md"), "w") as f:
        f.write(text)
    with open(os.path.join(RESULTS, "pipeline.json"), "w") as f:
        json.dump({"max_abs_diff": err, "results": out}, f, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
