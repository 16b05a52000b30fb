#!/usr/bin/python3
"""seed_corpus.py OUT_DIR - writes the bodies of tests/data/validation_cases.json as a
libFuzzer seed corpus for tests/fuzz/fuzz_features.c (first byte: content-type selector 1,
application/json)."""
import base64
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main(out):
    os.makedirs(out, exist_ok=True)
    with open(os.path.join(ROOT, "tests", "data", "validation_cases.json"), encoding="utf-8") as f:
        cases = json.load(f)
    for c in cases:
        body = c["body"].encode() if "body" in c else base64.b64decode(c["body_b64"])
        with open(os.path.join(out, c["name"]), "wb") as f:
            f.write(b"\x01" + body)
    print(f"{len(cases)} seeds in {out}")


if __name__ == "__main__":
    main(sys.argv[1])
