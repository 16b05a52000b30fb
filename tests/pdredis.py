"""pdredis.py - a real redis-server (Debian's package) for the feature-lookup tests and
benchmark: started on a free loopback port in its own temporary directory, with nothing
persisted, stopped (and the directory removed) after; plus loading features into it.

  with RedisServer() as r:          # or r = RedisServer().start(); ...; r.stop()
      r.load("user:{}", names, X)   # one hash per row: HSET user:<i> name value ...
      r.url                         # "redis://127.0.0.1:<port>"
      r.stop(); r.start()           # the same port again (the data is gone: load again)

Every wait is bounded (START_TIMEOUT, STOP_TIMEOUT, socket timeouts). DEBUG is enabled
(DEBUG SLEEP makes a slow Redis for the timeout tests).
"""
import math
import os
import shutil
import signal
import subprocess
import tempfile
import time

from pdtest import free_port

REDIS_SERVER = "/usr/bin/redis-server"
START_TIMEOUT = 10.0  # seconds for redis-server to answer PING
STOP_TIMEOUT = 10.0   # seconds for it to exit after SIGTERM
PIPELINE = 1000       # HSETs per round trip when loading


class RedisServer:
    def __init__(self, port=None):
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="pd-redis-")
        self.proc = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def start(self):
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1",
                "--save", "", "--appendonly", "no", "--dir", self.dir,
                "--enable-debug-command", "yes", "--logfile", os.path.join(self.dir, "log")]
        self.proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                if self.client().ping():
                    return self
            except Exception:  # noqa: BLE001 - not up yet
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start: {self.log()}")
            time.sleep(0.05)

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT)
        self.proc = None

    def close(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.close()

    def log(self):
        try:
            with open(os.path.join(self.dir, "log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def client(self, timeout=5.0):
        import redis
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=timeout,
                           socket_connect_timeout=timeout)

    def load(self, key_fmt, names, X, ids=None, fields=None):
        """HSET key_fmt.format(id) for each row of X (ids: range(len(X)) by default);
        a NaN cell is left out of the hash (an absent field). fields maps a feature name
        to its stored field name (default: the same)."""
        c = self.client()
        ids = range(len(X)) if ids is None else ids
        pipe = c.pipeline(transaction=False)
        for n, (i, row) in enumerate(zip(ids, X)):
            m = {(fields or {}).get(k, k): repr(float(v)) for k, v in zip(names, row)
                 if not math.isnan(v)}
            if m:
                pipe.hset(key_fmt.format(i), mapping=m)
            if (n + 1) % PIPELINE == 0:
                pipe.execute()
        pipe.execute()


def available():
    """True when redis-server is installed (the bootstrap installs it)."""
    return shutil.which(REDIS_SERVER) is not None or os.access(REDIS_SERVER, os.X_OK)
