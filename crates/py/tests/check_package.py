"""Checks of the installed `codejury` wheel, one scenario per run:

    python check_package.py SCENARIO [INPUT.json]

Each scenario asserts and prints `ok` (and any measurements) on its last
line. Driven by crates/cli/tests/python_package.rs, which builds the
wheel, installs it into a fresh venv and gives the inputs (the verdicts
`codejury exec` and `codejury label` wrote for the same pairs)."""

import asyncio
import json
import os
import signal
import sys
import threading
import time

import codejury
from codejury import rl


def load(path):
    with open(path) as f:
        return json.load(f)


def equals_cli(inputs):
    """judge/execute/select/label give what the CLI gave."""
    for p in inputs["problems"]:
        j = codejury.judge(p["candidates"], p["tests"], task_id=p["task"])
        for row in p["exec"]:
            i, k = row["solution_index"], row["test_index"]
            assert j.verdicts[i][k] == row["verdict"], (p["task"], i, k, j.verdicts[i][k], row)
        m = codejury.execute(p["candidates"], p["tests"])
        assert m.verdicts == j.verdicts
        assert m.executed == 0 and m.cached == j.executed + j.cached, "a second ask comes from the store"
        for rule, choice in j.rules.items():
            assert codejury.select(j, rule).tied == choice.tied, (p["task"], rule)
            assert choice.chosen in choice.tied
        assert j.pairs == len(p["candidates"]) * len(p["tests"])
    labels = codejury.label("humaneval", inputs["samples"])
    assert len(labels) == len(inputs["labels"])
    for got, want in zip(labels, inputs["labels"]):
        assert (got.task_id, got.passed, got.verdict) == (
            want["task_id"],
            want["passed"],
            want["verdict"],
        ), (got, want)
    iso = codejury.isolation()
    print(f"{sum(len(p['exec']) for p in inputs['problems'])} pairs and {len(labels)} labels equal the CLI's; isolation {iso}")


def threads_overlap(_):
    """Two threads in the engine at once: the GIL is released."""
    codejury.configure(workers=2)
    prog = "import time\nprint(time.time())\ntime.sleep(0.5)\nprint(time.time())\n"
    codejury.run_code("print(0)")  # start the engine outside the measurement

    def one(tag, out):
        r = codejury.run_code(prog + f"# {tag}\n", timeout_ms=1000, wall_ms=5000)
        assert r.verdict == "pass" and r.return_code == 0, r
        out.append(tuple(float(x) for x in r.stdout.split()))

    alone = []
    t0 = time.monotonic()
    one("alone", alone)
    t_one = time.monotonic() - t0

    spans, ticks = [], []
    threads = [threading.Thread(target=one, args=(k, spans)) for k in range(2)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    # This thread keeps running Python while both calls are inside the engine.
    while any(t.is_alive() for t in threads):
        ticks.append(time.time())
        time.sleep(0.01)
    for t in threads:
        t.join()
    t_two = time.monotonic() - t0
    assert len(spans) == 2, spans
    (s1, e1), (s2, e2) = spans
    assert max(s1, s2) < min(e1, e2), f"the two programs did not run at once: {spans}"
    inside = [x for x in ticks if max(s1, s2) < x < min(e1, e2)]
    assert inside, "the main thread ran no Python while both calls were in the engine"
    print(f"one call {t_one:.3f} s; two threads {t_two:.3f} s ({t_two / t_one:.2f}x one); "
          f"{len(inside)} main-thread ticks while both ran")


def ctrl_c(_):
    """SIGINT mid-call raises KeyboardInterrupt after the pair in flight;
    the engine then still works."""
    codejury.configure(workers=1)
    codejury.run_code("print(0)")
    spin = "def f():\n    pass\n"
    tests = [f"while True:\n    x = {k}\n" for k in range(6)]
    threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
    t0 = time.monotonic()
    try:
        codejury.judge([spin], tests, timeout_ms=3000)
    except KeyboardInterrupt:
        took = time.monotonic() - t0
    else:
        raise AssertionError("no KeyboardInterrupt")
    # Six pairs of 3 CPU-s each on one worker are 18 s of work.
    assert took < 12, f"the call went on for {took:.1f} s after Ctrl-C"
    j = codejury.judge(["def f():\n    return 1\n"], ["assert f() == 1"])
    assert j.verdicts == (("pass",),)
    print(f"KeyboardInterrupt after {took:.2f} s of an 18 CPU-s call; engine still judges")


def errors(_):
    """Bad input raises a typed exception that names the field."""

    def raises(kind, fn, *words):
        try:
            fn()
        except kind as e:
            for w in words:
                assert w in str(e), (str(e), w)
            assert hasattr(e, "hint")
            return e
        raise AssertionError(f"no {kind.__name__}")

    raises(codejury.ConfigError, lambda: codejury.judge([], ["assert True"]), "candidates")
    raises(codejury.ConfigError, lambda: codejury.judge(["x = 1"], [3]), "tests[0]")
    raises(codejury.ConfigError, lambda: codejury.judge(["x = 1"], ["assert True"], rules=["best"]), "best")
    raises(codejury.ConfigError, lambda: codejury.select([[True], [True, False]]), "matrix[1]")
    raises(codejury.ConfigError, lambda: codejury.select([[True]], "best"), "unknown rule")
    raises(codejury.ConfigError, lambda: codejury.label("humaneval", [{"task_id": "HumanEval/999", "completion": "x"}]), "samples[0].task_id")
    raises(codejury.ConfigError, lambda: codejury.label("humaneval", [{"task_id": "HumanEval/0"}]), "samples[0]")
    raises(codejury.ConfigError, lambda: codejury.label("mbxp", []), "unknown benchmark")
    raises(codejury.ConfigError, lambda: codejury.run_code("print(1)", files={"../x": ""}), "files")
    raises(codejury.ConfigError, lambda: rl.compute_score(["d"], ["x"], [{"what": 1}]), "ground_truths[0]")
    codejury.judge(["x = 1"], ["assert x == 1"])
    raises(codejury.ConfigError, lambda: codejury.configure(workers=7), "already started")
    assert issubclass(codejury.SandboxError, codejury.CodejuryError)
    print("every bad input raised a typed error naming its field")


def no_sandbox(_):
    """A sandbox that cannot start raises in every reward adapter: never a
    silent 0."""
    codejury.configure(python="/nonexistent/python3")
    for call in (
        lambda: rl.compute_score(["d"], ["```python\nprint(1)\n```"], [{"inputs": [""], "outputs": ["1"]}]),
        lambda: rl.reward_func(["p```python\ndef f():\n    return 1\n```"], ["p"], [{"tests": ["assert f() == 1"]}]),
        lambda: rl.trl_reward(["```python\ndef f():\n    return 1\n```"], ground_truth=[{"tests": ["assert f() == 1"]}]),
    ):
        try:
            call()
        except codejury.CodejuryError as e:
            assert isinstance(e, codejury.SandboxError), type(e)
            assert "nonexistent" in str(e), str(e)
        else:
            raise AssertionError("a reward was computed without a sandbox")
    print("no sandbox: every adapter raised SandboxError")


def adapters(inputs):
    """verl, OpenRLHF and TRL rewards on real programs, each ground-truth
    shape, against the CLI's labels."""
    right = "```python\ndef add(a, b):\n    return a + b\n```"
    wrong = "```python\ndef add(a, b):\n    return a - b\n```"
    tests = {"tests": ["assert add(1, 2) == 3", "assert add(0, 0) == 0"], "entry_point": "add"}
    io = {"inputs": ["1 2\n", "5 7\n"], "outputs": ["3", "12"]}
    io_right = "Read two numbers:\n```python\na, b = map(int, input().split())\nprint(a + b)\n```"
    io_wrong = "```python\na, b = map(int, input().split())\nprint(a * b)\n```"
    crash = "```python\nraise SystemExit(1)\n```"
    # HumanEval samples through the benchmark's ground truth, as responses.
    bench = [{"bench": "humaneval", "task_id": s["task_id"]} for s in inputs["samples"]]
    responses = [f"```python\n{s['solution']}\n```" for s in inputs["samples"]]
    want = [1.0 if l["passed"] else 0.0 for l in inputs["labels"]]

    sols = [right, wrong, io_right, io_wrong, crash, "no code at all"] + responses
    gts = [tests, json.dumps(tests), io, io, io, tests] + bench
    expect = [1.0, 0.0, 1.0, 0.0, 0.0, 0.0] + want
    got = rl.compute_score(["codejury"] * len(sols), sols, gts, [None] * len(sols))
    assert [g["score"] for g in got] == expect, (got, expect)
    assert got[3]["pass_rate"] == 0.0 and got[0]["pass_rate"] == 1.0

    out = rl.reward_func(["Q:" + s for s in sols], ["Q:"] * len(sols), gts)
    assert [float(x) for x in out["rewards"]] == expect, out

    chat = [[{"role": "assistant", "content": s}] for s in sols]
    assert rl.trl_reward(chat, ground_truth=gts, prompts=["p"] * len(sols)) == expect
    assert asyncio.run(rl.trl_reward_async(sols, ground_truth=gts)) == expect
    print(f"verl, OpenRLHF and TRL agree on {len(sols)} rewards ({sum(expect):.0f} correct), "
          f"{len(responses)} of them equal to `codejury label`")


SCENARIOS = {f.__name__: f for f in (equals_cli, threads_overlap, ctrl_c, errors, no_sandbox, adapters)}

if __name__ == "__main__":
    name = sys.argv[1]
    SCENARIOS[name](load(sys.argv[2]) if len(sys.argv) > 2 else None)
    print("ok")
