"""cdp.py - a small client of the Chrome DevTools Protocol, enough to drive Debian's headless
Chromium from a test: start it on a fresh profile, open a page, evaluate JavaScript, wait
for a condition, take a screenshot.

  with Browser(tmp_dir) as b:        # starts /usr/bin/chromium headless, no network
      b.navigate("http://127.0.0.1:8000/docs")
      b.wait_for("document.querySelectorAll('.opblock').length > 0")
      b.evaluate("1 + 1")            # -> 2
      b.screenshot(path)             # PNG of the page

Chromium runs with the flags this machine needs (no sandbox as root, no GPU, no
background networking: the network is closed) and --remote-debugging-port=0; the port is
read from DevToolsActivePort in its profile directory. The websocket comes from Debian's
python3-websocket. Every wait is bounded (START_TIMEOUT, CALL_TIMEOUT, wait_for's
timeout); the browser is killed on exit.
"""
import base64
import json
import os
import shutil
import subprocess
import time
import urllib.request

import websocket

CHROMIUM = "/usr/bin/chromium"
START_TIMEOUT = 30.0   # seconds for Chromium to open its DevTools port
CALL_TIMEOUT = 30.0    # seconds for one protocol call to be answered
WINDOW = (1280, 1600)  # the viewport, pixels
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
         "--disable-extensions", "--disable-default-apps", "--hide-scrollbars",
         "--remote-debugging-port=0", "--remote-allow-origins=*"]


def available():
    """True when Debian's chromium is installed."""
    return os.access(CHROMIUM, os.X_OK)


class Browser:
    """One headless Chromium with a profile under tmp_dir, driving its first page."""

    def __init__(self, tmp_dir):
        self.profile = os.path.join(str(tmp_dir), "chromium-profile")
        os.makedirs(self.profile, exist_ok=True)
        self.log_path = os.path.join(str(tmp_dir), "chromium.log")
        self.proc, self.ws, self.next_id = None, None, 0
        self.console = []    # (type, text) of the page's console messages and uncaught
                             # exceptions (type "exception")

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()

    def start(self):
        log = open(self.log_path, "wb")
        args = [CHROMIUM, *FLAGS, f"--user-data-dir={self.profile}",
                f"--window-size={WINDOW[0]},{WINDOW[1]}", "about:blank"]
        self.proc = subprocess.Popen(args, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        port = self._devtools_port()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                pages = [t for t in json.load(r) if t.get("type") == "page"]
            if pages or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        if not pages:
            raise TimeoutError(f"chromium opened no page: {self.log_text()}")
        self.ws = websocket.create_connection(pages[0]["webSocketDebuggerUrl"],
                                              timeout=CALL_TIMEOUT, suppress_origin=True)
        self.call("Page.enable")
        self.call("Runtime.enable")
        self.call("Emulation.setDeviceMetricsOverride", width=WINDOW[0], height=WINDOW[1],
                  deviceScaleFactor=1, mobile=False)

    def _devtools_port(self):
        path = os.path.join(self.profile, "DevToolsActivePort")
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chromium exited ({self.proc.returncode}): {self.log_text()}")
            try:
                with open(path) as f:
                    first = f.readline().strip()
                if first:
                    return int(first)
            except (OSError, ValueError):
                pass
            time.sleep(0.05)
        raise TimeoutError(f"chromium did not open its DevTools port: {self.log_text()}")

    def log_text(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read()[-4000:].decode("utf-8", "replace")
        except OSError:
            return ""

    def close(self):
        if self.ws is not None:
            try:
                self.ws.close()
            except Exception:  # noqa: BLE001 - the browser may be gone already
                pass
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=START_TIMEOUT)
        shutil.rmtree(self.profile, ignore_errors=True)

    def call(self, method, **params):
        """Sends one command and returns its result; events read meanwhile are kept in
        self.console when they are console messages or exceptions."""
        self.next_id += 1
        my_id = self.next_id
        self.ws.send(json.dumps({"id": my_id, "method": method, "params": params}))
        deadline = time.monotonic() + CALL_TIMEOUT
        while time.monotonic() < deadline:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == my_id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if msg.get("method") == "Runtime.consoleAPICalled":
                args = msg["params"].get("args", [])
                self.console.append((msg["params"].get("type"), " ".join(
                    str(a.get("value", a.get("description", ""))) for a in args)))
            elif msg.get("method") == "Runtime.exceptionThrown":
                details = msg["params"]["exceptionDetails"]
                self.console.append(("exception", str(details.get("exception", {}).get(
                    "description", details.get("text")))))
        raise TimeoutError(f"{method}: no answer within {CALL_TIMEOUT}s")

    def navigate(self, url):
        self.call("Page.navigate", url=url)

    def evaluate(self, expression):
        """The value of a JavaScript expression (awaited when it is a promise)."""
        r = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                      awaitPromise=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"{expression}: {r['exceptionDetails']}")
        return r["result"].get("value")

    def wait_for(self, expression, timeout=30.0, every=0.1):
        """Evaluates expression until it is truthy; returns its value or raises
        TimeoutError after timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.evaluate(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise TimeoutError(f"not true within {timeout}s: {expression}; "
                                   f"console: {self.console[-5:]}")
            time.sleep(every)

    def screenshot(self, path, selector_js=None):
        """Writes a PNG to path: of the element the JavaScript expression selector_js
        evaluates to, or of the whole page."""
        params = {"format": "png", "captureBeyondViewport": True}
        if selector_js is not None:
            box = self.evaluate("(() => { const r = (%s).getBoundingClientRect(); return "
                                "{x: r.left + window.scrollX, y: r.top + window.scrollY, "
                                "width: r.width, height: r.height, scale: 1}; })()"
                                % selector_js)
            params["clip"] = box
        r = self.call("Page.captureScreenshot", **params)
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["data"]))
        return path
