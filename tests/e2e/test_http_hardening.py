"""test_http_hardening.py - regression tests of issue 14's HTTP-layer defects, end to end
through the real binary, in raw bytes: each test failed before its fix.

  1  the header/body deadline bounds a stalled request, not a busy connection
  2  a half-close (shutdown(SHUT_WR)) is not a disconnect: pool answers still arrive
  3  a process-wide budget of buffered bodies and answers (--buffer-budget)
  4  strictness of the smuggling class: 400 (or 501) and close
  5  the write deadline counts from the last write progress (slow readers)
  6  drain: idle keep-alive connections are closed gracefully
  9  fd exhaustion: a warning at start, 503 from a reserve fd, logged and counted
  also: a 408 is labelled with its route; the body buffer grows as bytes arrive

Behaviour only: no timing assertion (a few waits are bounded by BOUND seconds)."""
import json
import os
import resource
import select
import signal
import socket
import subprocess
import threading
import time

import pytest

from conftest import (HOST, PredictdServer, connect, forget, http_get, is_closed,
                      read_response, request)
from test_server import _blank_date, _exact

BOUND = 30.0  # seconds any bounded wait may take (ASan, 2 busy cores)
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SEED_MODEL = os.path.join(ROOT, "models", "seed.json")


def post(path, body, extra=b""):
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: "
            + str(len(body)).encode() + b"\r\n" + extra + b"\r\n" + body)


def metrics_samples(port):
    """{(name, frozenset(labels)): value} of one /metrics scrape."""
    r = http_get(port, "/metrics")
    assert r.status == 200
    out = {}
    for line in r.body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        name_labels, value = line.rsplit(" ", 1)
        if "{" in name_labels:
            name, labels = name_labels.split("{", 1)
            pairs = frozenset(tuple(p.split("=", 1)) for p in
                              labels.rstrip("}").replace('"', "").split(",") if p)
        else:
            name, pairs = name_labels, frozenset()
        out[(name, pairs)] = float(value)
    return out


def sample(m, name, **labels):
    want = frozenset((k, str(v)) for k, v in labels.items())
    return sum(v for (n, ls), v in m.items() if n == name and want <= ls)


def read_all(sock, bound=BOUND):
    """Everything sock delivers until EOF (bounded)."""
    deadline = time.monotonic() + bound
    got = b""
    while True:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = sock.recv(1 << 20)
        except ConnectionResetError:
            return got
        if not chunk:
            return got
        got += chunk
        assert time.monotonic() < deadline, "no EOF after %ss" % bound


def close_quietly(*socks):
    for s in socks:
        forget(s)
        s.close()


# ------------------------------------------------------------ 4: strictness

STRICT_CASES = [
    # 2 bytes after the chunk's data used to be skipped: "0\r\n\r\nGET /metrics" was a
    # second request smuggled inside the body
    ("bytes after chunk data",
     b"POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
     b"2\r\n{}XX0\r\n\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 400),
    ("a transfer coding other than chunked",
     b"POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"
     b"2\r\n{}\r\n0\r\n\r\n", 501),
    ("HTTP/2.0 request line", b"GET /health HTTP/2.0\r\nHost: x\r\n\r\n", 400),
    ("HTTP/0.9 request line", b"GET /health HTTP/0.9\r\nHost: x\r\n\r\n", 400),
    ("empty header name", b"GET /health HTTP/1.1\r\nHost: x\r\n: v\r\n\r\n", 400),
    ("space before the colon", b"GET /health HTTP/1.1\r\nHost : x\r\n\r\n", 400),
]


@pytest.mark.parametrize("what,sent,status", STRICT_CASES, ids=[c[0] for c in STRICT_CASES])
def test_strict_http_rejects_with_one_answer_and_close(server, what, sent, status):
    s = connect(server.port)
    s.sendall(sent)
    raw = read_all(s)
    assert raw.count(b"HTTP/1.1 ") == 1, (what, raw)  # one answer: nothing smuggled
    detail = {400: b"Bad Request", 501: b"Not Implemented"}[status]
    reason = {400: b"400 Bad Request", 501: b"501 Not Implemented"}[status]
    assert _blank_date(raw) == _exact(reason, b'{"detail":"' + detail + b'"}', close=True), what
    close_quietly(s)


def test_chunk_extensions_are_bounded(server):
    s = connect(server.port)
    s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    ext = b"1;" + b"e" * 1000 + b"\r\nx\r\n"
    try:
        for _ in range(40):  # 40 KB of extensions > the 16 KiB header limit
            s.sendall(ext)
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = read_response(s)
    assert r.status == 431 and r.headers["connection"] == "close"
    close_quietly(s)


# ------------------------------------------------------------ 1: deadlines on progress

def test_busy_pipelined_stream_whose_reads_end_mid_request_gets_no_408(spawn_server):
    # every write ends in the middle of a request, so the connection is never idle: the
    # deadline used to be armed once, when it became busy, and fired at 1 s although
    # bytes kept arriving. It bounds a stalled request, not a busy connection.
    srv = spawn_server("--header-timeout", "1")
    req = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
    n = 100
    stream = req * n
    cuts = [i * len(req) + len(req) // 2 for i in range(n)]  # all mid-request
    pieces = [stream[a:b] for a, b in zip([0] + cuts, cuts + [len(stream)])]
    s = connect(srv.port)
    for p in pieces:  # ~3 s of continuous traffic, 3x the timeout
        s.sendall(p)
        time.sleep(0.03)
    got = [read_response(s).status for _ in range(n)]
    assert got == [200] * n
    close_quietly(s)


def test_body_that_keeps_arriving_is_not_timed_out(spawn_server):
    srv = spawn_server("--header-timeout", "1")
    s = connect(srv.port)
    body = b"x" * 30
    s.sendall(b"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 30\r\n\r\n")
    for i in range(len(body)):  # 3 s for the body, a byte every 0.1 s
        s.sendall(body[i:i + 1])
        time.sleep(0.1)
    assert read_response(s).status == 404
    close_quietly(s)


def test_headers_dripping_in_still_get_408(spawn_server):
    # the headers must arrive within the timeout from the request's first byte, however
    # steadily they drip (slowloris)
    srv = spawn_server("--header-timeout", "1")
    s = connect(srv.port)
    s.sendall(b"GET /health HTTP/1.1\r\nX-Slow: ")
    status = None
    for _ in range(40):  # up to 4 s
        try:
            s.sendall(b"a")
        except (BrokenPipeError, ConnectionResetError):
            break
        if select.select([s], [], [], 0.1)[0]:
            break
    status = read_response(s).status
    assert status == 408
    close_quietly(s)


def test_408_of_a_stalled_body_is_labelled_with_its_route(spawn_server):
    srv = spawn_server("--header-timeout", "1")
    s = connect(srv.port)
    s.sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: 40\r\n\r\n{\"feature1\": ")
    r = read_response(s)
    assert r.status == 408 and r.headers["connection"] == "close"
    close_quietly(s)
    m = metrics_samples(srv.port)
    assert sample(m, "predictd_http_requests_total", route="/predict", method="POST",
                  status=408) == 1, {k: v for k, v in m.items()
                                     if k[0] == "predictd_http_requests_total"}
    assert sample(m, "predictd_http_requests_total", route="unmatched", status=408) == 0


# ------------------------------------------------------------ 2: half-close

@pytest.mark.parametrize("path", ["/predict_non_blocking", "/predict", "/health"])
def test_half_closed_client_still_gets_its_answers(spawn_server, path):
    # shutdown(SHUT_WR) after the requests is not a disconnect: routes answered by the pool
    # used to lose their answers (the read EOF canceled the queued job)
    srv = spawn_server(SEED_MODEL)
    s = connect(srv.port)
    if path == "/health":
        s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" * 2)
    else:
        body = json.dumps({"feature1": 1.5, "feature2": -0.5}).encode()
        s.sendall(post(path, body) * 2)
    s.shutdown(socket.SHUT_WR)
    raw = read_all(s)  # then EOF: the server closes after the last answer
    assert raw.count(b"HTTP/1.1 200 OK\r\n") == 2, raw
    close_quietly(s)
    m = metrics_samples(srv.port)
    assert sample(m, "predictd_pool_jobs_total", outcome="canceled") == 0


def test_reset_still_cancels(spawn_server):
    srv = spawn_server(SEED_MODEL)
    s = connect(srv.port)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_response(s).status == 200
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
    close_quietly(s)
    assert http_get(srv.port, "/health").status == 200


# ------------------------------------------------------------ 5: slow readers

def slow_client(port, rcvbuf=16384):
    """A socket with a small receive buffer, so that the server's writes block soon."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(BOUND)
    s.connect((HOST, port))
    return s


CONTROL_BODY = b"\x01" * (1 << 20)  # a 422 echoes it as \u0001 escapes: ~6.3 MB


def test_slow_reader_gets_the_whole_answer(spawn_server):
    # the write deadline used to count from when the write first blocked: a 6 MB answer
    # read steadily was cut after the timeout. It counts from the last progress now.
    srv = spawn_server("--header-timeout", "1", SEED_MODEL)
    s = slow_client(srv.port)
    s.sendall(post("/predict", CONTROL_BODY))
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(4096)
    head, body = head.split(b"\r\n\r\n", 1)
    assert head.startswith(b"HTTP/1.1 422 ")
    length = int([ln for ln in head.split(b"\r\n")
                  if ln.lower().startswith(b"content-length:")][0].split(b":")[1])
    assert length > 6_000_000
    deadline = time.monotonic() + 60
    while len(body) < length:  # steadily, ~1 MB/s through a 16 KB window: ~6 s
        chunk = s.recv(32768)
        assert chunk, f"cut off after {len(body)} of {length} bytes"
        body += chunk
        time.sleep(0.015)
        assert time.monotonic() < deadline
    assert len(body) == length
    assert json.loads(body)["detail"][0]["type"] == "value_error.jsondecode"
    s.close()


# ------------------------------------------------------------ 6: drain

def wait_refused(port, bound=BOUND):
    """Waits until the server no longer accepts connections (its listener is closed)."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
        except OSError:
            return
        time.sleep(0.01)
    raise AssertionError("the server still accepts connections")


def test_drain_answers_a_request_on_an_idle_keepalive_connection(spawn_server):
    # an idle keep-alive connection used to be closed at SIGTERM: a request the client sent
    # at that moment got neither an answer nor "Connection: close"
    srv = spawn_server()
    s = connect(srv.port)
    assert http_get(srv.port, "/health", sock=s).status == 200
    srv.signal(signal.SIGTERM)
    wait_refused(srv.port)  # draining now
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    r = read_response(s)
    assert r.status == 200 and r.headers["connection"] == "close"
    assert is_closed(s, timeout=10.0)
    close_quietly(s)
    assert srv.wait(timeout=BOUND) == 0


def test_drain_under_load_drops_no_request(spawn_server):
    srv = spawn_server()
    stop = threading.Event()
    dropped, answered, closes = [], [], []

    def client():
        s = connect(srv.port)
        n = 0
        try:
            while True:
                try:
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
                    r = read_response(s)
                except (ConnectionError, OSError) as e:  # no answer, no Connection: close
                    dropped.append(repr(e))
                    return
                n += 1
                if r.headers.get("connection") == "close":
                    closes.append(1)
                    return
        finally:
            answered.append(n)
            close_quietly(s)

    threads = [threading.Thread(target=client) for _ in range(8)]
    for t in threads:
        t.start()
    time.sleep(1.0)
    srv.signal(signal.SIGTERM)
    for t in threads:
        t.join(BOUND)
    assert not dropped, dropped
    assert len(closes) == 8 and sum(answered) > 8
    assert srv.wait(timeout=BOUND) == 0


# ------------------------------------------------------------ 9: fd exhaustion

def test_connections_beyond_the_fd_limit_get_503_and_are_counted(tmp_path):
    nofile = 128

    def limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, nofile))

    srv = PredictdServer(["--max-connections", "1000"])
    srv.proc = subprocess.Popen(srv.args, stdout=subprocess.DEVNULL, stderr=srv._err,
                                env=srv.env, preexec_fn=limit)
    try:
        srv.wait_ready()
        # warned at start: --max-connections cannot be reached with this fd limit
        assert "--max-connections" in srv.stderr_text() and "open-file limit" in \
            srv.stderr_text(), srv.stderr_text()
        kept, statuses = [], []
        for _ in range(nofile + 40):
            s = connect(srv.port)
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            try:
                r = read_response(s)  # never a silent close: 200, or 503 and close
            except ConnectionError:
                statuses.append("closed without an answer")
                close_quietly(s)
                continue
            statuses.append(r.status)
            if r.status == 503:
                assert r.headers["connection"] == "close"
                assert r.json() == {"detail": "Too many connections"}
                assert is_closed(s)
                close_quietly(s)
            else:
                kept.append(s)
        assert set(statuses) == {200, 503}, statuses
        n503 = statuses.count(503)
        close_quietly(*kept)
        m = metrics_samples(srv.port)
        assert sample(m, "predictd_http_rejected_connections_total", reason="fd_limit") == n503
        err = srv.stderr_text()
        assert "open-file limit" in err and "503" in err, err
        assert err.count("answered 503") <= 10  # rate-limited
    finally:
        assert srv.stop() == 0
        err = srv.stderr_text()
        assert "Sanitizer" not in err and "runtime error:" not in err, err


# ------------------------------------------------------------ 3: the buffer budget

def test_buffer_budget_bounds_memory_of_clients_that_never_read(spawn_server):
    # 32 clients post 1 MiB of control bytes (each answered by a 422 that echoes it: 6.3 MB)
    # and do not read. Without a budget the server held every body and every answer
    # (~230 MiB here, growing with the clients; 400 of them: 2.5 GiB). With one, bodies
    # beyond it wait unread: what is held depends on the budget, not on the clients.
    budget = 4 << 20
    n = 32
    srv = spawn_server("--buffer-budget", str(budget), "--header-timeout", "120",
                       SEED_MODEL, env={"ASAN_OPTIONS": "detect_leaks=1:quarantine_size_mb=4"})
    rss0 = srv.rss_kib()
    socks = [connect(srv.port, timeout=BOUND * 4) for _ in range(n)]
    senders = [threading.Thread(target=s.sendall, args=(post("/predict", CONTROL_BODY),))
               for s in socks]
    for t in senders:
        t.start()
    # wait until the budget holds bodies back and the held memory stopped growing
    deadline, last = time.monotonic() + BOUND, None
    while True:
        m = metrics_samples(srv.port)
        held = sample(m, "predictd_http_buffered_bytes")
        if sample(m, "predictd_http_connections_waiting_for_budget") > 0 and held == last:
            break
        last = held
        assert time.monotonic() < deadline, m
        time.sleep(0.5)
    grown_mib = (srv.rss_kib() - rss0) / 1024
    assert sample(m, "predictd_http_buffer_budget_bytes") == budget
    assert sample(m, "predictd_http_budget_waits_total") > 0
    # bodies admitted under the budget, and their answers (6x as big: they pass it)
    assert held <= 8 * budget, held
    assert grown_mib < 120, grown_mib  # was ~230 MiB
    assert http_get(srv.port, "/health").status == 200  # the loop serves the rest
    # now everyone reads: every request is answered, completely
    results = [None] * n

    def reader(i):
        results[i] = read_response(socks[i])

    readers = [threading.Thread(target=reader, args=(i,)) for i in range(n)]
    for t in readers:
        t.start()
    for t in senders + readers:
        t.join(BOUND * 4)
    for r in results:
        assert r is not None and r.status == 422
        assert len(r.body) == int(r.headers["content-length"]) > 6_000_000
    close_quietly(*socks)
    m = metrics_samples(srv.port)
    assert sample(m, "predictd_http_buffered_bytes") < 1 << 20
    assert sample(m, "predictd_http_connections_waiting_for_budget") == 0


def test_connection_waiting_for_the_budget_gets_no_408(spawn_server):
    # the wait is the server's doing: however long it lasts, it is not a slow client
    srv = spawn_server("--buffer-budget", str(1 << 20), "--header-timeout", "1", SEED_MODEL)
    a = slow_client(srv.port)
    a.sendall(post("/predict", CONTROL_BODY))
    got = a.recv(4096)
    assert got.startswith(b"HTTP/1.1 422 ")  # a 6.3 MB answer holds the budget ...
    b = connect(srv.port)
    sender = threading.Thread(target=b.sendall, args=(
        b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n" + post("/nope", b"x" * 300_000),))
    sender.start()
    assert read_response(b).status == 200
    total = len(got)
    while True:  # ... while it is read steadily, for longer than the timeout
        chunk = a.recv(32768)
        if not chunk:
            break
        total += len(chunk)
        if total > 6_000_000:
            break
        time.sleep(0.015)
    r = read_response(b)  # the body waited, then went through: no 408
    assert r.status == 404, r
    sender.join(BOUND)
    close_quietly(a, b)
    m = metrics_samples(srv.port)
    assert sample(m, "predictd_http_budget_waits_total") > 0
