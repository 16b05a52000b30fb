#!/usr/bin/python3
"""seed_corpus.py OUT_DIR - writes the bodies of tests/data/validation_cases.json and
tests/data/list_validation_cases.json as a libFuzzer seed corpus for
tests/fuzz/fuzz_features.c. First byte (the selector): 0x01 (pd_features_decode,
application/json) for the single-row cases; 0x21 (the codec), 0x61 (the codec with
missing_ok) or 0xA1 (the codec, max_rows 2) for the list cases, as each case asks."""
import base64
import json
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def load(name):
    with open(os.path.join(ROOT, "tests", "data", name), encoding="utf-8") as f:
        cases = json.load(f)
    for c in cases:
        c["raw"] = c["body"].encode() if "body" in c else base64.b64decode(c["body_b64"])
    return cases


def main(out):
    os.makedirs(out, exist_ok=True)
    n = 0
    for c in load("validation_cases.json"):
        with open(os.path.join(out, c["name"]), "wb") as f:
            f.write(b"\x01" + c["raw"])
        n += 1
    for c in load("list_validation_cases.json"):
        sel = 0x61 if c["missing_ok"] else 0xA1 if c["max_rows"] else 0x21
        with open(os.path.join(out, "list_" + c["name"]), "wb") as f:
            f.write(bytes([sel]) + c["raw"])
        n += 1
    print(f"{n} seeds in {out}")


if __name__ == "__main__":
    main(sys.argv[1])
