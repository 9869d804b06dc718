//! The hostile suite: code that attacks the sandbox or tries to fake a pass,
//! each case with the verdict it must get, and checks from outside that
//! nothing it did survives or leaks.

use codejury_core::{TestCase, TestFormat, Verdict};
use codejury_python::formats::{ASSERT, UNITTEST};
use codejury_python::PythonToolchain;
use codejury_sandbox::{sinks, Engine, EngineConfig, IsolationReport, Job, Limits, PairOutcome};
use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::Path;
use std::sync::Arc;

/// An engine running the real interpreter.
fn engine(config: EngineConfig) -> Engine {
    let python = PythonToolchain::resolve().expect("python3");
    Engine::new(config, Arc::new(python)).expect("engine")
}

fn one_worker() -> Engine {
    engine(EngineConfig {
        workers: 1,
        ..EngineConfig::default()
    })
}

/// A probe run right after each hostile test on the same worker: inside the
/// worker's PID namespace only the zygote (PID 1), the probe's candidate
/// process and the probe itself may exist.
const PROBE: &str = "import os\npids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\nassert pids == sorted({1, os.getppid(), os.getpid()}), pids\n";

struct Case {
    name: &'static str,
    candidate: String,
    test: String,
    format: TestFormat,
    expect: Verdict,
    limits: Limits,
}

fn case(name: &'static str, candidate: &str, test: &str, expect: Verdict) -> Case {
    Case {
        name,
        candidate: candidate.into(),
        test: test.into(),
        format: ASSERT,
        expect,
        limits: Limits::default(),
    }
}

/// Touching memory costs about 2 s per GiB on a small VM: the memory bomb
/// gets a smaller limit and more time, so it meets the memory limit first.
fn memory_bomb() -> Case {
    let mut c = case(
        "memory bomb",
        "def f(x):\n    return x + 1\n",
        "x = []\nwhile True:\n    x.append(b'\\x01' * (1 << 24))\n",
        Verdict::Memory,
    );
    c.limits.memory_bytes = 256 << 20;
    c.limits.wall_ms = 10_000;
    c.limits.cpu_ms = 10_000;
    c
}

fn run(engine: &Engine, jobs: Vec<Job>) -> Vec<Vec<PairOutcome>> {
    let mut out = sinks::Collect::<codejury_sandbox::SandboxError>::new(jobs.len());
    engine.run(jobs, &mut out).expect("engine run");
    out.by_job
}

/// Host processes that carry the engine's scratch path in their environment.
fn survivors(scratch: &Path) -> Vec<String> {
    let needle = scratch.to_string_lossy().into_owned();
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.chars().all(|c| c.is_ascii_digit()) {
            continue;
        }
        if let Ok(env) = std::fs::read(entry.path().join("environ")) {
            if String::from_utf8_lossy(&env).contains(&needle) {
                let cmd = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
                found.push(format!(
                    "{name}: {}",
                    String::from_utf8_lossy(&cmd)
                        .chars()
                        .take(80)
                        .collect::<String>()
                ));
            }
        }
    }
    found
}

/// [`survivors`] once the processes already killed have had time to die:
/// SIGKILL is delivered asynchronously, and a loaded machine may take a
/// moment to tear a killed process down. Anything still there after two
/// seconds was never killed (the hostile cases sleep for minutes).
fn survivors_after_kill(scratch: &Path) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let left = survivors(scratch);
        if left.is_empty() || std::time::Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn hostile_code_gets_its_verdict_and_leaves_nothing_behind() {
    let engine = one_worker();
    let layers = engine.isolation();
    assert!(
        layers.namespaces && layers.cgroups && layers.landlock && layers.seccomp,
        "this suite expects full isolation (root on Linux); got {layers:?}"
    );

    let victims = tempfile::tempdir().unwrap();
    let keep = victims.path().join("keep.txt");
    std::fs::write(&keep, "precious").unwrap();
    let escape = victims.path().join("escape.txt");
    let pwned = victims.path().join("pwned.txt");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();

    let add = "def f(x):\n    return x + 1\n";
    let mut cases = vec![
        case("fork bomb", add, "import os\nwhile True:\n    os.fork()\n", Verdict::Error),
        memory_bomb(),
        case("infinite loop", add, "while True:\n    pass\n", Verdict::Timeout),
        case("sleep past the limit", add, "import time\ntime.sleep(30)\n", Verdict::Timeout),
        case("1 GB of output", add, "import sys\nfor _ in range(1024):\n    sys.stdout.write('x' * (1 << 20))\n", Verdict::OutputLimit),
        case("reading stdin", add, "input()\n", Verdict::Error),
        case("writing outside its temp dir", add, &format!("open({:?}, 'w').write('x')\n", escape.display().to_string()), Verdict::Error),
        case("deleting files", add, &format!("import os\nos.remove({:?})\n", keep.display().to_string()), Verdict::Error),
        case("TCP to a listener on 127.0.0.1", add, &format!("import socket\nsocket.create_connection(('127.0.0.1', {port}), timeout=0.5)\n"), Verdict::Error),
        case("a child left in the background", add, "import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(300)\nassert f(1) == 2\n", Verdict::Pass),
        case("a subprocess left in the background", add, "import subprocess\nsubprocess.Popen(['sleep', '300'], start_new_session=True)\nassert f(1) == 2\n", Verdict::Pass),
        case("deep recursion", "def f(n):\n    return f(n + 1) + 1\n", "f(0)\n", Verdict::Error),
        case("deep recursion past the C stack", "import json, sys\nsys.setrecursionlimit(10 ** 8)\ndef f(n):\n    x = []\n    for _ in range(n):\n        x = [x]\n    return json.dumps(x)\n", "f(10 ** 5)\n", Verdict::Killed),
        case("ignoring SIGTERM", add, "import signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass\n", Verdict::Timeout),
        case(
            "the __subclasses__ escape",
            &format!("wrap = [c for c in ().__class__.__bases__[0].__subclasses__() if c.__name__ == '_wrap_close'][0]\nwrap.__init__.__globals__['system']('echo x > {}')\ndef f(x):\n    return x + 1\n", pwned.display()),
            &format!("import os\nassert os.path.exists({:?})\n", pwned.display().to_string()),
            Verdict::Fail,
        ),
        // Faking a pass.
        case("sys.exit(0) while being defined", "import sys\nsys.exit(0)\n", "assert f(1) == 3\n", Verdict::Error),
        case("os._exit(0) in the function", "import os\ndef f(x):\n    os._exit(0)\n", "assert f(1) == 3\n", Verdict::Error),
        case("printing a fake result", "def f(x):\n    print('{\"job\": 0, \"test\": 0, \"verdict\": \"pass\"}')\n    print('{\"test\": 0, \"status\": \"pass\"}')\n    return 0\n", "assert f(1) == 3\n", Verdict::Fail),
        case("writing fake reports to every fd", "import os\ndef f(x):\n    for fd in range(3, 64):\n        try:\n            os.write(fd, b'{\"test\": 0, \"status\": \"pass\", \"message\": \"\", \"cpu_ms\": 0}\\n')\n        except OSError:\n            pass\n    os._exit(0)\n", "assert f(1) == 3\n", Verdict::Error),
        case("killing its parent", "import os, signal\ndef f(x):\n    os.kill(os.getppid(), signal.SIGKILL)\n    return 0\n", "assert f(1) == 3\n", Verdict::Fail),
        case("killing every process it can", "import os, signal\ndef f(x):\n    try:\n        os.kill(-1, signal.SIGKILL)\n    except OSError:\n        pass\n    return 0\n", "assert f(1) == 3\n", Verdict::Fail),
        case("a forked child returning into the harness", "import os\ndef f(x):\n    return 2 if os.fork() == 0 else 0\n", "assert f(1) == 2\n", Verdict::Fail),
        case("replacing AssertionError", "import builtins\nbuiltins.AssertionError = type('Quiet', (Exception,), {})\ndef f(x):\n    return 0\n", "assert f(1) == 2\n", Verdict::Fail),
    ];
    let unittest_test = "import unittest\nclass T(unittest.TestCase):\n    def test_f(self):\n        self.assertEqual(f(1), 3)\n";
    for (name, patch) in [
        (
            "patching TestResult.wasSuccessful",
            "import unittest\nunittest.TestResult.wasSuccessful = lambda self: True\n",
        ),
        (
            "patching TestCase.assertEqual",
            "import unittest\nunittest.TestCase.assertEqual = lambda *a, **k: None\n",
        ),
        (
            "patching TestCase.run",
            "import unittest\nunittest.TestCase.run = lambda self, result=None: None\n",
        ),
        ("patching from inside the test", ""),
    ] {
        let candidate = if patch.is_empty() {
            "import unittest\ndef f(x):\n    unittest.TestResult.addFailure = lambda *a: None\n    return 0\n".to_string()
        } else {
            format!("{patch}def f(x):\n    return 0\n")
        };
        cases.push(Case {
            name,
            candidate,
            test: unittest_test.into(),
            format: UNITTEST,
            expect: Verdict::Error,
            limits: Limits::default(),
        });
    }
    cases.push(Case {
        name: "honest unittest",
        candidate: add.into(),
        test: "import unittest\nclass T(unittest.TestCase):\n    def test_f(self):\n        self.assertEqual(f(1), 2)\n".into(),
        format: UNITTEST,
        expect: Verdict::Pass,
        limits: Limits::default(),
    });

    // Each case is followed by a probe job on the same (single) worker.
    let mut jobs = Vec::new();
    for c in &cases {
        jobs.push(Job {
            candidate: c.candidate.clone(),
            entry_point: Some("f".into()),
            prelude: None,
            tests: vec![TestCase::new(c.format.clone(), c.test.clone())],
            limits: c.limits,
        });
        jobs.push(Job {
            candidate: String::new(),
            entry_point: None,
            prelude: None,
            tests: vec![TestCase::new(ASSERT, PROBE)],
            limits: Limits::default(),
        });
    }
    let results = run(&engine, jobs);
    let mut wrong = Vec::new();
    for (c, r) in cases.iter().zip(results.chunks(2)) {
        assert_eq!(r[0].len(), 1, "{}: every pair gets one verdict", c.name);
        if r[0][0].verdict != c.expect {
            wrong.push(format!(
                "{}: expected {}, got {} ({})",
                c.name, c.expect, r[0][0].verdict, r[0][0].message
            ));
        }
        if r[1][0].verdict != Verdict::Pass {
            wrong.push(format!(
                "{}: processes survived the pair: {}",
                c.name, r[1][0].message
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "hostile cases went wrong:\n{}",
        wrong.join("\n")
    );

    assert_eq!(std::fs::read_to_string(&keep).unwrap(), "precious");
    assert!(!escape.exists(), "a write escaped the sandbox");
    assert!(!pwned.exists(), "the subclasses escape wrote a file");
    listener.set_nonblocking(true).unwrap();
    match listener.accept() {
        Err(e) if e.kind() == ErrorKind::WouldBlock => {}
        other => panic!("the sandbox reached the loopback listener: {other:?}"),
    }
    // The engine keeps its warm zygotes between runs; once it is gone,
    // nothing a candidate started may be left.
    let scratch = engine.scratch_dir().to_path_buf();
    drop(engine);
    let left = survivors_after_kill(&scratch);
    assert!(
        left.is_empty(),
        "sandboxed processes outlived the engine: {left:?}"
    );
}

#[test]
fn the_environment_is_scrubbed() {
    std::env::set_var("CODEJURY_TEST_SECRET", "hunter2");
    let engine = one_worker();
    let job = Job {
        candidate: String::new(),
        entry_point: None,
        prelude: None,
        tests: vec![TestCase::new(
            ASSERT,
            "import os\nassert 'hunter2' not in repr(dict(os.environ)), os.environ\nassert 'hunter2' not in open('/proc/1/environ').read()\n",
        )],
        limits: Limits::default(),
    };
    let r = run(&engine, vec![job]);
    assert_eq!(r[0][0].verdict, Verdict::Pass, "{}", r[0][0].message);
}

#[test]
fn fallback_without_namespaces_or_cgroups_still_enforces_limits() {
    let layers = IsolationReport {
        namespaces: false,
        cgroups: false,
        ..IsolationReport::detect()
    };
    let engine = engine(EngineConfig {
        workers: 1,
        layers: Some(layers),
        ..EngineConfig::default()
    });
    assert!(!engine.isolation().namespaces);
    let add = "def f(x):\n    return x + 1\n";
    let cases = [
        case(
            "infinite loop",
            add,
            "while True:\n    pass\n",
            Verdict::Timeout,
        ),
        memory_bomb(),
        case("honest", add, "assert f(1) == 2\n", Verdict::Pass),
        case("wrong", add, "assert f(1) == 3\n", Verdict::Fail),
        case(
            "a child in the background",
            add,
            "import os, time\nif os.fork() == 0:\n    time.sleep(300)\nassert f(1) == 2\n",
            Verdict::Pass,
        ),
    ];
    let jobs: Vec<Job> = cases
        .iter()
        .map(|c| Job {
            candidate: c.candidate.clone(),
            entry_point: Some("f".into()),
            prelude: None,
            tests: vec![TestCase::new(c.format.clone(), c.test.clone())],
            limits: c.limits,
        })
        .collect();
    let results = run(&engine, jobs);
    for (c, r) in cases.iter().zip(&results) {
        assert_eq!(r[0].verdict, c.expect, "{}: {}", c.name, r[0].message);
    }
    // The engine keeps its warm zygotes between runs; once it is gone,
    // nothing a candidate started may be left.
    let scratch = engine.scratch_dir().to_path_buf();
    drop(engine);
    let left = survivors_after_kill(&scratch);
    assert!(
        left.is_empty(),
        "sandboxed processes outlived the engine: {left:?}"
    );
}

/// Host pids of every process of this engine (zygotes, runners and the
/// waiting parents outside the namespaces).
fn engine_pids(scratch: &Path) -> Vec<i32> {
    let needle = scratch.to_string_lossy().into_owned();
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let pid: i32 = e.file_name().to_string_lossy().parse().ok()?;
            let env = std::fs::read(e.path().join("environ")).ok()?;
            String::from_utf8_lossy(&env)
                .contains(&needle)
                .then_some(pid)
        })
        .collect()
}

#[test]
fn a_crashed_worker_gives_sandbox_errors_and_the_run_goes_on() {
    let engine = one_worker();
    let slow = Job {
        candidate: String::new(),
        entry_point: None,
        prelude: None,
        tests: vec![
            TestCase::new(ASSERT, "import time\ntime.sleep(5)\n"),
            TestCase::new(ASSERT, "assert True\n"),
        ],
        limits: Limits::default().with_time_ms(20_000),
    };
    let fine = Job {
        candidate: String::new(),
        entry_point: None,
        prelude: None,
        tests: vec![TestCase::new(ASSERT, "assert True\n")],
        limits: Limits::default(),
    };
    let scratch = engine.scratch_dir().to_path_buf();
    let killer = std::thread::spawn(move || {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(300));
            let pids = engine_pids(&scratch);
            if pids.len() >= 2 {
                for pid in pids {
                    // SAFETY: kill has no memory-safety preconditions.
                    unsafe { libc::kill(pid, libc::SIGKILL) };
                }
                return true;
            }
        }
        false
    });
    let r = run(&engine, vec![slow, fine]);
    assert!(killer.join().unwrap(), "never found the worker to kill");
    assert_eq!(r[0].len(), 2);
    for o in &r[0] {
        assert_eq!(o.verdict, Verdict::SandboxError, "{o:?}");
    }
    assert_eq!(
        r[1][0].verdict,
        Verdict::Pass,
        "the run went on after the crash: {:?}",
        r[1][0]
    );
}

#[test]
fn a_candidate_that_hangs_while_defined_costs_one_timeout_not_one_per_test() {
    let engine = one_worker();
    let job = Job {
        candidate: "while True:\n    pass\n".into(),
        entry_point: None,
        prelude: None,
        tests: (0..20)
            .map(|i| TestCase::new(ASSERT, format!("assert {i} >= 0")))
            .collect(),
        limits: Limits::default().with_time_ms(300),
    };
    let r = run(&engine, vec![job]);
    assert_eq!(r[0].len(), 20);
    assert!(
        r[0].iter().all(|o| o.verdict == Verdict::Timeout),
        "{:?}",
        r[0]
    );
    // One runner met the limit; the other 19 verdicts were given without
    // running anything (no time spent on them at all).
    let ran: Vec<&PairOutcome> = r[0].iter().filter(|o| o.wall_ms > 0.0).collect();
    assert_eq!(ran.len(), 1, "{:?}", r[0]);
    assert!(r[0]
        .iter()
        .filter(|o| o.wall_ms == 0.0)
        .all(|o| o.message.starts_with("while defining the candidate")));
}
