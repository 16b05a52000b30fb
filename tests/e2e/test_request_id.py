"""test_request_id.py - X-Request-Id end to end (issue 13, "Configuration and logs"):

- a client's id is kept when it is 1..128 bytes of printable ASCII without space, '"' or
  '\\'; otherwise (absent, empty, too long, other bytes) the server makes one:
  <16 hex digits of a per-process prefix>-<hex counter>, unique per request;
- every answer echoes it in X-Request-Id: 200, 404, 405, 413, 422, and the 400 the server
  gives a malformed request itself;
- the access log carries it: "request_id" in --log-format json lines, the last field in
  text lines;
- KServe V2 answers it as the response's "id" when the request body gave none (JSON and
  binary requests); a body's own "id" wins.

Every request is a raw socket with a timeout; servers listen on 127.0.0.1.
"""
import json
import os
import re
import socket
import struct

import pytest

from conftest import HOST, http_get, read_response, request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "models")
ID_MAX = 128  # PD_HTTP_REQUEST_ID_MAX
GENERATED = re.compile(r"[0-9a-f]{16}-[0-9a-f]+")
SEED_ROW = b'{"feature1": 1.5, "feature2": 2.5}'
IRIS_V2 = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64",
                       "data": [5.1, 3.5, 1.4, 0.2]}]}


@pytest.fixture
def srv(spawn_server):
    return spawn_server("--access-log", "on", "--log-format", "json", "--max-body-size", "2000",
                        "--default-model", "seed", MODELS)


def rid(r):
    return r.headers.get("x-request-id")


def access_lines(srv):
    """The JSON access lines the server wrote (after it stopped)."""
    out = []
    for line in srv.stderr_text().splitlines():
        obj = json.loads(line)  # every line is JSON
        if obj.get("kind") == "access":
            out.append(obj)
    return out


def test_a_client_id_is_kept_and_echoed(srv):
    for good in ("abc-123", "x", "trace=00-4bf92f3577b34da6-01;span/7", "!#$%&'()*+,./:;<=>?@[]^_`{|}~",
                 "k" * ID_MAX):
        r = request(srv.port, "GET", "/health", headers={"X-Request-Id": good})
        assert r.status == 200 and rid(r) == good, (good, r)
    r = request(srv.port, "GET", "/health", headers={"x-request-id": "lower-case-name"})
    assert rid(r) == "lower-case-name"


def test_generated_ids_are_well_formed_and_unique(srv):
    s = socket.create_connection((HOST, srv.port), timeout=10)
    try:
        ids = [rid(http_get(srv.port, "/health", sock=s)) for _ in range(50)]
    finally:
        s.close()
    ids += [rid(http_get(srv.port, "/health")) for _ in range(20)]  # new connections too
    assert all(i and GENERATED.fullmatch(i) for i in ids), ids
    assert len(set(ids)) == len(ids)
    assert len({i[:16] for i in ids}) == 1  # one prefix per process


@pytest.mark.parametrize("bad", ["k" * (ID_MAX + 1), "", "has space", 'a"b', "a\\b",
                                 "caf\xe9", "tab\there"])
def test_a_bad_client_id_is_replaced(srv, bad):
    r = request(srv.port, "GET", "/health", headers={"X-Request-Id": bad})
    assert r.status == 200, r
    assert GENERATED.fullmatch(rid(r) or ""), (bad, r)


def test_echoed_on_every_status(srv):
    cases = [("GET", "/health", None, 200),
             ("POST", "/predict", SEED_ROW, 200),
             ("GET", "/nope", None, 404),
             ("DELETE", "/predict", None, 405),
             ("POST", "/predict", b'{"feature1": "x"}', 422),
             ("POST", "/predict", b'{"feature1": 1, "feature2": ' + b"1" * 3000 + b"}", 413)]
    for i, (method, path, body, status) in enumerate(cases):
        want = f"case-{i}"
        headers = {"X-Request-Id": want}
        if body is not None:
            headers["Content-Type"] = "application/json"
        r = request(srv.port, method, path, body=body, headers=headers)
        assert r.status == status and rid(r) == want, (method, path, r)
        r = request(srv.port, method, path, body=body, headers=dict(headers, **{
            "X-Request-Id": "bad id"}))
        assert r.status == status and GENERATED.fullmatch(rid(r) or ""), (method, path, r)


def test_echoed_on_the_servers_own_400(srv):
    s = socket.create_connection((HOST, srv.port), timeout=10)
    try:  # an empty header name: the server answers 400 itself, keeping the id it read
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Request-Id: own-400\r\n: v\r\n\r\n")
        r = read_response(s)
    finally:
        s.close()
    assert r.status == 400 and rid(r) == "own-400", r
    s = socket.create_connection((HOST, srv.port), timeout=10)
    try:  # no request line at all: a generated one
        s.sendall(b"\x01\x02 nonsense\r\n\r\n")
        r = read_response(s)
    finally:
        s.close()
    assert r.status == 400 and GENERATED.fullmatch(rid(r) or ""), r


def test_json_access_lines_carry_the_id(srv):
    kept = request(srv.port, "GET", "/health", headers={"X-Request-Id": "logged-1"})
    made = http_get(srv.port, "/nope")
    bad = request(srv.port, "POST", "/predict", body=b"{", headers={
        "X-Request-Id": "logged-2", "Content-Type": "application/json"})
    assert (kept.status, made.status, bad.status) == (200, 404, 422)
    srv.stop()
    by_id = {a.get("request_id"): a for a in access_lines(srv)}
    assert by_id["logged-1"]["path"] == "/health" and by_id["logged-1"]["status"] == 200
    assert by_id[rid(made)]["path"] == "/nope" and by_id[rid(made)]["status"] == 404
    assert by_id["logged-2"]["status"] == 422
    assert all(GENERATED.fullmatch(i) or i.startswith("logged-") for i in by_id), by_id


def test_text_access_lines_end_with_the_id(spawn_server):
    srv = spawn_server("--access-log", "on", MODELS)
    r = request(srv.port, "GET", "/nope", headers={"X-Request-Id": "text-7"})
    assert r.status == 404
    made = rid(http_get(srv.port, "/health"))
    srv.stop()
    text = srv.stderr_text()
    assert re.search(r"INFO  GET /nope 404 \d+ \d+ 127\.0\.0\.1:\d+ text-7$", text, re.M), text
    assert re.search(r"INFO  GET /health 200 \d+ \d+ 127\.0\.0\.1:\d+ " + made + "$", text,
                     re.M), text


def v2_binary(id_=None):
    """The iris row as Triton's binary tensor extension (JSON part, then 32 raw bytes)."""
    head = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP64",
                        "parameters": {"binary_data_size": 32}}]}
    if id_ is not None:
        head["id"] = id_
    j = json.dumps(head).encode()
    return j + struct.pack("<4d", 5.1, 3.5, 1.4, 0.2), {
        "Inference-Header-Content-Length": str(len(j)),
        "Content-Type": "application/octet-stream"}


def test_v2_answers_the_request_id_when_the_body_has_none(srv):
    path = "/v2/models/iris/infer"
    r = request(srv.port, "POST", path, body=json.dumps(IRIS_V2).encode(),
                headers={"X-Request-Id": "v2-header-id", "Content-Type": "application/json"})
    assert r.status == 200, r
    assert r.json()["id"] == "v2-header-id" and rid(r) == "v2-header-id"
    r = request(srv.port, "POST", path, body=json.dumps(IRIS_V2).encode())
    assert r.status == 200 and GENERATED.fullmatch(rid(r)) and r.json()["id"] == rid(r), r
    # the body's own id wins (escapes as sent), the header still carries the request id
    body = dict(IRIS_V2, id="body \"own\" id")
    r = request(srv.port, "POST", path, body=json.dumps(body).encode(),
                headers={"X-Request-Id": "v2-other"})
    assert r.status == 200 and r.json()["id"] == 'body "own" id' and rid(r) == "v2-other"
    # binary request, JSON answer
    raw, headers = v2_binary()
    r = request(srv.port, "POST", path, body=raw, headers=dict(headers, **{
        "X-Request-Id": "v2-binary"}))
    assert r.status == 200, r
    assert r.json()["id"] == "v2-binary"
    raw, headers = v2_binary("bin-own")
    r = request(srv.port, "POST", path, body=raw, headers=headers)
    assert r.status == 200 and r.json()["id"] == "bin-own", r
