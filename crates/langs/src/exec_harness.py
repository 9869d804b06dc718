# codejury sandbox harness for languages that run as processes ("exec
# zygote"): C++, Go, Java, JavaScript, TypeScript, PHP, Ruby and Perl.
#
# The Rust supervisor starts this file once per worker, already inside the
# worker's isolation (namespaces, landlock, seccomp, cgroup, no
# capabilities), with the language's recipe as JSON in argv[1].  It reads
# one job per line on stdin and writes one JSON verdict line per (candidate,
# test) pair, in the wire protocol of `codejury_sandbox::toolchain`.
#
# A pair's program is the candidate, then the test program, then an
# epilogue the harness writes with a secret made for that pair.  The
# program is built (if the language builds) and run as a process of its own,
# in its own process group; a pair passes only if the process exits 0 *and*
# its output carries the secret, which only the epilogue prints, after the
# test's last check.  A candidate that exits early (`exit(0)`,
# `System.exit(0)`, `process.exit(0)`, `os.Exit(0)`) never reaches the
# epilogue, so it cannot pass.  The compiler runs inside the same walls as
# the program, with its own CPU, wall-clock and output limits.
#
# Trust boundary: this process never runs candidate code; its children do.
# After every pair everything the pair started is killed (in a PID
# namespace: every process but this one) and its scratch files removed.

import json
import os
import re
import resource
import secrets
import select
import signal
import sys
import time

RECIPE = json.loads(sys.argv[1])
_POLL = 0.005
_TICK = os.sysconf("SC_CLK_TCK")


def _cpu_ms_of(pid):
    """CPU time of a live process and its reaped children, in ms."""
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        return (int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])) * 1000.0 / _TICK
    except (OSError, IndexError, ValueError):
        return None


def _cpu_over(pid, limits, last):
    """The CPU time of `pid` (or `last`, once it cannot be read) and
    whether it is past the pair's limit."""
    used = _cpu_ms_of(pid)
    if used is None:
        return last, False
    return used, used > limits["cpu_ms"]


def _tail(data, limit=2000):
    text = data.decode("utf-8", "replace").strip()
    if len(text) > limit:
        text = "..." + text[-limit:]
    return text


# --- the programs -------------------------------------------------------

_CPP_MAIN = re.compile(r"\bint\s+main\s*\(([^)]*)\)")
_GO_MAIN = re.compile(r"\bfunc\s+main\s*\(\s*\)")


def _php_closed(text):
    """Whether PHP text ends outside a `<?php` block (after a `?>`)."""
    opened = text.rfind("<?php")
    closed = text.rfind("?>")
    return closed > opened


_GO_IMPORT_LINE = re.compile(r'^\s*import\s+("[^"]+"|\w+\s+"[^"]+")\s*$')
_GO_IMPORT_BLOCK = re.compile(r'^\s*import\s*\(([^)]*)\)', re.M)
_GO_PACKAGE = re.compile(r'^\s*package\s+\w+\s*$', re.M)


def _go_hoist_imports(candidate, test):
    """Go wants every import before the first declaration: a test's
    imports move up to just after the candidate's package clause (those the
    candidate already has are dropped, a second import of one is an
    error)."""
    specs = []
    for m in _GO_IMPORT_BLOCK.finditer(test):
        specs.extend(s.strip() for s in m.group(1).splitlines() if s.strip())
    test = _GO_IMPORT_BLOCK.sub("", test)
    kept = []
    for line in test.splitlines(True):
        m = _GO_IMPORT_LINE.match(line)
        if m:
            specs.append(m.group(1))
        else:
            kept.append(line)
    test = "".join(kept)
    new = [s for s in specs if s not in candidate]
    package = _GO_PACKAGE.search(candidate)
    if new and package:
        at = package.end()
        candidate = candidate[:at] + "\n" + "".join("import %s\n" % s for s in new) + candidate[at:]
    return candidate, test


def assemble(lang, candidate, test, secret):
    """The source of one pair's program, and an error if the test has no
    entry the harness can wrap."""
    line = "\\n" + secret + "\\n"
    if lang == "cpp":
        m = _CPP_MAIN.search(test)
        if not m:
            return None, "the test has no `int main(...)` to run"
        params = m.group(1).strip()
        args = "" if params in ("", "void") else "argc, argv"
        test = _returning_main(test, m)
        if test is None:
            return None, "the test's `main` never closes"
        epilogue = (
            "\n#include <cstdio>\n"
            "int main(int argc, char* argv[]) {\n"
            "    (void)argc; (void)argv;\n"
            "    int cj_status = cj_main(%s);\n"
            "    if (cj_status == 0) { std::fputs(\"%s\", stdout); std::fflush(stdout); }\n"
            "    return cj_status;\n"
            "}\n" % (args, line)
        )
        return candidate + "\n" + test + epilogue, None
    if lang == "go":
        m = _GO_MAIN.search(test)
        if not m:
            return None, "the test has no `func main()` to run"
        test = test[: m.start()] + "func cj_test_main()" + test[m.end():]
        candidate, test = _go_hoist_imports(candidate, test)
        # `print` is a builtin (stderr, unbuffered): no import to add.
        epilogue = '\nfunc main() {\n\tcj_test_main()\n\tprint("%s")\n}\n' % line
        return candidate + "\n" + test + epilogue, None
    if lang == "java":
        epilogue = (
            "\nclass CjEntry {\n"
            "    public static void main(String[] args) throws Throwable {\n"
            "        Main.main(args);\n"
            "        System.out.print(\"%s\");\n"
            "        System.out.flush();\n"
            "    }\n"
            "}\n" % line
        )
        return candidate + "\n" + test + epilogue, None
    if lang in ("javascript", "typescript"):
        return candidate + "\n" + test + '\n;process.stdout.write("%s");\n' % line, None
    if lang == "php":
        text = candidate + "\n" + test
        opener = "<?php " if _php_closed(text) else ""
        return text + '\n%secho "%s";\n' % (opener, line), None
    if lang == "ruby":
        return candidate + "\n" + test + '\n$stdout.write("%s")\n$stdout.flush\n' % line, None
    if lang == "perl":
        return candidate + "\n" + test + '\n;print STDOUT "%s";\n' % line, None
    return None, "the harness does not know the language %r" % lang


def _close_brace(text, start):
    """Index of the brace closing the block opened at text[start] ('{'),
    skipping strings, characters and comments; None if it never closes."""
    depth = 0
    i = start
    n = len(text)
    while i < n:
        c = text[i]
        if c == "/" and text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif c == "/" and text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 1
        elif c in "\"'`":
            i += 1
            while i < n and text[i] != c and not (c != "`" and text[i] == "\n"):
                if text[i] == "\\":
                    i += 1
                i += 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return i
        i += 1
    return None


def _returning_main(test, m):
    """The test with the `main` matched by m renamed `cj_main` and ending in
    `return 0;` (falling off the end of `main` returns 0; of any other
    function it is undefined behaviour)."""
    open_at = test.find("{", m.end())
    close_at = _close_brace(test, open_at) if open_at >= 0 else None
    if close_at is None:
        return None
    renamed = test[: m.start()] + "int cj_main(" + m.group(1) + ")" + test[m.end():close_at]
    return renamed + "\n    return 0;\n" + test[close_at:]


_GO_TOP_DECL = re.compile(r"^(?:func|var|const|type)\s+([A-Za-z_]\w*)", re.M)
_JAVA_CLASS = re.compile(r"^\s*(?:public\s+|final\s+|abstract\s+)*(?:class|interface|enum|record)\s+([A-Za-z_]\w*)", re.M)


def _hoist(test, prefix, into):
    """The test without its lines that start with `prefix` (includes,
    imports), which go into `into` to be written once at the top."""
    kept = []
    for line in test.splitlines(True):
        if line.lstrip().startswith(prefix):
            into.append(line.strip())
        else:
            kept.append(line)
    return "".join(kept)


def _suffixed(test, names, i):
    """Test i with each top-level name it declares renamed `NAME_cj<i>`,
    so that tests declaring the same helpers can share one program."""
    for name in names:
        test = re.sub(r"\b%s\b" % re.escape(name), "%s_cj%d" % (name, i), test)
    return test


def combine(lang, candidate, tests):
    """One program holding the candidate and every test, each test in a unit
    of its own chosen at run time by the first argument; after the chosen
    test returns, the program copies the line it reads on stdin (the pair's
    secret) to stdout.  Returns (source, None) or (None, why not)."""
    n = len(tests)
    if lang == "cpp":
        includes, units, calls = [], [], []
        for i, test in enumerate(tests):
            test = _hoist(test, "#include", includes)
            m = _CPP_MAIN.search(test)
            if not m:
                return None, "test %d has no `int main(...)` to run" % i
            params = m.group(1).strip()
            args = "" if params in ("", "void") else "argc, argv"
            body = _returning_main(test, m)
            if body is None:
                return None, "test %d's `main` never closes" % i
            units.append("namespace cj_t%d {\n%s\n}\n" % (i, body))
            calls.append("        case %d: cj_status = cj_t%d::cj_main(%s); break;\n" % (i, i, args))
        head = "".join(sorted(set(i + "\n" for i in includes)))
        dispatch = (
            "\n#include <cstdio>\n#include <cstdlib>\n"
            "int main(int argc, char* argv[]) {\n"
            "    int cj_status = 1;\n"
            "    switch (argc > 1 ? std::atoi(argv[1]) : -1) {\n%s"
            "        default: return 125;\n"
            "    }\n"
            "    if (cj_status == 0) {\n"
            "        char cj_secret[128] = {0};\n"
            "        if (std::fgets(cj_secret, sizeof cj_secret, stdin)) {\n"
            "            std::fputs(\"\\n\", stdout); std::fputs(cj_secret, stdout); std::fflush(stdout);\n"
            "        }\n"
            "    }\n"
            "    return cj_status;\n"
            "}\n" % "".join(calls)
        )
        return head + candidate + "\n" + "".join(units) + dispatch, None
    if lang == "java":
        units, calls = [], []
        for i, test in enumerate(tests):
            names = set(_JAVA_CLASS.findall(test))
            if "Main" not in names:
                return None, "test %d has no class Main" % i
            test = _suffixed(test, names, i)
            units.append(test)
            calls.append("            case %d: Main_cj%d.main(new String[0]); break;\n" % (i, i))
        dispatch = (
            "\nclass CjEntry {\n"
            "    public static void main(String[] args) throws Throwable {\n"
            "        switch (Integer.parseInt(args[0])) {\n%s"
            "            default: System.exit(125);\n"
            "        }\n"
            "        String s = new java.io.BufferedReader(new java.io.InputStreamReader(System.in)).readLine();\n"
            "        if (s != null) { System.out.print(\"\\n\" + s + \"\\n\"); System.out.flush(); }\n"
            "    }\n"
            "}\n" % "".join(calls)
        )
        return candidate + "\n" + "\n".join(units) + dispatch, None
    if lang == "go":
        units, calls = [], []
        for i, test in enumerate(tests):
            candidate, test = _go_hoist_imports(candidate, test)
            names = set(_GO_TOP_DECL.findall(test))
            if "main" not in names:
                return None, "test %d has no `func main()`" % i
            test = _suffixed(test, names, i)
            units.append(test)
            calls.append("\tcase %d:\n\t\tmain_cj%d()\n" % (i, i))
        candidate, _ = _go_hoist_imports(
            candidate, 'import cj_os "os"\nimport cj_strconv "strconv"\nimport cj_bufio "bufio"\n')
        dispatch = (
            "\nfunc main() {\n"
            "\tcj_which, _ := cj_strconv.Atoi(cj_os.Args[1])\n"
            "\tswitch cj_which {\n%s"
            "\tdefault:\n\t\tcj_os.Exit(125)\n"
            "\t}\n"
            "\tcj_secret, _ := cj_bufio.NewReader(cj_os.Stdin).ReadString('\\n')\n"
            "\tcj_os.Stdout.WriteString(\"\\n\" + cj_secret)\n"
            "}\n" % "".join(calls)
        )
        return candidate + "\n" + "\n".join(units) + dispatch, None
    if lang == "typescript":
        imports, units = [], []
        for i, test in enumerate(tests):
            test = _hoist(test, "import ", imports)
            units.append("function cj_test_%d() {\n%s\n}\n" % (i, test))
        head = "".join(sorted(set(i + "\n" for i in imports)))
        dispatch = (
            "\ndeclare var process: any;\ndeclare var require: any;\n"
            "const cj_tests = [%s];\n"
            "const cj_which = Number(process.argv[2]);\n"
            "if (!(cj_which >= 0 && cj_which < cj_tests.length)) { process.exit(125); }\n"
            "cj_tests[cj_which]();\n"
            "process.stdout.write(\"\\n\" + require(\"fs\").readFileSync(0, \"utf8\"));\n"
            % ", ".join("cj_test_%d" % i for i in range(n))
        )
        return head + candidate + "\n" + "".join(units) + dispatch, None
    return None, "%s programs are not built once" % lang



# --- warm interpreters (fast mode) ----------------------------------------
#
# In fast mode a script language's interpreter starts once per worker and
# forks a child per pair, which runs the pair's file as the interpreter
# would (`load`, `do`, `include` at the top level, `$0` set to the file):
# one process per pair still, without paying the interpreter's start each
# time.  The server reads `SRC\tCWD\tFIFO` lines; for each it forks a
# child that makes its own process group, reads /dev/null, writes stdout
# and stderr to FIFO and runs SRC in CWD; it answers the child's pid, then
# `PID STATUS CPU_MS` (the raw wait status, and the child's CPU time) when
# the child ends.  Anything unexpected stops the server, and the pair runs
# the cold way (a fresh interpreter).

_RUBY_SERVER = r"""
$stdout.sync = true
STDIN.each_line do |cj_line|
  cj_src, cj_cwd, cj_fifo = cj_line.chomp.split("\t", 3)
  cj_t0 = Process.times
  cj_pid = fork do
    Process.setpgid(0, 0)
    $stdin.reopen("/dev/null")
    $stdout.reopen(cj_fifo, "w")
    $stderr.reopen(cj_fifo, "w")
    $stdout.sync = false
    Dir.chdir(cj_cwd)
    $0 = cj_src
    load(cj_src)
  end
  $stdout.write("#{cj_pid}\n")
  _, cj_status = Process.wait2(cj_pid)
  cj_t1 = Process.times
  cj_cpu = ((cj_t1.cutime - cj_t0.cutime) + (cj_t1.cstime - cj_t0.cstime)) * 1000.0
  $stdout.write("#{cj_pid} #{cj_status.to_i} #{cj_cpu}\n")
end
"""

_PERL_SERVER = r"""
use POSIX ();
BEGIN { eval { require Data::Compare; 1 } }
$| = 1;
while (my $cj_line = <STDIN>) {
    chomp $cj_line;
    my ($cj_src, $cj_cwd, $cj_fifo) = split /\t/, $cj_line, 3;
    my @cj_t0 = times;
    my $cj_pid = fork;
    exit 3 unless defined $cj_pid;
    if ($cj_pid == 0) {
        POSIX::setpgid(0, 0);
        open(STDIN, '<', '/dev/null') or POSIX::_exit(126);
        open(STDOUT, '>', $cj_fifo) or POSIX::_exit(126);
        open(STDERR, '>>&', \*STDOUT) or POSIX::_exit(126);
        $| = 0;
        chdir($cj_cwd) or POSIX::_exit(126);
        $0 = $cj_src;
        do $cj_src;
        if ($@) { print STDERR $@; exit 255; }
        exit 0;
    }
    print "$cj_pid\n";
    waitpid($cj_pid, 0);
    my $cj_status = $?;
    my @cj_t1 = times;
    my $cj_cpu = (($cj_t1[2] - $cj_t0[2]) + ($cj_t1[3] - $cj_t0[3])) * 1000;
    print "$cj_pid $cj_status $cj_cpu\n";
}
"""

_PHP_SERVER = r"""
while (($__cj_line = fgets(STDIN)) !== false) {
    [$__cj_src, $__cj_cwd, $__cj_fifo] = explode("\t", rtrim($__cj_line, "\n"), 3);
    $__cj_t0 = getrusage(1);
    $__cj_pid = pcntl_fork();
    if ($__cj_pid < 0) { exit(3); }
    if ($__cj_pid === 0) {
        posix_setpgid(0, 0);
        fclose(STDIN); $__cj_0 = fopen('/dev/null', 'r');
        fclose(STDOUT); $__cj_1 = fopen($__cj_fifo, 'w');
        fclose(STDERR); $__cj_2 = fopen($__cj_fifo, 'w');
        // The CLI keeps writing its errors to the descriptor it started
        // with: they go to the pair's output through the error log.
        ini_set('error_log', $__cj_fifo);
        chdir($__cj_cwd);
        unset($__cj_line, $__cj_cwd, $__cj_fifo, $__cj_t0, $__cj_pid);
        include $__cj_src;
        exit(0);
    }
    fwrite(STDOUT, "$__cj_pid\n");
    pcntl_waitpid($__cj_pid, $__cj_status);
    $__cj_t1 = getrusage(1);
    $__cj_cpu = ($__cj_t1['ru_utime.tv_sec'] - $__cj_t0['ru_utime.tv_sec']
        + $__cj_t1['ru_stime.tv_sec'] - $__cj_t0['ru_stime.tv_sec']) * 1000.0
        + ($__cj_t1['ru_utime.tv_usec'] - $__cj_t0['ru_utime.tv_usec']
        + $__cj_t1['ru_stime.tv_usec'] - $__cj_t0['ru_stime.tv_usec']) / 1000.0;
    fwrite(STDOUT, "$__cj_pid $__cj_status $__cj_cpu\n");
}
"""

# The flag each interpreter takes its program with, and the program.
_WARM = {
    "ruby": ("-e", _RUBY_SERVER),
    "perl": ("-e", _PERL_SERVER),
    "php": ("-r", _PHP_SERVER),
}


class WarmBroken(Exception):
    """The warm interpreter cannot serve this pair: run it cold."""


# --- processes ----------------------------------------------------------


class Zygote:
    def __init__(self):
        self.pid1 = os.getpid() == 1
        self.scratch = os.environ.get("CODEJURY_SCRATCH", os.getcwd())
        self.oom_file = os.environ.get("CODEJURY_OOM_CONTROL") or None
        self.oom_seen = self.oom_kills()
        os.chdir(self.scratch)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGXFSZ):
            signal.signal(sig, signal.SIG_DFL)
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        self.base_env = {}
        for key in ("PATH", "LANG", "HOME", "TMPDIR"):
            if key in os.environ:
                self.base_env[key] = os.environ[key]
        self.env = self.base_env
        # The warm interpreter (fast mode, script languages): its pid, the
        # pipes to it, the limits it was started under.
        self.warm = None

    def emit(self, obj):
        data = (json.dumps(obj) + "\n").encode()
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

    def sweep(self, pid):
        """Kills everything the pair left behind and reaps it (the warm
        interpreter, when there is one, is spared: it is not the pair's)."""
        if self.pid1 and self.warm is not None:
            return self.sweep_around(self.warm["pid"])
        if self.pid1:
            try:
                os.kill(-1, signal.SIGKILL)
            except ProcessLookupError:
                pass
        else:
            for target in (-pid, pid):
                try:
                    os.kill(target, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
        while True:
            try:
                p, _ = os.waitpid(-1, 0 if self.pid1 else os.WNOHANG)
            except ChildProcessError:
                break
            except InterruptedError:
                continue
            if p == 0:
                break

    def sweep_around(self, keep):
        """As PID 1: kills every process but this one and `keep`, until
        none is left (orphans become this process's children and are
        reaped here; the warm interpreter reaps its own)."""
        me = os.getpid()
        deadline = time.monotonic() + 5.0
        while True:
            others = []
            for name in os.listdir("/proc"):
                if name.isdigit() and int(name) not in (me, keep):
                    others.append(int(name))
            for p in others:
                try:
                    os.kill(p, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            while True:
                try:
                    p, _ = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                except InterruptedError:
                    continue
                if p == 0 or p == keep:
                    break
            if not others or time.monotonic() > deadline:
                return
            time.sleep(0.001)

    def clean(self, path):
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

    def execute(self, argv, cwd, limits, stdin=None):
        """Runs argv in its own process group under `limits` (cpu_ms,
        wall_ms, output_bytes, fsize_bytes, rlimit_as_bytes?,
        rlimit_nproc?), with `stdin` (bytes, small) on its standard input,
        else /dev/null.  Returns (why, status, output, cpu_ms, wall_ms):
        why is None when it exited by itself, else "cpu", "wall" or
        "output"."""
        in_r = None
        if stdin is not None:
            in_r, in_w = os.pipe()
            os.write(in_w, stdin)
            os.close(in_w)
        out_r, out_w = os.pipe()
        started = time.monotonic()
        pid = os.fork()
        if pid == 0:
            try:
                os.setpgid(0, 0)
                cpu = max(1, int((limits["cpu_ms"] + 999) // 1000)) + 1
                resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
                resource.setrlimit(resource.RLIMIT_FSIZE, (limits["fsize_bytes"],) * 2)
                if limits.get("rlimit_as_bytes"):
                    resource.setrlimit(resource.RLIMIT_AS, (limits["rlimit_as_bytes"],) * 2)
                if limits.get("rlimit_nproc"):
                    resource.setrlimit(resource.RLIMIT_NPROC, (limits["rlimit_nproc"],) * 2)
                source = in_r if in_r is not None else os.open("/dev/null", os.O_RDONLY)
                os.dup2(source, 0)
                os.dup2(out_w, 1)
                os.dup2(out_w, 2)
                os.closerange(3, 1 << 16)
                os.chdir(cwd)
                os.execve(argv[0], argv, self.env)
            except BaseException as exc:
                try:
                    os.write(2, ("cannot start %s: %s" % (argv[0], exc)).encode())
                finally:
                    os._exit(127)
        os.close(out_w)
        if in_r is not None:
            os.close(in_r)
        output = bytearray()
        why = None
        deadline = started + limits["wall_ms"] / 1000.0
        cpu_ms = 0.0
        status = None
        usage = None
        open_fd = True
        # A pidfd turns readable when the process exits: waiting on it and
        # on the output pipe together wakes at once, with no polling sleep.
        try:
            exit_fd = os.pidfd_open(pid)
        except (AttributeError, OSError):
            exit_fd = None
        try:
            while True:
                # The pair ends when its process does: a child it left
                # behind holding the output pipe open does not keep it
                # running.
                p, st, ru = os.wait4(pid, os.WNOHANG)
                if p == pid:
                    status, usage = st, ru
                    while open_fd and select.select([out_r], [], [], 0)[0]:
                        chunk = os.read(out_r, 1 << 16)
                        if not chunk:
                            break
                        output += chunk
                        if len(output) > limits["output_bytes"]:
                            why = "output"
                            break
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    why = "wall"
                    break
                fds = [out_r] if open_fd else []
                if exit_fd is not None:
                    fds.append(exit_fd)
                if fds:
                    try:
                        ready, _, _ = select.select(fds, [], [], min(left, _POLL))
                    except InterruptedError:
                        continue
                else:
                    ready = []
                    time.sleep(_POLL)
                if open_fd and out_r in ready:
                    chunk = os.read(out_r, 1 << 16)
                    if not chunk:
                        open_fd = False
                    else:
                        output += chunk
                        if len(output) > limits["output_bytes"]:
                            why = "output"
                            break
                cpu_ms, over = _cpu_over(pid, limits, cpu_ms)
                if over:
                    why = "cpu"
                    break
        finally:
            if exit_fd is not None:
                os.close(exit_fd)
        if why is not None and status is None:
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            _, status, usage = os.wait4(pid, 0)
        if usage is not None:
            cpu_ms = max(cpu_ms, (usage.ru_utime + usage.ru_stime) * 1000.0)
        os.close(out_r)
        self.sweep(pid)
        return why, status, bytes(output), cpu_ms, (time.monotonic() - started) * 1000.0

    def warm_server(self, limits):
        """The warm interpreter for `limits` (started, or restarted when
        the limits it runs under differ), or None when there is none."""
        flag_program = _WARM.get(RECIPE["lang"])
        if not RECIPE.get("warm") or flag_program is None:
            return None
        key = (limits["fsize_bytes"], limits.get("rlimit_nproc"), limits.get("rlimit_as_bytes"))
        if self.warm is not None and self.warm["key"] == key:
            return self.warm
        self.stop_warm()
        argv = [RECIPE["run"][0], flag_program[0], flag_program[1]]
        req_r, req_w = os.pipe()
        rep_r, rep_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.setpgid(0, 0)
                resource.setrlimit(resource.RLIMIT_FSIZE, (limits["fsize_bytes"],) * 2)
                if limits.get("rlimit_as_bytes"):
                    resource.setrlimit(resource.RLIMIT_AS, (limits["rlimit_as_bytes"],) * 2)
                if limits.get("rlimit_nproc"):
                    resource.setrlimit(resource.RLIMIT_NPROC, (limits["rlimit_nproc"],) * 2)
                os.dup2(req_r, 0)
                os.dup2(rep_w, 1)
                null = os.open("/dev/null", os.O_WRONLY)
                os.dup2(null, 2)
                os.closerange(3, 1 << 16)
                os.chdir(self.scratch)
                os.execve(argv[0], argv, self.base_env)
            finally:
                os._exit(127)
        os.close(req_r)
        os.close(rep_w)
        self.warm = {"pid": pid, "w": req_w, "r": rep_r, "buf": b"", "key": key}
        return self.warm

    def stop_warm(self):
        """Stops the warm interpreter, if any."""
        w, self.warm = self.warm, None
        if w is None:
            return
        for fd in (w["w"], w["r"]):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.killpg(w["pid"], signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            os.waitpid(w["pid"], 0)
        except ChildProcessError:
            pass

    def warm_line(self, w, deadline):
        """The next line the warm interpreter says, by `deadline`."""
        while b"\n" not in w["buf"]:
            left = deadline - time.monotonic()
            if left <= 0:
                raise WarmBroken("no answer")
            ready, _, _ = select.select([w["r"]], [], [], left)
            if ready:
                chunk = os.read(w["r"], 4096)
                if not chunk:
                    raise WarmBroken("it exited")
                w["buf"] += chunk
        line, w["buf"] = w["buf"].split(b"\n", 1)
        return line.decode()

    def execute_warm(self, src, cwd, limits):
        """Runs the script `src` in `cwd` as a child of the warm
        interpreter, under `limits`: as `execute` returns, or None when the
        warm interpreter cannot (then the caller runs it cold)."""
        w = self.warm_server(limits)
        if w is None:
            return None
        fifo = os.path.join(self.scratch, "cj-out-%s.fifo" % secrets.token_hex(8))
        os.mkfifo(fifo, 0o600)
        # Read and write: no writer yet is no end of file.
        out_r = os.open(fifo, os.O_RDWR | os.O_NONBLOCK)
        started = time.monotonic()
        pid = None
        output = bytearray()
        why = None
        status = None
        cpu_ms = 0.0
        try:
            try:
                os.write(w["w"], ("%s\t%s\t%s\n" % (src, cwd, fifo)).encode())
                pid = int(self.warm_line(w, started + 10.0))
            except (OSError, ValueError, WarmBroken):
                self.stop_warm()
                return None
            deadline = started + limits["wall_ms"] / 1000.0
            done = None
            while done is None:
                if w["buf"]:
                    ready = [w["r"]]
                else:
                    left = deadline - time.monotonic()
                    if left <= 0:
                        why = "wall"
                        break
                    try:
                        ready, _, _ = select.select([out_r, w["r"]], [], [], min(left, _POLL))
                    except InterruptedError:
                        continue
                if out_r in ready:
                    try:
                        chunk = os.read(out_r, 1 << 16)
                    except BlockingIOError:
                        chunk = b""
                    output += chunk
                    if len(output) > limits["output_bytes"]:
                        why = "output"
                        break
                if w["r"] in ready:
                    try:
                        done = self.warm_line(w, time.monotonic() + 10.0)
                    except WarmBroken:
                        self.stop_warm()
                        return None
                    break
                cpu_ms, over = _cpu_over(pid, limits, cpu_ms)
                if over:
                    why = "cpu"
                    break
            if done is None:
                for target in (-pid, pid):
                    try:
                        os.kill(target, signal.SIGKILL)
                    except (ProcessLookupError, PermissionError):
                        pass
                try:
                    done = self.warm_line(w, time.monotonic() + 10.0)
                except WarmBroken:
                    self.stop_warm()
                    done = None
            if done is not None:
                fields = done.split()
                if len(fields) != 3 or int(fields[0]) != pid:
                    self.stop_warm()
                    return None
                status = int(fields[1])
                cpu_ms = max(cpu_ms, float(fields[2]))
            elif why is None:
                return None
            while len(output) <= limits["output_bytes"]:
                try:
                    chunk = os.read(out_r, 1 << 16)
                except BlockingIOError:
                    break
                if not chunk:
                    break
                output += chunk
            if why is None and len(output) > limits["output_bytes"]:
                why = "output"
            if status is None:
                status = signal.SIGKILL
            return why, status, bytes(output), cpu_ms, (time.monotonic() - started) * 1000.0
        finally:
            os.close(out_r)
            try:
                os.unlink(fifo)
            except OSError:
                pass
            if pid is not None:
                self.sweep(pid)

    def died(self, status, limits):
        """The verdict for a run that ended by itself with `status`, not
        counting the secret (a pass is decided by the caller)."""
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
            if sig == signal.SIGABRT:
                # C++'s uncaught exception (a failed check) ends in abort().
                return ("fail", "aborted (an uncaught exception)")
            return ("killed", "killed by signal %s" % signal.Signals(sig).name)
        return None

    def stopped(self, why, limits, what):
        if why == "cpu":
            return ("timeout", "%sCPU limit of %d ms reached" % (what, limits["cpu_ms"]))
        if why == "wall":
            return ("timeout", "%swall-clock limit of %.3fs reached" % (what, limits["wall_ms"] / 1000.0))
        return ("output-limit", "%swrote more than %d bytes of output" % (what, limits["output_bytes"]))

    def fill(self, argv, paths):
        return [a.format(**paths) for a in argv]

    def build(self, paths, limits):
        """Builds one program: (None, cpu_ms, diagnostics) when it built,
        else (the verdict, an `error` saying why not, cpu_ms, diagnostics)."""
        build_limits = dict(limits)
        build_limits.update(RECIPE["build_limits"])
        spent = 0.0
        said = b""
        for step in RECIPE["build"]:
            argv = self.fill(step["argv"], paths)
            why, status, output, cpu_ms, _ = self.execute(argv, paths["dir"], build_limits)
            spent += cpu_ms
            said += output
            if why is not None:
                _, message = self.stopped(why, build_limits, "the compiler: ")
                return ("error", "the candidate does not build: " + message), spent, said
            died = self.died(status, build_limits)
            if died is not None:
                return ("error", "the candidate does not build: compiler " + died[1]), spent, said
            code = os.WEXITSTATUS(status)
            if code not in step.get("ok", [0]):
                return ("error", "the candidate does not build (exit %d): %s" % (code, _tail(output))), spent, said
            for need in step.get("produces", []):
                if not os.path.exists(need.format(**paths)):
                    return ("error", "the candidate does not build: %s" % _tail(output)), spent, said
        return None, spent, said

    def run_pair(self, job, i, test):
        jid = job["job"]
        limits = job["limits"]
        started = time.monotonic()
        secret = secrets.token_hex(16)
        source, bad = assemble(RECIPE["lang"], job["code"], test["code"], secret)
        if bad is not None:
            return self.emit({"job": jid, "test": i, "verdict": "error", "message": bad,
                              "cpu_ms": 0.0, "wall_ms": 0.0})
        pair_dir = os.path.join(self.scratch, "pair")
        self.clean(pair_dir)
        os.mkdir(pair_dir)
        paths = {"dir": pair_dir, "src": os.path.join(pair_dir, RECIPE["source"])}
        self.env = dict(self.base_env)
        for key, value in RECIPE.get("env", {}).items():
            self.env[key] = value.format(**paths)
        try:
            with open(paths["src"], "w", encoding="utf-8", errors="surrogatepass") as f:
                f.write(source)
            verdict, build_cpu, _ = self.build(paths, limits)
            if verdict is None:
                ran = None
                if not RECIPE["build"]:
                    ran = self.execute_warm(paths["src"], pair_dir, limits)
                if ran is None:
                    argv = self.fill(RECIPE["run"], paths)
                    ran = self.execute(argv, pair_dir, limits)
                why, status, output, cpu_ms, _ = ran
                verdict = self.judged(why, status, output, secret, limits)
            else:
                cpu_ms = 0.0
            status, message = verdict
            self.emit({"job": jid, "test": i, "verdict": status, "message": message,
                       "cpu_ms": cpu_ms, "wall_ms": (time.monotonic() - started) * 1000.0,
                       "prof": {"define": build_cpu, "fork": 0.0, "test": cpu_ms}})
        finally:
            self.clean(pair_dir)

    def judged(self, why, status, output, secret, limits):
        """The verdict of a run: a pass needs exit status 0 and the
        secret in the output."""
        if why is not None:
            return self.stopped(why, limits, "")
        verdict = self.died(status, limits)
        if verdict is not None:
            return verdict
        code = os.WEXITSTATUS(status)
        if code != 0:
            return ("fail", "exit status %d: %s" % (code, _tail(output)))
        if secret.encode() not in output:
            return ("fail", "the program exited 0 without reaching the end of its test "
                            "(an early exit, or a test that never ran): " + _tail(output, 400))
        return ("pass", "")

    def build_dir(self, name, source):
        """A fresh directory holding `source`, and its paths."""
        d = os.path.join(self.scratch, name)
        self.clean(d)
        os.mkdir(d)
        paths = {"dir": d, "src": os.path.join(d, RECIPE["source"])}
        self.env = dict(self.base_env)
        for key, value in RECIPE.get("env", {}).items():
            self.env[key] = value.format(**paths)
        with open(paths["src"], "w", encoding="utf-8", errors="surrogatepass") as f:
            f.write(source)
        return paths

    def snapshot(self, d):
        """What identifies the files of a built artifact: a run that
        changes them (to fake the next test's pass) is caught."""
        out = []
        for root, _, files in os.walk(d):
            for name in files:
                try:
                    st = os.lstat(os.path.join(root, name))
                except OSError:
                    continue
                out.append((root, name, st.st_ino, st.st_size, st.st_mtime_ns))
        return sorted(out)

    def run_built(self, job, indices, paths, build_cpu, build_wall):
        """Runs each test of `indices` as its own process of the built
        artifact, the secret on its stdin.  The build's cost is on the
        first pair's record."""
        jid = job["job"]
        limits = job["limits"]
        built = self.snapshot(paths["dir"])
        for k, i in enumerate(indices):
            started = time.monotonic()
            if self.snapshot(paths["dir"]) != built:
                self.emit({"job": jid, "test": i, "verdict": "sandbox-error",
                           "message": "a run changed the built program; it was not run again",
                           "cpu_ms": 0.0, "wall_ms": 0.0})
                continue
            secret = secrets.token_hex(16)
            argv = self.fill(RECIPE["run"], paths) + [str(k)]
            # Each run starts in an empty directory of its own: files a
            # run leaves are not the next run's, nor the build's.
            run_dir = os.path.join(self.scratch, "run")
            self.clean(run_dir)
            os.mkdir(run_dir)
            why, status, output, cpu_ms, _ = self.execute(argv, run_dir, limits,
                                                          stdin=(secret + "\n").encode())
            status_word, message = self.judged(why, status, output, secret, limits)
            first = k == 0
            self.emit({"job": jid, "test": i, "verdict": status_word, "message": message,
                       "cpu_ms": cpu_ms,
                       "wall_ms": (time.monotonic() - started) * 1000.0 + (build_wall if first else 0.0),
                       "prof": {"define": build_cpu if first else 0.0, "fork": 0.0, "test": cpu_ms}})

    def build_of(self, name, source, limits):
        """Builds `source` in directory `name`: (paths, None, cpu_ms,
        wall_ms) or (paths, failure verdict, cpu_ms, wall_ms)."""
        t = time.monotonic()
        paths = self.build_dir(name, source)
        verdict, cpu, said = self.build(paths, limits)
        return paths, verdict, cpu, (time.monotonic() - t) * 1000.0, said

    def run_combined(self, job, indices):
        """Every test of the job built once with the candidate, each run
        as its own process.  When that build fails, the candidate alone is
        built: if it fails too, every test gets its error; else each test
        is built with the candidate on its own, so a test that does not
        build costs only itself."""
        jid = job["job"]
        limits = job["limits"]
        lang = RECIPE["lang"]
        codes = [job["tests"][i]["code"] for i in indices]
        source, bad = combine(lang, job["code"], codes)
        try:
            if bad is None:
                paths, verdict, cpu, wall, said = self.build_of("build", source, limits)
                # A compiler that emits code despite errors (tsc) marks the
                # errors that break the whole program (a syntax error in
                # one test): then each test is built on its own.
                marker = RECIPE.get("whole_program_error")
                broken = marker is not None and len(indices) > 1 and marker.encode() in said
                if verdict is None and not broken:
                    return self.run_built(job, indices, paths, cpu, wall)
                if verdict is not None and len(indices) == 1:
                    # One test: the joint build was that test's own build.
                    # Whose fault it is, the candidate alone says.
                    alone, _ = combine(lang, job["code"], [])
                    _, own, own_cpu, own_wall, _ = self.build_of("build", alone, limits)
                    status, message = verdict if own is None else own
                    if own is None:
                        message = message.replace("the candidate does not build",
                                                  "the test does not build with the candidate", 1)
                    return self.emit({"job": jid, "test": indices[0], "verdict": status,
                                      "message": message, "cpu_ms": 0.0, "wall_ms": wall + own_wall,
                                      "prof": {"define": cpu + own_cpu, "fork": 0.0, "test": 0.0}})
            alone, _ = combine(lang, job["code"], [])
            _, verdict, cpu, wall, _ = self.build_of("build", alone, limits)
            if verdict is not None:
                status, message = verdict
                for k, i in enumerate(indices):
                    self.emit({"job": jid, "test": i, "verdict": status, "message": message,
                               "cpu_ms": 0.0, "wall_ms": wall if k == 0 else 0.0,
                               "prof": {"define": cpu if k == 0 else 0.0, "fork": 0.0, "test": 0.0}})
                return
            for i in indices:
                one, why_not = combine(lang, job["code"], [job["tests"][i]["code"]])
                if one is None:
                    self.emit({"job": jid, "test": i, "verdict": "error", "message": why_not,
                               "cpu_ms": 0.0, "wall_ms": 0.0})
                    continue
                paths, verdict, cpu, wall, _ = self.build_of("build", one, limits)
                if verdict is not None:
                    status, message = verdict
                    self.emit({"job": jid, "test": i, "verdict": status,
                               "message": message.replace("the candidate does not build",
                                                          "the test does not build with the candidate", 1),
                               "cpu_ms": 0.0, "wall_ms": wall,
                               "prof": {"define": cpu, "fork": 0.0, "test": 0.0}})
                    continue
                self.run_built(job, [i], paths, cpu, wall)
        finally:
            self.clean(os.path.join(self.scratch, "build"))
            self.clean(os.path.join(self.scratch, "run"))

    def run_job(self, job):
        programs = []
        for i, test in enumerate(job["tests"]):
            if test.get("format") != "program":
                self.emit({"job": job["job"], "test": i, "verdict": "error",
                           "message": "this harness runs `program` tests, not %r" % test.get("format"),
                           "cpu_ms": 0.0, "wall_ms": 0.0})
            else:
                programs.append(i)
        if not programs:
            return
        if RECIPE.get("build_once"):
            self.run_combined(job, programs)
            return
        for i in programs:
            self.run_pair(job, i, job["tests"][i])

    def serve(self):
        self.emit({"ready": True, "pid": os.getpid(), "lang": RECIPE["lang"]})
        for line in sys.stdin:
            line = line.strip()
            if not line:
                continue
            job = json.loads(line)
            self.run_job(job)
            self.emit({"job": job["job"], "done": True})


if __name__ == "__main__":
    Zygote().serve()
