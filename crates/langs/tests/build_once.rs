//! Building each candidate once with all of its tests, through the real
//! compilers: a test that does not build sinks only itself (and is named
//! as the culprit, alone in its job too), a candidate that does not build
//! is an error for all of its tests, a run that
//! tampers with the built program does not pass the next test, and the
//! verdicts equal one build per pair.

use codejury_core::{Lang, TestCase, TestFormat, Verdict};
use codejury_langs::ExecToolchain;
mod common;
use codejury_sandbox::{Job, Limits};
use common::{one_worker, run, user_cache};

/// (language, a candidate `f(x) = x + 1`, a test of `f(1) == WANT`, a test
/// that does not compile).
const KITS: [(Lang, &str, &str, &str); 4] = [
    (
        Lang::Cpp,
        "#include <bits/stdc++.h>\nusing namespace std;\nint f(int x) { return x + 1; }\n",
        "template <typename T> bool compare(T a, T b) { return a == b; }\nint main(int argc, char* argv[]) {\n    if (!compare(f(1), WANT)) throw runtime_error(\"check\");\n    return 0;\n}\n",
        "int main() { undeclared_thing(); }\n",
    ),
    (
        Lang::Java,
        "import java.util.*;\nclass F {\n    static int f(int x) { return x + 1; }\n}\n",
        "class Main {\n    static boolean compare(Object a, Object b) { return a.equals(b); }\n    public static void main(String[] args) throws Exception {\n        if (!compare(F.f(1), WANT)) throw new Exception(\"check\");\n    }\n}\n",
        "class Main {\n    public static void main(String[] args) { int x = \"not an int\"; }\n}\n",
    ),
    (
        Lang::Go,
        "package main\n\nfunc f(x int) int {\n\treturn x + 1\n}\n",
        "func deepCompare(a int, b int) {\n\tif a != b {\n\t\tpanic(\"check\")\n\t}\n}\n\nfunc main() {\n\tdeepCompare(f(1), WANT)\n}\n",
        "func main() {\n\tvar x int = \"not an int\"\n}\n",
    ),
    (
        Lang::TypeScript,
        "function f(x: number): number {\n    return x + 1;\n}\n",
        "import * as assert from 'assert'\nassert.deepEqual(f(1), WANT);\n",
        "let x = ;\n",
    ),
];

fn job(candidate: &str, tests: &[String]) -> Job {
    Job {
        candidate: candidate.into(),
        entry_point: Some("f".into()),
        prelude: None,
        tests: tests
            .iter()
            .map(|t| TestCase::new(TestFormat::PROGRAM, t.clone()))
            .collect(),
        limits: Limits::default().with_time_ms(5_000),
    }
}

#[test]
fn a_test_that_does_not_build_sinks_only_itself() {
    for (lang, candidate, test, broken) in KITS {
        let toolchain = ExecToolchain::resolve(lang, &user_cache()).expect("toolchain");
        assert!(toolchain.builds_once(), "{lang}");
        let engine = one_worker(toolchain);
        let tests = vec![
            test.replace("WANT", "2"),
            broken.to_string(),
            test.replace("WANT", "3"),
        ];
        let bad_candidate = candidate.replace("x + 1", "x +* 1 ]");
        let results = run(
            &engine,
            vec![
                job(candidate, &tests),
                job(&bad_candidate, &tests),
                // A job of one test: whose fault a failed build is, the
                // candidate built alone says.
                job(candidate, &tests[1..2]),
                job(&bad_candidate, &tests[..1]),
            ],
        );
        let verdicts: Vec<Verdict> = results[0].iter().map(|o| o.verdict).collect();
        // TypeScript runs what tsc emits, type errors or not (mxeval's
        // way); a syntax error still emits, and throws at run time.
        let broken_verdict = if lang == Lang::TypeScript {
            results[0][1].verdict
        } else {
            Verdict::Error
        };
        assert_eq!(
            verdicts,
            vec![Verdict::Pass, broken_verdict, Verdict::Fail],
            "{lang}: {:?}",
            results[0].iter().map(|o| &o.message).collect::<Vec<_>>()
        );
        assert_ne!(results[0][1].verdict, Verdict::Pass, "{lang}");
        if lang != Lang::TypeScript {
            assert!(
                results[0][1].message.contains("test does not build"),
                "{lang}: {}",
                results[0][1].message
            );
            for o in results[1].iter().chain(&results[3]) {
                assert_eq!(o.verdict, Verdict::Error, "{lang}: {}", o.message);
                assert!(
                    o.message.contains("candidate does not build"),
                    "{lang}: {}",
                    o.message
                );
            }
            let alone = &results[2][0];
            assert_eq!(alone.verdict, Verdict::Error, "{lang}: {}", alone.message);
            assert!(
                alone.message.contains("test does not build"),
                "{lang}: {}",
                alone.message
            );
        }
    }
}

#[test]
fn a_run_that_replaces_the_built_program_does_not_pass_the_next_test() {
    let toolchain = ExecToolchain::resolve(Lang::Cpp, &user_cache()).expect("toolchain");
    let engine = one_worker(toolchain);
    // The first call swaps the binary for a script that echoes its stdin
    // (the next pair's secret) and exits 0.
    let candidate = "#include <bits/stdc++.h>\n#include <unistd.h>\n#include <sys/stat.h>\nusing namespace std;\nint f(int x) {\n    char p[4096] = {0};\n    if (readlink(\"/proc/self/exe\", p, sizeof p - 1) > 0) {\n        unlink(p);\n        FILE* s = fopen(p, \"w\");\n        if (s) { fputs(\"#!/bin/sh\\necho\\ncat\\n\", s); fclose(s); chmod(p, 0755); }\n    }\n    return x + 1;\n}\n";
    let test = "int main(int argc, char* argv[]) {\n    if (f(1) != WANT) throw runtime_error(\"check\");\n    return 0;\n}\n";
    let results = run(
        &engine,
        vec![job(
            candidate,
            &[test.replace("WANT", "2"), test.replace("WANT", "99")],
        )],
    );
    assert_eq!(
        results[0][0].verdict,
        Verdict::Pass,
        "{}",
        results[0][0].message
    );
    assert_ne!(
        results[0][1].verdict,
        Verdict::Pass,
        "{}",
        results[0][1].message
    );
}

#[test]
fn fingerprints_name_no_path_and_tell_the_two_ways_apart() {
    let toolchain = ExecToolchain::resolve(Lang::Cpp, &user_cache()).expect("toolchain");
    let once = codejury_sandbox::Toolchain::fingerprint(&toolchain).to_string();
    assert!(once.starts_with("cpp:") && !once.contains('/'), "{once}");
    let each = toolchain.clone().per_pair();
    assert_ne!(codejury_sandbox::Toolchain::fingerprint(&each), once);
    assert!(!each.builds_once());
    assert!(
        toolchain.versions().iter().any(|v| v.contains("g++")),
        "{:?}",
        toolchain.versions()
    );
}
