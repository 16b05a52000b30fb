"""test_model_malformed.py - `predictd inspect` and `predictd predict` on malformed model
files and bad CSV input: exit code 1 (2 for usage errors), one clear line on stderr naming
the file, the JSON path (or CSV line) and the reason, and no sanitizer report. Spawns the
real binary from $PREDICTD_BIN; every run is bounded by RUN_TIMEOUT."""
import json
import os
import subprocess

import pytest

from conftest import predictd_bin

RUN_TIMEOUT = 60  # seconds per process (ASan builds start slowly)

GOOD = {
    "format": "predictd-model", "version": 1, "name": "m", "task": "classification",
    "features": ["a", "b"], "classes": ["no", "yes"],
    "steps": [{"type": "tree_ensemble", "n_outputs": 2, "aggregate": "average",
               "input_type": "float32", "comparison": "le", "post_transform": "normalize",
               "trees": [{"feature": [1, -1, -1], "threshold": [0.5, 0, 0],
                          "left": [1, -1, -1], "right": [2, -1, -1],
                          "value": [0, 0, 1, 0, 0.25, 0.75], "missing_left": [1, 0, 0]}]}],
}


def run(*args):
    r = subprocess.run([predictd_bin(), *args], capture_output=True, text=True,
                       timeout=RUN_TIMEOUT)
    assert "Sanitizer" not in r.stderr and "runtime error" not in r.stderr, r.stderr
    return r


def mutate(fn):
    doc = json.loads(json.dumps(GOOD))
    fn(doc)
    return json.dumps(doc)


def tree(doc):
    return doc["steps"][0]["trees"][0]


CASES = [
    ("truncated", json.dumps(GOOD)[:60], "$: invalid JSON"),
    ("not json", "hello", "$: invalid JSON"),
    ("wrong type", mutate(lambda d: d.update(features="a")), "$.features: expected an array"),
    ("child out of range", mutate(lambda d: tree(d)["right"].__setitem__(0, 7)),
     "$.steps[0].trees[0].right[0]: child index 7 out of range (3 nodes)"),
    ("shared child", mutate(lambda d: tree(d)["right"].__setitem__(0, 1)),
     "$.steps[0].trees[0].right[0]: node 1 has two parents"),
    ("cycle to root", mutate(lambda d: tree(d).update(
        feature=[1, 0, -1, -1], threshold=[0.5, 0, 0, 0], left=[1, 3, -1, -1],
        right=[2, 0, -1, -1], value=[0] * 8, missing_left=[0] * 4)),
     "$.steps[0].trees[0].right[1]: node 0 is the root"),
    ("feature out of range", mutate(lambda d: tree(d)["feature"].__setitem__(0, 2)),
     "$.steps[0].trees[0].feature[0]: feature index 2 out of range (2 features)"),
    ("NaN threshold", json.dumps(GOOD).replace("[0.5, 0, 0]", "[NaN, 0, 0]"),
     "$.steps[0].trees[0].threshold[0]: NaN is not allowed here"),
    ("bad literal", json.dumps(GOOD).replace("[0.5, 0, 0]", "[NaNx, 0, 0]"),
     "$: invalid JSON"),
    ("UBJSON truncated", b"{L\x00\x00\x00\x00\x00\x00\x00\x07learner{",
     "$: invalid UBJSON at byte 18: truncated"),
    ("empty ensemble", mutate(lambda d: d["steps"][0].update(trees=[])),
     "$.steps[0].trees: array has 0 entries"),
    ("mismatched lengths", mutate(lambda d: tree(d)["threshold"].pop()),
     "$.steps[0].trees[0].threshold: array has 2 entries, expected 3"),
    ("too deep", "[" * 200 + "]" * 200, "$: JSON nested deeper than 64"),
    ("xgboost dart", json.dumps({"learner": {
        "learner_model_param": {"base_score": "5E-1", "num_class": "0", "num_feature": "2"},
        "objective": {"name": "binary:logistic"},
        "gradient_booster": {"name": "dart"}}}),
     "$.learner.gradient_booster.name: booster \"dart\" is not supported"),
]


@pytest.mark.parametrize("name,text,message", CASES, ids=[c[0] for c in CASES])
def test_malformed_model_is_refused(name, text, message, tmp_path):
    model = tmp_path / "bad.json"
    if isinstance(text, bytes):
        model.write_bytes(text)
    else:
        model.write_text(text)
    csv = tmp_path / "x.csv"
    csv.write_text("a,b\n1,2\n")
    for args in (("inspect", str(model)),
                 ("predict", str(model), "--input", str(csv))):
        r = run(*args)
        assert r.returncode == 1, (args, r.returncode, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1, r.stderr
        assert f"{model}: {message}" in lines[0], lines[0]
        assert r.stdout == ""


def test_good_model_predicts_and_inspects(tmp_path):
    model = tmp_path / "m.json"
    model.write_text(json.dumps(GOOD))
    r = run("inspect", str(model))
    assert r.returncode == 0, r.stderr
    assert "trees: 1" in r.stdout and "nodes: 3" in r.stdout
    assert "classes (2): no, yes" in r.stdout
    csv = tmp_path / "x.csv"
    csv.write_text("extra,b,a\nz,0.25,1\nz,0.75,1\nz,,1\nz,nan,0\n")
    r = run("predict", str(model), "--input", str(csv), "--proba")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["prediction,proba_no,proba_yes", "no,1,0", "yes,0.25,0.75",
                                     "no,1,0", "no,1,0"]


@pytest.mark.parametrize("csv_text,message", [
    ("a\n1\n", "line 1: missing column 'b'"),
    ("a,b\n1,2\n1,x\n", "line 3: column 'b': not a number: 'x'"),
    ("a,b\n1,2,3\n", "line 2: 3 columns, the header has 2"),
    ("a,b,a\n1,2,3\n", "line 1: column 'a' appears twice"),
    ("", "line 0: empty file"),
    ("a,b\n\"1,2\n", "line 2: unterminated quoted cell"),
])
def test_bad_csv_is_refused(csv_text, message, tmp_path):
    model = tmp_path / "m.json"
    model.write_text(json.dumps(GOOD))
    csv = tmp_path / "x.csv"
    csv.write_text(csv_text)
    r = run("predict", str(model), "--input", str(csv), "--output", str(tmp_path / "y.csv"))
    assert r.returncode == 1, r.stderr
    assert f"{csv}: {message}" in r.stderr, r.stderr


def test_long_csv_line_is_bounded(tmp_path):
    model = tmp_path / "m.json"
    model.write_text(json.dumps(GOOD))
    csv = tmp_path / "x.csv"
    with open(csv, "w") as f:
        f.write("a,b\n" + "1" * (5 << 20) + ",2\n")
    r = run("predict", str(model), "--input", str(csv))
    assert r.returncode == 1 and "longer than" in r.stderr, r.stderr


@pytest.mark.parametrize("args", [
    (), ("m.json",), ("m.json", "--input"), ("m.json", "--input", "x", "--threads", "0"),
    ("m.json", "--input", "x", "--bogus"),
])
def test_usage_errors_exit_2(args):
    r = run("predict", *args)
    assert r.returncode == 2 and r.stderr.count("\n") >= 1, r.stderr
    r = run("inspect")
    assert r.returncode == 2


def test_proba_on_regressor_writes_values_and_a_note(tmp_path):
    doc = json.loads(json.dumps(GOOD))
    doc.update(task="regression")
    del doc["classes"]
    doc["steps"][0].update(n_outputs=1, post_transform="identity")
    tree(doc)["value"] = [0, 1, 2]
    model = tmp_path / "r.json"
    model.write_text(json.dumps(doc))
    csv = tmp_path / "x.csv"
    csv.write_text("a,b\n1,0.2\n1,0.9\n")
    r = run("predict", str(model), "--input", str(csv), "--proba")
    assert r.returncode == 0 and r.stdout.splitlines() == ["prediction", "1", "2"]
    assert r.stderr.count("\n") == 1 and "regressor" in r.stderr, r.stderr
    r = run("predict", str(model), "--input", str(csv))
    assert r.returncode == 0 and r.stdout.splitlines() == ["prediction", "1", "2"]
    assert r.stderr == ""


def test_predict_help_exits_0():
    r = run("predict", "--help")
    assert r.returncode == 0 and r.stdout.startswith("usage: predictd predict MODEL")
    assert "--proba" in r.stdout and r.stderr == ""


def test_csv_edge_cases(tmp_path):
    """Issue 14, defect 10: a UTF-8 BOM before the header is skipped; a NUL byte in a cell
    is an error naming its line (not "5.1"); a bad row mid-file with --output leaves the
    output untouched (written to a temporary file, renamed only on success)."""
    model = tmp_path / "m.json"
    model.write_text(json.dumps(GOOD))
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbfa,b\n1,0.2\n1,0.9\n")
    r = run("predict", str(model), "--input", str(bom))
    assert r.returncode == 0 and r.stdout.splitlines() == ["prediction", "no", "yes"], r.stderr
    nul = tmp_path / "nul.csv"
    nul.write_bytes(b"a,b\n1,0.2\n1,5.1\x00junk\n")
    r = run("predict", str(model), "--input", str(nul))
    assert r.returncode == 1 and "line 3" in r.stderr and "NUL" in r.stderr, r.stderr
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b\n1,0.2\n1,x\n")
    out = tmp_path / "out.csv"
    out.write_text("previous\n")
    r = run("predict", str(model), "--input", str(bad), "--output", str(out))
    assert r.returncode == 1 and "line 3" in r.stderr, r.stderr
    assert out.read_text() == "previous\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv", "bom.csv", "m.json",
                                                           "nul.csv", "out.csv"]
    r = run("predict", str(model), "--input", str(bom), "--output", str(out))
    assert r.returncode == 0 and out.read_text().splitlines() == ["prediction", "no", "yes"]
