//! Fast mode's warm interpreters (Ruby, Perl, PHP) through the real
//! engine: a pair really runs as a child of the interpreter started once
//! per worker (its parent is not the harness), yet pairs see nothing of one
//! another — a global one pair sets is not there for the next — and a pair
//! that kills the interpreter costs nothing but a restart.

use codejury_core::{Lang, TestCase, TestFormat, Verdict};
use codejury_langs::ExecToolchain;
mod common;
use codejury_sandbox::{Job, Limits};
use common::{one_worker, run, user_cache};

/// (language, candidate, a test that passes only under a warm
/// interpreter, a test that leaves a global behind, a test that fails if
/// it finds one).
const CASES: [(Lang, &str, &str, &str, &str); 3] = [
    (
        Lang::Ruby,
        "def f(x)\n  x + 1\nend\n",
        "raise 'a fresh interpreter' if Process.ppid == 1\n",
        "$cj_leak = 1\nraise 'check' unless f(1) == 2\n",
        "raise 'state leaked' if defined?($cj_leak)\n",
    ),
    (
        Lang::Perl,
        "sub f { return $_[0] + 1; }\n",
        "die 'a fresh interpreter' if getppid() == 1;\n",
        "$main::cj_leak = 1;\ndie 'check' unless f(1) == 2;\n",
        "die 'state leaked' if defined $main::cj_leak;\n",
    ),
    (
        Lang::Php,
        "<?php\nfunction f($x) { return $x + 1; }\n",
        "if (posix_getppid() == 1) { throw new Exception('a fresh interpreter'); }\n",
        "$GLOBALS['cj_leak'] = 1;\nif (f(1) !== 2) { throw new Exception('check'); }\n",
        "if (isset($GLOBALS['cj_leak'])) { throw new Exception('state leaked'); }\n",
    ),
];

/// The verdicts of `candidate` against `tests` (test programs), in order,
/// as one job on `engine`.
fn verdicts(
    engine: &codejury_sandbox::Engine,
    candidate: &str,
    tests: [String; 3],
) -> Vec<Verdict> {
    let job = Job {
        candidate: candidate.into(),
        entry_point: Some("f".into()),
        prelude: None,
        tests: tests
            .into_iter()
            .map(|t| TestCase::new(TestFormat::PROGRAM, t))
            .collect(),
        limits: Limits::default(),
    };
    run(engine, vec![job])[0]
        .iter()
        .map(|o| o.verdict)
        .collect()
}

#[test]
fn warm_pairs_are_children_of_the_warm_interpreter_and_share_nothing() {
    for (lang, candidate, parent, leave, find) in CASES {
        for warm in [false, true] {
            let mut toolchain = ExecToolchain::resolve(lang, &user_cache()).unwrap();
            if warm {
                toolchain = toolchain.warm();
            }
            let engine = one_worker(toolchain);
            assert!(engine.isolation().namespaces, "needs a PID namespace");
            let got = verdicts(&engine, candidate, [parent, leave, find].map(String::from));
            // Cold, the harness (PID 1) is every pair's parent.
            let parent_check = if warm { Verdict::Pass } else { Verdict::Fail };
            assert_eq!(
                got,
                vec![parent_check, Verdict::Pass, Verdict::Pass],
                "{lang} warm={warm}"
            );
        }
    }
}

/// (language, candidate `f(x) = x + 1` whose body first kills its parent,
/// a test of `f(1) == WANT`).
const KILLERS: [(Lang, &str, &str); 3] = [
    (
        Lang::Ruby,
        "def f(x)\n  Process.kill(:KILL, Process.ppid) rescue nil\n  x + 1\nend\n",
        "raise 'check' unless f(1) == WANT\n",
    ),
    (
        Lang::Perl,
        "sub f { kill 'KILL', getppid(); return $_[0] + 1; }\n",
        "die 'check' unless f(1) == WANT;\n",
    ),
    (
        Lang::Php,
        "<?php\nfunction f($x) { posix_kill(posix_getppid(), 9); return $x + 1; }\n",
        "if (f(1) !== WANT) { throw new Exception('check'); }\n",
    ),
];

#[test]
fn a_pair_that_kills_the_warm_interpreter_leaves_the_next_pairs_judged_right() {
    for (lang, candidate, test) in KILLERS {
        let toolchain = ExecToolchain::resolve(lang, &user_cache()).unwrap().warm();
        let engine = one_worker(toolchain);
        let got = verdicts(
            &engine,
            candidate,
            ["2", "3", "2"].map(|w| test.replace("WANT", w)),
        );
        assert_eq!(
            got,
            vec![Verdict::Pass, Verdict::Fail, Verdict::Pass],
            "{lang}"
        );
    }
}
