#!/usr/bin/env python3
"""Label MBXP / multilingual HumanEval samples the way mxeval does.

The reference `codejury label` is checked against: for each sample, the
program `prompt + completion + test` is written to a fresh directory,
compiled and run with mxeval's commands and timeouts (its
`mxeval/execution.py` at commit e09974f: javac + `java -cp DIR Main`; g++
without flags, then the binary; node; tsc --target es5 --lib es2016 then
node, the compile counted good only when tsc exits 2; `go run`; php, ruby
and perl on the file; 10 s to run, 100 s to compile), one process per
program, and a sample passes when the compile is good and the run exits 0.
Nothing here is sandboxed: run it only on published samples.

Usage: mxeval_way.py LANG PROBLEMS.jsonl[.gz] SAMPLES.jsonl[.gz] OUT.jsonl
       [--node-modules DIR] [--limit N]
"""

import argparse
import gzip
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

RUN_TIMEOUT = 10
COMPILE_TIMEOUT = 100


def read_jsonl(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def run(argv, cwd, timeout, env):
    try:
        p = subprocess.run(argv, cwd=cwd, env=env, timeout=timeout,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        return p.returncode, (p.stdout + p.stderr).decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        return "timeout", ""


def judge(lang, program, env):
    """(passed, status) of one program, mxeval's way."""
    d = tempfile.mkdtemp(prefix="mxeval-way-")
    try:
        names = {"cpp": "test.cpp", "go": "main.go", "java": "main.java",
                 "javascript": "test.js", "typescript": "test.ts", "php": "test.php",
                 "ruby": "test.rb", "perl": "test.pl"}
        src = os.path.join(d, names[lang])
        with open(src, "w", encoding="utf-8") as f:
            f.write(program)
        if lang == "cpp":
            code, out = run(["g++", "-o", "a.out", src], d, COMPILE_TIMEOUT, env)
            if code != 0:
                return False, "compile error"
            code, out = run([os.path.join(d, "a.out")], d, RUN_TIMEOUT, env)
        elif lang == "java":
            code, out = run(["javac", src], d, COMPILE_TIMEOUT, env)
            if code != 0:
                return False, "compile error"
            code, out = run(["java", "-cp", d, "Main"], d, RUN_TIMEOUT, env)
        elif lang == "typescript":
            code, out = run(["tsc", "--target", "es5", "--lib", "es2016", src], d, COMPILE_TIMEOUT, env)
            if code != 2:
                return False, "compile error (tsc exit %s)" % code
            code, out = run(["node", src[:-3] + ".js"], d, RUN_TIMEOUT, env)
        elif lang == "go":
            code, out = run(["go", "run", src], d, RUN_TIMEOUT, env)
        else:
            interp = {"javascript": "node", "php": "php", "ruby": "ruby", "perl": "perl"}[lang]
            code, out = run([interp, src], d, RUN_TIMEOUT, env)
        if code == "timeout":
            return False, "timeout"
        return code == 0, "exit %s" % code
    finally:
        shutil.rmtree(d, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("lang")
    ap.add_argument("problems")
    ap.add_argument("samples")
    ap.add_argument("out")
    ap.add_argument("--node-modules", default=os.path.expanduser("~/.cache/codejury/node/node_modules"))
    ap.add_argument("--limit", type=int, default=0)
    a = ap.parse_args()
    problems = {p["task_id"]: p for p in read_jsonl(a.problems)}
    samples = read_jsonl(a.samples)
    if a.limit:
        samples = samples[: a.limit]
    env = dict(os.environ)
    env["NODE_PATH"] = a.node_modules
    env["PATH"] = os.path.join(a.node_modules, ".bin") + os.pathsep + env.get("PATH", "")
    env.setdefault("GOCACHE", tempfile.mkdtemp(prefix="mxeval-way-gocache-"))
    env["GO111MODULE"] = "off"
    started = time.monotonic()
    with open(a.out, "w", encoding="utf-8") as out:
        for s in samples:
            p = problems.get(s["task_id"])
            if p is None:
                sys.exit("%s: task %s is not in %s" % (a.samples, s["task_id"], a.problems))
            program = p["prompt"] + (s.get("completion") or "") + p["test"]
            t = time.monotonic()
            passed, status = judge(a.lang, program, env)
            out.write(json.dumps({"task_id": s["task_id"], "passed": passed, "status": status,
                                  "seconds": round(time.monotonic() - t, 4)}) + "\n")
    print("%d samples in %.1f s" % (len(samples), time.monotonic() - started), file=sys.stderr)


if __name__ == "__main__":
    main()
