"""conftest.py - shared end-to-end fixtures: spawn the real predictd binary on a free
loopback port, wait until it answers, stop it, and talk raw HTTP/1.1 over sockets.

What others reuse:
  free_port()                       -> an unused TCP port on 127.0.0.1
  PredictdServer(args, ...)         one `predictd serve` process (start/stop/signal/stderr;
                                    binary= and cwd= for another binary or directory)
  spawn_server (fixture)            factory: spawn_server("--max-body-size", "100", ...)
                                    -> a started, ready PredictdServer, stopped after the test
  server (fixture)                  one default server for the test module (read-only use)
  connect(port), read_response(sock), request(port, method, path, ...), http_get(port, path)
                                    raw socket helpers (no proxy, no client library magic)

The helpers that need no pytest live in tests/pdtest.py, shared with bench/benchlib.py,
and are re-exported here so that tests keep importing them from conftest.
Every wait here is bounded in time (READY_TIMEOUT, STOP_TIMEOUT, socket timeouts).
The binary comes from $PREDICTD_BIN (set by `make test-e2e`).
"""
import os
import signal
import subprocess
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/
import pdtest  # noqa: E402
from pdtest import (HOST, SOCK_TIMEOUT, Response, connect, forget, free_port,  # noqa: E402,F401
                    http_get, is_closed, read_response, request)

READY_TIMEOUT = 20.0   # seconds for a spawned server to answer /health (ASan start-up)
STOP_TIMEOUT = 30.0    # seconds for a server to exit after SIGTERM


def predictd_bin():
    """Path of the binary under test ($PREDICTD_BIN); skips the test when it is unset."""
    path = os.environ.get("PREDICTD_BIN")
    if not path:
        pytest.skip("PREDICTD_BIN is not set (run through `make test-e2e`)")
    if not os.access(path, os.X_OK):
        pytest.fail(f"PREDICTD_BIN={path} is not an executable")
    return path


# ---------------------------------------------------------------- the server process

class PredictdServer:
    """One `predictd serve` process on 127.0.0.1:<port>. stderr goes to a temp file
    (read it with .stderr_text()), so a chatty server never blocks on a full pipe."""

    def __init__(self, args=(), port=None, env=None, binary=None, cwd=None):
        self.binary = binary or predictd_bin()
        self.cwd = cwd  # None: the test's working directory
        self.port = port or free_port()
        self.args = [self.binary, "serve", "--host", HOST, "--port", str(self.port), *args]
        self.env = dict(os.environ, **(env or {}))
        self.env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        self.proc = None
        self._err = tempfile.TemporaryFile()

    def start(self, wait=True):
        self.proc = subprocess.Popen(self.args, stdout=subprocess.DEVNULL, stderr=self._err,
                                     env=self.env, cwd=self.cwd)
        if wait:
            self.wait_ready()
        return self

    def wait_ready(self, timeout=READY_TIMEOUT):
        """Polls GET /health until it answers 200; fails (with the server's stderr) if the
        process exits first or the timeout passes."""
        try:
            pdtest.wait_ready(self.port, "/health", timeout, proc=self.proc)
        except (RuntimeError, TimeoutError) as e:
            raise type(e)(f"predictd: {e}: {self.stderr_text()}") from None

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
        return pdtest.rss_kib(self.proc.pid)


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
        assert "WARNING: ThreadSanitizer" not in err, err  # the TSan run (make test-tsan)


@pytest.fixture(scope="module")
def server():
    """One default server shared by a test module; tests must leave it as they found it."""
    srv = PredictdServer().start()
    yield srv
    code = srv.stop()
    err = srv.stderr_text()
    assert code == 0, err
    assert "Sanitizer" not in err and "runtime error:" not in err, err
