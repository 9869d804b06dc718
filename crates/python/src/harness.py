# codejury sandbox harness: the warm interpreter ("zygote").
#
# The Rust supervisor starts this file once per worker, already inside the
# worker's isolation (namespaces, landlock, seccomp, cgroup, no capabilities).
# It reads one job per line on stdin (a candidate program and its tests) and
# writes one JSON line per (candidate, test) verdict to stdout.
#
# Faithful mode: one *candidate process* is forked per job and defines the
# candidate once; each test then runs in a process of its own forked from it
# (a fresh process per pair, as the CodeRM harness runs them, without paying
# for the candidate's definition again).  Fast mode: one runner process
# defines the candidate and runs the tests in turn.
#
# Limits: CPU time decides (polled from /proc and enforced here to the
# millisecond, with RLIMIT_CPU as the kernel's backstop), so a verdict does
# not depend on what else the machine runs; the wall-clock limit is a
# backstop for code that blocks; output is drained and capped as it comes.
#
# Trust boundary: this process never executes candidate or test code; only
# its children do, and they report through a private pipe with a secret.  A
# child that dies, exits early or stops reporting can never produce a pass.

import gc
import json
import os
import resource
import select
import shutil
import signal
import sys
import time
import traceback
import unittest

# The interpreter runs with -S: `site` would execute every .pth file in
# site-packages, and what they import swells the zygote, which makes every
# fork slower (2x on a small VM).  Installed packages stay importable.
import site as _site
for _path in _site.getsitepackages():
    if _path not in sys.path and os.path.isdir(_path):
        sys.path.append(_path)

# Modules that candidates and tests commonly import: importing them here once
# makes every runner's import a dictionary lookup instead of disk work.  Only
# the common ones: every module here makes every fork a little dearer (a
# longer list, with hashlib, decimal, pickle and datetime, cost 8% of the
# CPU of the 5-model HumanEval pool in faithful mode).
for _name in (
    "math", "re", "collections", "itertools", "functools", "heapq", "bisect",
    "string", "typing",
):
    try:
        __import__(_name)
    except Exception:  # an optional module missing is not fatal
        pass

_write = os.write
_exit = os._exit
_getpid = os.getpid
_dumps = json.dumps
_encode_str = json.encoder.encode_basestring_ascii
_process_time = time.process_time
_Exception = Exception
_BaseException = BaseException
_AssertionError = AssertionError
_MemoryError = MemoryError
_RecursionError = RecursionError
_SystemExit = SystemExit
_TestCase = unittest.TestCase
_TestResult = unittest.TestResult
_TestLoader = unittest.TestLoader
_TestSuite = unittest.TestSuite
_isinstance = isinstance
_issubclass = issubclass
_type = type
_len = len
_str = str
_getattr = getattr
_vars = vars


def _snapshot():
    """Identity of every attribute of the unittest machinery we rely on."""
    snap = []
    for cls in (unittest.TestCase, unittest.TestResult, unittest.TestSuite,
                unittest.TestLoader, unittest.case._Outcome):
        for name, value in list(vars(cls).items()):
            snap.append((cls, name, value))
    for mod in (unittest, unittest.case, unittest.result, unittest.suite):
        for name in ("TestCase", "TestResult", "TestSuite", "TestLoader",
                     "_Outcome", "SkipTest"):
            if hasattr(mod, name):
                snap.append((mod, name, getattr(mod, name)))
    return tuple(snap)


_SNAPSHOT = _snapshot()
_MISSING = object()
_CLK_TCK = os.sysconf("SC_CLK_TCK")
_fork = os.fork
_waitpid = os.waitpid
_read = os.read
_setpgid = os.setpgid


def _cpu_ms_of(pid):
    """CPU time process `pid` has used, in ms (from /proc; None once gone)."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data.rsplit(b")", 1)[-1].split()
    try:
        return (int(fields[11]) + int(fields[12])) * 1000.0 / _CLK_TCK
    except (IndexError, ValueError):
        return None


def _tampered(deep):
    """Name of the first unittest attribute a candidate replaced, or None.

    The attribute walk (`deep`) is only needed where the verdict comes from
    the unittest machinery; it touches hundreds of objects, and every page
    a runner touches costs a copy-on-write fault.
    """
    if sys.gettrace() is not None or sys.getprofile() is not None:
        return "sys.settrace"
    if not deep:
        return None
    for owner, name, value in _SNAPSHOT:
        try:
            if _isinstance(owner, _type):
                now = _vars(owner).get(name, _MISSING)
            else:
                now = _getattr(owner, name, _MISSING)
        except _BaseException:
            return name
        if now is not value:
            return "%s.%s" % (_getattr(owner, "__name__", "?"), name)
    return None


def _short(text, limit=2000):
    text = _str(text)
    if _len(text) > limit:
        return text[:limit] + "... [truncated]"
    return text


def _describe(exc):
    tb = traceback.format_exception_only(_type(exc), exc)
    return _short("".join(tb).strip())


def _classify_exception(exc):
    if _isinstance(exc, _AssertionError):
        return "fail"
    if _isinstance(exc, TimeoutError):
        return "timeout"
    if _isinstance(exc, _MemoryError):
        return "memory"
    return "error"


def _run_unittest(ns, test_ns):
    classes = []
    for value in list(test_ns.values()):
        if (_isinstance(value, _type) and _issubclass(value, _TestCase)
                and value is not _TestCase and ns.get(value.__name__) is not value):
            classes.append(value)
    if not classes:
        return "error", "no unittest.TestCase class in the test"
    suite = _TestSuite()
    loader = _TestLoader()
    for cls in classes:
        suite.addTests(loader.loadTestsFromTestCase(cls))
    result = _TestResult()
    suite.run(result)
    # Decide from the recorded outcomes with our own logic, not by calling a
    # method the candidate could have replaced.
    failures = list(result.failures)
    errors = list(result.errors)
    unexpected = list(result.unexpectedSuccesses)
    if not failures and not errors and not unexpected:
        return "pass", ""
    if errors:
        text = errors[0][1].strip()
        last = text.splitlines()[-1] if text else "error"
        return ("memory" if last.startswith("MemoryError") else "error"), _short(last)
    if failures:
        text = failures[0][1].strip()
        return "fail", _short(text.splitlines()[-1] if text else "assertion failed")
    return "fail", "unexpected success"


def _run_one(test, ns, pre_ns, entry_point):
    """Runs one test in `ns`; returns (status, message, value)."""
    test_ns = dict(ns)
    test_ns["__cj_data__"] = test.get("data")
    test_ns["__cj_prelude__"] = pre_ns
    fmt = test["format"]
    exec(test["compiled"], test_ns)
    if fmt == "unittest":
        status, message = _run_unittest(ns, test_ns)
    elif fmt == "check":
        check = test_ns.get("check")
        if not callable(check):
            return "error", "the test defines no check(candidate) function", None
        if entry_point is None or entry_point not in ns:
            return "error", "the candidate defines no %r" % (entry_point,), None
        check(ns[entry_point])
        status, message = "pass", ""
    else:
        status, message = "pass", ""
    value = test_ns.get("__cj_output__")
    return status, message, value


class _Reporter:
    """Writes a child's reports: each carries the job's secret, so bytes
    that candidate code writes to stray file descriptors are not taken for
    reports; only the process that made the reporter reports, so a process
    the candidate forks that returns into this code exits silently."""

    def __init__(self, res_w, token):
        self.res_w = res_w
        self.token = token
        self.me = _getpid()

    def line(self, data):
        if _getpid() != self.me:
            _exit(0)
        while data:
            n = _write(self.res_w, data)
            data = data[n:]

    def report(self, index, status, message, cpu_ms, value=None):
        text = '{"test": %d, "status": "%s", "message": %s, "cpu_ms": %.3f, "token": "%s"' % (
            index, status, _encode_str(_str(message)), cpu_ms, self.token)
        if value is not None:
            text += ', "value": ' + _encode_str(_str(value))
        self.line((text + "}\n").encode())


def _limit(limits, own_group):
    """Per-process limits of a child: its own process group (so it and
    what it starts can be killed together), and the kernel's backstops."""
    if own_group:
        _setpgid(0, 0)
    cpu = max(1, int((limits["cpu_ms"] + 999) // 1000)) + 1
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    if limits.get("rlimit_as_bytes"):
        a = limits["rlimit_as_bytes"]
        resource.setrlimit(resource.RLIMIT_AS, (a, a))
    if limits.get("rlimit_nproc"):
        n = limits["rlimit_nproc"]
        resource.setrlimit(resource.RLIMIT_NPROC, (n, n))


def _define(job, indices, rep):
    """Defines the job's prelude and candidate; returns their namespaces,
    or reports the failure for every test in `indices` and exits."""
    ns = {"__name__": "__cj_candidate__", "__builtins__": __builtins__}
    pre_ns = None
    t0 = _process_time()
    try:
        if job.get("prelude_compiled") is not None:
            # Trusted code (a reference solution), defined in its own
            # namespace before the candidate can touch anything.
            pre_ns = {"__name__": "__cj_prelude__", "__builtins__": __builtins__}
            exec(job["prelude_compiled"], pre_ns)
    except _BaseException as exc:
        cpu_ms = (_process_time() - t0) * 1000.0
        for i in indices:
            rep.report(i, "error", "the job's prelude failed: " + _describe(exc), cpu_ms)
        _exit(0)
    try:
        exec(job["compiled"], ns)
        failed = None
    except _SystemExit as exc:
        failed = ("error", "the candidate exited while being defined (SystemExit %r)" % (exc.code,))
    except _BaseException as exc:
        failed = (_classify_exception(exc), "while defining the candidate: " + _describe(exc))
    uses_unittest = any(job["tests"][i]["format"] == "unittest" for i in indices)
    tamper = _tampered(uses_unittest) if failed is None else None
    if tamper:
        failed = ("error", "the candidate replaced %s" % tamper)
    if failed is not None:
        cpu_ms = (_process_time() - t0) * 1000.0
        for i in indices:
            rep.report(i, failed[0], failed[1], cpu_ms)
        _exit(0)
    return ns, pre_ns


def _test(job, i, ns, pre_ns, rep):
    """Runs test `i` against the defined candidate and reports it."""
    test = job["tests"][i]
    t1 = _process_time()
    value = None
    try:
        status, message, value = _run_one(test, ns, pre_ns, job.get("entry_point"))
    except _SystemExit as exc:
        status, message = "error", "the code exited during the test (SystemExit %r)" % (exc.code,)
    except _BaseException as exc:
        status, message = _classify_exception(exc), _describe(exc)
    if _getpid() != rep.me:
        _exit(0)
    cpu_ms = (_process_time() - t1) * 1000.0
    if status == "pass":
        tamper = _tampered(test["format"] == "unittest")
        if tamper:
            status, message = "error", "the code replaced %s" % tamper
    rep.report(i, status, message, cpu_ms, value)


def _clean(path):
    """Empties a scratch directory (what one test wrote is gone before the
    next starts)."""
    try:
        entries = list(os.scandir(path))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path, ignore_errors=True)
            else:
                os.unlink(entry.path)
        except OSError:
            pass


def _candidate_process(job, indices, res_w, cmd_r, token, own_group, scratch):
    """Faithful mode: define the candidate once, then on each command `i`
    fork a process that runs test `i` alone, wait for it and say how it
    ended (`X i status`).  Everything the zygote needs to judge a test
    comes from that test's own process."""
    rep = _Reporter(res_w, token)
    _limit(job["limits"], own_group)
    ns, pre_ns = _define(job, indices, rep)
    rep.line(b"D\n")
    pending = b""
    seen = os.stat(scratch).st_mtime_ns
    while True:
        while b"\n" not in pending:
            chunk = _read(cmd_r, 64)
            if not chunk:
                _exit(0)
            pending += chunk
        line, pending = pending.split(b"\n", 1)
        if line == b"q":
            _exit(0)
        i = int(line)
        pid = _fork()
        if pid == 0:
            try:
                # A fresh process, with fresh CPU time and its own group.
                _limit(job["limits"], True)
                _test(job, i, ns, pre_ns, _Reporter(res_w, token))
            finally:
                _exit(0)
        rep.line(b"S %d %d\n" % (i, pid))
        while True:
            try:
                _, status = _waitpid(pid, 0)
                break
            except InterruptedError:
                continue
            except ChildProcessError:
                status = -1
                break
        try:
            changed = os.stat(scratch).st_mtime_ns != seen
        except OSError:
            changed = True
        if changed:
            _clean(scratch)
            seen = os.stat(scratch).st_mtime_ns
        rep.line(b"X %d %d\n" % (i, status))


def _batch_runner(job, start, count, res_w, token, own_group):
    """Fast mode: define the candidate, then run tests [start, start+count)
    in turn in this one process."""
    rep = _Reporter(res_w, token)
    _limit(job["limits"], own_group)
    indices = range(start, start + count)
    ns, pre_ns = _define(job, indices, rep)
    # Tell the zygote the candidate is defined: a runner that hangs or dies
    # before this line would do the same for every test of the job.
    rep.line(b"D\n")
    cpu = max(1, int((job["limits"]["cpu_ms"] + 999) // 1000)) + 1
    for i in indices:
        # The kernel's backstop, renewed per test (the zygote enforces the
        # exact limit on each test's share of this process's CPU time).
        used = resource.getrusage(resource.RUSAGE_SELF)
        spent = int(used.ru_utime + used.ru_stime)
        try:
            resource.setrlimit(resource.RLIMIT_CPU, (spent + cpu, spent + cpu + 1))
        except (ValueError, OSError):
            pass
        _test(job, i, ns, pre_ns, rep)
    _exit(0)

class _Child:
    """A forked child the zygote watches: its report pipe (lines), its
    output pipe (counted, capped), and whose CPU time to hold to the limit."""

    def __init__(self, pid, res_r, out_r, cmd_w=None):
        self.pid = pid
        self.res_r = res_r
        self.out_r = out_r
        self.cmd_w = cmd_w
        self.fds = [res_r, out_r]
        # Bytes of an unfinished report line: a bytearray, so a long line
        # (a large value) costs linear time to gather, not quadratic.
        self.pending = bytearray()
        self.lines = []
        self.out_bytes = 0

    def close(self):
        for fd in (self.res_r, self.out_r, self.cmd_w):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass


# How often the CPU time of a running child is read (seconds).
_POLL = 0.005


class Zygote:
    def __init__(self):
        self.pid1 = _getpid() == 1
        self.scratch = os.environ.get("CODEJURY_SCRATCH", os.getcwd())
        self.oom_file = os.environ.get("CODEJURY_OOM_CONTROL") or None
        self.oom_seen = self.oom_kills()
        self.fsize = None
        # Compiled tests by source: a task's tests come once per candidate.
        self.tests = {}
        # Children inherit all of this instead of each setting it again.
        os.chdir(self.scratch)
        # SIGPIPE stays ignored, as in any Python: writing to a process that
        # is gone (a candidate process that already exited) is an OSError,
        # not the zygote's death.
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGXFSZ):
            signal.signal(sig, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    def emit(self, obj):
        data = (_dumps(obj) + "\n").encode()
        while data:
            n = os.write(1, data)
            data = data[n:]

    def verdict(self, jid, i, status, message, cpu_ms=0.0, wall_ms=0.0, prof=None, value=None):
        out = {"job": jid, "test": i, "verdict": status, "message": message,
               "cpu_ms": cpu_ms, "wall_ms": wall_ms}
        if value is not None:
            out["value"] = value
        if prof is not None:
            out["prof"] = prof
        self.emit(out)

    def oom_kills(self):
        if not self.oom_file:
            return 0
        try:
            with open(self.oom_file) as f:
                for line in f:
                    if line.startswith("oom_kill "):
                        return int(line.split()[1])
        except OSError:
            pass
        return 0

    def kill_group(self, pid):
        try:
            os.killpg(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def sweep(self, pid):
        """Kill everything the job left behind and reap it: in a PID
        namespace every process but this one; else the child's group."""
        if self.pid1:
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass
            while True:
                try:
                    os.waitpid(-1, 0)
                except ChildProcessError:
                    break
                except InterruptedError:
                    continue
        else:
            self.kill_group(pid)
            while True:
                try:
                    p, _ = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if p == 0:
                    break

    def clean_scratch(self):
        """Empties the scratch directory the job worked in."""
        try:
            entries = list(os.scandir(self.scratch))
        except OSError:
            return
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    self.remove_tree(entry.path)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass

    def remove_tree(self, path):
        for root, dirs, files in os.walk(path, topdown=False):
            for name in files:
                try:
                    os.unlink(os.path.join(root, name))
                except OSError:
                    pass
            for name in dirs:
                full = os.path.join(root, name)
                try:
                    if os.path.islink(full):
                        os.unlink(full)
                    else:
                        os.rmdir(full)
                except OSError:
                    pass
        try:
            os.rmdir(path)
        except OSError:
            pass

    def spawn(self, target, with_cmd):
        """Forks a child running `target(res_w, cmd_r)` with its stdout and
        stderr on a pipe of ours and stdin on /dev/null."""
        res_r, res_w = os.pipe()
        out_r, out_w = os.pipe()
        cmd_r, cmd_w = os.pipe() if with_cmd else (None, None)
        pid = os.fork()
        if pid == 0:
            try:
                os.close(res_r)
                os.close(out_r)
                if cmd_w is not None:
                    os.close(cmd_w)
                devnull = os.open("/dev/null", os.O_RDONLY)
                os.dup2(devnull, 0)
                os.dup2(out_w, 1)
                os.dup2(out_w, 2)
                os.close(out_w)
                target(res_w, cmd_r)
            except BaseException:
                try:
                    os.write(2, traceback.format_exc().encode())
                finally:
                    os._exit(70)
            os._exit(0)
        os.close(res_w)
        os.close(out_w)
        if cmd_r is not None:
            os.close(cmd_r)
        return _Child(pid, res_r, out_r, cmd_w)

    def wait(self, child, deadline, watch, cpu_base, cpu_ms, out_base, out_cap):
        """Waits for the next report line of `child`.  Returns ("line", b),
        or why waiting stopped: ("wall",), ("cpu", used), ("output",),
        ("eof",).  `watch` is the pid whose CPU time since `cpu_base` is
        held to `cpu_ms`; output since `out_base` to `out_cap`."""
        while True:
            if child.lines:
                return ("line", child.lines.pop(0))
            now = time.monotonic()
            left = deadline - now
            if left <= 0:
                return ("wall",)
            if not child.fds:
                return ("eof",)
            timeout = min(left, _POLL) if watch else left
            try:
                readable, _, _ = select.select(child.fds, [], [], timeout)
            except InterruptedError:
                continue
            if not readable and watch:
                used = _cpu_ms_of(watch)
                if used is not None and used - cpu_base > cpu_ms:
                    return ("cpu", used - cpu_base)
                continue
            for fd in readable:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    child.fds.remove(fd)
                    continue
                if fd == child.out_r:
                    child.out_bytes += len(chunk)
                    if child.out_bytes - out_base > out_cap:
                        return ("output",)
                    continue
                child.pending += chunk
                if b"\n" in chunk:
                    parts = child.pending.split(b"\n")
                    child.pending = parts.pop()
                    child.lines.extend(bytes(p) for p in parts)

    def parse_report(self, line, token, index):
        """A report line's (status, message, cpu_ms, value), or why it is bad."""
        try:
            rec = json.loads(line)
            genuine = rec["token"] == token
            got = int(rec["test"])
            status = str(rec["status"])
        except Exception:
            genuine = False
        if not genuine:
            return None, ("error", "a forged or garbled report was sent")
        if got != index or status not in ("pass", "fail", "error", "memory", "timeout"):
            return None, ("error", "the runner's report was out of order")
        return (status, rec.get("message", ""), float(rec.get("cpu_ms", 0.0)), rec.get("value")), None

    def classify_death(self, status, limits):
        if status is None or status < 0:
            return ("sandbox-error", "the runner vanished")
        # Only children are ever OOM-killed, so a rise of the group's counter
        # since the last look means this one was.
        oom = self.oom_kills()
        oom_killed, self.oom_seen = oom > self.oom_seen, oom
        if oom_killed:
            return ("memory", "memory limit of %d MiB reached" % (limits["memory_bytes"] >> 20))
        if os.WIFSIGNALED(status):
            sig = os.WTERMSIG(status)
            if sig == signal.SIGXCPU:
                return ("timeout", "CPU limit of %d ms reached" % limits["cpu_ms"])
            if sig == signal.SIGXFSZ:
                return ("error", "file size limit of %d bytes reached" % limits["fsize_bytes"])
            return ("killed", "killed by signal %s" % signal.Signals(sig).name)
        code = os.WEXITSTATUS(status)
        return ("error", "the process exited (status %d) before the test reported a result" % code)

    def stopped(self, why, limits, child_pid):
        """The verdict for a test whose wait stopped for `why`."""
        if why[0] == "cpu":
            return ("timeout", "CPU limit of %d ms reached" % limits["cpu_ms"])
        if why[0] == "wall":
            return ("timeout", "wall-clock limit of %.3fs reached" % (limits["wall_ms"] / 1000.0))
        if why[0] == "output":
            return ("output-limit", "wrote more than %d bytes of output" % limits["output_bytes"])
        return None

    def compile_test(self, code):
        """A test's code object, compiled once per source text (code
        objects are immutable, so sharing them between jobs is safe)."""
        compiled = self.tests.get(code)
        if compiled is None:
            compiled = compile(code, "<test>", "exec")
            if len(self.tests) >= 4096:
                self.tests.clear()
            self.tests[code] = compiled
        return compiled

    def run_job(self, job):
        tests = job["tests"]
        limits = job["limits"]
        if limits["fsize_bytes"] != self.fsize:
            self.fsize = limits["fsize_bytes"]
            resource.setrlimit(resource.RLIMIT_FSIZE, (self.fsize, self.fsize))
        n = len(tests)
        jid = job["job"]
        try:
            job["compiled"] = compile(job["code"], "<candidate>", "exec")
        except BaseException as exc:
            msg = "the candidate does not compile: " + _describe(exc)
            for i in range(n):
                self.verdict(jid, i, "error", msg)
            return
        job["prelude_compiled"] = None
        if job.get("prelude"):
            try:
                job["prelude_compiled"] = compile(job["prelude"], "<prelude>", "exec")
            except BaseException as exc:
                msg = "the job's prelude does not compile: " + _describe(exc)
                for i in range(n):
                    self.verdict(jid, i, "sandbox-error", msg)
                return
        ok = []
        for i, t in enumerate(tests):
            try:
                t["compiled"] = self.compile_test(t["code"])
                ok.append(i)
            except BaseException as exc:
                t["compiled"] = None
                self.verdict(jid, i, "error", "the test does not compile: " + _describe(exc))
        if not ok:
            return
        if job.get("mode") == "fast":
            self.run_fast(job, ok, limits)
        else:
            self.run_faithful(job, ok, limits)

    def undefined(self, jid, indices, why, cpu_ms=0.0, wall_ms=0.0):
        """The candidate itself hangs or dies while being defined: every
        remaining test would meet the same end.  What it cost is on the
        first; the others cost nothing."""
        status, message = why
        for k, i in enumerate(indices):
            cost = (cpu_ms, wall_ms) if k == 0 else (0.0, 0.0)
            self.verdict(jid, i, status, "while defining the candidate: " + message, *cost)

    def run_faithful(self, job, ok, limits):
        jid = job["job"]
        wall = limits["wall_ms"] / 1000.0
        cpu_ms = limits["cpu_ms"]
        out_cap = limits["output_bytes"]
        token = os.urandom(16).hex()
        own_group = True
        scratch = self.scratch
        t0 = time.monotonic()
        child = self.spawn(
            lambda res_w, cmd_r: _candidate_process(job, ok, res_w, cmd_r, token, own_group, scratch),
            True)
        done = set()
        try:
            # The definition, once.
            deadline = t0 + wall
            defined = False
            while not defined:
                ev = self.wait(child, deadline, child.pid, 0.0, cpu_ms, 0, out_cap)
                if ev[0] == "line":
                    line = ev[1]
                    if line == b"D":
                        defined = True
                    elif line.startswith(b"{"):
                        # The definition failed; the process reports it for every test.
                        if len(done) >= len(ok):
                            continue
                        i = ok[len(done)]
                        rec, bad = self.parse_report(line, token, i)
                        status, message, used, value = rec if rec else (bad[0], bad[1], 0.0, None)
                        self.verdict(jid, i, status, message, used, 0.0)
                        done.add(i)
                        if len(done) == len(ok):
                            return
                    continue
                used = _cpu_ms_of(child.pid) or 0.0
                if ev[0] == "eof":
                    try:
                        _, status = os.waitpid(child.pid, 0)
                    except ChildProcessError:
                        status = None
                    why = self.classify_death(status, limits)
                else:
                    self.kill_group(child.pid)
                    why = self.stopped(ev, limits, child.pid)
                wall_ms = (time.monotonic() - t0) * 1000.0
                self.undefined(jid, [i for i in ok if i not in done], why, used, wall_ms)
                return
            define_ms = (time.monotonic() - t0) * 1000.0
            # Each test in a process of its own, forked from the defined candidate.
            for i in ok:
                t_cmd = time.monotonic()
                try:
                    os.write(child.cmd_w, b"%d\n" % i)
                except OSError:
                    self.verdict(jid, i, "sandbox-error", "the candidate process is gone")
                    continue
                deadline = t_cmd + wall
                runner = None
                t_start = t_cmd
                out_base = child.out_bytes
                result = None
                # The test's report can come before the candidate process's
                # "S" line naming it: wait for that line too, so the test's
                # process group (and whatever it left running) is killed.
                while result is None or runner is None:
                    ev = self.wait(child, deadline, runner, 0.0, cpu_ms, out_base, out_cap)
                    if ev[0] == "line":
                        line = ev[1]
                        if line.startswith(b"S "):
                            parts = line.split()
                            if len(parts) == 3 and parts[1] == b"%d" % i:
                                runner = int(parts[2])
                                if result is None:
                                    t_start = time.monotonic()
                                    deadline = t_start + wall
                        elif line.startswith(b"X "):
                            parts = line.split()
                            if len(parts) == 3 and parts[1] == b"%d" % i and result is None:
                                status = int(parts[2])
                                result = self.classify_death(status, limits) + (0.0, None)
                        elif line.startswith(b"{") and result is None:
                            rec, bad = self.parse_report(line, token, i)
                            result = rec if rec else bad + (0.0, None)
                        continue
                    if result is not None:
                        # Reported, but the line naming its process never came.
                        break
                    if ev[0] == "eof":
                        result = ("sandbox-error", "the candidate process died", 0.0, None)
                        break
                    used = ev[1] if ev[0] == "cpu" else 0.0
                    result = self.stopped(ev, limits, runner) + (used, None)
                    if runner is not None:
                        self.kill_group(runner)
                    else:
                        # The candidate process did not fork the test: it is stuck.
                        self.kill_group(child.pid)
                        self.verdict(jid, i, "sandbox-error", "the candidate process stopped answering")
                        result = None
                        break
                t_end = time.monotonic()
                if runner is not None:
                    # Whatever the test started goes with it.
                    self.kill_group(runner)
                if result is None:
                    for j in ok:
                        if j not in done and j != i:
                            self.verdict(jid, j, "sandbox-error", "the candidate process stopped answering")
                            done.add(j)
                    done.add(i)
                    return
                status, message, used, value = result
                if status == "error" and message.startswith("the process exited") and runner is None:
                    status, message = "sandbox-error", "the candidate process did not run the test"
                prof = {"define": define_ms if i == ok[0] else 0.0,
                        "fork": (t_start - t_cmd) * 1000.0,
                        "test": (t_end - t_start) * 1000.0}
                self.verdict(jid, i, status, message, used, (t_end - t_start) * 1000.0, prof, value)
                done.add(i)
                if status == "timeout":
                    rest = [j for j in ok if j not in done]
                    if rest:
                        # Hand the rest back: the engine spreads it over
                        # free workers instead of queueing it behind this one.
                        self.emit({"job": jid, "yield": rest})
                        return
        finally:
            if child.cmd_w is not None:
                try:
                    os.write(child.cmd_w, b"q\n")
                except OSError:
                    pass
            self.sweep(child.pid)
            child.close()
            self.clean_scratch()

    def run_fast(self, job, ok, limits):
        pos = 0
        while pos < len(ok):
            # Runners take a contiguous run of compilable tests.
            start = ok[pos]
            count = 1
            while pos + count < len(ok) and ok[pos + count] == start + count:
                count += 1
            done, undefined, timed_out = self.run_batch(job, start, count, limits)
            pos += done
            if undefined is not None:
                self.undefined(job["job"], ok[pos:], undefined)
                return
            if timed_out and pos < len(ok):
                # As in faithful mode: the rest goes back to the engine.
                self.emit({"job": job["job"], "yield": ok[pos:]})
                return

    def run_batch(self, job, start, count, limits):
        """Forks one runner for tests [start, start+count); returns how many
        got a verdict, why the candidate could not be defined if so, and
        whether the last of them timed out."""
        jid = job["job"]
        wall = limits["wall_ms"] / 1000.0
        cpu_ms = limits["cpu_ms"]
        out_cap = limits["output_bytes"]
        token = os.urandom(16).hex()
        own_group = not self.pid1
        t0 = time.monotonic()
        child = self.spawn(
            lambda res_w, cmd_r: _batch_runner(job, start, count, res_w, token, own_group),
            False)
        reported = 0
        defined = False
        define_ms = 0.0
        last = t0
        cpu_base = 0.0
        out_base = 0
        deadline = t0 + wall
        why = None
        try:
            while reported < count:
                ev = self.wait(child, deadline, child.pid, cpu_base, cpu_ms, out_base, out_cap)
                if ev[0] == "line":
                    line = ev[1]
                    if line == b"D":
                        defined = True
                        now = time.monotonic()
                        define_ms = (now - t0) * 1000.0
                        last = now
                        deadline = now + wall
                        cpu_base = _cpu_ms_of(child.pid) or 0.0
                        out_base = child.out_bytes
                        continue
                    i = start + reported
                    rec, bad = self.parse_report(line, token, i)
                    now = time.monotonic()
                    if rec is None:
                        why = bad
                        break
                    status, message, used, value = rec
                    prof = {"define": define_ms if reported == 0 else 0.0, "fork": 0.0,
                            "test": (now - last) * 1000.0}
                    self.verdict(jid, i, status, message, used, (now - last) * 1000.0, prof, value)
                    reported += 1
                    last = now
                    deadline = now + wall
                    cpu_base = _cpu_ms_of(child.pid) or cpu_base
                    out_base = child.out_bytes
                    continue
                if ev[0] == "eof":
                    why = None
                    break
                why = self.stopped(ev, limits, child.pid)
                break
        finally:
            self.kill_group(child.pid)
            try:
                _, status, rusage = os.wait4(child.pid, 0)
            except ChildProcessError:
                status, rusage = None, None
            self.sweep(child.pid)
            child.close()
            self.clean_scratch()
        if reported == count:
            return reported, None, False
        if why is None:
            why = self.classify_death(status, limits)
        undefined = None
        if not defined and reported == 0 and why[0] != "error":
            undefined = why
        used = 0.0
        if rusage is not None and reported == 0:
            used = (rusage.ru_utime + rusage.ru_stime) * 1000.0
        now = time.monotonic()
        prof = {"define": define_ms if reported == 0 else 0.0, "fork": 0.0,
                "test": (now - last) * 1000.0}
        self.verdict(jid, start + reported, why[0], why[1], used, (now - last) * 1000.0, prof)
        return reported + 1, undefined, why[0] == "timeout"

    def serve(self):
        _dumps({"warm": [1, 2.0, "x"]})
        gc.collect()
        gc.freeze()
        self.emit({"ready": True, "pid1": self.pid1, "python": sys.version.split()[0]})
        stdin = sys.stdin.buffer
        while True:
            line = stdin.readline()
            if not line:
                return
            job = json.loads(line)
            self.run_job(job)
            self.emit({"job": job["job"], "done": True})


Zygote().serve()
