#!/usr/bin/python3
"""run_fuzzers.py BUILD_DIR [--seconds N | --total N] [TARGET ...] - runs every libFuzzer
target of tests/fuzz/fuzz_*.c (built in BUILD_DIR by `make fuzz-build`) for a bounded
time, one after the other, and fails if any of them finds a crash, a leak, a hang (an
input slower than --timeout) or an invariant broken (an abort in the target).

  --seconds N   each target runs N seconds (make fuzz: FUZZ_SECONDS, default 300)
  --total N     the targets share N seconds, at least MIN_SECONDS each (make fuzz-quick,
                part of make test: FUZZ_TOTAL, default 45)

Corpora: every seed in tests/fuzz/corpus/<target>/ (checked in: the reproducers) is run
first, then the target mutates a working corpus: with --seconds the one kept in
BUILD_DIR/corpus/<target>/ (it grows from run to run), with --total a fresh one (so that a
grown corpus cannot make `make test` slower). A target may have seeds made by a script: SEED_SCRIPTS maps it to
the script, run into BUILD_DIR/seeds/<target>/ each time. Per-target libFuzzer flags (e.g.
-max_len) come from tests/fuzz/<target>.options, one flag per line. A crashing input is
written to BUILD_DIR/artifacts/; replay it with `BUILD_DIR/<target> FILE`.
Bounded: each target is stopped by libFuzzer's -max_total_time, and by this script
GRACE seconds later at the latest."""
import argparse
import glob
import os
import re
import shutil
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
MIN_SECONDS = 5
GRACE = 60          # seconds past -max_total_time before a target is killed
TIMEOUT = 10        # seconds one input may take (libFuzzer -timeout): a hang
RSS_LIMIT_MB = 2048
SEED_SCRIPTS = {"fuzz_features": "seed_corpus.py"}


def options(target):
    path = os.path.join(HERE, target + ".options")
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [ln.strip() for ln in f if ln.strip() and not ln.startswith("#")]


def corpora(build, target, fresh):
    if fresh:  # a quick run starts from the seeds alone, so its time stays bounded
        work = os.path.join(build, "corpus-quick", target)
        shutil.rmtree(work, ignore_errors=True)
    else:
        work = os.path.join(build, "corpus", target)
    os.makedirs(work, exist_ok=True)
    dirs = [work]
    checked_in = os.path.join(HERE, "corpus", target)
    if os.path.isdir(checked_in):
        dirs.append(checked_in)
    script = SEED_SCRIPTS.get(target)
    if script:
        out = os.path.join(build, "seeds", target)
        subprocess.run([PY, os.path.join(HERE, script), out], check=True,
                       stdout=subprocess.DEVNULL)
        dirs.append(out)
    return dirs


def run(build, target, seconds, fresh):
    artifacts = os.path.join(build, "artifacts") + os.sep
    os.makedirs(artifacts, exist_ok=True)
    cmd = [os.path.join(build, target), f"-max_total_time={seconds}", f"-timeout={TIMEOUT}",
           f"-rss_limit_mb={RSS_LIMIT_MB}", f"-artifact_prefix={artifacts}",
           "-print_final_stats=1", *options(target), *corpora(build, target, fresh)]
    log = os.path.join(build, target + ".log")
    t0 = time.monotonic()
    with open(log, "w") as f:
        try:
            rc = subprocess.run(cmd, stdout=f, stderr=subprocess.STDOUT,
                                timeout=seconds + GRACE).returncode
        except subprocess.TimeoutExpired:
            rc = "killed after %ds" % (seconds + GRACE)
    took = time.monotonic() - t0
    with open(log, errors="replace") as f:
        text = f.read()
    runs = re.search(r"stat::number_of_executed_units:\s*(\d+)", text)
    corp = re.findall(r"corp: (\d+)/", text)
    print(f"  {target}: {runs.group(1) if runs else '?'} runs in {took:.0f}s, "
          f"corpus {corp[-1] if corp else '?'}, exit {rc}", flush=True)
    if rc != 0:
        tail = "\n".join(ln for ln in text.splitlines() if not ln.startswith("#"))[-4000:]
        print(f"FAILED: {target} (log: {log})\n{tail}", flush=True)
    return rc == 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("build")
    ap.add_argument("targets", nargs="*")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--seconds", type=int)
    g.add_argument("--total", type=int)
    a = ap.parse_args()
    sources = sorted(os.path.basename(p)[:-2] for p in glob.glob(os.path.join(HERE, "fuzz_*.c")))
    targets = a.targets or sources
    missing = [t for t in targets if not os.access(os.path.join(a.build, t), os.X_OK)]
    if not targets or missing:
        sys.exit(f"run_fuzzers: not built in {a.build}: {missing or 'no target'}")
    if a.total is not None:
        each = max(MIN_SECONDS, a.total // len(targets))
    else:
        each = a.seconds if a.seconds is not None else 300
    print(f"fuzzing {len(targets)} targets, {each}s each", flush=True)
    ok = all([run(a.build, t, each, a.total is not None) for t in targets])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
