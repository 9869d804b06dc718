# codejury sandbox harness: the warm interpreter ("zygote").
#
# The Rust supervisor starts this file once per worker, already inside the
# worker's isolation (namespaces, landlock, seccomp, cgroup, no capabilities).
# It reads one job per line on stdin (a candidate program and its tests),
# forks a runner per test (faithful mode) or one runner for all remaining
# tests (fast mode), enforces wall time and output limits itself, and writes
# one JSON line per (candidate, test) verdict to stdout.
#
# Trust boundary: this process never executes candidate or test code; only
# runners do, and runners report through a private pipe.  A runner that dies,
# exits early or stops reporting can therefore never produce a pass.

import gc
import json
import os
import resource
import select
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
# makes every runner's import a dictionary lookup instead of disk work.
for _name in (
    "math", "re", "collections", "itertools", "functools", "heapq", "bisect",
    "string", "typing", "random", "copy", "statistics", "fractions",
    "decimal", "operator", "hashlib", "datetime", "json", "array", "cmath",
    "pickle", "base64", "io", "dataclasses", "enum", "textwrap",
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


def _runner(job, start, count, res_w, token, own_group):
    """Body of a forked runner: define the candidate, run tests [start, start+count).

    Reports carry `token`, a secret the zygote made for this runner, so bytes
    that candidate code writes to stray file descriptors are not taken for
    reports; and only this process reports, so a process the candidate forks
    that returns into this code exits silently instead.  Everything that is
    the same for every runner (signals, cwd, environment, file-size limit)
    was set once in the zygote: each page a runner touches costs a
    copy-on-write fault.
    """
    limits = job["limits"]
    me = _getpid()
    if own_group:
        os.setpgid(0, 0)
    cpu = max(1, int((limits["cpu_ms"] + 999) // 1000))
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    if limits.get("rlimit_as_bytes"):
        a = limits["rlimit_as_bytes"]
        resource.setrlimit(resource.RLIMIT_AS, (a, a))
    if limits.get("rlimit_nproc"):
        n = limits["rlimit_nproc"]
        resource.setrlimit(resource.RLIMIT_NPROC, (n, n))

    def report(index, status, message, cpu_ms, value=None):
        if _getpid() != me:
            _exit(0)
        text = '{"test": %d, "status": "%s", "message": %s, "cpu_ms": %.3f, "token": "%s"' % (
            index, status, _encode_str(_str(message)), cpu_ms, token)
        if value is not None:
            text += ', "value": ' + _encode_str(_str(value))
        data = (text + "}\n").encode()
        while data:
            n = _write(res_w, data)
            data = data[n:]

    entry_point = job.get("entry_point")
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
        for i in range(start, start + count):
            report(i, "error", "the job's prelude failed: " + _describe(exc), cpu_ms)
        _exit(0)
    try:
        exec(job["compiled"], ns)
        failed = None
    except _SystemExit as exc:
        failed = ("error", "the candidate exited while being defined (SystemExit %r)" % (exc.code,))
    except _BaseException as exc:
        failed = (_classify_exception(exc), "while defining the candidate: " + _describe(exc))
    uses_unittest = any(job["tests"][i]["format"] == "unittest"
                        for i in range(start, start + count))
    tamper = _tampered(uses_unittest) if failed is None else None
    if tamper:
        failed = ("error", "the candidate replaced %s" % tamper)
    if failed is not None:
        cpu_ms = (_process_time() - t0) * 1000.0
        for i in range(start, start + count):
            report(i, failed[0], failed[1], cpu_ms)
        _exit(0)
    # Tell the zygote the candidate is defined: a runner that hangs or dies
    # before this line would do the same for every test of the job.
    _write(res_w, b"D\n")
    for i in range(start, start + count):
        test = job["tests"][i]
        t1 = _process_time()
        value = None
        if count > 1:
            used = int(resource.getrusage(resource.RUSAGE_SELF).ru_utime
                       + resource.getrusage(resource.RUSAGE_SELF).ru_stime)
            try:
                resource.setrlimit(resource.RLIMIT_CPU, (used + cpu, used + cpu + 1))
            except (ValueError, OSError):
                pass
        try:
            status, message, value = _run_one(test, ns, pre_ns, entry_point)
        except _SystemExit as exc:
            status, message = "error", "the code exited during the test (SystemExit %r)" % (exc.code,)
        except _BaseException as exc:
            status, message = _classify_exception(exc), _describe(exc)
        if _getpid() != me:
            _exit(0)
        cpu_ms = (_process_time() - t1) * 1000.0
        if status == "pass":
            tamper = _tampered(test["format"] == "unittest")
            if tamper:
                status, message = "error", "the code replaced %s" % tamper
        report(i, status, message, cpu_ms, value)
    _exit(0)


class Zygote:
    def __init__(self):
        self.pid1 = _getpid() == 1
        self.scratch = os.environ.get("CODEJURY_SCRATCH", os.getcwd())
        self.oom_file = os.environ.get("CODEJURY_OOM_CONTROL") or None
        self.oom_seen = self.oom_kills()
        self.fsize = None
        # Runners inherit all of this instead of each setting it again.
        os.chdir(self.scratch)
        for sig in (signal.SIGPIPE, signal.SIGTERM, signal.SIGINT, signal.SIGXFSZ):
            signal.signal(sig, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    def emit(self, obj):
        data = (_dumps(obj) + "\n").encode()
        while data:
            n = os.write(1, data)
            data = data[n:]

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

    def reap_all(self, pid):
        """Kill everything the runner left behind and reap it."""
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
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass

    def clean_scratch(self):
        """Empties the scratch directory the runner worked in."""
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
                self.emit({"job": jid, "test": i, "verdict": "error", "message": msg,
                           "cpu_ms": 0.0, "wall_ms": 0.0})
            return
        job["prelude_compiled"] = None
        if job.get("prelude"):
            try:
                job["prelude_compiled"] = compile(job["prelude"], "<prelude>", "exec")
            except BaseException as exc:
                msg = "the job's prelude does not compile: " + _describe(exc)
                for i in range(n):
                    self.emit({"job": jid, "test": i, "verdict": "sandbox-error",
                               "message": msg, "cpu_ms": 0.0, "wall_ms": 0.0})
                return
        ok = []
        for i, t in enumerate(tests):
            try:
                t["compiled"] = compile(t["code"], "<test>", "exec")
                ok.append(i)
            except BaseException as exc:
                t["compiled"] = None
                self.emit({"job": jid, "test": i, "verdict": "error",
                           "message": "the test does not compile: " + _describe(exc),
                           "cpu_ms": 0.0, "wall_ms": 0.0})
        fast = job.get("mode") == "fast"
        pos = 0
        while pos < len(ok):
            # Runners take a contiguous run of compilable tests.
            start = ok[pos]
            count = 1
            if fast:
                while pos + count < len(ok) and ok[pos + count] == start + count:
                    count += 1
            done, undefined = self.run_batch(job, start, count, limits)
            pos += done
            if undefined is not None:
                # The candidate itself hangs or dies while being defined:
                # every remaining test would meet the same end.
                status, message = undefined
                for i in ok[pos:]:
                    self.emit({"job": jid, "test": i, "verdict": status,
                               "message": "while defining the candidate: " + message,
                               "cpu_ms": 0.0, "wall_ms": 0.0})
                return

    def run_batch(self, job, start, count, limits):
        """Forks one runner for tests [start, start+count); returns how many got a verdict."""
        jid = job["job"]
        wall = limits["wall_ms"] / 1000.0
        out_cap = limits["output_bytes"]
        res_r, res_w = os.pipe()
        out_r, out_w = os.pipe()
        token = os.urandom(16).hex()
        t_start = time.monotonic()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(res_r)
                os.close(out_r)
                devnull = os.open("/dev/null", os.O_RDONLY)
                os.dup2(devnull, 0)
                os.dup2(out_w, 1)
                os.dup2(out_w, 2)
                os.close(out_w)
                _runner(job, start, count, res_w, token, not self.pid1)
            except BaseException:
                try:
                    os.write(2, traceback.format_exc().encode())
                finally:
                    os._exit(70)
            os._exit(0)
        os.close(res_w)
        os.close(out_w)
        # With one test per runner, its report is only read as bytes while the
        # runner lives and parsed after it is gone: until then every page the
        # zygote writes is a copy-on-write fault.
        defer = count == 1
        deferred = None
        defined = False
        reported = 0
        pending = []
        out_bytes = 0
        verdict_for_current = None
        last = t_start
        deadline = last + wall
        open_fds = [res_r, out_r]
        while open_fds:
            timeout = deadline - time.monotonic()
            if timeout <= 0:
                verdict_for_current = ("timeout", "wall-clock limit of %.3fs reached" % wall)
                break
            try:
                readable, _, _ = select.select(open_fds, [], [], timeout)
            except InterruptedError:
                continue
            for fd in readable:
                chunk = os.read(fd, 1 << 16)
                if not chunk:
                    open_fds.remove(fd)
                    continue
                if fd == out_r:
                    out_bytes += len(chunk)
                    if out_bytes > out_cap:
                        verdict_for_current = (
                            "output-limit", "wrote more than %d bytes of output" % out_cap)
                    continue
                pending.append(chunk)
                if b"\n" not in chunk:
                    continue
                buf = b"".join(pending)
                pending = []
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    if line == b"D":
                        defined = True
                        continue
                    now = time.monotonic()
                    if defer:
                        deferred = (line, now)
                        reported = 1
                        break
                    verdict_for_current = self.accept(line, jid, start + reported, token, last, now)
                    if verdict_for_current:
                        break
                    reported += 1
                    last = now
                    deadline = now + wall
                if buf:
                    pending.append(buf)
                if verdict_for_current:
                    break
            if verdict_for_current or reported == count:
                break
        # The runner is finished, or must be: collect its status.
        if verdict_for_current is not None or reported == count:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            _, child_status, rusage = os.wait4(pid, 0)
        except ChildProcessError:
            child_status, rusage = None, None
        self.reap_all(pid)
        os.close(res_r)
        os.close(out_r)
        self.clean_scratch()
        if deferred is not None:
            line, now = deferred
            verdict_for_current = self.accept(line, jid, start, token, last, now)
            if verdict_for_current:
                reported = 0
        undefined = None
        if reported < count:
            now = time.monotonic()
            if verdict_for_current is None:
                verdict_for_current = self.classify_death(child_status, limits)
            if not defined and reported == 0 and verdict_for_current[0] != "error":
                undefined = verdict_for_current
            status, message = verdict_for_current
            cpu_ms = 0.0
            if rusage is not None and reported == 0:
                cpu_ms = (rusage.ru_utime + rusage.ru_stime) * 1000.0
            self.emit({"job": jid, "test": start + reported, "verdict": status,
                       "message": message, "cpu_ms": cpu_ms,
                       "wall_ms": (now - last) * 1000.0})
            reported += 1
        return reported, undefined

    def accept(self, line, jid, index, token, last, now):
        """Checks and forwards one runner report; returns a verdict if it is bad."""
        try:
            rec = json.loads(line)
            genuine = rec["token"] == token
            got = int(rec["test"])
            status = str(rec["status"])
        except Exception:
            genuine = False
        if not genuine:
            return ("error", "a forged or garbled report was sent")
        if got != index or status not in ("pass", "fail", "error", "memory", "timeout"):
            return ("error", "the runner's report was out of order")
        out = {"job": jid, "test": index, "verdict": status,
               "message": rec.get("message", ""),
               "cpu_ms": float(rec.get("cpu_ms", 0.0)),
               "wall_ms": (now - last) * 1000.0}
        if "value" in rec:
            out["value"] = rec["value"]
        self.emit(out)
        return None

    def classify_death(self, status, limits):
        if status is None:
            return ("sandbox-error", "the runner vanished")
        # Only runners are ever OOM-killed, so a rise of the group's counter
        # since the last look means this runner was.
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
