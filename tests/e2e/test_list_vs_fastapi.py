"""test_list_vs_fastapi.py - pd_codec_fastapi (src/api/codec_fastapi.c), built into a shared
library by tests/fuzz/diff_list_vs_fastapi.py, against the real FastAPI 0.92 + Pydantic
1.10 (the article's app, tests/e2e/fastapi_seed_app.py):

- the golden cases of tests/data/list_validation_cases.json are still what FastAPI
  answers (over sockets, uvicorn + uvloop + httptools, as they were recorded);
- the codec answers every golden case as recorded: expect_status and expect_response
  byte for byte, or the rows with the exact floats Pydantic produced;
- the differential: thousands of generated and mutated bodies (lists, single rows,
  missing_ok) give the same bytes in-process in the codec and in FastAPI.

No predictd process is involved: the HTTP end-to-end test of the lists belongs with the
request pipeline. Every wait is bounded (uvicorn start-up, socket timeouts).
"""
import base64
import json
import math
import os
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "fuzz"))
sys.path.insert(0, os.path.join(ROOT, "tests", "tools"))

import diff_list_vs_fastapi as dl  # noqa: E402
import gen_list_validation_cases as glc  # noqa: E402
import gen_validation_cases as gvc  # noqa: E402

CASES_PATH = os.path.join(ROOT, "tests", "data", "list_validation_cases.json")
DIFF_SEEDS = (11, 12)
DIFF_CASES = 3000  # per seed: about two seconds each


def load_cases():
    with open(CASES_PATH, encoding="utf-8") as f:
        cases = json.load(f)
    for c in cases:
        c["raw"] = (c["body"].encode("utf-8") if "body" in c
                    else base64.b64decode(c["body_b64"]))
    return cases


CASES = load_cases()
IDS = [c["name"] for c in CASES]


@pytest.fixture(scope="module")
def codec():
    return dl.Codec()


@pytest.fixture(scope="module")
def fastapi_ports():
    """The generator's four apps under uvicorn: {missing_ok: (real port, echo port)}."""
    import fastapi_seed_app as fsa
    names = glc.NAMES
    apps = [fsa.create_app(gvc.real_model(), names), fsa.create_app(gvc.EchoModel(), names),
            fsa.create_app(glc.real_model_opt(), names, optional=True),
            fsa.create_app(gvc.EchoModel(), names, optional=True)]
    with gvc.Server(apps[0]) as r, gvc.Server(apps[1]) as e, \
            gvc.Server(apps[2]) as ro, gvc.Server(apps[3]) as eo:
        yield {False: (r.port, e.port), True: (ro.port, eo.port)}


def test_golden_file_is_complete():
    assert [c["name"] for c in CASES] == [c[0] for c in glc.CASES], \
        "regenerate: /usr/bin/python3 tests/tools/gen_list_validation_cases.py"
    assert sum(c["fastapi_path"] == "/predict_list" for c in CASES) >= 40
    assert {c["expect_status"] for c in CASES} >= {200, 400, 413, 422}


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_fastapi_answers_as_recorded(fastapi_ports, case):
    real, echo = fastapi_ports[case["missing_ok"]]
    st, body = gvc.http_post(real, case["fastapi_path"], case["content_type"], case["raw"])
    assert st == case["status"]
    assert body.decode("utf-8", "replace") == case["response"]
    if case["values"] is not None:
        st, body = gvc.http_post(echo, case["fastapi_path"], case["content_type"], case["raw"])
        got = json.loads(body)
        rows = got["predictions"] if case["fastapi_path"] == "/predict_list" else [got["prediction"]]
        assert rows == case["values"]


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_codec_answers_as_recorded(codec, case):
    ct = case["content_type"].encode("latin-1") if case["content_type"] is not None else None
    rc, rows, single, err = codec.decode(ct, case["raw"], case["missing_ok"],
                                         case["max_rows"] or 0)
    if case["expect_status"] != 200:
        assert (rc, err.decode("utf-8", "replace")) == (case["expect_status"],
                                                        case["expect_response"])
        return
    assert (rc, err) == (0, b"")
    assert single == (case["fastapi_path"] != "/predict_list")
    want = [[math.nan if v == "None" else float(v) for v in row] for row in case["values"]]
    assert dl.same_rows(rows, want), (rows, want)


@pytest.mark.parametrize("seed", DIFF_SEEDS)
def test_differential_vs_fastapi(seed):
    assert dl.run(seed, DIFF_CASES) == 0
