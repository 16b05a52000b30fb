#!/usr/bin/python3
"""gen_validation_cases.py - asks the real FastAPI 0.92 + Pydantic 1.10 (Debian 12) how it
answers each request body in CASES, and writes tests/data/validation_cases.json.

Two copies of the article's app (tests/e2e/fastapi_seed_app.py) run in-process under
uvicorn on free 127.0.0.1 ports:
  real  - a fitted scikit-learn LogisticRegression: its status and body are the oracle;
  echo  - a "model" that hands back repr() of the floats Pydantic produced, so that a
          success case also records the exact doubles.
Every case is sent over a raw socket (so the Content-Type header is exactly as listed,
or absent) to POST /predict_non_blocking.

Each output record: name, content_type (str or null), body (str) or body_b64, is_list,
status, response (FastAPI's body, exact text), values (repr strings of the parsed floats,
for 200s), and expect_status / expect_response: what predictd must answer. They equal
status / response except where FastAPI answers 500; there predictd answers 422
value_error.number.not_finite_number (see src/api/features.c, "deliberate differences").
is_list: json.loads makes the body a JSON array. The article's one-row route turns it into
a dict (dict(pairs)), which is what status / response record, but predictd's FastAPI
routes answer an array as a list of rows (List[InputData]): for these cases expect_* is
pd_features_decode's answer, not the routes'; tests/data/list_validation_cases.json
(gen_list_validation_cases.py) holds the list answers.

Usage: /usr/bin/python3 tests/tools/gen_validation_cases.py [out.json]
"""
import base64
import email.message
import json
import os
import socket
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))

import fastapi_seed_app  # noqa: E402

NAMES = ("feature1", "feature2")
J = "application/json"
DEADLINE_S = 10.0  # per request

# (name, content_type or None, body bytes)
CASES = [
    # success and coercions
    ("ok_floats", J, b'{"feature1": 1.5, "feature2": -2.25}'),
    ("ok_ints", J, b'{"feature1":1,"feature2":2}'),
    ("ok_compact_whitespace", J, b' \t\r\n{ "feature1" :0.1 ,\n"feature2": 3e2 } \n'),
    ("ok_exponents", J, b'{"feature1": 1E-7, "feature2": 2.5e+10}'),
    ("ok_negative_zero", J, b'{"feature1": -0, "feature2": -0.0}'),
    ("ok_bools", J, b'{"feature1": true, "feature2": false}'),
    ("ok_numeric_strings", J, b'{"feature1": "1.25", "feature2": " -3 "}'),
    ("ok_string_underscores", J, b'{"feature1": "1_000.5", "feature2": "1e1_0"}'),
    ("ok_string_exponent_dot", J, b'{"feature1": ".5", "feature2": "5."}'),
    ("ok_string_plus_ws", J, b'{"feature1": "+7\\n", "feature2": "\\t8\\u00a0"}'),
    ("ok_unicode_digits", J, '{"feature1": "\u0661\u0662", "feature2": "\uff13.5"}'.encode()),
    ("ok_big_int", J, b'{"feature1": 123456789012345678901234567890, "feature2": 9007199254740993}'),
    ("ok_many_digits", J, b'{"feature1": 0.1000000000000000055511151231257827021181583404541015625, "feature2": 2.5}'),
    ("ok_extra_fields", J, b'{"feature1": 1, "feature2": 2, "feature3": [1, {"x": null}], "z": "s"}'),
    ("ok_duplicate_last_wins", J, b'{"feature1": "bad", "feature2": 2, "feature1": 3}'),
    ("ok_escaped_key", J, b'{"feature\\u0031": 4, "f\\u0065ature2": 5}'),
    ("ok_reordered", J, b'{"feature2": 2, "feature1": 1}'),
    ("ok_no_content_type", None, b'{"feature1": 1, "feature2": 2}'),
    ("ok_empty_content_type", "", b'{"feature1": 1, "feature2": 2}'),
    ("ok_charset", "application/json; charset=utf-8", b'{"feature1": 1, "feature2": 2}'),
    ("ok_charset_latin1", "application/json;charset=latin-1", b'{"feature1": 1, "feature2": 2}'),
    ("ok_upper_ct", "APPLICATION/JSON", b'{"feature1": 1, "feature2": 2}'),
    ("ok_vnd_json", "application/vnd.x+json", b'{"feature1": 1, "feature2": 2}'),
    ("ok_utf8_bom", J, b'\xef\xbb\xbf{"feature1": 1, "feature2": 2}'),
    ("ok_list_of_pairs", J, b'[["feature1", 1], ["feature2", "2"]]'),
    ("ok_non_ascii_extra_key", J, '{"caf\u00e9": 1, "feature1": 1, "feature2": 2}'.encode()),
    # missing / null / wrong type
    ("missing_one", J, b'{"feature1": 1}'),
    ("missing_both", J, b'{}'),
    ("missing_both_extra", J, b'{"x": 1}'),
    ("null_value", J, b'{"feature1": null, "feature2": 2}'),
    ("null_and_missing", J, b'{"feature2": null}'),
    ("string_not_number", J, b'{"feature1": "abc", "feature2": 2}'),
    ("empty_string", J, b'{"feature1": "", "feature2": ""}'),
    ("string_bool", J, b'{"feature1": "true", "feature2": 1}'),
    ("string_hex", J, b'{"feature1": "0x10", "feature2": "1__0"}'),
    ("string_bad_underscores", J, b'{"feature1": "_1", "feature2": "1_"}'),
    ("string_nul", J, b'{"feature1": "1\\u0000", "feature2": "1 2"}'),
    ("nested_object", J, b'{"feature1": {"a": 1}, "feature2": [1]}'),
    ("nested_and_missing", J, b'{"feature1": []}'),
    ("all_errors_order", J, b'{"feature2": "x", "other": 1}'),
    # body not an object / not JSON
    ("empty_body", J, b''),
    ("empty_body_no_ct", None, b''),
    ("body_null", J, b'null'),
    ("body_number", J, b'42'),
    ("body_string", J, b'"abc"'),
    ("body_empty_string", J, b'""'),
    ("body_true", J, b'true'),
    ("body_array_numbers", J, b'[1, 2]'),
    ("body_empty_array", J, b'[]'),
    ("body_array_bad_pair", J, b'[["feature1", 1, 2]]'),
    ("body_array_int_key", J, b'[[1, 2]]'),
    ("body_array_two_char_strings", J, b'["ab", "cd"]'),
    ("ct_text_plain", "text/plain", b'{"feature1": 1, "feature2": 2}'),
    ("ct_form", "application/x-www-form-urlencoded", b'feature1=1&feature2=2'),
    ("ct_multipart", "multipart/form-data; boundary=xyz", b'{"feature1": 1, "feature2": 2}'),
    ("ct_text_json", "text/json", b'{"feature1": 1, "feature2": 2}'),
    ("ct_bare_json", "json", b'{"feature1": 1, "feature2": 2}'),
    ("ct_jsonx", "application/jsonx", b'{"feature1": 1, "feature2": 2}'),
    ("ct_octet", "application/octet-stream", b'{"feature1": 1, "feature2": 2}'),
    ("ct_text_plain_empty_body", "text/plain", b''),
    ("ct_text_plain_bad_json", "text/plain", b'{"feature1": '),
    # malformed JSON (Python's json wording and character offsets)
    ("json_truncated_value", J, b'{"feature1": '),
    ("json_truncated_object", J, b'{"feature1": 1'),
    ("json_missing_comma", J, b'{"feature1": 1 "feature2": 2}'),
    ("json_missing_colon", J, b'{"feature1" 1}'),
    ("json_single_quotes", J, b"{'feature1': 1}"),
    ("json_trailing_comma", J, b'{"feature1": 1,}'),
    ("json_extra_data", J, b'{"feature1": 1, "feature2": 2} x'),
    ("json_two_objects", J, b'{}{}'),
    ("json_unterminated_string", J, b'{"feature1": "abc'),
    ("json_unterminated_key", J, b'{"feat'),
    ("json_control_char", J, b'{"feature1": "a\nb"}'),
    ("json_bad_escape", J, b'{"feature1": "\\x"}'),
    ("json_bad_unicode_escape", J, b'{"feature1": "\\u12G4"}'),
    ("json_leading_zero", J, b'{"feature1": 01}'),
    ("json_bare_minus", J, b'{"feature1": -}'),
    ("json_dot_number", J, b'{"feature1": .5}'),
    ("json_plus_number", J, b'{"feature1": +1}'),
    ("json_true_typo", J, b'{"feature1": tru}'),
    ("json_only_whitespace", J, b'   '),
    ("json_non_ascii_offset", J, '{"caf\u00e9\u00e9": 1 "feature1": 2}'.encode()),
    ("json_multiline_offset", J, b'{\n  "feature1": 1,\n  "feature2": ]\n}'),
    ("json_nested_unterminated", J, b'{"feature1": [1, 2'),
    ("json_nested_bad", J, b'{"feature3": {"a" 1}, "feature1": 1}'),
    ("json_escaped_doc", J, b'{"a\\"b": \t"\\\\", x'),
    ("json_bare_word", J, b'hello'),
    ("json_double_bom", J, b'\xef\xbb\xbf\xef\xbb\xbf{}'),
    ("invalid_utf8", J, b'{"feature1": "\xff", "feature2": 2}'),
    ("deep_nesting_ok", J, b'{"x": ' + b'[' * 100 + b']' * 100 + b', "feature1": 1, "feature2": 2}'),
    ("huge_int_digits", J, b'{"feature1": ' + b'1' * 5000 + b', "feature2": 2}'),
    # Pydantic's dict(value) on arrays and strings, and Model(**d)'s own TypeErrors
    ("pairs_object_elements", J, b'[{"feature1": 0, "7": 1}, {"feature2": 0, "x": 1}]'),
    ("pairs_object_dup_keys", J, b'[{"a": 1, "a": 2}]'),
    ("pairs_unhashable_key", J, b'[[[1], 2], ["feature1", 1]]'),
    ("pairs_number_element", J, b'[["feature1", 1], 5]'),
    ("pairs_null_key_then_bad", J, b'[[null, 1], [1]]'),
    ("pairs_true_key", J, b'[[true, 1], ["feature1", 1], ["feature2", 2]]'),
    ("pairs_last_wins", J, b'[["feature1", "x"], ["feature2", 2], ["feature1", 3]]'),
    ("pairs_nested_value", J, b'[["feature1", [1]], ["feature2", null]]'),
    ("pairs_string_chars", J, b'["a1", "b2"]'),
    ("pairs_empty_string_elem", J, b'[""]'),
    ("pairs_surrogate_pair_string", J, b'["\\ud83d\\ude00a"]'),
    ("self_key", J, b'{"feature1": 1, "feature2": 2, "__pydantic_self__": 3}'),
    ("self_key_escaped_with_errors", J, b'{"__pydantic_self\\u005f": 3}'),
    ("self_key_is_fine", J, b'{"feature1": 1, "feature2": 2, "self": 3}'),
    # limits Python enforces while parsing (-> 400)
    ("int_4300_digits", J, b'{"feature1": 1' + b'0' * 4299 + b', "feature2": 2}'),
    ("int_4301_digits", J, b'{"feature1": 1' + b'0' * 4300 + b', "feature2": 2}'),
    ("neg_int_4300_digits", J, b'{"feature1": -1' + b'0' * 4299 + b', "feature2": 2}'),
    ("long_float_literal", J, b'{"feature1": 0.' + b'0' * 400 + b'1e400, "feature2": 2}'),
    ("depth_975", J, b'{"x": ' + b'[' * 974 + b']' * 974 + b', "feature1": 1, "feature2": 2}'),
    ("depth_976", J, b'{"x": ' + b'[' * 975 + b']' * 975 + b', "feature1": 1, "feature2": 2}'),
    ("syntax_error_before_deep", J, b'{"x" 1, "y": ' + b'[' * 2000),
    ("invalid_utf8_after_syntax_error", J, b'{"x" 1, "y": "\xff"}'),
    ("huge_int_after_syntax_error", J, b'{"x" 1, "y": ' + b'9' * 5000 + b'}'),
    # encodings json.loads detects
    ("utf16_le_bom", J, '{"feature1": 1, "feature2": 2}'.encode("utf-16")),
    ("utf16_be_nobom", J, '{"feature1": 1, "feature2": "\u0661"}'.encode("utf-16-be")),
    ("utf32_le_nobom", J, '{"feature1": 1, "feature2": 2}'.encode("utf-32-le")),
    ("utf16_odd_length", J, '{"feature1": 1}'.encode("utf-16-le") + b'x'),
    ("utf16_bad_json", J, '{"feature1": 1,}'.encode("utf-16-le")),
    ("utf8_surrogate_bytes_value", J, b'{"feature1": "\xed\xa0\x80", "feature2": 2}'),
    ("utf8_overlong", J, b'{"feature1": "\xc0\xaf", "feature2": 2}'),
    # strings and escapes
    ("escaped_lone_surrogate_value", J, b'{"feature1": "\\ud800", "feature2": "1\\u0030"}'),
    ("surrogate_escape_then_bad", J, b'{"feature1": "\\ud800\\u12x4"}'),
    ("unicode_escape_at_end", J, b'{"feature1": "\\u1234'),
    ("backslash_at_end", J, b'{"feature1": "\\'),
    ("control_char_in_key", J, b'{"fea\tture1": 1}'),
    ("non_ascii_after_error_line2", J, '{"\u00e9":\n "éé" "x"}'.encode()),
    ("nbsp_and_ideographic_space", J, '{"feature1": "\u00a01\u3000", "feature2": "\u20282"}'.encode()),
    ("string_vt_ff_ws", J, b'{"feature1": "\\u000b1\\u000c", "feature2": "\\u001c2"}'),
    ("string_infinity_words", J, b'{"feature1": "iNfInItY", "feature2": "infinit"}'),
    ("string_exponent_underscores", J, b'{"feature1": "1_e5", "feature2": "1e_5"}'),
    ("string_del_char", J, b'{"feature1": "1\x7f", "feature2": "-0"}'),
    ("literal_prefix_typos", J, b'{"feature1": Nan}'),
    ("neg_infinity_typo", J, b'{"feature1": -Inf}'),
    ("number_exponent_backtrack", J, b'{"feature1": 1e, "feature2": 2}'),
    ("number_exponent_sign_end", J, b'[1E+'),
    ("empty_key", J, b'{"": 1, "feature1": 1, "feature2": 2}'),
    # not finite: FastAPI answers 500, predictd 422 not_finite (deliberate difference)
    ("nan_literal", J, b'{"feature1": NaN, "feature2": 2}'),
    ("infinity_literal", J, b'{"feature1": 1, "feature2": Infinity}'),
    ("neg_infinity_literal", J, b'{"feature1": -Infinity, "feature2": -Infinity}'),
    ("overflow_1e400", J, b'{"feature1": 1e400, "feature2": 2}'),
    ("nan_string", J, b'{"feature1": "nan", "feature2": 2}'),
    ("inf_string", J, b'{"feature1": "inf", "feature2": "-Infinity"}'),
    ("int_too_large", J, b'{"feature1": 1' + b'0' * 400 + b', "feature2": 2}'),
    ("nan_with_other_error", J, b'{"feature1": NaN, "feature2": "x"}'),
]


class EchoModel:
    """Hands back the validated floats as repr strings (exact, NaN-safe), one list per row
    (the one-row routes answer the first, /predict_list all of them)."""

    def predict(self, rows):
        return [[repr(v) for v in r] for r in rows]


def real_model():
    from sklearn.linear_model import LogisticRegression
    X = [[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [-1.0, -1.0]]
    y = [0, 1, 0, 1, 1, 0]
    return LogisticRegression().fit(X, y)


class Server:
    """A uvicorn server for `app` on a free loopback port, in a daemon thread."""

    def __init__(self, app):
        import uvicorn
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, loop="uvloop",
                                http="httptools", log_level="critical", access_log=False)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self):
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(10)


def http_post(port, path, content_type, body):
    """One raw HTTP/1.1 POST; returns (status, body bytes)."""
    head = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{port}", "Connection: close",
            f"Content-Length: {len(body)}"]
    if content_type is not None:
        head.append(f"Content-Type: {content_type}")
    req = ("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE_S) as s:
        s.sendall(req)
        chunks = []
        while True:
            c = s.recv(65536)
            if not c:
                break
            chunks.append(c)
    raw = b"".join(chunks)
    head_raw, _, payload = raw.partition(b"\r\n\r\n")
    status = int(head_raw.split(b" ", 2)[1])
    return status, payload


def is_json_type(ct):
    """FastAPI 0.92's test for parsing a body as JSON (fastapi/routing.py)."""
    if not ct:
        return True
    message = email.message.Message()
    message["content-type"] = ct
    sub = message.get_content_subtype()
    return message.get_content_maintype() == "application" and (sub == "json" or sub.endswith("+json"))


def is_list(ct, body):
    """Whether FastAPI's json.loads makes the body a list: predictd's list mode."""
    if not is_json_type(ct):
        return False
    try:
        return isinstance(json.loads(body), list)
    except (ValueError, RecursionError):
        return False


def not_finite_body(values):
    errs = [{"loc": ["body", n], "msg": "ensure this value is a finite number",
             "type": "value_error.number.not_finite_number"}
            for n, v in zip(NAMES, values) if v in ("nan", "inf", "-inf")]
    return json.dumps({"detail": errs}, separators=(",", ":"), ensure_ascii=False)


def parse_values_or_none(port, ct, body):
    status, payload = http_post(port, "/predict_non_blocking", ct, body)
    if status != 200:
        return status, None
    return status, json.loads(payload)["prediction"]


def run_case(real_port, echo_port, name, ct, body):
    status, payload = http_post(real_port, "/predict_non_blocking", ct, body)
    rec = {"name": name, "content_type": ct}
    try:
        rec["body"] = body.decode("utf-8")
        if rec["body"].encode("utf-8") != body:
            raise UnicodeError
    except UnicodeError:
        rec.pop("body", None)
        rec["body_b64"] = base64.b64encode(body).decode()
    rec["is_list"] = is_list(ct, body)
    rec["status"] = status
    rec["response"] = payload.decode("utf-8", "replace")
    echo_status, values = parse_values_or_none(echo_port, ct, body)
    rec["values"] = values
    rec["expect_status"], rec["expect_response"] = status, rec["response"]
    if status == 500:
        if values is not None:  # Pydantic accepted non-finite floats; the model refused
            rec["expect_status"], rec["expect_response"] = 422, not_finite_body(values)
        elif name in OVERFLOW_EXPECT:  # float(int) raised OverflowError inside Pydantic
            bad = OVERFLOW_EXPECT[name]
            rec["expect_status"] = 422
            rec["expect_response"] = not_finite_body(["inf" if n in bad else "0" for n in NAMES])
        else:
            raise RuntimeError(f"{name}: FastAPI answered 500 and no expectation is defined")
    return rec


# Cases where float(int) raises OverflowError inside Pydantic (FastAPI: 500): the fields
# predictd reports as not finite.
OVERFLOW_EXPECT = {
    "int_too_large": ["feature1"],
    "int_4300_digits": ["feature1"],
    "neg_int_4300_digits": ["feature1"],
}


def main(argv):
    out = argv[1] if len(argv) > 1 else os.path.join(ROOT, "tests", "data", "validation_cases.json")
    real = fastapi_seed_app.create_app(real_model(), NAMES)
    echo = fastapi_seed_app.create_app(EchoModel(), NAMES)
    names = [c[0] for c in CASES]
    assert len(names) == len(set(names)), "duplicate case names"
    with Server(real) as rs, Server(echo) as es:
        records = [run_case(rs.port, es.port, *c) for c in CASES]
    with open(out, "w", encoding="utf-8") as f:
        json.dump(records, f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(records)} cases to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
