#!/usr/bin/env python3
"""Constrained decoding speed, tandem serve beside llama-server, on the same GGUF file and threads.

    scripts/structured-bench.py --llama-bin DIR [--model FILE | --shape tinyllama-1.1b --type q4_0]
                                [-t 2] [-n 96] [--rounds 3]

For each schema (and once without one) both servers answer the same /v1/completions request
(greedy, one slot each, a short prompt); rounds alternate between the servers so that noise from
other work on the machine hits both alike. Prints a markdown table: generated tokens per second
(completion tokens over the request's wall time, measured the same way for both), the ratio
tandem / llama.cpp, and each server's constrained speed as a share of its own unconstrained speed
(what one constrained step costs). Needs tandem built (build/tandem) and llama.cpp's folder
(../shared/anchors/llama.cpp.sh prints it).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCHEMAS = {
    "nested object": {
        "type": "object",
        "properties": {
            "name": {"type": "string", "maxLength": 40},
            "age": {"type": "integer", "minimum": 0, "maximum": 130},
            "address": {
                "type": "object",
                "properties": {"street": {"type": "string"}, "city": {"type": "string"},
                               "zip": {"type": "string", "pattern": "^[0-9]{5}$"}},
                "required": ["street", "city", "zip"],
            },
        },
        "required": ["name", "age", "address"],
    },
    "array of objects": {
        "type": "array",
        "items": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "tag": {"type": "string", "maxLength": 12},
                           "done": {"type": "boolean"}},
            "required": ["id", "tag", "done"],
        },
        "minItems": 4,
    },
    "enums": {
        "type": "object",
        "properties": {
            "color": {"enum": ["red", "green", "blue", "yellow"]},
            "size": {"enum": ["small", "medium", "large"]},
            "rating": {"type": "integer", "minimum": 1, "maximum": 5},
        },
        "required": ["color", "size", "rating"],
    },
    "long string": {
        "type": "object",
        "properties": {"title": {"type": "string", "maxLength": 60}, "body": {"type": "string", "minLength": 200}},
        "required": ["title", "body"],
    },
}


def post(url, body, timeout=600):
    req = urllib.request.Request(url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def wait_ready(url, proc, what):
    for _ in range(600):
        if proc.poll() is not None:
            sys.exit(f"structured-bench: {what} exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except Exception:
            time.sleep(0.5)
    sys.exit(f"structured-bench: {what} did not come up")


def start_servers(args, model):
    tandem = subprocess.Popen(
        [os.path.join(ROOT, "build/tandem"), "serve", "-m", model, "--port", str(args.port), "-t", str(args.threads),
         "--parallel", "1", "-c", "1024", "-q"], stderr=subprocess.DEVNULL)
    llama = subprocess.Popen(
        [os.path.join(args.llama_bin, "llama-server"), "-m", model, "--port", str(args.port + 1), "-t",
         str(args.threads), "-np", "1", "-c", "1024", "--no-webui"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_ready(f"http://127.0.0.1:{args.port}/health", tandem, "tandem serve")
    wait_ready(f"http://127.0.0.1:{args.port + 1}/health", llama, "llama-server")
    return tandem, llama


def request(port, schema, n):
    body = {"prompt": "Write the record as JSON:", "max_tokens": n, "temperature": 0, "seed": 1}
    if schema is None:
        body["ignore_eos"] = True
    else:
        body["json_schema"] = schema
    t0 = time.perf_counter()
    r = post(f"http://127.0.0.1:{port}/v1/completions", body)
    dt = time.perf_counter() - t0
    toks = r["usage"]["completion_tokens"]
    return toks, dt


def measure(args):
    model = args.model
    tmp = None
    if not model:
        tmp = tempfile.mkdtemp()
        model = os.path.join(tmp, f"{args.shape}-{args.type}.gguf")
        print(f"structured-bench: writing {model}", file=sys.stderr)
        subprocess.run([os.path.join(ROOT, "build/tandem"), "synth", "--shape", args.shape, "--type", args.type,
                        "-o", model], check=True, stdout=subprocess.DEVNULL)
    servers = start_servers(args, model)
    try:
        cases = [("(none)", None)] + list(SCHEMAS.items())
        rates = {(c, s): [] for c, _ in cases for s in ("tandem", "llama.cpp")}
        toks = {}
        for port in (args.port, args.port + 1):  # warm-up: first-request costs are not decoding
            request(port, None, 8)
        for rnd in range(args.rounds):
            for name, schema in cases:
                order = [("tandem", args.port), ("llama.cpp", args.port + 1)]
                if rnd % 2:
                    order.reverse()
                for who, port in order:
                    n, dt = request(port, schema, args.n)
                    rates[(name, who)].append(n / dt)
                    toks[(name, who)] = n
            print(f"structured-bench: round {rnd + 1}/{args.rounds} done", file=sys.stderr)
    finally:
        for p in servers:
            p.terminate()
            p.wait()
        if tmp:
            os.remove(model)
            os.rmdir(tmp)
    return cases, rates, toks


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--llama-bin", required=True)
    ap.add_argument("--model")
    ap.add_argument("--shape", default="tinyllama-1.1b")
    ap.add_argument("--type", default="q4_0")
    ap.add_argument("-t", "--threads", type=int, default=2)
    ap.add_argument("-n", type=int, default=96)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--port", type=int, default=18731)
    args = ap.parse_args()
    cases, rates, toks = measure(args)
    med = {k: statistics.median(v) for k, v in rates.items()}
    print("| schema | tandem tok/s | llama.cpp tok/s | tandem / llama.cpp | tandem vs own unconstrained |"
          " llama.cpp vs own unconstrained | tokens (tandem, llama.cpp) |")
    print("|---|---|---|---|---|---|---|")
    for name, _ in cases:
        t, l = med[(name, "tandem")], med[(name, "llama.cpp")]
        tu, lu = med[("(none)", "tandem")], med[("(none)", "llama.cpp")]
        print(f"| {name} | {t:.1f} | {l:.1f} | {t / l:.2f}x | {t / tu:.2f} | {l / lu:.2f} |"
              f" {toks[(name, 'tandem')]}, {toks[(name, 'llama.cpp')]} |")


if __name__ == "__main__":
    main()
