"""test_model_memory.py - the parse memory budget of model files (issue 14, defect 8), end
to end: a valid model with a large unknown array is refused with a message saying how much
memory its parse needs and what the limit is - by `predictd inspect` under the default
budget (12x the file's size, at least 64 MiB) and by `predictd serve` under
--max-model-memory - while the other models keep loading and serving. The 50 MB file of the
issue is measured in the notes (/usr/bin/time -v), not here: it is slow under ASan."""
import json
import os
import re
import subprocess

from conftest import http_get, predictd_bin

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
IRIS = os.path.join(ROOT, "models", "iris.json")
MESSAGE = re.compile(r"model parse would need more than (\d+) MiB of memory \(limit (\d+) MiB: "
                     r"12 times the file's size, at least 64 MiB, at most (\d+) MiB")


def iris_with_junk(path, n):
    """iris.json plus an unknown member: an array of n zeros (2 bytes each in the file)."""
    with open(IRIS, encoding="utf-8") as f:
        doc = json.load(f)
    text = json.dumps(doc)
    path.write_text(text[:-1] + ', "unknown_junk": [' + ",".join(["0"] * n) + "]}")
    return str(path)


def test_inspect_refuses_a_parse_over_the_default_budget(tmp_path):
    model = iris_with_junk(tmp_path / "junk.json", 2_500_000)  # 5 MB: the 64 MiB floor
    r = subprocess.run([predictd_bin(), "inspect", model], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 1, r
    m = MESSAGE.search(r.stderr)
    assert m and r.stderr.startswith(f"predictd inspect: {model}: $: "), r.stderr
    need, limit, cap = map(int, m.groups())
    assert limit == 64 and need > limit and cap == 1024
    small = iris_with_junk(tmp_path / "small.json", 100_000)  # under the budget: loads
    r = subprocess.run([predictd_bin(), "inspect", small], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr


def test_serve_max_model_memory_refuses_only_that_model(spawn_server, tmp_path):
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "iris.json").write_bytes(open(IRIS, "rb").read())
    iris_with_junk(repo / "junk.json", 1_000_000)  # 32 MB of numbers at least > 16 MiB
    srv = spawn_server("--max-model-memory", str(16 << 20), str(repo))
    assert http_get(srv.port, "/v2/models/iris/ready").status == 200
    r = http_get(srv.port, "/v2/models/junk/ready")
    assert r.status == 503 and r.json()["ready"] is False, r  # known, failed to load
    srv.stop()
    err = srv.stderr_text()
    m = MESSAGE.search(err)
    assert m and "junk.json" in err, err
    assert int(m.group(2)) == 16 and int(m.group(3)) == 16
