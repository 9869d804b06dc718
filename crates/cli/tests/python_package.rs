//! The Python package as a user gets it: the wheel maturin builds from
//! `crates/py`, installed with pip into a fresh venv, driven by
//! `crates/py/tests/check_package.py` (one scenario per process) and
//! `check_ray.py` (a real two-node Ray cluster on this machine). Verdicts
//! and labels are compared with what `codejury exec` and `codejury label`
//! write for the same programs.

mod common;

use common::{codejury, data_dir, exec_rows, shared_problems};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// A tool from a venv `.ci/run` makes, unless `var` names another.
fn tool(var: &str, venv: &str, bin: &str) -> PathBuf {
    let p = std::env::var_os(var).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(std::env::var("HOME").unwrap_or_default())
            .join(".cache")
            .join(venv)
            .join("bin")
            .join(bin)
    });
    assert!(
        p.exists(),
        "no {bin} at {} (set {var}; .ci/run installs it)",
        p.display()
    );
    p
}

/// The wheel, built once per test binary by maturin from the workspace.
fn wheel() -> &'static Path {
    static WHEEL: OnceLock<PathBuf> = OnceLock::new();
    WHEEL.get_or_init(|| {
        let out = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("codejury-wheel");
        let _ = std::fs::remove_dir_all(&out);
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("../py/Cargo.toml");
        let built = Command::new(tool("CODEJURY_MATURIN", "codejury-maturin-venv", "maturin"))
            .arg("build")
            .arg("--manifest-path")
            .arg(&manifest)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        assert!(
            built.status.success(),
            "maturin build failed:\n{}",
            String::from_utf8_lossy(&built.stderr)
        );
        let wheel = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "whl"))
            .expect("maturin wrote a wheel");
        let name = wheel.file_name().unwrap().to_string_lossy().to_string();
        assert!(name.contains("-abi3-"), "{name} is not an abi3 wheel");
        wheel
    })
}

/// A fresh venv with the wheel installed (from the file alone: the
/// package needs nothing else) and, when given, another venv's packages
/// visible through a `.pth` file.
struct Venv {
    dir: tempfile::TempDir,
}

impl Venv {
    fn new(borrow_site_packages_of: Option<&Path>) -> Venv {
        let dir = tempfile::tempdir().unwrap();
        let made = Command::new("python3")
            .args(["-m", "venv"])
            .arg(dir.path())
            .status()
            .unwrap();
        assert!(made.success(), "python3 -m venv failed");
        let venv = Venv { dir };
        let installed = Command::new(venv.python())
            .args(["-m", "pip", "install", "-q", "--no-index"])
            .arg(wheel())
            .output()
            .unwrap();
        assert!(
            installed.status.success(),
            "pip install of the wheel failed:\n{}",
            String::from_utf8_lossy(&installed.stderr)
        );
        if let Some(other) = borrow_site_packages_of {
            let site = |python: &Path| -> String {
                let out = Command::new(python)
                    .args([
                        "-c",
                        "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                    ])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&out.stdout).trim().to_string()
            };
            let mine = site(&venv.python());
            std::fs::write(
                Path::new(&mine).join("borrowed.pth"),
                format!("{}\n", site(other)),
            )
            .unwrap();
        }
        venv
    }

    fn python(&self) -> PathBuf {
        self.dir.path().join("bin/python")
    }

    /// Runs a check script's scenario; returns its report line.
    fn check(&self, script: &str, scenario: &str, input: Option<&Value>) -> String {
        let scripts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../py/tests");
        let cache = self.dir.path().join("cache");
        let mut cmd = Command::new(self.python());
        cmd.arg(scripts.join(script))
            .arg(scenario)
            .env("CODEJURY_CACHE_DIR", &cache)
            .env("CODEJURY_DATA_DIR", data_dir())
            // Ray writes its session files here, not in a shared /tmp.
            .env("RAY_TMPDIR", self.dir.path());
        if let Some(v) = input {
            let path = self.dir.path().join(format!("{scenario}.json"));
            std::fs::write(&path, v.to_string()).unwrap();
            cmd.arg(path);
        }
        let out = cmd.output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).to_string();
        let lines: Vec<&str> = stdout.lines().collect();
        assert!(
            out.status.success() && lines.last() == Some(&"ok"),
            "{script} {scenario} failed ({:?})\nstdout: {stdout}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let report = lines[lines.len().saturating_sub(2)].to_string();
        eprintln!("{scenario}: {report}");
        report
    }
}

/// Three shared problems with the verdicts `codejury exec` gave, and a
/// dozen HumanEval samples with the labels `codejury label` gave.
fn cli_answers() -> Value {
    let problems = shared_problems(3);
    let rows = exec_rows(&problems);
    let problems: Vec<Value> = problems
        .iter()
        .map(|(task, sols, tests)| {
            json!({
                "task": task,
                "candidates": sols,
                "tests": tests,
                "exec": rows.iter().filter(|r| r["task_id"] == task.as_str()).collect::<Vec<_>>(),
            })
        })
        .collect();
    let samples: Vec<Value> = std::fs::read_to_string(
        data_dir()
            .join("samples")
            .join("humaneval-5models-solutions.jsonl"),
    )
    .unwrap()
    .lines()
    .map(|l| serde_json::from_str::<Value>(l).unwrap())
    .filter(|s| s["solution"].is_string())
    .step_by(67)
    .take(12)
    .map(|s| json!({"task_id": s["task_id"], "solution": s["solution"]}))
    .collect();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("samples.jsonl");
    let text: String = samples.iter().map(|s| format!("{s}\n")).collect();
    std::fs::write(&file, text).unwrap();
    let out_file = dir.path().join("labels.jsonl");
    let status = codejury()
        .args(["label", "--bench", "humaneval", "--samples"])
        .arg(&file)
        .arg("--out")
        .arg(&out_file)
        .arg("--store")
        .arg(dir.path().join("store.sqlite"))
        .status()
        .unwrap();
    assert!(status.success());
    let labels: Vec<Value> = std::fs::read_to_string(&out_file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(labels.iter().any(|l| l["passed"] == true));
    assert!(labels.iter().any(|l| l["passed"] == false));
    json!({"problems": problems, "samples": samples, "labels": labels})
}

#[test]
fn the_wheel_in_a_fresh_venv_judges_and_labels_like_the_cli() {
    let venv = Venv::new(None);
    venv.check("check_package.py", "equals_cli", Some(&cli_answers()));
}

#[test]
fn two_python_threads_run_in_the_engine_at_once() {
    Venv::new(None).check("check_package.py", "threads_overlap", None);
}

#[test]
fn ctrl_c_stops_a_call_and_raises_keyboard_interrupt() {
    Venv::new(None).check("check_package.py", "ctrl_c", None);
}

#[test]
fn bad_input_raises_typed_exceptions_naming_the_field() {
    let venv = Venv::new(None);
    venv.check("check_package.py", "errors", None);
    venv.check("check_package.py", "no_sandbox", None);
}

#[test]
fn rl_adapters_score_like_the_cli_and_never_hide_a_sandbox_error() {
    Venv::new(None).check("check_package.py", "adapters", Some(&cli_answers()));
}

#[test]
fn ray_spreads_problems_over_two_nodes_and_survives_losing_one() {
    // Ray itself comes from the venv `.ci/run` makes; the wheel is
    // installed fresh beside it.
    let ray_python = tool("CODEJURY_RAY_PYTHON", "codejury-ray-venv", "python");
    let venv = Venv::new(Some(&ray_python));
    let problems: Vec<Value> = shared_problems(6)
        .into_iter()
        .map(|(task, sols, tests)| json!({"task": task, "candidates": sols, "tests": tests}))
        .collect();
    venv.check(
        "check_ray.py",
        "node_lost",
        Some(&json!({ "problems": problems })),
    );
}
