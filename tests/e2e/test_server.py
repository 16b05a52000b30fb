"""test_server.py - the HTTP server core end to end: the real binary on a free port,
spoken to in raw bytes (keep-alive, pipelining, chunked bodies, 100-continue, limits,
timeouts, connection limit, graceful shutdown, CLI errors)."""
import re
import signal
import socket
import subprocess
import time

from conftest import (HOST, PredictdServer, connect, forget, free_port, http_get, is_closed,
                      predictd_bin, read_response, request)
from pdtest import raise_nofile


def test_health_and_headers(server):
    r = http_get(server.port, "/health")
    assert r.status == 200
    assert r.json() == {"status": "ok"}
    assert r.headers["content-type"] == "application/json"
    assert r.headers["server"] == "predictd"
    assert r.headers["date"].endswith(" GMT")
    assert http_get(server.port, "/v2/health/live").status == 200
    ready = http_get(server.port, "/v2/health/ready")
    assert ready.status == 200 and ready.json() == {"ready": True}


def test_404_and_405_bodies(server):
    r = http_get(server.port, "/no/such/path")
    assert r.status == 404 and r.body == b'{"detail":"Not Found"}'
    r = request(server.port, "POST", "/health", body=b"{}")
    assert r.status == 405 and r.body == b'{"detail":"Method Not Allowed"}'
    assert r.headers["allow"] == "GET"
    # the query string is not part of the path
    assert http_get(server.port, "/health?verbose=1").status == 200


def _exact(status_line, body, extra=b"", close=False):
    """The bytes of an answer the server formats itself, with the Date and the (generated)
    X-Request-Id blanked."""
    return (b"HTTP/1.1 " + status_line + b"\r\nDate: -\r\nServer: predictd\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n" % len(body)
            + (b"Connection: close\r\n" if close else b"") + b"X-Request-Id: -\r\n"
            + extra + b"\r\n" + body)


_GENERATED_ID = re.compile(rb"X-Request-Id: [0-9a-f]{16}-[0-9a-f]+")


def _blank_date(raw):
    """raw with its Date and its X-Request-Id values replaced by "-": the id must be one
    the server generated (these requests send none; test_request_id.py checks the ids)."""
    head, sep, body = raw.partition(b"\r\n\r\n")
    lines = [b"Date: -" if ln.startswith(b"Date: ") else
             b"X-Request-Id: -" if _GENERATED_ID.fullmatch(ln) else ln
             for ln in head.split(b"\r\n")]
    return b"\r\n".join(lines) + sep + body


def test_exact_bytes_of_404_405_and_the_servers_own_errors(server):
    # every byte of these answers is a contract (FastAPI's shapes): keep them identical
    r = http_get(server.port, "/no/such/path")
    assert _blank_date(r.raw) == _exact(b"404 Not Found", b'{"detail":"Not Found"}')
    r = request(server.port, "POST", "/health", body=b"{}")
    assert _blank_date(r.raw) == _exact(b"405 Method Not Allowed",
                                        b'{"detail":"Method Not Allowed"}', b"Allow: GET\r\n")
    r = request(server.port, "DELETE", "/predict")
    assert r.status == 405 and r.headers["allow"] == "POST"
    cases = [
        (b"THIS IS NOT HTTP\r\n\r\n", b"400 Bad Request", b'{"detail":"Bad Request"}'),
        (b"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 17000000\r\n\r\n",
         b"413 Request Entity Too Large", b'{"detail":"Request body too large"}'),
        (b"GET /health HTTP/1.1\r\nX-Big: " + b"a" * 17000 + b"\r\n\r\n",
         b"431 Request Header Fields Too Large",
         b'{"detail":"Request header fields too large"}'),
    ]
    for sent, status_line, body in cases:
        s = connect(server.port)
        s.sendall(sent)
        r = read_response(s)
        assert _blank_date(r.raw) == _exact(status_line, body, close=True), sent[:40]
        forget(s)
        s.close()


def test_head_has_no_body(server):
    s = connect(server.port)
    s.sendall(b"HEAD /nope HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    rd_head = s.recv(65536)
    while rd_head.count(b"HTTP/1.1 ") < 2:
        rd_head += s.recv(65536)
    first, second = rd_head.split(b"HTTP/1.1 ")[1:3]
    assert first.startswith(b"404") and first.endswith(b"\r\n\r\n")  # no body
    assert b"Content-Length: 22\r\n" in first
    assert second.startswith(b"200")
    s.close()


def test_keep_alive_reuses_the_connection(server):
    s = connect(server.port)
    for _ in range(5):
        r = http_get(server.port, "/health", sock=s)
        assert r.status == 200 and "connection" not in r.headers
    forget(s)
    s.close()


def test_three_pipelined_requests_in_one_write_answered_in_order(server):
    s = connect(server.port)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
              b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n"
              b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\n\r\n")
    got = [read_response(s) for _ in range(3)]
    assert [r.status for r in got] == [200, 404, 200]
    assert got[0].json() == {"status": "ok"} and got[2].json() == {"live": True}
    forget(s)
    s.close()


def test_pipeline_deeper_than_the_per_connection_limit(server):
    # 300 requests in one write: the server pauses parsing at its pipeline limit (64)
    # and resumes as answers go out; every one is answered, in order
    n = 300
    paths = [b"/health" if i % 3 else b"/missing-%d" % i for i in range(n)]
    s = connect(server.port)
    s.sendall(b"".join(b"GET " + p + b" HTTP/1.1\r\nHost: x\r\n\r\n" for p in paths))
    got = [read_response(s).status for _ in range(n)]
    assert got == [200 if i % 3 else 404 for i in range(n)]
    forget(s)
    s.close()


def test_request_split_into_many_writes(server):
    s = connect(server.port)
    msg = b"GET /v2/health/live HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n\r\n"
    for i in range(0, len(msg), 7):
        s.sendall(msg[i:i + 7])
    assert read_response(s).status == 200
    forget(s)
    s.close()


def test_chunked_body_is_consumed_exactly(server):
    s = connect(server.port)
    s.sendall(b"POST /health HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
              b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    assert read_response(s).status == 405
    assert read_response(s).status == 200  # the body did not leak into the next request
    forget(s)
    s.close()


def test_expect_100_continue(server):
    s = connect(server.port)
    s.sendall(b"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n"
              b"Expect: 100-continue\r\n\r\n")
    interim = read_response(s)
    assert interim.status == 100
    s.sendall(b"data")
    assert read_response(s).status == 404
    forget(s)
    s.close()


def test_http10_closes_and_keepalive_header(server):
    s = connect(server.port)
    s.sendall(b"GET /health HTTP/1.0\r\n\r\n")
    r = read_response(s)
    assert r.status == 200 and r.headers["connection"] == "close"
    assert is_closed(s)
    forget(s)
    s.close()
    s = connect(server.port)
    s.sendall(b"GET /health HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
    r = read_response(s)
    assert r.status == 200 and r.headers["connection"] == "keep-alive"
    assert http_get(server.port, "/health", sock=s).status == 200
    forget(s)
    s.close()


def test_connection_close_header(server):
    s = connect(server.port)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    r = read_response(s)
    assert r.status == 200 and r.headers["connection"] == "close"
    assert is_closed(s)
    forget(s)
    s.close()


def test_headers_too_large_431(server):
    s = connect(server.port)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 17000 + b"\r\n\r\n")
    r = read_response(s)
    assert r.status == 431 and r.headers["connection"] == "close"
    assert is_closed(s)
    forget(s)
    s.close()


def test_too_many_headers_431(server):
    s = connect(server.port)
    s.sendall(b"GET /health HTTP/1.1\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(200))
              + b"\r\n")
    assert read_response(s).status == 431
    forget(s)
    s.close()


def test_body_too_large_by_content_length_413(server):
    s = connect(server.port)
    # decided from Content-Length alone: the body is never sent
    s.sendall(b"POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 17000000\r\n\r\n")
    r = read_response(s)
    assert r.status == 413 and r.headers["connection"] == "close"
    assert is_closed(s)
    forget(s)
    s.close()


def test_body_too_large_chunked_413(server):
    s = connect(server.port)
    s.sendall(b"POST /nope HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"%x\r\n" % 65536 + b"x" * 65536 + b"\r\n"
    try:
        for _ in range(16 * 16 + 1):  # 16.06 MiB > the 16 MiB default
            s.sendall(chunk)
    except (BrokenPipeError, ConnectionResetError):
        pass
    r = read_response(s)
    assert r.status == 413
    assert is_closed(s)
    forget(s)
    s.close()


def test_malformed_request_400_and_close(server):
    s = connect(server.port)
    s.sendall(b"THIS IS NOT HTTP\r\n\r\n")
    r = read_response(s)
    assert r.status == 400 and r.headers["connection"] == "close"
    assert r.json() == {"detail": "Bad Request"}
    assert is_closed(s)
    forget(s)
    s.close()


def test_slow_headers_408(spawn_server):
    srv = spawn_server("--header-timeout", "1")
    s = connect(srv.port)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Half: ")
    r = read_response(s)  # bounded by the socket timeout
    assert r.status == 408 and r.headers["connection"] == "close"
    assert _blank_date(r.raw) == _exact(b"408 Request Timeout", b'{"detail":"Request Timeout"}',
                                        close=True)
    assert is_closed(s)
    forget(s)
    s.close()


def test_idle_keepalive_connection_closed(spawn_server):
    srv = spawn_server("--keepalive-timeout", "0.5")
    s = connect(srv.port)
    assert http_get(srv.port, "/health", sock=s).status == 200
    assert is_closed(s, timeout=5.0)
    forget(s)
    s.close()


def test_over_max_connections_503(spawn_server):
    srv = spawn_server("--max-connections", "2")
    a, b = connect(srv.port), connect(srv.port)
    assert http_get(srv.port, "/health", sock=a).status == 200
    assert http_get(srv.port, "/health", sock=b).status == 200
    c = connect(srv.port)
    c.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
    r = read_response(c)
    assert r.status == 503 and r.headers["connection"] == "close"
    assert _blank_date(r.raw) == _exact(b"503 Service Unavailable",
                                        b'{"detail":"Too many connections"}', close=True)
    for s in (a, b, c):
        forget(s)
        s.close()


def test_1000_concurrent_keepalive_connections(server):
    n = 1000
    assert raise_nofile() > n + 50
    socks = [connect(server.port) for _ in range(n)]
    try:
        for rnd in range(2):  # the second round proves every connection stayed open
            for s in socks:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            statuses = [read_response(s).status for s in socks]
            assert statuses == [200] * n, rnd
    finally:
        for s in socks:
            forget(s)
            s.close()


def test_sigterm_answers_requests_in_flight_and_exits_0(spawn_server):
    srv = spawn_server()
    idle = connect(srv.port)
    assert http_get(srv.port, "/health", sock=idle).status == 200
    # requests in flight: sent but for their last bytes
    partial = []
    for i in range(20):
        s = connect(srv.port)
        path = b"/v2/health/ready" if i % 2 else b"/health"
        s.sendall(b"GET " + path + b" HTTP/1.1\r\nHost: x\r\n")
        partial.append((path, s))
    time.sleep(0.2)  # let the server read them (not a timing assertion)
    srv.signal(signal.SIGTERM)
    assert is_closed(idle, timeout=10.0)  # idle keep-alive connections are closed
    for path, s in partial:
        s.sendall(b"\r\n")
        r = read_response(s)
        assert r.headers["connection"] == "close"
        if path == b"/health":
            assert r.status == 200
        else:
            assert r.status == 503 and r.json() == {"ready": False}  # draining
    assert srv.wait(timeout=30) == 0
    err = srv.stderr_text()
    assert "shutdown complete" in err, err
    for _, s in partial:
        forget(s)
        s.close()
    forget(idle)
    idle.close()


def test_shutdown_timeout_cuts_off_and_exits_0(spawn_server):
    srv = spawn_server("--shutdown-timeout", "0.5")
    s = connect(srv.port)
    s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # never completed
    time.sleep(0.2)
    srv.signal(signal.SIGTERM)
    assert srv.wait(timeout=30) == 0
    assert "cut off 1" in srv.stderr_text()
    s.close()


def test_port_in_use_exits_1_with_a_message():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as blocker:
        blocker.bind((HOST, 0))
        blocker.listen(1)
        port = blocker.getsockname()[1]
        p = subprocess.run([predictd_bin(), "serve", "--host", HOST, "--port", str(port)],
                           capture_output=True, text=True, timeout=30)
    assert p.returncode == 1
    assert "address already in use" in p.stderr.lower(), p.stderr


def test_bad_flags_exit_2_with_one_line():
    cases = [["--port", "70000"], ["--port", "x"], ["--bogus"], ["--max-body-size"],
             ["--keepalive-timeout", "-1"], ["--log-level", "loud"], ["--port=1=2"]]
    for args in cases:
        p = subprocess.run([predictd_bin(), "serve", *args], capture_output=True, text=True,
                           timeout=30)
        assert p.returncode == 2, (args, p.stderr)
        assert len(p.stderr.strip().splitlines()) == 1, (args, p.stderr)


def test_help_and_version():
    p = subprocess.run([predictd_bin(), "serve", "--help"], capture_output=True, text=True,
                       timeout=30)
    assert p.returncode == 0 and "--max-connections" in p.stdout
    p = subprocess.run([predictd_bin(), "--version"], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and p.stdout.startswith("predictd ")


def test_access_log_line(spawn_server):
    srv = spawn_server("--access-log")
    assert http_get(srv.port, "/nope").status == 404
    srv.stop()
    assert "GET /nope 404" in srv.stderr_text()


def test_free_port_helper_gives_distinct_usable_ports():
    srv = PredictdServer(port=free_port())
    assert 0 < srv.port < 65536
