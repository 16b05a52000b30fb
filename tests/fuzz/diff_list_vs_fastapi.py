#!/usr/bin/python3
"""diff_list_vs_fastapi.py [SEED] [N] - differential fuzzing of pd_codec_fastapi against the
real FastAPI 0.92 + Pydantic 1.10, called in-process as an ASGI app (no sockets).

The codec (src/api/codec_fastapi.c and the decoder under it) is built here into a
temporary shared library with tests/fuzz/codec_shim.c and loaded with ctypes. N mutated
bodies (default 3000, a few seconds), most of them JSON arrays, go to both:

- a body json.loads makes a list goes to the app's `/predict_list` (data: List[InputData]),
  any other body to `/predict_non_blocking` (InputData): predictd answers an array as a
  list of rows and everything else as one row;
- one body in three is decoded in missing_ok mode and sent to the app built with
  `Optional[float] = None` fields (null, omitted and NaN fields are missing values);
- one valid list in five is decoded with a small max_rows: past it, 413 and its body.

The app's model echoes the floats Pydantic produced (repr strings), so a 200 is compared
value by value (bit for bit, NaN for a missing value). 422 and 400 bodies must be equal
byte for byte. Where FastAPI answers 200 with a value that is not finite (NaN without
missing_ok, +-inf) the codec must answer the exact not-finite 422; where it answers 500
(Pydantic's OverflowError on a huge integer, or its own failure to encode a lone
surrogate) the codec must answer exactly what FastAPI answers for the same document with
each such integer written as +-Infinity (predictd's reading of it: not finite), or the
jsondecode 422 with U+FFFD.

It also encodes random results (labels, values, probabilities; one row and lists) with the
codec and compares them with what the app's JSONResponse renders for the same results.

Exit status 1 on any mismatch. `run(seed, n)` is what tests/e2e/test_list_vs_fastapi.py
calls.

    /usr/bin/python3 tests/fuzz/diff_list_vs_fastapi.py 1 3000
"""
import asyncio
import base64
import ctypes
import json
import math
import os
import random
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))
import fastapi_seed_app as fsa  # noqa: E402
import gen_list_validation_cases as glc  # noqa: E402
import gen_validation_cases as gvc  # noqa: E402

NAMES = ("feature1", "feature2")
J = b"application/json"
SRCS = ["src/api/codec_fastapi.c", "src/api/features.c", "src/api/features_value.c",
        "src/api/features_list.c", "src/api/features_errors.c", "src/api/json_scan.c",
        "src/api/json_pyfloat.c", "src/api/json_encoding.c", "src/api/json_pairs.c",
        "src/api/rows.c", "src/api/codec_outputs.c", "src/api/codec_names.c",
        "src/util/buf.c", "src/util/dtoa.c", "src/util/error.c", "tests/fuzz/codec_shim.c",
        "src/api/features_string.c", "src/model/inputs_lookup.c"]
X_CAP = 1 << 16  # doubles copied back per decode


def build_lib(out_dir):
    """Compiles the codec, its decoder and the shim into out_dir/libcodec_fastapi.so."""
    so = os.path.join(out_dir, "libcodec_fastapi.so")
    subprocess.run(["cc", "-O1", "-g", "-shared", "-fPIC", "-std=c17", "-D_GNU_SOURCE",
                    "-I" + os.path.join(ROOT, "src"), "-o", so] +
                   [os.path.join(ROOT, s) for s in SRCS] + ["-lm"], check=True)
    return so


class Buf(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("len", ctypes.c_size_t),
                ("cap", ctypes.c_size_t), ("lim", ctypes.c_size_t)]


class Codec:
    """pd_codec_fastapi through tests/fuzz/codec_shim.c."""

    def __init__(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.lib = ctypes.CDLL(build_lib(self._tmp.name))
        sz, p = ctypes.c_size_t, ctypes.c_void_p
        self.lib.pd_shim_decode.argtypes = [ctypes.POINTER(ctypes.c_char_p), sz, ctypes.c_int,
                                            ctypes.c_char_p, ctypes.c_char_p, sz, sz,
                                            ctypes.POINTER(ctypes.c_double), sz,
                                            ctypes.POINTER(sz), ctypes.POINTER(ctypes.c_int),
                                            ctypes.POINTER(Buf)]
        self.lib.pd_shim_encode.argtypes = [ctypes.c_int, sz, p, p, ctypes.c_int, ctypes.c_uint,
                                            sz, p, p, p, ctypes.POINTER(Buf)]
        self.lib.pd_buf_free.argtypes = [ctypes.POINTER(Buf)]
        self.names = (ctypes.c_char_p * len(NAMES))(*[n.encode() for n in NAMES])
        self.x = (ctypes.c_double * X_CAP)()

    def _take(self, b):
        data = ctypes.string_at(b.data, b.len) if b.data else b""
        self.lib.pd_buf_free(ctypes.byref(b))
        return data

    def decode(self, ct, body, missing_ok=False, max_rows=0):
        """(status 0/4xx or negative, rows (list of lists), single, error body bytes)."""
        b, n_rows, single = Buf(), ctypes.c_size_t(), ctypes.c_int()
        rc = self.lib.pd_shim_decode(self.names, len(NAMES), int(missing_ok), ct, body,
                                     len(body), max_rows, self.x, X_CAP, ctypes.byref(n_rows),
                                     ctypes.byref(single), ctypes.byref(b))
        n = len(NAMES)
        rows = [list(self.x[i * n:(i + 1) * n]) for i in range(min(n_rows.value, X_CAP // n))]
        return rc, rows, single.value, self._take(b)

    def encode(self, task, labels, single, outputs, cls=None, val=None, proba=None):
        """The codec's answer for these results: (rc, bytes)."""
        keep = []

        def arr(ctype, xs):
            if xs is None:
                return None
            a = (ctype * max(len(xs), 1))(*xs)
            keep.append(a)
            return ctypes.cast(a, ctypes.c_void_p)
        strs = ints = None
        if labels and isinstance(labels[0], str):
            strs = arr(ctypes.c_char_p, [l.encode() for l in labels])
        elif labels:
            ints = arr(ctypes.c_int64, labels)
        n_rows = len(cls if cls is not None else val)
        b = Buf()
        rc = self.lib.pd_shim_encode(task, len(labels or ()), strs, ints, int(single), outputs,
                                     n_rows, arr(ctypes.c_int32, cls), arr(ctypes.c_double, val),
                                     arr(ctypes.c_double, proba), ctypes.byref(b))
        return rc, self._take(b)


async def asgi_call(app, path, ct, body):
    """POSTs body to app in-process; returns (status, body bytes)."""
    headers = [(b"content-type", ct)] if ct is not None else []
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": "POST", "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 2)}
    sent, done = [], False

    async def receive():
        nonlocal done
        if not done:
            done = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)

    async def send(m):
        sent.append(m)
    try:
        await app(scope, receive, send)
    except Exception:  # the 500 was sent before Starlette re-raised
        pass
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


class Echo:
    """Hands back the floats Pydantic produced, as repr strings, one list per row."""

    def predict(self, rows):
        return [[repr(v) for v in r] for r in rows]


class Fixed:
    """Hands back whatever `out` was set to (the encode comparison)."""
    out = None

    def predict(self, rows):
        return self.out


def is_list_body(body):
    """Whether FastAPI's json.loads(body) makes a list (the codec's list mode)."""
    return gvc.is_list(J.decode(), body)


def overflow_free(body):
    """The parsed body re-serialized with each integer float() cannot convert (Pydantic's
    OverflowError, FastAPI's 500) as +-Infinity, which is what predictd makes of it; None
    when json.loads refuses the body."""
    try:
        doc = json.loads(body)
    except (ValueError, RecursionError):
        return None

    def sub(v):
        if isinstance(v, int) and not isinstance(v, bool):
            try:
                float(v)
            except OverflowError:
                return math.inf if v > 0 else -math.inf
        if isinstance(v, list):
            return [sub(x) for x in v]
        if isinstance(v, dict):
            return {k: sub(x) for k, x in v.items()}
        return v
    return json.dumps(sub(doc)).encode()


def bits(v):
    return struct.pack("<d", v)


def not_finite_body(rows, listed):
    items = []
    for i, row in enumerate(rows):
        for name, v in zip(NAMES, row):
            if v is not None and math.isinf(v):
                loc = ["body", i, name] if listed else ["body", name]
                items.append({"loc": loc, "msg": "ensure this value is a finite number",
                              "type": "value_error.number.not_finite_number"})
    return json.dumps({"detail": items}, separators=(",", ":"), ensure_ascii=False).encode()


def expect_from_echo(reprs, missing_ok, listed):
    """What the codec must answer for the floats Pydantic produced: (0, rows) or
    (422, body). None -> missing (NaN); NaN -> missing or not finite; inf -> not finite."""
    rows = []
    for r in reprs:
        row = []
        for v in r:
            f = math.nan if v == "None" else float(v)
            if math.isnan(f) and not missing_ok:
                f = math.inf  # reported as not finite, like inf
            row.append(f)
        rows.append(row)
    if any(math.isinf(f) for row in rows for f in row):
        return 422, not_finite_body(rows, listed)
    return 0, rows


def same_rows(got, want):
    if len(got) != len(want):
        return False
    for g, w in zip(got, want):
        for a, b in zip(g, w):
            if not ((math.isnan(a) and math.isnan(b)) or bits(a) == bits(b)):
                return False
    return True


TOK = [b"{", b"}", b"[", b"]", b'"', b",", b":", b"\\", b" ", b"0", b"1", b"9", b".", b"e",
       b"-", b"true", b"false", b"null", b"NaN", b"Infinity", b"-Infinity", b"\\u00",
       b"\\ud800", b"\n", b"\x00", "é".encode(), b"\xff", b'"feature1"', b'"feature2"',
       b'"feature1":', b"inf", b"nan", b'"nan"', b'["feature1",1]', b'["feature2",null]',
       b"{},", b"[],", b"null,", b'"",', b'"ab",', b'{"feature1":1,"feature2":2},',
       b'{"feature1":NaN}', b'{"feature2":"x"}', b'{"__pydantic_self__":1}', b"[[1,2]]",
       b"1e400", b"1" + b"0" * 320]


def mutate(b, rnd):
    b = bytearray(b)
    for _ in range(rnd.randint(1, 4)):
        op, at, t = rnd.randrange(4), rnd.randint(0, len(b)), rnd.choice(TOK)
        if op == 0 and at < len(b):
            b[at:at + 1] = t
        elif op == 1:
            b[at:at] = t
        elif op == 2 and at < len(b):
            del b[at]
        elif op == 3 and rnd.random() < 0.2:
            del b[at:]
    return bytes(b)


KEYS = [b'"feature1"', b'"feature2"', b'"feature1"', b'"feature2"', b'"feature\\u0031"', b'"x"',
        b'"__pydantic_self__"', b'""']
VALUES = [b"1", b"-0.0", b"1.5e3", b"0.1", b'"2"', b'" 3 "', b'"1_0"', b'"x"', b'""', b"null",
          b"true", b"false", b"NaN", b"Infinity", b"-Infinity", b"1e400", b"1" + b"0" * 320,
          b"[1]", b'{"a": 1}', b'"nan"', b'"-inf"', "\"\u0661\"".encode(), b"12345678901234567890"]
SCALARS = [b"null", b"1", b"1.5", b'""', b'"ab"', b'"a1"', b"true", b"NaN", b"[]", b"{}", b'[""]',
           b'["feature1"]', b"[[1, 2]]", b"[5]"]


def gen_element(rnd):
    """One random list element: an object, an array of pairs, or a scalar."""
    r = rnd.random()
    if r < 0.6:
        k = rnd.randint(0, 3)
        return b"{" + b", ".join(rnd.choice(KEYS) + b": " + rnd.choice(VALUES)
                                 for _ in range(k)) + b"}"
    if r < 0.85:
        pairs = []
        for _ in range(rnd.randint(0, 3)):
            p = rnd.random()
            if p < 0.7:
                pairs.append(b"[" + rnd.choice(KEYS) + b", " + rnd.choice(VALUES) + b"]")
            elif p < 0.8:
                pairs.append(b'{"feature1": 0, "7": 1}')
            else:
                pairs.append(rnd.choice([b"[1, 2]", b"[null, 1]", b'["feature1"]', b"5", b'"ab"',
                                         b'["feature2", 1, 2]', b'"f9"']))
        return b"[" + b", ".join(pairs) + b"]"
    return rnd.choice(SCALARS)


def gen_list(rnd):
    """A well-formed list of random elements (JSON, so FastAPI validates it as a list)."""
    return b"[" + b", ".join(gen_element(rnd) for _ in range(rnd.randint(0, 5))) + b"]"


def seed_bodies():
    """List bodies (the golden list cases, and arrays of the single-row golden bodies) and
    some single-row bodies."""
    # Deep nesting is left out: in-process, Python's recursion limit is reached at another
    # depth than under uvicorn + uvloop, the setup PD_JSON_MAX_DEPTH is pinned to (the
    # golden cases, recorded over sockets, cover it).
    lists = [c[2] for c in glc.CASES if c[1] == "application/json" and "depth" not in c[0]]
    with open(os.path.join(ROOT, "tests", "data", "validation_cases.json"), encoding="utf-8") as f:
        singles = [c["body"].encode() if "body" in c else base64.b64decode(c["body_b64"])
                   for c in json.load(f)]
    singles = [s for s in singles if len(s) < 400]
    return lists, singles


class Differ:
    def __init__(self):
        self.codec = Codec()
        self.apps = {False: fsa.create_app(Echo(), NAMES),
                     True: fsa.create_app(Echo(), NAMES, optional=True)}
        self.fixed = Fixed()
        self.fixed_app = fsa.create_app(self.fixed, NAMES)
        self.lists, self.singles = seed_bodies()
        self.bad = self.substituted = 0
        self.seen = {}  # (list or one row, missing_ok, FastAPI's status) -> bodies

    def report(self, what, body, theirs, ours):
        self.bad += 1
        if self.bad <= 15:
            print("MISMATCH", what, repr(body)[:300])
            print("  fastapi", theirs[0], theirs[1][:400])
            print("  codec  ", ours[0], ours[1][:400])

    def one_body(self, rnd):
        r = rnd.random()
        if r < 0.4:
            return gen_list(rnd) if rnd.random() < 0.9 else mutate(gen_list(rnd), rnd)
        r = (r - 0.4) / 0.6
        if r < 0.15:
            body = rnd.choice(self.singles)
        elif r < 0.45:
            body = rnd.choice(self.lists)
        else:  # an array of golden single-row bodies (some of them invalid JSON)
            k = rnd.randint(0, 4)
            body = b"[" + b", ".join(rnd.choice(self.singles) for _ in range(k)) + b"]"
        return mutate(body, rnd) if rnd.random() < 0.85 else body

    async def check(self, body, missing_ok, max_rows):
        listed = is_list_body(body)
        path = "/predict_list" if listed else "/predict_non_blocking"
        st, resp = await asgi_call(self.apps[missing_ok], path, J, body)
        rc, rows, single, err = self.codec.decode(J, body, missing_ok, max_rows)
        key = ("list" if listed else "one", "missing_ok" if missing_ok else "float", st)
        self.seen[key] = self.seen.get(key, 0) + 1
        ours = (rc, err if rc else repr(rows).encode())
        if listed and max_rows and len(json.loads(body)) > max_rows:
            want = ('{"detail":"too many rows: the body holds more than %d rows (the limit '
                    'is --max-rows)"}' % max_rows).encode()
            if not (rc == 413 and err == want):
                self.report("413", body, (413, want), ours)
            return
        if st == 500 and (sub := overflow_free(body)) is not None:
            # Pydantic's OverflowError: FastAPI's answer had the integer been infinite
            st, resp = await asgi_call(self.apps[missing_ok], path, J, sub)
            self.substituted += 1
        if st == 200:
            reprs = json.loads(resp)["predictions" if listed else "prediction"]
            want_rc, want = expect_from_echo(reprs if listed else [reprs], missing_ok, listed)
            if want_rc == 422:
                ok = rc == 422 and err == want
            else:
                ok = rc == 0 and single == (not listed) and same_rows(rows, want)
        elif st in (400, 422):
            ok = rc == st and err == resp
        else:  # FastAPI cannot encode its own jsondecode error: a lone surrogate in ctx.doc
            ok = rc == 422 and b"jsondecode" in err and "\ufffd".encode() in err
        if not ok:
            self.report("decode" + (" missing_ok" if missing_ok else ""), body, (st, resp),
                        ours)

    async def check_encode(self, rnd):
        """One random result set through the codec and through the app's JSONResponse."""
        import numpy as np
        kind = rnd.choice(["value", "int", "str"])
        n = rnd.randint(1, 5)
        single = rnd.random() < 0.3
        n = 1 if single else n
        if kind == "value":
            val = [rnd.choice([0.0, -0.0, 1.0, 1e16, 1e-7, 123456.789, rnd.uniform(-1e6, 1e6),
                               rnd.random() * 10 ** rnd.randint(-320, 308)]) for _ in range(n)]
            self.fixed.out = np.array(val, dtype=np.float64)
            ours = self.codec.encode(1, None, single, 1, val=val)
        else:
            labels = ([-3, 0, 1, 7, 2 ** 40] if kind == "int" else
                      ["setosa", "café", 'q"uote\\', "ctl\x01\n", "\u2028"])
            cls = [rnd.randrange(len(labels)) for _ in range(n)]
            self.fixed.out = np.array([labels[k] for k in cls])
            ours = self.codec.encode(0, labels, single, 1, cls=cls)
        rows = b",".join(b'{"feature1":1,"feature2":2}' for _ in range(n))
        path = "/predict_non_blocking" if single else "/predict_list"
        st, resp = await asgi_call(self.fixed_app, path, J, rows if single else b"[" + rows + b"]")
        if not (st == 200 and ours == (0, resp)):
            self.report("encode " + kind, self.fixed.out, (st, resp), ours)

    def check_proba(self, rnd):
        """Probabilities: json.dumps as FastAPI's JSONResponse renders them (no app route)."""
        labels = rnd.choice([[0, 1, 2], [-1, 5], ["a", "é\"x", "b"]])
        single = rnd.random() < 0.4
        n = 1 if single else rnd.randint(0, 4)
        proba = [rnd.random() for _ in range(n * len(labels))]
        cls = [rnd.randrange(len(labels)) for _ in range(n)]
        both = rnd.random() < 0.5
        objs = [{str(l): proba[i * len(labels) + k] for k, l in enumerate(labels)}
                for i in range(n)]
        content = {}
        if both:
            content["prediction" if single else "predictions"] = (
                labels[cls[0]] if single else [labels[k] for k in cls])
        content["probabilities"] = objs[0] if single else objs
        want = json.dumps(content, ensure_ascii=False, allow_nan=False, indent=None,
                          separators=(",", ":")).encode()
        ours = self.codec.encode(0, labels, single, 3 if both else 2, cls=cls, proba=proba)
        if ours != (0, want):
            self.report("proba", labels, (200, want), ours)


def run(seed=1, n=3000, verbose=True):
    """Runs n decode cases (and n/10 encode cases); returns the number of mismatches."""
    rnd = random.Random(seed)
    d = Differ()

    async def main():
        for _ in range(n):
            body = d.one_body(rnd)
            missing_ok = rnd.random() < 1 / 3
            max_rows = rnd.randint(0, 3) if rnd.random() < 0.2 and is_list_body(body) else 0
            await d.check(body, missing_ok, max_rows)
        for _ in range(max(n // 10, 20)):
            await d.check_encode(rnd)
            d.check_proba(rnd)
    asyncio.run(main())
    if verbose:
        print(f"{n} bodies: {d.bad} mismatches ({d.substituted} FastAPI 500s on a huge "
              "integer compared with its answer for Infinity there)")
        print("  by FastAPI's answer:", ", ".join(f"{'/'.join(map(str, k))} {v}"
                                                 for k, v in sorted(d.seen.items())))
    return d.bad


if __name__ == "__main__":
    bad = run(int(sys.argv[1]) if len(sys.argv) > 1 else 1,
                 int(sys.argv[2]) if len(sys.argv) > 2 else 3000)
    sys.exit(1 if bad else 0)
