//! Splitting MBXP's test programs into single-check tests, on the real
//! data: nearly every task splits, through the real sandbox a program
//! passes its whole test exactly when it passes every single check, and
//! building a candidate once with all its tests gives the verdicts that
//! one build per pair gives.

use codejury_bench::{read_samples, Benchmark, Dataset, GroundTruth};
use codejury_core::{Lang, TestCase, TestFormat, Verdict};
use codejury_langs::split::single_checks;
use codejury_langs::ExecToolchain;
use codejury_sandbox::{sinks, Engine, EngineConfig, Job, Limits};
use std::sync::Arc;

mod common;
use common::{data_dir, user_cache};

/// (language, samples file, samples run through the sandbox).
const LANGS: [(Lang, &str, usize); 8] = [
    (Lang::JavaScript, "mbjsp", 20),
    (Lang::TypeScript, "mbtsp", 6),
    (Lang::Cpp, "mbcpp", 6),
    (Lang::Java, "mbjp", 6),
    (Lang::Go, "mbgp", 12),
    (Lang::Php, "mbphp", 20),
    (Lang::Ruby, "mbrbp", 20),
    (Lang::Perl, "mbplp", 20),
];

#[test]
fn mbxp_tests_split_into_checks_that_agree_with_the_whole() {
    std::env::set_var("CODEJURY_DATA_DIR", data_dir());
    let mut report = Vec::new();
    let mut wrong = Vec::new();
    for (lang, samples, n) in LANGS {
        let data = Dataset::load(Benchmark::Mbxp(lang), None).expect("MBXP file");
        let mut split = 0;
        let mut checks = 0;
        for p in &data.problems {
            let GroundTruth::Program { test } = &p.truth else {
                panic!("{lang}: no test program");
            };
            if let Some(pieces) = single_checks(lang, test, &p.problem.entry_point) {
                split += 1;
                checks += pieces.len();
            }
        }
        let share = split as f64 / data.problems.len() as f64;
        report.push(format!(
            "{lang}: {split}/{} tests split, {checks} checks",
            data.problems.len()
        ));
        if share < 0.95 {
            wrong.push(format!(
                "{lang}: only {split} of {} tests split",
                data.problems.len()
            ));
        }

        // Whole test vs its checks, for the first samples, in one engine.
        let path = data_dir().join(format!("mxeval/mbxp/samples/{samples}_samples.jsonl.gz"));
        let picked: Vec<_> = read_samples(&path)
            .expect("samples")
            .into_iter()
            .take(n)
            .collect();
        let mut jobs = Vec::new();
        for s in &picked {
            let p = data.get(&s.task_id).expect("sample's task");
            let GroundTruth::Program { test } = &p.truth else {
                unreachable!()
            };
            let program = format!(
                "{}{}",
                p.problem.prompt,
                s.completion.clone().unwrap_or_default()
            );
            let mut tests = vec![TestCase::new(TestFormat::PROGRAM, test.clone())];
            for piece in single_checks(lang, test, &p.problem.entry_point).unwrap_or_default() {
                tests.push(TestCase::new(TestFormat::PROGRAM, piece));
            }
            jobs.push(Job {
                candidate: program,
                entry_point: Some(p.problem.entry_point.clone()),
                prelude: None,
                tests,
                limits: Limits::default().with_time_ms(10_000),
            });
        }
        let toolchain = ExecToolchain::resolve(lang, &user_cache()).expect("toolchain");
        // Built once per candidate (C++, Go, Java, TypeScript) and built per
        // pair must give the same verdicts.
        let per_pair = toolchain
            .builds_once()
            .then(|| toolchain.clone().per_pair());
        let engine = Engine::new(EngineConfig::default(), Arc::new(toolchain)).expect("engine");
        let mut out = sinks::Collect::<codejury_sandbox::SandboxError>::new(jobs.len());
        engine.run(jobs.clone(), &mut out).expect("run");
        if let Some(per_pair) = per_pair {
            let engine = Engine::new(EngineConfig::default(), Arc::new(per_pair)).expect("engine");
            let mut each = sinks::Collect::<codejury_sandbox::SandboxError>::new(jobs.len());
            engine.run(jobs, &mut each).expect("run");
            for (s, (a, b)) in picked.iter().zip(out.by_job.iter().zip(&each.by_job)) {
                let key = |v: &Vec<codejury_sandbox::PairOutcome>| {
                    let mut v: Vec<_> = v
                        .iter()
                        .map(|o| (o.test, o.verdict == Verdict::Pass))
                        .collect();
                    v.sort();
                    v
                };
                if key(a) != key(b) {
                    wrong.push(format!(
                        "{lang} {}: built once {:?}, per pair {:?}",
                        s.task_id,
                        key(a),
                        key(b)
                    ));
                }
            }
        }
        for (s, outcomes) in picked.iter().zip(&out.by_job) {
            let mut by_test: Vec<_> = outcomes.iter().collect();
            by_test.sort_by_key(|o| o.test);
            let whole = by_test[0].verdict == Verdict::Pass;
            let parts = by_test[1..].iter().all(|o| o.verdict == Verdict::Pass);
            if by_test.len() > 1 && whole != parts {
                wrong.push(format!(
                    "{lang} {}: whole {} but checks {:?}",
                    s.task_id,
                    by_test[0].verdict,
                    by_test[1..]
                        .iter()
                        .map(|o| (o.verdict, o.message.chars().take(160).collect::<String>()))
                        .collect::<Vec<_>>()
                ));
            }
        }
    }
    eprintln!("{}", report.join("\n"));
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
