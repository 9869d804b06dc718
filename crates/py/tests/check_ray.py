"""`codejury.ray` on a real two-node Ray cluster on this machine:

    python check_ray.py SCENARIO INPUT.json

`node_lost`: judges the shared problems as Ray tasks, removes the worker
node while a task runs on it, and checks that Ray ran that task again on
the other node and that every matrix and every rule's pick equals a
one-process run. Prints `ok` last."""

import json
import os
import sys
import tempfile
import threading
import time

import codejury
import ray
from ray.cluster_utils import Cluster

import codejury.ray as cjray


def strip(j):
    """What must not depend on where a problem ran: verdicts and picks."""
    return (j.verdicts, j.passed, {r: (c.chosen, c.tied) for r, c in j.rules.items()})


def descendants(root):
    """Processes below `root` two or more levels down, from /proc."""
    parent = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    stat = f.read()
                parent[int(d)] = int(stat.rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    def depth(pid):
        k = 0
        while pid in parent and pid != root:
            pid, k = parent[pid], k + 1
        return k if pid == root else 0
    return [p for p in parent if depth(p) >= 2]


def node_lost(inputs):
    # A test that sleeps 0.3 s (wall, not CPU) makes each problem take
    # over a second on one sandbox worker, so the node dies mid-task.
    slow = "import time\ntime.sleep(0.3)\nassert True\n"
    problems = [
        {"task_id": p["task"], "candidates": p["candidates"], "tests": p["tests"] + [slow]}
        for p in inputs["problems"]
    ]
    # The one-process run, with a store of its own.
    local_store = os.path.join(tempfile.mkdtemp(), "local.sqlite")
    codejury.configure(workers=2, store=local_store)
    t0 = time.monotonic()
    local = [codejury.judge(**p) for p in problems]
    t_local = time.monotonic() - t0

    scratch = tempfile.mkdtemp()
    # Both nodes are processes of this machine (Ray binds its own address).
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1})
    worker = cluster.add_node(num_cpus=1)
    ray.init(address=cluster.address)
    cluster.wait_for_nodes()
    worker_id = worker.node_id
    # One sandbox worker per task (num_cpus=1), so a problem takes long
    # enough for the node to be removed while it runs; the Ray run's
    # store is its own file.
    engine = {"store": os.path.join(scratch, "ray.sqlite")}
    result = {}

    def run():
        try:
            result["out"] = cjray.judge_many(
                problems, engine=engine, num_cpus=1, max_retries=3, return_nodes=True
            )
        except BaseException as e:  # reported below
            result["err"] = e

    started = time.monotonic()
    t = threading.Thread(target=run)
    t.start()
    # The worker node is killed once a task there is judging: a sandbox
    # worker runs below its raylet (under the Ray worker holding the task).
    raylet = worker.all_processes["raylet"][0].process.pid
    removed_after = None
    while t.is_alive() and time.monotonic() - started < 120:
        below = descendants(raylet)
        cmds = []
        for p in below:
            try:
                cmds.append(open(f"/proc/{p}/cmdline").read().replace("\0", " ")[:80])
            except OSError:
                pass
        if any("codejury sandbox" in c for c in cmds):
            cluster.remove_node(worker, allow_graceful=False)
            removed_after = time.monotonic() - started
            break
        time.sleep(0.02)
    t.join(timeout=300)
    assert removed_after is not None, "the worker node never ran a task"
    assert "err" not in result, repr(result.get("err"))
    judgements, nodes = result["out"]
    elapsed = time.monotonic() - started
    assert len(judgements) == len(problems)
    for p, a, b in zip(problems, local, judgements):
        assert strip(a) == strip(b), p["task_id"]
    on_head = sum(n != worker_id for n in nodes)
    # Ground truth over the cluster that is left, in chunks of two.
    samples = [
        {"task_id": p["task_id"], "solution": c} for p in problems for c in p["candidates"]
    ]
    spread = cjray.label_many("humaneval", samples, chunk=2, engine=engine)
    here = codejury.label("humaneval", samples)
    assert [(l.task_id, l.passed, l.verdict) for l in spread] == [
        (l.task_id, l.passed, l.verdict) for l in here
    ]
    ray.shutdown()
    cluster.shutdown()
    print(
        f"{len(problems)} problems, {sum(j.pairs for j in local)} pairs: one process {t_local:.1f} s; "
        f"two-node Ray {elapsed:.1f} s with the worker node killed at {removed_after:.1f} s "
        f"mid-task; {on_head} of {len(nodes)} results from the head node; every matrix and pick equal; "
        f"{len(samples)} labels over the cluster equal one process's"
    )


if __name__ == "__main__":
    {"node_lost": node_lost}[sys.argv[1]](json.load(open(sys.argv[2])))
    print("ok")
