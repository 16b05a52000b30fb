"""conftest.py - shared end-to-end fixtures: spawn the real predictd binary on a free
loopback port, wait until it answers, stop it, and talk raw HTTP/1.1 over sockets.

What others reuse:
  free_port()                       -> an unused TCP port on 127.0.0.1
  PredictdServer(args, ...)         one `predictd serve` process (start/stop/signal/stderr)
  spawn_server (fixture)            factory: spawn_server("--max-body-size", "100", ...)
                                    -> a started, ready PredictdServer, stopped after the test
  server (fixture)                  one default server for the test module (read-only use)
  connect(port), read_response(sock), request(port, method, path, ...), http_get(port, path)
                                    raw socket helpers (no proxy, no client library magic)

Every wait here is bounded in time (READY_TIMEOUT, STOP_TIMEOUT, socket timeouts).
The binary comes from $PREDICTD_BIN (set by `make test-e2e`).
"""
import os
import signal
import socket
import subprocess
import tempfile
import time

import pytest

READY_TIMEOUT = 20.0   # seconds for a spawned server to answer /health (ASan start-up)
STOP_TIMEOUT = 30.0    # seconds for a server to exit after SIGTERM
SOCK_TIMEOUT = 10.0    # default socket timeout of the raw helpers
HOST = "127.0.0.1"


def predictd_bin():
    """Path of the binary under test ($PREDICTD_BIN); skips the test when it is unset."""
    path = os.environ.get("PREDICTD_BIN")
    if not path:
        pytest.skip("PREDICTD_BIN is not set (run through `make test-e2e`)")
    if not os.access(path, os.X_OK):
        pytest.fail(f"PREDICTD_BIN={path} is not an executable")
    return path


def free_port():
    """An unused TCP port on 127.0.0.1 (bound once by the kernel, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------- raw HTTP helpers

def connect(port, timeout=SOCK_TIMEOUT):
    """A connected TCP socket to 127.0.0.1:port with a timeout."""
    s = socket.create_connection((HOST, port), timeout=timeout)
    s.settimeout(timeout)
    return s


class Response:
    """One parsed HTTP response: status (int), reason, headers (lower-case name -> value,
    last wins), body (bytes), raw (the bytes of the whole response)."""

    def __init__(self, status, reason, headers, body, raw):
        self.status, self.reason, self.headers, self.body, self.raw = (
            status, reason, headers, body, raw)

    def json(self):
        import json
        return json.loads(self.body)

    def __repr__(self):
        return f"<Response {self.status} {self.headers} {self.body[:200]!r}>"


class _Reader:
    """Buffers a socket so that several responses can be read one after another."""

    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def _fill(self):
        chunk = self.sock.recv(65536)
        if not chunk:
            raise ConnectionError("connection closed by the server")
        self.buf += chunk

    def read_until(self, marker, limit=1 << 20):
        while marker not in self.buf:
            if len(self.buf) > limit:
                raise ValueError("response head too large")
            self._fill()
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def read_exact(self, n):
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


_readers = {}


def read_response(sock):
    """Reads exactly one response (headers + Content-Length body) from sock. Bytes read
    past it are kept for the next call on the same socket. 1xx interim responses are
    returned like any other (call again for the final one)."""
    rd = _readers.get(sock)
    if rd is None or rd.sock is not sock:
        rd = _readers[sock] = _Reader(sock)
    head = rd.read_until(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    version, status, reason = (lines[0].split(" ", 2) + [""])[:3]
    assert version.startswith("HTTP/1."), lines[0]
    headers = {}
    for line in lines[1:]:
        if line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    n = int(headers.get("content-length", "0"))
    body = rd.read_exact(n) if n else b""
    return Response(int(status), reason, headers, body, head + body)


def forget(sock):
    """Drops read_response's buffer for sock (call before closing it in long loops)."""
    _readers.pop(sock, None)


def is_closed(sock, timeout=5.0):
    """True when the server closed the connection (EOF or reset) within timeout."""
    sock.settimeout(timeout)
    rd = _readers.get(sock)
    if rd is not None and rd.buf:
        return False
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


def request(port, method, path, body=None, headers=None, sock=None):
    """Sends one HTTP/1.1 request and reads its response. Uses `sock` if given (kept open),
    else a new connection that is closed afterwards."""
    own = sock is None
    s = connect(port) if own else sock
    try:
        hdrs = {"Host": f"{HOST}:{port}"}
        if body is not None:
            hdrs["Content-Length"] = str(len(body))
        hdrs.update(headers or {})
        head = f"{method} {path} HTTP/1.1\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in hdrs.items()) + "\r\n"
        s.sendall(head.encode("latin-1") + (body or b""))
        return read_response(s)
    finally:
        if own:
            forget(s)
            s.close()


def http_get(port, path, sock=None):
    """GET path; see request()."""
    return request(port, "GET", path, sock=sock)


# ---------------------------------------------------------------- the server process

class PredictdServer:
    """One `predictd serve` process on 127.0.0.1:<port>. stderr goes to a temp file
    (read it with .stderr_text()), so a chatty server never blocks on a full pipe."""

    def __init__(self, args=(), port=None, env=None, binary=None):
        self.binary = binary or predictd_bin()
        self.port = port or free_port()
        self.args = [self.binary, "serve", "--host", HOST, "--port", str(self.port), *args]
        self.env = dict(os.environ, **(env or {}))
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        self.proc = None
        self._err = tempfile.TemporaryFile()

    def start(self, wait=True):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=self._err,
                                     env=self.env)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=READY_TIMEOUT):
        """Polls GET /health until it answers 200; fails if the process exits first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"predictd exited with {self.proc.returncode}: "
                                   f"{self.stderr_text()}")
            try:
                if http_get(self.port, "/health").status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise TimeoutError(f"predictd not ready after {timeout}s: {self.stderr_text()}")

    def signal(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)

    def wait(self, timeout=STOP_TIMEOUT):
        """Waits for the process to exit; returns its exit code."""
        return self.proc.wait(timeout=timeout)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM, then wait (SIGKILL after timeout). Returns the exit code."""
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=timeout)
            raise

    def stderr_text(self):
        self._err.seek(0)
        return self._err.read().decode("utf-8", "replace")

    def rss_kib(self):
        """Resident memory of the process in KiB (from /proc)."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        return 0


@pytest.fixture
def spawn_server():
    """Factory fixture: spawn_server(*args, env=None) -> a ready PredictdServer. Every
    server it started is stopped (SIGTERM) at the end of the test; a sanitizer report
    on its stderr fails the test."""
    started = []

    def spawn(*args, env=None, wait=True):
        srv = PredictdServer(args, env=env)
        started.append(srv)
        return srv.start(wait=wait)

    yield spawn
    for srv in started:
        srv.stop()
        err = srv.stderr_text()
        assert "ERROR: AddressSanitizer" not in err, err
        assert "runtime error:" not in err, err  # UBSan
        assert "ERROR: LeakSanitizer" not in err, err


@pytest.fixture(scope="module")
def server():
    """One default server shared by a test module; tests must leave it as they found it."""
    srv = PredictdServer().start()
    yield srv
    code = srv.stop()
    err = srv.stderr_text()
    assert code == 0, err
    assert "Sanitizer" not in err and "runtime error:" not in err, err
