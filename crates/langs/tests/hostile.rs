//! The hostile suite for every process language, through the real engine
//! and the real compilers and runtimes: each case gets the verdict it must
//! get (never a pass it did not earn), a probe on the same worker right
//! after it finds no process left behind, and from outside the sandbox no
//! write escaped, no connection was made and nothing outlived the engine.

use codejury_core::{Lang, TestCase, TestFormat, Verdict};
use codejury_langs::ExecToolchain;
mod common;
use codejury_sandbox::{Job, Limits};
use common::{one_worker, run, user_cache};
use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::Path;

/// What a case must get.
#[derive(Debug, Clone, Copy)]
enum Expect {
    Is(Verdict),
    /// Any verdict but a pass (what a blocked attack ends in differs by
    /// runtime: an exception, an exit status, a signal).
    NotPass,
    /// Any verdict: what matters is what the probe and the listener see.
    Any,
}

struct Case {
    name: String,
    candidate: String,
    test: String,
    expect: Expect,
    limits: Limits,
}

/// Turns a candidate (with `BODY` in it) into a compile-time bomb.
type Bomb = fn(&str) -> String;

/// One language's programs: the candidate (`f(x) = x + 1`), the way a test
/// states a check, and the snippets the attacks are made of.
#[derive(Clone)]
struct Kit {
    lang: Lang,
    /// The candidate, with `BODY` where attack code goes before the return.
    candidate: &'static str,
    /// A test program checking `f(1) == WANT`.
    test: &'static str,
    early_exit: &'static str,
    spin: &'static str,
    flood: &'static str,
    /// Writes `PATH`; the check that follows passes only if it worked.
    write: &'static str,
    /// Lists `/proc` and fails if more than `ALLOWED` processes run: itself
    /// and PID 1 (the harness), and in warm mode the warm interpreter.
    probe: &'static str,
    /// Starts processes that sleep, without end.
    fork_bomb: &'static str,
    /// Allocates and touches memory without end.
    memory_bomb: &'static str,
    /// Connects to `127.0.0.1:PORT`, failing the check if it cannot.
    connect: &'static str,
    /// What the connection gets: a runtime that connects asynchronously
    /// (Node.js) returns before it fails, so only the listener can tell.
    connect_expect: Expect,
    /// Makes the candidate (`BODY` still in it) a program that sets the
    /// compiler itself working without end, and what it gets (tsc emits JavaScript whatever its type checker says, as
    /// mxeval runs it, so there a right answer still passes).
    compile_bomb: Option<(Bomb, Expect)>,
}

fn kits() -> Vec<Kit> {
    vec![
        Kit {
            lang: Lang::JavaScript,
            candidate: "function f(x) {\n    BODY\n    return x + 1;\n}\n",
            test: "if (f(1) !== WANT) { throw new Error('check'); }\n",
            early_exit: "process.exit(0);",
            spin: "while (true) {}",
            flood: "while (true) { process.stdout.write('x'.repeat(65536)); }",
            write: "require('fs').writeFileSync('PATH', 'x');",
            probe: "const ps = require('fs').readdirSync('/proc').filter(p => /^\\d+$/.test(p));\nif (ps.length > ALLOWED) { throw new Error('left: ' + ps.join(',')); }\n",
            fork_bomb: NODE_FORK_BOMB,
            memory_bomb: NODE_MEMORY_BOMB,
            connect: NODE_CONNECT,
            connect_expect: Expect::Any,
            compile_bomb: None,
        },
        Kit {
            lang: Lang::TypeScript,
            candidate: "declare var require: any;\ndeclare var process: any;\ndeclare var Buffer: any;\nfunction f(x: number): number {\n    BODY\n    return x + 1;\n}\n",
            test: "if (f(1) !== WANT) { throw new Error('check'); }\n",
            early_exit: "process.exit(0);",
            spin: "while (true) {}",
            flood: "while (true) { process.stdout.write('x'.repeat(65536)); }",
            write: "require('fs').writeFileSync('PATH', 'x');",
            probe: "const ps = require('fs').readdirSync('/proc').filter((p: string) => /^\\d+$/.test(p));\nif (ps.length > ALLOWED) { throw new Error('left: ' + ps.join(',')); }\n",
            fork_bomb: NODE_FORK_BOMB,
            memory_bomb: NODE_MEMORY_BOMB,
            connect: NODE_CONNECT,
            connect_expect: Expect::Any,
            compile_bomb: Some((ts_type_bomb, Expect::Any)),
        },
        Kit {
            lang: Lang::Cpp,
            candidate: "#include <bits/stdc++.h>\n#include <unistd.h>\nusing namespace std;\nint f(int x) {\n    BODY\n    return x + 1;\n}\n",
            test: "int main() {\n    if (f(1) != WANT) throw runtime_error(\"check\");\n    return 0;\n}\n",
            early_exit: "exit(0);",
            spin: "for (volatile long i = 0;; i++) {}",
            flood: "for (;;) { fputs(string(65536, 'x').c_str(), stdout); }",
            write: "{ FILE* fp = fopen(\"PATH\", \"w\"); if (!fp) throw runtime_error(\"open\"); fputs(\"x\", fp); if (fclose(fp) != 0) throw runtime_error(\"close\"); }",
            probe: "int main() {\n    int n = 0;\n    for (auto& e : filesystem::directory_iterator(\"/proc\")) {\n        string s = e.path().filename().string();\n        if (all_of(s.begin(), s.end(), ::isdigit)) n++;\n    }\n    if (n > ALLOWED) throw runtime_error(\"processes left\");\n    return 0;\n}\n",
            // C++'s attacks are `cpp_cases`, with the exact verdicts.
            fork_bomb: "",
            memory_bomb: "",
            connect: "",
            connect_expect: Expect::NotPass,
            compile_bomb: None,
        },
        Kit {
            lang: Lang::Java,
            candidate: "import java.util.*;\nclass F {\n    static int f(int x) throws Exception {\n        BODY\n        return x + 1;\n    }\n}\n",
            test: "class Main {\n    public static void main(String[] args) throws Exception {\n        if (F.f(1) != WANT) throw new Exception(\"check\");\n    }\n}\n",
            early_exit: "System.exit(0);",
            spin: "while (x > -1) { x = (x + 1) % 1000; }",
            flood: "while (x > -1) { System.out.print(\"x\".repeat(65536)); }",
            write: "java.nio.file.Files.writeString(java.nio.file.Path.of(\"PATH\"), \"x\");",
            probe: "class Main {\n    public static void main(String[] args) throws Exception {\n        long n = Arrays.stream(new java.io.File(\"/proc\").list()).filter(s -> s.matches(\"\\\\d+\")).count();\n        if (n > ALLOWED) throw new Exception(\"processes left: \" + n);\n    }\n}\n",
            fork_bomb: "while (x > -1) { try { new ProcessBuilder(\"sleep\", \"600\").start(); } catch (Exception e) {} }",
            memory_bomb: "List<long[]> v = new ArrayList<>();\n        while (x > -1) { long[] a = new long[1 << 21]; Arrays.fill(a, 1L); v.add(a); }",
            connect: "new java.net.Socket(\"127.0.0.1\", PORT).close();",
            connect_expect: Expect::NotPass,
            compile_bomb: Some((java_nesting_bomb, Expect::NotPass)),
        },
        Kit {
            lang: Lang::Go,
            candidate: "package main\n\nimport (\n\t\"net\"\n\t\"os\"\n\t\"os/exec\"\n)\n\nvar _ = os.Exit\nvar _ = exec.Command\nvar _ = net.Dial\n\nfunc f(x int) int {\n\tBODY\n\treturn x + 1\n}\n",
            test: "func main() {\n\tif f(1) != WANT {\n\t\tpanic(\"check\")\n\t}\n}\n",
            early_exit: "os.Exit(0)",
            spin: "for x > -1 { x = (x + 1) % 1000 }",
            flood: "for x > -1 { os.Stdout.Write(make([]byte, 65536)) }",
            write: "if err := os.WriteFile(\"PATH\", []byte(\"x\"), 0o644); err != nil { panic(err) }",
            probe: "import \"strconv\"\n\nfunc main() {\n\tes, _ := os.ReadDir(\"/proc\")\n\tn := 0\n\tfor _, e := range es {\n\t\tif _, err := strconv.Atoi(e.Name()); err == nil {\n\t\t\tn++\n\t\t}\n\t}\n\tif n > ALLOWED {\n\t\tpanic(\"processes left\")\n\t}\n}\n",
            fork_bomb: "for x > -1 { exec.Command(\"sleep\", \"600\").Start() }",
            memory_bomb: "v := [][]byte{}\n\tfor x > -1 { b := make([]byte, 1<<24); for i := range b { b[i] = 1 }; v = append(v, b) }",
            connect: "if c, err := net.Dial(\"tcp\", \"127.0.0.1:PORT\"); err != nil { panic(err) } else { c.Close() }",
            connect_expect: Expect::NotPass,
            compile_bomb: Some((go_object_bomb, Expect::NotPass)),
        },
        Kit {
            lang: Lang::Php,
            candidate: "<?php\nfunction f($x) {\n    BODY\n    return $x + 1;\n}\n",
            test: "if (f(1) !== WANT) { throw new Exception('check'); }\n",
            early_exit: "exit(0);",
            spin: "while (true) {}",
            flood: "while (true) { echo str_repeat('x', 65536); }",
            write: "if (file_put_contents('PATH', 'x') === false) { throw new Exception('write'); }",
            probe: "$ps = array_filter(scandir('/proc'), 'ctype_digit');\nif (count($ps) > ALLOWED) { throw new Exception('left: ' . implode(',', $ps)); }\n",
            fork_bomb: "while (true) { $p = @proc_open('sleep 600', [], $pipes); }",
            memory_bomb: "$v = []; while (true) { $v[] = str_repeat('x', 1 << 24); }",
            connect: "$s = @fsockopen('127.0.0.1', PORT, $errno, $errstr, 2); if ($s === false) { throw new Exception('no network'); }",
            connect_expect: Expect::NotPass,
            compile_bomb: None,
        },
        Kit {
            lang: Lang::Ruby,
            candidate: "def f(x)\n    BODY\n    return x + 1\nend\n",
            test: "raise 'check' unless f(1) == WANT\n",
            early_exit: "exit(0)",
            spin: "loop {}",
            flood: "loop { $stdout.write('x' * 65536) }",
            write: "File.write('PATH', 'x')",
            probe: "ps = Dir.children('/proc').select { |p| p =~ /\\A\\d+\\z/ }\nraise \"left: #{ps.join(',')}\" if ps.size > ALLOWED\n",
            fork_bomb: "loop { (fork { sleep 600 }) rescue nil }",
            memory_bomb: "v = []; loop { v << 'x' * (1 << 24) }",
            connect: "require 'socket'; TCPSocket.new('127.0.0.1', PORT).close",
            connect_expect: Expect::NotPass,
            compile_bomb: None,
        },
        Kit {
            lang: Lang::Perl,
            candidate: "sub f {\n    my ($x) = @_;\n    BODY\n    return $x + 1;\n}\n",
            test: "die 'check' unless f(1) == WANT;\n",
            early_exit: "exit(0);",
            spin: "while (1) {}",
            flood: "while (1) { print 'x' x 65536; }",
            write: "open(my $fh, '>', 'PATH') or die 'open'; print $fh 'x'; close($fh) or die 'close';",
            probe: "opendir(my $d, '/proc');\nmy @ps = grep { /^\\d+$/ } readdir($d);\ndie 'left: ' . join(',', @ps) if @ps > ALLOWED;\n",
            fork_bomb: "while (1) { my $p = fork(); if (defined $p && $p == 0) { sleep 600; exit 0; } }",
            memory_bomb: "my @v; while (1) { push @v, 'x' x (1 << 24); }",
            connect: "use IO::Socket::INET; IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => PORT, Proto => 'tcp') or die 'no network';",
            connect_expect: Expect::NotPass,
            compile_bomb: None,
        },
    ]
}

/// Node.js's attacks (JavaScript and TypeScript alike).
const NODE_FORK_BOMB: &str =
    "for (;;) { try { require('child_process').spawn('sleep', ['600']); } catch (e) {} }";
const NODE_MEMORY_BOMB: &str = "const v = []; for (;;) { v.push(Buffer.alloc(1 << 24, 1)); }";
const NODE_CONNECT: &str = "require('net').connect(PORT, '127.0.0.1').on('error', () => {});";

/// A type whose instantiation tsc must give up on.
fn ts_type_bomb(candidate: &str) -> String {
    candidate.replace(
        "BODY",
        "type Grow<N extends any[]> = N['length'] extends 100000 ? N : Grow<[...N, 0]>;\n    let grown: Grow<[]> = null as any;",
    )
}

/// An expression nested deeper than javac's parser can recurse.
fn java_nesting_bomb(candidate: &str) -> String {
    let deep = format!("int y = {}1{};", "(".repeat(50_000), ")".repeat(50_000));
    candidate.replace("BODY", &deep)
}

/// A two-gigabyte array the compiler must write into its object file.
fn go_object_bomb(candidate: &str) -> String {
    format!(
        "{}\nvar big = [...]byte{{1 << 31: 1}}\n",
        candidate.replace("BODY", "")
    )
}

fn cases(kit: &Kit, escape: &Path, port: u16) -> Vec<Case> {
    let case = |name: &str, body: &str, want: i32, expect: Expect| Case {
        name: format!("{}: {name}", kit.lang),
        candidate: kit.candidate.replace("BODY", body),
        test: kit.test.replace("WANT", &want.to_string()),
        expect,
        limits: Limits::default(),
    };
    let write = kit.write.replace("PATH", &escape.to_string_lossy());
    let mut all = vec![
        case("a right answer", "", 2, Expect::Is(Verdict::Pass)),
        case("a wrong answer", "", 3, Expect::NotPass),
        case(
            "an early exit(0)",
            kit.early_exit,
            2,
            Expect::Is(Verdict::Fail),
        ),
        case("an endless loop", kit.spin, 2, Expect::Is(Verdict::Timeout)),
        // Stopped by the output cap, or by the CPU limit where the runtime
        // buffers what it cannot write (Node.js on a full pipe).
        case("an output flood", kit.flood, 2, Expect::NotPass),
        case("a write outside scratch", &write, 2, Expect::NotPass),
    ];
    if kit.lang == Lang::Cpp {
        return all;
    }
    let mut memory = case("a memory bomb", kit.memory_bomb, 2, Expect::NotPass);
    memory.limits.memory_bytes = 256 << 20;
    let connect = kit.connect.replace("PORT", &port.to_string());
    all.extend([
        case("a fork bomb", kit.fork_bomb, 2, Expect::NotPass),
        memory,
        case("a connection to the host", &connect, 2, kit.connect_expect),
    ]);
    if let Some((bomb, expect)) = kit.compile_bomb {
        let mut c = case("a compile-time bomb", "", 2, expect);
        c.candidate = bomb(kit.candidate);
        all.push(c);
    }
    all
}

/// C++'s attacks, with the verdict each must get: processes (with a child
/// that outlives its pair), memory, the network and the compiler itself.
fn cpp_cases(port: u16) -> Vec<Case> {
    let head = "#include <bits/stdc++.h>\n#include <unistd.h>\n#include <sys/socket.h>\n#include <netinet/in.h>\n#include <arpa/inet.h>\nusing namespace std;\n";
    let main =
        "int main() {\n    if (f(1) != 2) throw runtime_error(\"check\");\n    return 0;\n}\n";
    let case = |name: &str, candidate: String, expect: Expect| Case {
        name: format!("cpp: {name}"),
        candidate,
        test: main.to_string(),
        expect,
        limits: Limits::default(),
    };
    let mut memory = case(
        "a memory bomb",
        format!("{head}int f(int x) {{\n    vector<char*> v;\n    for (;;) {{ char* p = (char*)malloc(1 << 24); if (!p) abort(); memset(p, 1, 1 << 24); v.push_back(p); }}\n    return x + 1;\n}}\n"),
        Expect::Is(Verdict::Memory),
    );
    memory.limits.memory_bytes = 256 << 20;
    memory.limits.cpu_ms = 10_000;
    memory.limits.wall_ms = 20_000;
    vec![
        case(
            "a fork bomb",
            format!("{head}int f(int x) {{\n    for (;;) fork();\n    return x + 1;\n}}\n"),
            Expect::NotPass,
        ),
        case(
            "a child that sleeps past its pair",
            format!("{head}int f(int x) {{\n    if (fork() == 0) {{ setsid(); sleep(600); }}\n    return x + 1;\n}}\n"),
            Expect::Is(Verdict::Pass),
        ),
        memory,
        case(
            "a connection to the host",
            format!("{head}int f(int x) {{\n    int s = socket(AF_INET, SOCK_STREAM, 0);\n    if (s < 0) return -1;\n    sockaddr_in a{{}}; a.sin_family = AF_INET; a.sin_port = htons({port}); a.sin_addr.s_addr = inet_addr(\"127.0.0.1\");\n    if (connect(s, (sockaddr*)&a, sizeof a) != 0) return -1;\n    return x + 1;\n}}\n"),
            Expect::NotPass,
        ),
        case(
            "a template recursion bomb",
            format!("{head}template <int N> struct B {{ static const int v = B<N + 1>::v; }};\nint f(int x) {{ return x + B<0>::v; }}\n"),
            Expect::Is(Verdict::Error),
        ),
        case(
            "#include \"/dev/zero\"",
            format!("{head}#include \"/dev/zero\"\nint f(int x) {{ return x + 1; }}\n"),
            Expect::Is(Verdict::Error),
        ),
        case(
            "a gigabyte of diagnostics",
            format!("{head}#define A x x x x x x x x x x x x x x x x\n#define B A A A A A A A A A A A A A A A A\n#define C B B B B B B B B B B B B B B B B\n#define D C C C C C C C C C C C C C C C C\n#define E D D D D D D D D D D D D D D D D\nint f(int x) {{ E E E E E E E E E E E E E E E E; return x; }}\n"),
            Expect::Is(Verdict::Error),
        ),
    ]
}

fn job(candidate: &str, test: &str, limits: Limits) -> Job {
    Job {
        candidate: candidate.into(),
        entry_point: Some("f".into()),
        prelude: None,
        tests: vec![TestCase::new(TestFormat::PROGRAM, test)],
        limits,
    }
}

/// Host processes that carry the engine's scratch path in their environment.
fn survivors(scratch: &Path) -> Vec<String> {
    let needle = scratch.to_string_lossy().into_owned();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let mut found = Vec::new();
        for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.chars().all(|c| c.is_ascii_digit()) {
                continue;
            }
            if let Ok(env) = std::fs::read(entry.path().join("environ")) {
                if String::from_utf8_lossy(&env).contains(&needle) {
                    found.push(name);
                }
            }
        }
        if found.is_empty() || std::time::Instant::now() > deadline {
            return found;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn hostile_programs_in_every_language_get_their_verdict_and_leave_nothing() {
    let victims = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut wrong = Vec::new();
    // Script languages run twice: cold (a fresh interpreter per pair) and
    // warm (fast mode: one interpreter per worker forks a child per pair).
    let runs = kits().into_iter().flat_map(|kit| {
        let warm = matches!(kit.lang, Lang::Ruby | Lang::Perl | Lang::Php);
        let ways: &[bool] = if warm { &[false, true] } else { &[false] };
        ways.iter()
            .map(move |&w| (kit.clone(), w))
            .collect::<Vec<_>>()
    });
    for (kit, warm) in runs {
        // The user's cache: the pinned npm packages and C++'s precompiled
        // header live there (`.ci/run` fills it).
        let cache_dir = user_cache();
        let mut toolchain = ExecToolchain::resolve(kit.lang, &cache_dir).unwrap_or_else(|e| {
            panic!(
                "{e} ({})",
                codejury_core::Hint::hint(&e).unwrap_or_default()
            )
        });
        if warm {
            toolchain = toolchain.warm();
        }
        let engine = one_worker(toolchain);
        let layers = engine.isolation();
        assert!(
            layers.namespaces && layers.cgroups && layers.landlock && layers.seccomp,
            "this suite expects full isolation (root on Linux); got {layers:?}"
        );
        let escape = victims
            .path()
            .join(format!("escape-{}-{warm}.txt", kit.lang));
        let mut all = cases(&kit, &escape, port);
        if warm {
            for c in &mut all {
                c.name = format!("{} (warm)", c.name);
            }
        }
        if kit.lang == Lang::Cpp {
            all.extend(cpp_cases(port));
        }
        let probe_candidate = kit.candidate.replace("BODY", "");
        let probe = kit.probe.replace("ALLOWED", if warm { "3" } else { "2" });
        let mut jobs = Vec::new();
        for c in &all {
            jobs.push(job(&c.candidate, &c.test, c.limits));
            jobs.push(job(&probe_candidate, &probe, Limits::default()));
        }
        let results = run(&engine, jobs);
        for (c, r) in all.iter().zip(results.chunks(2)) {
            let got = &r[0][0];
            // The log says what each attack ended in, so a case that fails
            // for a reason of its own (a typo, not the wall) shows.
            eprintln!(
                "{}: {} ({})",
                c.name,
                got.verdict,
                got.message.lines().next().unwrap_or_default()
            );
            let ok = match c.expect {
                Expect::Is(v) => got.verdict == v,
                Expect::NotPass => got.verdict != Verdict::Pass,
                Expect::Any => true,
            };
            if !ok {
                wrong.push(format!(
                    "{}: expected {:?}, got {} ({})",
                    c.name, c.expect, got.verdict, got.message
                ));
            }
            if r[1][0].verdict != Verdict::Pass {
                wrong.push(format!(
                    "{}: the probe after it found processes left: {} {}",
                    c.name, r[1][0].verdict, r[1][0].message
                ));
            }
        }
        if c_escaped(&escape) {
            wrong.push(format!("{}: a write escaped the sandbox", kit.lang));
        }
        let scratch = engine.scratch_dir().to_path_buf();
        drop(engine);
        let left = survivors(&scratch);
        if !left.is_empty() {
            wrong.push(format!(
                "{}: processes outlived the engine: {left:?}",
                kit.lang
            ));
        }
    }
    listener.set_nonblocking(true).unwrap();
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => wrong.push(format!(
            "a program reached the loopback listener: {other:?}"
        )),
    }
    assert!(
        wrong.is_empty(),
        "hostile cases went wrong:\n{}",
        wrong.join("\n")
    );
}

fn c_escaped(path: &Path) -> bool {
    path.exists()
}
