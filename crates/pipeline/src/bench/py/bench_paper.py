# The CodeRM paper's harness method, as a baseline: a warm Python forks one
# multiprocessing.Process per (program, test) pair, at most N at a time; each
# child arms a wall-clock alarm (1 s in the paper), runs the program and the
# test in a fresh namespace, and counts as a pass iff the unittest result
# wasSuccessful() (for plain asserts: no exception).  A child that outlives
# its alarm by a second (it caught the exception) is killed: a fail.
# Usage: bench_paper.py pairs.json processes timeout_s out.json
import json
import multiprocessing
import multiprocessing.connection
import signal
import sys
import time
import unittest


def _alarm(signum, frame):
    raise TimeoutError("timed out")


def _run_pair(index, program, test, fmt, results):
    signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, TIMEOUT)
    ok = False
    try:
        ns = {"__name__": "__main__"}
        exec(program, ns)
        exec(test, ns)
        if fmt == "unittest":
            suite = unittest.TestSuite()
            for value in list(ns.values()):
                if isinstance(value, type) and issubclass(value, unittest.TestCase) \
                        and value is not unittest.TestCase:
                    suite.addTests(unittest.defaultTestLoader.loadTestsFromTestCase(value))
            result = unittest.TextTestRunner(stream=_Null(), verbosity=0).run(suite)
            ok = result.wasSuccessful() and result.testsRun > 0
        else:
            ok = True
    except BaseException:
        ok = False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    results[index] = 1 if ok else 0


class _Null:
    def write(self, _):
        pass

    def flush(self):
        pass


if __name__ == "__main__":
    multiprocessing.set_start_method("fork")
    pairs = json.load(open(sys.argv[1]))
    processes = int(sys.argv[2])
    TIMEOUT = float(sys.argv[3])
    results = multiprocessing.Array("b", len(pairs), lock=False)
    running = []
    nxt = 0
    while nxt < len(pairs) or running:
        while nxt < len(pairs) and len(running) < processes:
            program, test, fmt = pairs[nxt]
            p = multiprocessing.Process(target=_run_pair, args=(nxt, program, test, fmt, results))
            p.start()
            running.append((p, time.monotonic()))
            nxt += 1
        ready = multiprocessing.connection.wait([p.sentinel for p, _ in running], timeout=0.25)
        still = []
        now = time.monotonic()
        for p, started in running:
            if p.sentinel in ready:
                p.join()
            elif now - started > TIMEOUT + 1.0:
                # A candidate that swallows the alarm: killed, a fail.
                p.kill()
                p.join()
            else:
                still.append((p, started))
        running = still
    with open(sys.argv[4], "w") as out:
        json.dump([bool(r) for r in results], out)
