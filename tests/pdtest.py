"""pdtest.py - the helpers the end-to-end tests (tests/e2e/conftest.py) and the benchmarks
(bench/benchlib.py) share: free loopback ports, raw HTTP/1.1 over sockets (no client
library, no proxy), waiting until a server answers, and process facts from /proc.

  free_port()                          -> an unused TCP port on 127.0.0.1
  raise_nofile()                       -> raises the open-file limit to the hard one
  rss_kib(pid)                         -> resident memory of a process in KiB (0 if gone)
  connect(port), read_response(sock), forget(sock), is_closed(sock),
  request(port, method, path, ...), http_get(port, path, ...)   raw HTTP helpers
  wait_ready(port, path, timeout, proc=None, ok=...)            poll until a server answers

Standard library only, so that pytest and the bench scripts (which put tests/ on
sys.path) import the same file. Every wait is bounded (socket timeouts, poll deadlines).
"""
import json
import resource
import socket
import time

HOST = "127.0.0.1"
SOCK_TIMEOUT = 10.0    # default socket timeout of the raw helpers, seconds
POLL_TIMEOUT = 2.0     # socket timeout of one wait_ready probe, seconds


def free_port():
    """An unused TCP port on 127.0.0.1 (bound once by the kernel, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def raise_nofile():
    """Raises this process's open-file limit to the hard limit (children inherit it);
    returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def rss_kib(pid):
    """Resident set of process pid in KiB, from /proc (0 if it is gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


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
    if not version.startswith("HTTP/1."):
        raise ValueError(f"not an HTTP/1.x response: {lines[0]!r}")
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


def request(port, method, path, body=None, headers=None, sock=None, timeout=SOCK_TIMEOUT):
    """Sends one HTTP/1.1 request and reads its response. Uses `sock` if given (kept open),
    else a new connection (with `timeout`) that is closed afterwards."""
    own = sock is None
    s = connect(port, timeout) if own else sock
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


def http_get(port, path, sock=None, timeout=SOCK_TIMEOUT):
    """GET path; see request()."""
    return request(port, "GET", path, sock=sock, timeout=timeout)


def wait_ready(port, path="/health", timeout=20.0, proc=None, ok=lambda status: status == 200,
               interval=0.05):
    """Polls GET path (a fresh connection each time) until ok(status) holds. Raises
    RuntimeError when proc (a Popen, optional) exits first, TimeoutError after timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server (pid {proc.pid}) exited with {proc.returncode} "
                               "before it was ready")
        try:
            if ok(http_get(port, path, timeout=POLL_TIMEOUT).status):
                return
        except (OSError, ValueError):
            pass
        time.sleep(interval)
    raise TimeoutError(f"nothing answered on {HOST}:{port}{path} within {timeout}s")
