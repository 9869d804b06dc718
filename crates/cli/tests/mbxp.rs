//! MBXP through the product: `label` on mxeval's published samples agrees
//! with mxeval's own way of running them (`scripts/mxeval_way.py`: one
//! compile and one process per program, its commands and timeouts), and
//! `verify-bench` reports every canonical solution that fails, with why.

mod common;
use common::{codejury, data_dir, json_of};
use std::path::Path;

/// (language, MBXP file, samples file, samples checked here): the compiled
/// languages cost mxeval's way 1.5–3 s a sample, so fewer of them.
const LANGS: [(&str, &str, &str, usize); 8] = [
    ("javascript", "mbjsp_release_v1.2", "mbjsp", 40),
    ("php", "mbphp_release_v1.2", "mbphp", 40),
    ("ruby", "mbrbp_release_v1.2", "mbrbp", 40),
    ("perl", "mbplp_release_v1", "mbplp", 40),
    ("go", "mbgp_release_v1.1", "mbgp", 25),
    ("typescript", "mbtsp_release_v1.2", "mbtsp", 10),
    ("java", "mbjp_release_v1.2", "mbjp", 10),
    ("cpp", "mbcpp_release_v1.2", "mbcpp", 10),
];

fn jsonl(path: &Path) -> Vec<serde_json::Value> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn first_samples(file: &Path, n: usize, out: &Path) {
    use std::io::{BufRead, Write};
    let f = std::fs::File::open(file).unwrap();
    let lines = std::io::BufReader::new(flate2::read::GzDecoder::new(f)).lines();
    let mut w = std::fs::File::create(out).unwrap();
    for line in lines.take(n) {
        writeln!(w, "{}", line.unwrap()).unwrap();
    }
}

#[test]
fn labels_of_mxevals_samples_agree_with_mxevals_way_in_every_language() {
    let dir = tempfile::tempdir().unwrap();
    let mbxp = data_dir().join("mxeval/mbxp");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/mxeval_way.py");
    let store = dir.path().join("store.sqlite");
    let mut table = Vec::new();
    let mut wrong = Vec::new();
    for (lang, file, samples, n) in LANGS {
        let picked = dir.path().join(format!("{lang}.jsonl"));
        first_samples(
            &mbxp.join(format!("samples/{samples}_samples.jsonl.gz")),
            n,
            &picked,
        );
        let ours = dir.path().join(format!("{lang}.labels.jsonl"));
        let out = codejury()
            .args([
                "label",
                "--bench",
                &format!("mbxp-{lang}"),
                "--json",
                "--samples",
            ])
            .arg(&picked)
            .arg("--out")
            .arg(&ours)
            .arg("--store")
            .arg(&store)
            .output()
            .unwrap();
        let summary = json_of(out);
        let theirs = dir.path().join(format!("{lang}.mxeval.jsonl"));
        let status = std::process::Command::new("python3")
            .arg(&script)
            .arg(lang)
            .arg(mbxp.join(format!("{file}.jsonl.gz")))
            .arg(&picked)
            .arg(&theirs)
            .status()
            .unwrap();
        assert!(status.success(), "{lang}: mxeval_way.py failed");
        let (ours, theirs) = (jsonl(&ours), jsonl(&theirs));
        assert_eq!(ours.len(), n, "{lang}: one label per sample");
        assert_eq!(theirs.len(), n);
        let mut agree = 0;
        for (a, b) in ours.iter().zip(&theirs) {
            assert_eq!(a["task_id"], b["task_id"]);
            if a["passed"] == b["passed"] {
                agree += 1;
            } else if b["passed"] == true
                && a["message"].as_str().unwrap_or("").contains("early exit")
            {
                // Ours is stricter on purpose: an exit(0) before the last
                // check is a pass to mxeval, a fail here.
                agree += 1;
            } else {
                wrong.push(format!("{lang} {}: ours {a} / mxeval's {b}", a["task_id"]));
            }
        }
        table.push(format!(
            "{lang}: {agree}/{n} agree, {} pass",
            summary["passed"]
        ));
        assert!(
            summary["passed"].as_u64().unwrap() > 0,
            "{lang}: nothing passed: {summary}"
        );
    }
    eprintln!("{}", table.join("\n"));
    assert!(
        wrong.is_empty(),
        "labels disagree with mxeval's way:\n{}",
        wrong.join("\n")
    );
}

/// Fast mode's warm interpreter (Ruby, Perl, PHP) labels mxeval's samples
/// exactly as faithful mode's fresh interpreter per pair does, through
/// the real CLI and sandbox.
#[test]
fn fast_mode_labels_equal_faithful_mode_for_the_script_languages() {
    let dir = tempfile::tempdir().unwrap();
    let mbxp = data_dir().join("mxeval/mbxp");
    for (lang, samples) in [("ruby", "mbrbp"), ("perl", "mbplp"), ("php", "mbphp")] {
        let picked = dir.path().join(format!("{lang}.jsonl"));
        first_samples(
            &mbxp.join(format!("samples/{samples}_samples.jsonl.gz")),
            60,
            &picked,
        );
        let label = |mode: &str| {
            let out = dir.path().join(format!("{lang}.{mode}.jsonl"));
            let summary = json_of(
                codejury()
                    .args(["--json", "label", "--bench", &format!("mbxp-{lang}")])
                    .args(["--mode", mode, "--samples"])
                    .arg(&picked)
                    .arg("--out")
                    .arg(&out)
                    .arg("--store")
                    .arg(dir.path().join(format!("{mode}.sqlite")))
                    .output()
                    .unwrap(),
            );
            assert!(
                summary["passed"].as_u64().unwrap() > 0,
                "{lang} {mode}: {summary}"
            );
            jsonl(&out)
        };
        let (faithful, fast) = (label("faithful"), label("fast"));
        assert_eq!(faithful.len(), 60);
        for (a, b) in faithful.iter().zip(&fast) {
            assert_eq!(a["task_id"], b["task_id"]);
            assert_eq!(a["passed"], b["passed"], "{lang}: faithful {a} / fast {b}");
        }
    }
}

#[test]
fn verify_bench_names_every_failing_canonical_solution() {
    let out = codejury()
        .args(["verify-bench", "--bench", "mbxp-ruby", "--json"])
        .output()
        .unwrap();
    let s = json_of(out);
    let total = s["total"].as_u64().unwrap();
    let passed = s["passed"].as_u64().unwrap();
    let missing = s["without_canonical"].as_u64().unwrap();
    let failures = s["failures"].as_array().unwrap();
    // MBRBP has 966 tasks, 182 of them without a canonical solution.
    assert_eq!((total + missing, missing), (966, 182), "{s}");
    assert_eq!(failures.len() as u64, total - passed, "{s}");
    for f in failures {
        assert_ne!(f["verdict"], "pass", "{f}");
        assert!(!f["message"].as_str().unwrap().is_empty(), "{f}");
    }
    // MBRBP/453's canonical solution calls `exit` in the middle of the
    // loop: mxeval's exit-status check passes it, ours names it.
    let early = failures
        .iter()
        .find(|f| f["task_id"] == "MBRBP/453")
        .expect("MBRBP/453 fails");
    assert!(
        early["message"].as_str().unwrap().contains("early exit"),
        "{early}"
    );
}

#[test]
fn a_missing_toolchain_names_what_to_install() {
    let python = std::fs::canonicalize("/usr/bin/python3").unwrap();
    let out = codejury()
        .env("PATH", "/nonexistent")
        .env("CODEJURY_PYTHON", python)
        .args(["label", "--bench", "mbxp-go", "--samples", "/dev/null"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("`go` is not on PATH") && err.contains("golang-go"),
        "{err}"
    );
}

/// The whole loop in another language: the embedded model writes
/// JavaScript candidates and test programs for MBXP's first task, every
/// pair runs in the sandbox, and the report is written. The small model
/// writes poor JavaScript; the mechanics must hold.
#[test]
fn run_on_mbxp_javascript_goes_end_to_end_with_the_embedded_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = codejury()
        .args([
            "--json",
            "run",
            "--bench",
            "mbxp-javascript",
            "--limit",
            "1",
        ])
        .args(["-n", "2", "-m", "2", "--repeats", "2"])
        .arg("--store")
        .arg(dir.path().join("store.sqlite"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let s = json_of(out);
    assert_eq!(s["tasks"], 1, "{s}");
    assert_eq!(s["solutions"], 2, "{s}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/report.json")).unwrap())
            .unwrap();
    assert_eq!(report["solutions"], 2);
    let selections = std::fs::read_to_string(dir.path().join("out/selections.jsonl")).unwrap();
    assert!(selections.contains("\"MBJSP/1\""), "{selections}");
    assert!(dir.path().join("out/report.html").exists());
}
