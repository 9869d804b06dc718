//! The README's main command: `codejury run` on HumanEval with the embedded
//! model (SmolLM2-135M, fetched on first use), no server, no GPU.

mod common;

use common::{codejury, json_of};

#[test]
fn the_readme_run_works_on_the_embedded_model() {
    let dir = tempfile::tempdir().unwrap();
    let out = codejury()
        .args(["--json", "run", "--bench", "humaneval", "--limit", "2"])
        .args([
            "-n",
            "2",
            "-m",
            "2",
            "--max-tokens",
            "160",
            "--test-max-tokens",
            "256",
        ])
        .args(["--repeats", "2"])
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
    assert_eq!(s["tasks"], 2);
    assert_eq!(s["solutions"], 4);
    let st = &s["stages"]["solutions"];
    assert!(
        st["identity"].as_str().unwrap().starts_with("embedded:"),
        "{st}"
    );
    assert_eq!(st["parameters"].as_u64().map(|p| p / 1_000_000), Some(134));
    assert!(st["completion_tokens"].as_u64().unwrap() > 0);
    assert!(st["flops"].as_f64().unwrap() > 0.0);
    let rows = std::fs::read_to_string(dir.path().join("out/problems.jsonl")).unwrap();
    assert_eq!(rows.lines().count(), 2);
}
