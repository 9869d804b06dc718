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
