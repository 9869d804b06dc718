use codejury_core::{TestCase, TestFormat};
use codejury_sandbox::{Engine, EngineConfig, Job, Limits};

#[test]
fn smoke() {
    let engine = Engine::new(EngineConfig::default()).unwrap();
    eprintln!("{:?} {:?}", engine.isolation(), engine.python());
    let job = Job {
        candidate: "def add(a, b):\n    return a + b\n".into(),
        entry_point: Some("add".into()),
        prelude: None,
        tests: vec![
            TestCase::new(TestFormat::Assert, "assert add(1, 2) == 3"),
            TestCase::new(TestFormat::Assert, "assert add(1, 2) == 4"),
            TestCase::new(TestFormat::Assert, "import socket; s=socket.create_connection(('127.0.0.1', 22))"),
            TestCase::new(TestFormat::Assert, "open('/etc/cj_x','w').write('x')"),
            TestCase::new(TestFormat::Assert, "import os; print(os.getpid(), os.listdir('/proc')[:5], os.environ)\nassert 0, str(os.getpid())"),
        ],
        limits: Limits::default(),
    };
    let t = std::time::Instant::now();
    engine
        .run(vec![job], |o| {
            eprintln!("{o:?}");
            true
        })
        .unwrap();
    eprintln!("{:?}", t.elapsed());
}
