#!/usr/bin/python3
"""gen_list_validation_cases.py - asks the real FastAPI 0.92 + Pydantic 1.10 (Debian 12) how
it answers each body of CASES on the FastAPI-style routes, and writes
tests/data/list_validation_cases.json: the golden cases of pd_codec_fastapi's lists
(JSON arrays, validated as `data: List[InputData]`), of missing_ok models (fields
`Optional[float] = None`) and of the rows limit.

The article's app (tests/e2e/fastapi_seed_app.py) runs in-process under uvicorn (uvloop,
httptools) on free 127.0.0.1 ports, four copies:
  real, real_opt  - a fitted LogisticRegression / HistGradientBoostingClassifier (which
                    takes NaN) behind float / Optional[float] fields: status and body;
  echo, echo_opt  - a "model" that hands back repr() of the floats Pydantic produced, so a
                    success case also records the exact values ('None' for a missing one).
Each case is sent over a raw socket to `fastapi_path`: /predict_list for a JSON array
(what predictd answers as a list), /predict_non_blocking for any other body (predictd's
one-row answer; its other cases are in validation_cases.json).

Each output record: name, content_type (str or null), body (str) or body_b64, missing_ok
(predictd's mode: a model that takes missing values), max_rows (predictd's --max-rows for
this case, or null for the default), fastapi_path, status, response (FastAPI's body,
exact text), values (echo's repr strings per row, for 200s), and expect_status /
expect_response: what predictd must answer. They equal status / response except:
  - where FastAPI answers 500 or a 200 holding a value that is not finite (NaN without
    missing_ok, +-inf, an integer too large for a double): predictd answers 422
    value_error.number.not_finite_number for each such field, loc ["body", row, name]
    (see src/api/features.c, "deliberate differences");
  - where the list holds more than max_rows elements: predictd answers 413 {"detail":
    "too many rows: ..."} (FastAPI has no such limit).
For 200s the labels in `response` come from this script's models; an end-to-end test over
HTTP should compare predictd's labels with a live FastAPI serving the same model, and use
`values` for the exact floats.

Usage: /usr/bin/python3 tests/tools/gen_list_validation_cases.py [out.json]
"""
import base64
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, HERE)

import gen_validation_cases as gvc  # noqa: E402

NAMES = ("feature1", "feature2")
J = "application/json"
OK = b'{"feature1": 1, "feature2": 2}'
BIG = b"1" + b"0" * 400  # an integer float() cannot convert: Pydantic's OverflowError


def rows(*elems):
    return b"[" + b", ".join(elems) + b"]"


# (name, content_type or None, body, missing_ok, max_rows or None)
CASES = [
    # valid lists
    ("ok_empty", J, b"[]", False, None),
    ("ok_empty_ws", J, b" [ \n ] ", False, None),
    ("ok_one_row", J, rows(OK), False, None),
    ("ok_two_rows", J, b'[{"feature1": 1.5, "feature2": -2.25}, {"feature1": 3, "feature2": "4"}]', False, None),
    ("ok_coercions", J, '[{"feature1": true, "feature2": " 1_0 "}, {"feature1": "\u0661", "feature2": 1E3}]'.encode(), False, None),
    ("ok_extra_and_dup_keys", J, b'[{"feature1": "x", "feature2": 2, "feature1": 3, "z": [1, {"y": null}]}]', False, None),
    ("ok_reordered_keys", J, b'[{"feature2": 2, "feature1": 1}, {"feature1": 0, "feature2": -0.0}]', False, None),
    ("ok_pairs_element", J, b'[[["feature1", 1], ["feature2", "2"]], {"feature1": 0, "feature2": 0}]', False, None),
    ("ok_object_pairs_element", J, b'[[{"feature1": 0, "7": 1}, {"feature2": 0, "8": 1}]]', False, None),
    ("ok_many_rows", J, rows(*[b'{"feature1": %d, "feature2": %d.5}' % (i, i) for i in range(60)]), False, None),
    ("ok_no_content_type", None, rows(OK, OK), False, None),
    ("ok_vnd_json", "application/vnd.x+json; charset=utf-8", rows(OK), False, None),
    ("ok_utf8_bom", J, b"\xef\xbb\xbf" + rows(OK), False, None),
    ("ok_utf16", J, rows(OK, OK).decode().encode("utf-16"), False, None),
    ("ok_depth_975", J, b'[{"x": ' + b"[" * 973 + b"]" * 973 + b', "feature1": 1, "feature2": 2}]', False, None),
    ("ok_max_rows_exact", J, rows(OK, OK, OK), False, 3),
    # element errors, listed in order with ["body", index, ...]
    ("err_missing_fields", J, b'[{"feature1": 1}, {"feature2": 2}, {}, {"x": 1}]', False, None),
    ("err_null_element", J, rows(b"null", OK, b"null"), False, None),
    ("err_element_types", J, b'[1, true, "", "ab", ["ab"], [], {}, 1.5, NaN, -Infinity, false]', False, None),
    ("err_mixed_indexes", J, rows(OK, b'{"feature1": "x", "feature2": 2}', OK, b'{"feature1": 1, "feature2": null}',
                                  b"[[1, 2]]", b'{"__pydantic_self__": 1, "feature1": 1, "feature2": 2}', OK), False, None),
    ("err_nested_values", J, b'[{"feature1": [1], "feature2": {"a": 1}}]', False, None),
    ("err_bad_pairs", J, b'[[["feature1", 1, 2]], [[1]], [5], [[[1], 2]], [["feature1", 1], 3]]', False, None),
    ("err_keyword_types", J, b'[[[1, 2], ["feature1", 1]], [["__pydantic_self__", 1], ["feature1", "x"]]]', False, None),
    ("err_string_values", J, b'[{"feature1": "abc", "feature2": ""}, {"feature1": "0x10", "feature2": "1__0"}]', False, None),
    ("err_after_many_ok", J, rows(*([OK] * 12 + [b'{"feature1": 1}'])), False, None),
    ("err_non_ascii_element", J, '[{"caf\u00e9": 1, "feature1": "\u00e9"}]'.encode(), False, None),
    # not finite: FastAPI 500 (or a 200 from the echo model); predictd 422 not_finite
    ("nonfinite_literals", J, b'[{"feature1": NaN, "feature2": 1}, {"feature1": 1, "feature2": Infinity}, ' + OK + b']', False, None),
    ("nonfinite_strings", J, b'[{"feature1": "inf", "feature2": "-nan"}]', False, None),
    ("nonfinite_1e400", J, b'[' + OK + b', {"feature1": 1e400, "feature2": -1e400}]', False, None),
    ("nonfinite_big_int", J, b'[' + OK + b', {"feature1": ' + BIG + b', "feature2": 1}]', False, None),
    ("nonfinite_beside_pydantic_error", J, b'[{"feature1": NaN, "feature2": 1}, {"feature1": "x", "feature2": 1}]', False, None),
    ("nonfinite_in_pairs", J, b'[[["feature1", NaN], ["feature2", "inf"]]]', False, None),
    # malformed documents: json.loads decides before any validation
    ("json_unterminated_list", J, rows(OK) + b",", False, None),
    ("json_missing_comma", J, b"[" + OK + b" " + OK + b"]", False, None),
    ("json_extra_data", J, rows(OK) + b" x", False, None),
    ("json_open_bracket", J, b"[", False, None),
    ("json_leading_comma", J, b"[,]", False, None),
    ("json_trailing_comma", J, b"[" + OK + b",]", False, None),
    ("json_error_after_element_errors", J, b'[{"feature1": "x"}, {"feature1": ', False, None),
    ("json_invalid_utf8", J, b'[{"feature1": "\xff", "feature2": 2}]', False, None),
    ("json_depth_976", J, b'[{"x": ' + b"[" * 974 + b"]" * 974 + b', "feature1": 1, "feature2": 2}]', False, None),
    ("json_huge_int_digits", J, b'[{"feature1": ' + b"1" * 5000 + b', "feature2": 2}]', False, None),
    # missing_ok: Optional[float] = None fields
    ("opt_null_omitted_nan", J, b'[{"feature1": null, "feature2": 2}, {"feature2": 1}, {"feature1": NaN, "feature2": "nan"}, {}]', True, None),
    ("opt_empty_string_and_list", J, b'["", [], [["feature1", null]]]', True, None),
    ("opt_errors_still_listed", J, b'[{"feature1": "x"}, null, {"feature1": Infinity}, 5, [[1, 2]]]', True, None),
    ("opt_infinity", J, b'[{"feature1": Infinity}, {"feature2": "-inf"}, {"feature1": 1e400}]', True, None),
    ("opt_big_int", J, b'[{"feature1": ' + BIG + b'}]', True, None),
    ("opt_object_nulls", J, b'{"feature1": null}', True, None),
    ("opt_object_empty", J, b"{}", True, None),
    ("opt_object_nan", J, b'{"feature1": NaN, "feature2": "NaN"}', True, None),
    ("opt_object_errors", J, b'{"feature1": "x", "feature2": Infinity}', True, None),
    ("opt_object_infinity", J, b'{"feature1": 1, "feature2": Infinity}', True, None),
    ("opt_body_null", J, b"null", True, None),
    ("opt_body_string", J, b'""', True, None),
    ("opt_empty_body", J, b"", True, None),
    ("opt_text_plain", "text/plain", b"[{}]", True, None),
    # the rows limit (predictd's --max-rows)
    ("max_rows_exceeded", J, rows(OK, OK, OK, OK), False, 3),
    ("max_rows_before_errors", J, rows(OK, OK, b'{"feature1": "x"}'), False, 2),
    ("max_rows_before_syntax_error", J, b"[{}, {}, {}, {", False, 2),
    ("max_rows_one_empty_ok", J, b"[]", False, 1),
]

# The arrays among the one-row golden cases (validation_cases.json records how the one-row
# route answers them, as dict(pairs)): here, as lists.
CASES += [("from_single_" + name, ct, body, False, None)
          for name, ct, body in gvc.CASES if gvc.is_list(ct, body)]

# Cases where Pydantic's float() raises OverflowError (FastAPI: 500): the (row, field)s
# predictd reports as not finite.
OVERFLOW_EXPECT = {
    "nonfinite_big_int": [(1, "feature1")],
    "opt_big_int": [(0, "feature1")],
}

# Cases where predictd refuses the list with 413 (more than max_rows elements begin).
TOO_MANY_ROWS = {"max_rows_exceeded", "max_rows_before_errors", "max_rows_before_syntax_error"}


def real_model_opt():
    from sklearn.ensemble import HistGradientBoostingClassifier
    nan = float("nan")
    X = [[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [-1.0, -1.0],
         [nan, 1.0], [1.0, nan]] * 3
    y = [0, 1, 0, 1, 1, 0, 0, 1] * 3
    return HistGradientBoostingClassifier(max_iter=5).fit(X, y)


def not_finite_body(cells, listed):
    errs = [{"loc": ["body", r, n] if listed else ["body", n],
             "msg": "ensure this value is a finite number",
             "type": "value_error.number.not_finite_number"} for r, n in cells]
    return json.dumps({"detail": errs}, separators=(",", ":"), ensure_ascii=False)


def not_finite_cells(values, missing_ok):
    """(row, name) of each value predictd refuses, in order; values: echo's repr rows."""
    bad = ("inf", "-inf") if missing_ok else ("inf", "-inf", "nan")
    return [(r, n) for r, row in enumerate(values) for n, v in zip(NAMES, row) if v in bad]


def run_case(ports, name, ct, body, missing_ok, max_rows):
    real_port, echo_port = ports[missing_ok]
    listed = gvc.is_list(ct, body)
    path = "/predict_list" if listed else "/predict_non_blocking"
    status, payload = gvc.http_post(real_port, path, ct, body)
    rec = {"name": name, "content_type": ct}
    try:
        rec["body"] = body.decode("utf-8")
        if rec["body"].encode("utf-8") != body:
            raise UnicodeError
    except UnicodeError:
        rec["body_b64"] = base64.b64encode(body).decode()
    rec.update(missing_ok=missing_ok, max_rows=max_rows, fastapi_path=path, status=status,
               response=payload.decode("utf-8", "replace"))
    echo_status, echo_payload = gvc.http_post(echo_port, path, ct, body)
    values = None
    if echo_status == 200:
        got = json.loads(echo_payload)
        values = got["predictions"] if listed else [got["prediction"]]
    rec["values"] = values
    rec["expect_status"], rec["expect_response"] = status, rec["response"]
    cells = not_finite_cells(values, missing_ok) if values is not None else []
    if status == 500 or cells:
        if values is None:
            if name not in OVERFLOW_EXPECT:
                raise RuntimeError(f"{name}: FastAPI answered 500 and no expectation is defined")
            cells = OVERFLOW_EXPECT[name]
        if not cells:
            raise RuntimeError(f"{name}: FastAPI answered {status} with finite values")
        rec["expect_status"], rec["expect_response"] = 422, not_finite_body(cells, listed)
    if listed and max_rows is not None:  # the 413s must be exactly the lists over the limit
        assert (len(json.loads(body)) > max_rows) == (name in TOO_MANY_ROWS), name
    if name in TOO_MANY_ROWS:
        rec["expect_status"] = 413
        rec["expect_response"] = ('{"detail":"too many rows: the body holds more than %d rows '
                                  '(the limit is --max-rows)"}' % max_rows)
    return rec


def main(argv):
    out = argv[1] if len(argv) > 1 else os.path.join(ROOT, "tests", "data", "list_validation_cases.json")
    import fastapi_seed_app as fsa
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    apps = [fsa.create_app(gvc.real_model(), NAMES), fsa.create_app(gvc.EchoModel(), NAMES),
            fsa.create_app(real_model_opt(), NAMES, optional=True),
            fsa.create_app(gvc.EchoModel(), NAMES, optional=True)]
    with gvc.Server(apps[0]) as r, gvc.Server(apps[1]) as e, \
            gvc.Server(apps[2]) as ro, gvc.Server(apps[3]) as eo:
        ports = {False: (r.port, e.port), True: (ro.port, eo.port)}
        records = [run_case(ports, *c) for c in CASES]
    with open(out, "w", encoding="utf-8") as f:
        json.dump(records, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(records)} cases to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
