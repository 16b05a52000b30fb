"""test_config_env.py - configuration by environment and structured logs, against the real
binary: every `serve` option has a PREDICTD_<OPTION> variable (listed in --help, derived
from the option's name), a flag wins over its variable, bad values are usage errors (exit 2)
naming the variable, PREDICTD_MODELS gives the model paths; --log-format json writes one
valid JSON object per line (access lines with their fields and the client's address, file
names with quotes, control characters and bytes that are not UTF-8); --access-log on|off.
"""
import json
import os
import re
import socket
import subprocess

import pytest

from conftest import HOST, PredictdServer, free_port, http_get, predictd_bin, request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "models")
IRIS = os.path.join(MODELS, "iris.json")
SEED = os.path.join(MODELS, "seed.json")
IRIS_ROW = b'{"instances": [[5.1, 3.5, 1.4, 0.2]]}'


def clean_env(**extra):
    """The environment without any PREDICTD_* variable of the caller, plus extra."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREDICTD_")}
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
    env.update(extra)
    return env


def run_serve(*args, env=None, timeout=30):
    """Runs `predictd serve ARGS` to completion (for usage errors and --help)."""
    return subprocess.run([predictd_bin(), "serve", *args], capture_output=True, text=True,
                          env=clean_env(**(env or {})), timeout=timeout)


class EnvServer(PredictdServer):
    """A server started with exactly `args` (no --host/--port added) and a clean
    environment plus `env`; it listens where PREDICTD_PORT or a flag says (`port`)."""

    def __init__(self, args, port, env):
        super().__init__(port=port)
        self.args = [self.binary, "serve", *args]
        self.env = clean_env(**env)


@pytest.fixture
def env_server():
    started = []

    def spawn(*args, port, env=None, wait=True):
        srv = EnvServer(args, port, env or {})
        started.append(srv)
        return srv.start(wait=wait)

    yield spawn
    for srv in started:
        srv.stop()
        err = srv.stderr_text()
        assert "Sanitizer" not in err and "runtime error:" not in err, err


def help_options(with_default=False):
    """[(flag, metavar or '', variable)] from `predictd serve --help`; with_default adds
    the default it shows ("x" when it shows none). Empty without a binary to ask."""
    if not os.environ.get("PREDICTD_BIN"):
        return []
    out = run_serve("--help").stdout
    rows = []
    for line in out.splitlines():
        m = re.match(r"^  (--[a-z-]+)(?: (\S+))? .*\[(PREDICTD_[A-Z_]+)\]$", line)
        if m:
            d = re.search(r"\(default ([^)]+)\) \[", line)
            rows.append((m.group(1), m.group(2) or "", m.group(3)) +
                        ((d.group(1) if d else "x",) if with_default else ()))
    return rows


def env_name(flag):
    return "PREDICTD_" + flag[2:].upper().replace("-", "_")


# ------------------------------------------------------------------ the variables

def test_help_lists_a_variable_for_every_option_derived_from_its_name():
    out = run_serve("--help").stdout
    flags = re.findall(r"^  (--[a-z-]+)", out, re.M)
    rows = help_options()
    assert len(rows) == len(flags) >= 25, out  # every option line has its variable
    for flag, _, var in rows:
        assert var == env_name(flag)
    assert {"PREDICTD_PORT", "PREDICTD_WORKERS", "PREDICTD_MAX_BODY_SIZE", "PREDICTD_HOST",
            "PREDICTD_LOG_FORMAT", "PREDICTD_ACCESS_LOG"} <= {v for _, _, v in rows}
    assert "PREDICTD_MODELS" in out and "PREDICTD_ADMIN_TOKEN" in out


def bad_value(metavar):
    """A value the option refuses, by its kind (as --help shows it)."""
    if metavar in ("N", "BYTES", "ROWS", "US", "MS"):
        return "12x"
    if metavar == "SEC":
        return "soon"
    if metavar == "[on|off]":
        return "maybe"
    if metavar in ("LEVEL", "FORMAT", "MODE"):
        return "bogus"
    return "x" * 5000  # free strings: longer than any field


@pytest.mark.parametrize("flag,metavar,var,default",
                         help_options(with_default=True) or [("", "", "", "")])
def test_every_variable_is_read_and_a_bad_value_names_it(flag, metavar, var, default):
    if not flag:
        pytest.skip("no binary")
    p = run_serve(env={var: bad_value(metavar)})
    assert p.returncode == 2, p.stderr
    assert p.stderr.startswith(f"predictd serve: {var}: "), p.stderr
    assert p.stderr.count("\n") == 1
    # the same value behind the flag: the flag wins, so the variable is not even read
    # (checked with a usage error that comes after parsing: an unknown option)
    p = run_serve(f"{flag}={default}", "--no-such-option",
                  env={var: bad_value(metavar)})
    assert p.returncode == 2 and "--no-such-option" in p.stderr, p.stderr


def test_flag_errors_still_name_the_flag():
    p = run_serve("--port", "99999")
    assert p.returncode == 2 and p.stderr.startswith("predictd serve: --port: "), p.stderr
    p = run_serve("--access-log=maybe")
    assert p.returncode == 2 and "--access-log: expected on or off" in p.stderr


def test_host_port_and_limits_from_the_environment(env_server):
    port = free_port()
    srv = env_server(IRIS, port=port, env={"PREDICTD_HOST": HOST, "PREDICTD_PORT": str(port),
                                          "PREDICTD_MAX_BODY_SIZE": "100",
                                          "PREDICTD_WORKERS": "3"})
    assert http_get(port, "/health").status == 200
    r = request(port, "POST", "/v1/models/iris:predict", body=IRIS_ROW)
    assert r.status == 200
    big = b'{"instances": [' + b",".join([b"[5.1, 3.5, 1.4, 0.2]"] * 10) + b"]}"
    assert request(port, "POST", "/v1/models/iris:predict", body=big).status == 413
    metrics = http_get(port, "/metrics").body.decode()
    assert re.search(r"^predictd_pool_workers 3$", metrics, re.M), metrics[:2000]
    assert "not a predictd setting" not in srv.stderr_text()


def test_a_flag_wins_over_its_variable(env_server):
    env_port, flag_port = free_port(), free_port()
    env_server("--port", str(flag_port), IRIS, port=flag_port,
               env={"PREDICTD_HOST": HOST, "PREDICTD_PORT": str(env_port),
                    "PREDICTD_MAX_BODY_SIZE": "10"})
    assert http_get(flag_port, "/health").status == 200
    with pytest.raises(OSError):
        socket.create_connection((HOST, env_port), timeout=1).close()
    # PREDICTD_MAX_BODY_SIZE still applies: only the flags given win
    assert request(flag_port, "POST", "/v1/models/iris:predict", body=IRIS_ROW).status == 413


def test_models_from_the_environment_colon_separated(env_server):
    port = free_port()
    env_server(port=port, env={"PREDICTD_HOST": HOST, "PREDICTD_PORT": str(port),
                               "PREDICTD_MODELS": f"{IRIS}::{SEED}:",
                               "PREDICTD_DEFAULT_MODEL": "seed"})
    names = {m["name"] for m in json.loads(http_get(port, "/models").body)["models"]}
    assert names == {"iris", "seed"}
    r = request(port, "POST", "/predict", body=b'{"feature1": 14.2, "feature2": 20.5}',
                headers={"Content-Type": "application/json"})
    assert r.status == 200, r.body  # /predict serves PREDICTD_DEFAULT_MODEL


def test_model_paths_on_the_command_line_win_over_predictd_models(env_server):
    port = free_port()
    env_server(SEED, port=port, env={"PREDICTD_HOST": HOST, "PREDICTD_PORT": str(port),
                                     "PREDICTD_MODELS": IRIS})
    names = {m["name"] for m in json.loads(http_get(port, "/models").body)["models"]}
    assert names == {"seed"}


def test_empty_variable_counts_as_unset(env_server):
    port = free_port()
    env_server("--port", str(port), IRIS, port=port,
               env={"PREDICTD_HOST": HOST, "PREDICTD_WORKERS": "", "PREDICTD_LOG_FORMAT": ""})
    assert http_get(port, "/health").status == 200


def test_explicit_mode_from_the_environment_needs_the_token():
    p = run_serve(IRIS, env={"PREDICTD_MODEL_CONTROL": "explicit"})
    assert p.returncode == 2 and "admin token" in p.stderr


def test_unknown_variable_warns_and_a_kubernetes_service_link_is_ignored():
    # PREDICTD_PORT=tcp://... is what Kubernetes injects for a Service named predictd; it is
    # ignored with a warning (--strict + a missing model makes the run end before listening,
    # so no fixed port is bound)
    p = run_serve("--strict", "/nonexistent/model.json",
                  env={"PREDICTD_PORT": "tcp://10.0.0.7:8000", "PREDICTD_WORKER": "4",
                       "PREDICTD_SERVICE_HOST": "10.0.0.7", "PREDICTD_PORT_8000_TCP": "x"})
    assert p.returncode == 1, p.stderr
    assert "PREDICTD_WORKER is not a predictd setting" in p.stderr
    assert "looks like a Kubernetes service link" in p.stderr
    assert "PREDICTD_SERVICE_HOST" not in p.stderr and "PREDICTD_PORT_8000" not in p.stderr


# ------------------------------------------------------------------ logs

def json_lines(text):
    """Every line parsed as JSON (a line that does not parse fails the test)."""
    out = []
    for line in text.splitlines():
        try:
            obj = json.loads(line)
        except ValueError:
            pytest.fail(f"not a JSON line: {line!r}")
        assert isinstance(obj, dict)
        assert set(obj) >= {"time", "level", "message"}, obj
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", obj["time"]), obj
        assert obj["level"] in ("debug", "info", "warning", "error"), obj
        out.append(obj)
    return out


def test_json_logs_with_access_lines_and_the_client_address(env_server):
    port = free_port()
    srv = env_server("--access-log", "on", IRIS, port=port,
                     env={"PREDICTD_HOST": HOST, "PREDICTD_PORT": str(port),
                          "PREDICTD_LOG_FORMAT": "json"})
    s = socket.create_connection((HOST, port), timeout=10)
    client_port = s.getsockname()[1]
    assert request(port, "GET", "/health", sock=s).status == 200
    s.close()
    assert request(port, "POST", "/v1/models/iris:predict", body=IRIS_ROW).status == 200
    assert http_get(port, "/nope%22%0a").status == 404
    srv.stop()
    lines = json_lines(srv.stderr_text())
    assert any("listening on" in o["message"] for o in lines)
    access = [o for o in lines if o.get("kind") == "access"]
    health = [o for o in access if o["path"] == "/health" and o["client_port"] == client_port]
    assert health, access
    a = health[0]
    assert a["method"] == "GET" and a["status"] == 200 and a["level"] == "info"
    assert a["client_addr"] == "127.0.0.1"
    assert isinstance(a["bytes"], int) and a["bytes"] > 0
    assert isinstance(a["duration_us"], int) and a["duration_us"] >= 0
    assert a["message"] == "GET /health 200"
    assert any(o["path"] == "/v1/models/iris:predict" and o["method"] == "POST" and
               o["status"] == 200 for o in access)
    assert any(o["path"] == "/nope%22%0a" and o["status"] == 404 for o in access)


def test_json_log_lines_escape_file_names_and_malformed_requests(env_server, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "iris.json").write_bytes(open(IRIS, "rb").read())
    weird = b'bad"\\\n\t\x01\xff.json'
    with open(os.path.join(os.fsencode(repo), weird), "wb") as f:
        f.write(b"{not json")
    port = free_port()
    srv = env_server("--port", str(port), "--log-format=json", "--access-log", str(repo),
                     port=port, env={"PREDICTD_HOST": HOST})
    s = socket.create_connection((HOST, port), timeout=10)
    s.sendall(b"GET /a\xff\x01b HTTP/1.1\r\nHost: x\r\n\r\n")  # a 400 the server answers
    s.recv(4096)
    s.close()
    srv.stop()
    lines = json_lines(srv.stderr_text())
    skipped = [o for o in lines if "skipped" in o["message"] and o["level"] == "error"]
    assert skipped and 'bad"\\\n\t\x01\ufffd.json' in skipped[0]["message"], lines
    assert any(o.get("kind") == "access" and o["status"] == 400 for o in lines), lines


def test_text_access_log_has_the_client_and_off_turns_it_off(env_server):
    port = free_port()
    srv = env_server("--port", str(port), "--access-log", IRIS, port=port,
                     env={"PREDICTD_HOST": HOST})
    assert http_get(port, "/nope").status == 404  # bare flag before a path: still a path
    srv.stop()
    assert re.search(r"INFO  GET /nope 404 \d+ \d+ 127\.0\.0\.1:\d+ [0-9a-f]{16}-[0-9a-f]+$",
                     srv.stderr_text(), re.M)

    port = free_port()
    srv = env_server("--port", str(port), "--access-log", "off", IRIS, port=port,
                     env={"PREDICTD_HOST": HOST, "PREDICTD_ACCESS_LOG": "on"})
    assert http_get(port, "/nope").status == 404
    srv.stop()
    assert "GET /nope" not in srv.stderr_text()


def test_log_level_from_the_environment(env_server):
    port = free_port()
    srv = env_server("--port", str(port), IRIS, port=port,
                     env={"PREDICTD_HOST": HOST, "PREDICTD_LOG_LEVEL": "warning",
                          "PREDICTD_ACCESS_LOG": "true"})
    assert http_get(port, "/health").status == 200
    srv.stop()
    assert srv.stderr_text() == ""  # info lines (and access lines) are below warning


def test_a_runtime_failure_is_a_json_line_too():
    with socket.socket() as taken:
        taken.bind((HOST, 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        p = run_serve(IRIS, env={"PREDICTD_HOST": HOST, "PREDICTD_PORT": str(port),
                                 "PREDICTD_LOG_FORMAT": "json", "PREDICTD_LOG_LEVEL": "off"})
    assert p.returncode == 1
    lines = json_lines(p.stderr)
    assert lines and lines[-1]["level"] == "error" and "address" in lines[-1]["message"].lower(), p.stderr
