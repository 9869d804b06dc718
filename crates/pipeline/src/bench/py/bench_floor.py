# The floor: every (program, test) pair run in one plain Python process, with
# no isolation at all.  A CPU-time timer (ITIMER_PROF) holds each pair to the
# limit, so a looping candidate costs exactly its limit, as in the engine.
# Writes {"passed": [bool per pair], "cpu_s": CPU seconds of the pairs}.
import json
import resource
import signal
import sys
import unittest


class _Timeout(BaseException):
    pass


def _expired(signum, frame):
    raise _Timeout()


def _unittest(ns):
    suite = unittest.TestSuite()
    loader = unittest.TestLoader()
    for value in list(ns.values()):
        if isinstance(value, type) and issubclass(value, unittest.TestCase) \
                and value is not unittest.TestCase:
            suite.addTests(loader.loadTestsFromTestCase(value))
    result = unittest.TestResult()
    suite.run(result)
    return result.wasSuccessful() and result.testsRun > 0


signal.signal(signal.SIGPROF, _expired)
pairs = json.load(open(sys.argv[1]))
limit = float(sys.argv[2])
passed = []
start = resource.getrusage(resource.RUSAGE_SELF)
for program, test, fmt in pairs:
    ns = {"__name__": "__cj_candidate__"}
    signal.setitimer(signal.ITIMER_PROF, limit)
    try:
        exec(program, ns)
        exec(test, ns)
        ok = _unittest(ns) if fmt == "unittest" else True
    except BaseException:
        ok = False
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
    passed.append(ok)
end = resource.getrusage(resource.RUSAGE_SELF)
cpu_s = (end.ru_utime + end.ru_stime) - (start.ru_utime + start.ru_stime)
with open(sys.argv[3], "w") as out:
    json.dump({"passed": passed, "cpu_s": cpu_s}, out)
