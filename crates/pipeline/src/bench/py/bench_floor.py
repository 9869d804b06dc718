# The floor: every (program, test) pair exec'd in one plain Python process,
# with no isolation at all; only an interval timer so a looping candidate
# cannot stall the measurement.
import json
import signal
import sys


class _Timeout(BaseException):
    pass


def _alarm(signum, frame):
    raise _Timeout()


signal.signal(signal.SIGALRM, _alarm)
pairs = json.load(open(sys.argv[1]))
limit = float(sys.argv[2])
results = []
for program, test in pairs:
    ns = {"__name__": "__cj_candidate__"}
    signal.setitimer(signal.ITIMER_REAL, limit)
    try:
        exec(program, ns)
        exec(test, ns)
        ok = True
    except BaseException:
        ok = False
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    results.append(ok)
with open(sys.argv[3], "w") as out:
    json.dump(results, out)
