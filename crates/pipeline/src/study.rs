//! `study`: the report that answers codejury's question on one pool — what
//! scaling LLM-written tests costs in compute and how that relates to
//! picking correct code.
//!
//! It runs `scale` (every allocator's accuracy against generations, tests
//! run, tokens and FLOPs; the online allocator cross-fitted; each
//! allocator's gain per difficulty quintile) into `OUT/scale/`, `eval`
//! (every rule, the vote's gain over vanilla per quintile, `report.html`)
//! into `OUT/report/`, measures how the vote's quality as a reward (Acc,
//! F1, FAR, FRR against ground truth) moves as tests grow, and checks the
//! published claims it can against this data in `OUT/study.md` and
//! `OUT/study.json`. The pool is executed (through the run store) once, and
//! every report is made from that one execution.

use crate::config::ScaleConfig;
use crate::error::{create_dir, write_file, Result};
use crate::eval::execute_files;
use crate::report::{self, write_json, Judged, Summary};
use crate::reporter::Reporter;
use crate::scale::{scale_executed, shuffle_generations, Point, ScaleSummary};
use crate::session::Sandbox;
use codejury_core::metrics::{vote_quality, Confusion, Task};
use codejury_core::Rule;
use codejury_store::Store;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;
use tokio_util::sync::CancellationToken;

/// The vote as a reward at `m` test generations per problem.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct QualityPoint {
    /// Test generations per problem (the first `m` of a shuffled order).
    pub m: usize,
    /// Accepted = in the rule's pick, against ground truth, summed over
    /// shuffles.
    pub vote: Judged,
}

/// What this data says about one published claim.
#[derive(Debug, Clone, Serialize)]
pub struct Claim {
    /// The claim, as published.
    pub claim: &'static str,
    /// Where it was published.
    pub source: &'static str,
    /// `holds`, `does not hold`, or `cannot be checked here`.
    pub verdict: &'static str,
    /// The numbers behind the verdict, or why it cannot be checked.
    pub evidence: String,
    /// Where in the study the numbers are.
    pub shown_in: &'static str,
}

/// `study.json` and `study`'s `--json` summary.
#[derive(Debug, Clone, Serialize)]
pub struct StudySummary {
    /// The benchmark.
    pub bench: String,
    /// The rule the study spends tests for.
    pub rule: Rule,
    /// Allocators against compute, held-out online, difficulty.
    pub scale: ScaleSummary,
    /// Every rule, the votes' gain per quintile.
    pub report: Summary,
    /// The vote's quality as a reward as tests grow.
    pub reward_quality: Vec<QualityPoint>,
    /// The published claims checked against this pool.
    pub claims: Vec<Claim>,
    /// The study's directory.
    pub out: PathBuf,
}

/// Runs `study` into `config.eval.out`.
pub fn study(
    sandbox: &Sandbox,
    store: &Store,
    config: &ScaleConfig,
    reporter: &dyn Reporter,
    cancel: &CancellationToken,
) -> Result<(StudySummary, String)> {
    let out = config.eval.out.clone();
    create_dir(&out)?;
    let e = &config.eval;
    let (_, run) = execute_files(
        sandbox, store, &e.bench, &e.pool, &e.limits, reporter, cancel,
    )?;
    let mut scale_config = config.clone();
    scale_config.eval.out = out.join("scale");
    let comment = sandbox.language().line_comment();
    let (scaled, _) = scale_executed(&run, comment, &scale_config, reporter)?;
    let report = Summary::build(&run.tasks, &run.pool, e.repeats, e.seed).with_cost(
        &run,
        config.policy_params,
        config.tester_params,
    );
    let title = format!("codejury study · {}", e.bench.bench);
    report::write(&out.join("report"), &title, &report, &run)?;
    let quality = reward_quality(&run.tasks, config.rule, e.repeats.max(1), e.seed);
    let claims = claims(config, &scaled, &report, &quality);
    let summary = StudySummary {
        bench: e.bench.bench.to_string(),
        rule: config.rule,
        scale: scaled,
        report,
        reward_quality: quality,
        claims,
        out: out.clone(),
    };
    write_json(&out.join("study.json"), &summary)?;
    let md = markdown(&summary, config);
    write_file(&out.join("study.md"), md.as_bytes())?;
    Ok((summary, md))
}

/// The vote's confusion against ground truth at 1, 2, 4, … and all test
/// generations per problem, over `repeats` seeded orders of each problem's
/// generations.
pub fn reward_quality(tasks: &[Task], rule: Rule, repeats: usize, seed: u64) -> Vec<QualityPoint> {
    let max = tasks.iter().map(|t| t.generations.len()).max().unwrap_or(0);
    let mut ms = Vec::new();
    let mut m = 1;
    while m < max {
        ms.push(m);
        m *= 2;
    }
    ms.push(max);
    let mut sums = vec![Confusion::default(); ms.len()];
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    for _ in 0..repeats {
        let shuffled: Vec<Task> = tasks
            .iter()
            .map(|t| shuffle_generations(t, &mut rng).0)
            .collect();
        for (k, &m) in ms.iter().enumerate() {
            let prefix: Vec<Task> = shuffled
                .iter()
                .map(|t| Task {
                    matrix: t.first_generations(m),
                    labels: t.labels.clone(),
                    generations: t.generations.iter().take(m).copied().collect(),
                })
                .collect();
            let c = vote_quality(rule, &prefix);
            sums[k].tp += c.tp;
            sums[k].tn += c.tn;
            sums[k].fp += c.fp;
            sums[k].fn_ += c.fn_;
        }
    }
    ms.into_iter()
        .zip(sums)
        .map(|(m, c)| QualityPoint { m, vote: c.into() })
        .collect()
}

fn claims(
    config: &ScaleConfig,
    s: &ScaleSummary,
    report: &Summary,
    quality: &[QualityPoint],
) -> Vec<Claim> {
    let mut out = Vec::new();
    if let (Some(first), Some(last)) = (quality.first(), quality.last()) {
        let (a, b) = (first.vote.rates, last.vote.rates);
        let better = b.f1 > a.f1 && b.acc >= a.acc;
        out.push(Claim {
            claim: "More unit tests give a better reward signal",
            source: "CodeRM-8B (arXiv 2501.01054), unit-test scaling",
            verdict: if better { "holds" } else { "does not hold" },
            evidence: format!(
                "the {} vote as a reward, m = {} → {} test generations per problem: F1 {:.3} → {:.3}, Acc {:.3} → {:.3}, FAR {:.3} → {:.3}, FRR {:.3} → {:.3}",
                config.rule, first.m, last.m, a.f1, b.f1, a.acc, b.acc, a.far, b.far, a.frr, b.frr
            ),
            shown_in: "study.md, reward quality",
        });
    }
    out.push(harder_gain_more(config.rule, report));
    let third = s.difficulty_budget;
    let held = s
        .online_cross_fitted
        .as_ref()
        .and_then(|f| f.points.iter().find(|p| p.budget == third));
    let uniform = s
        .strategies
        .get("uniform")
        .and_then(|c| c.iter().find(|p| p.budget == third));
    let here = match (held, uniform) {
        (Some(h), Some(u)) => format!(
            "; what this pool says at a fixed cost ({third} generations per problem, a third of the pool): online held out across folds of this pool {:.2}% against uniform {:.2}% ({:+.2} points)",
            100.0 * h.held_out,
            100.0 * u.accuracy,
            100.0 * (h.held_out - u.accuracy)
        ),
        _ => String::new(),
    };
    let mbpp_plus = config.eval.bench.bench.as_str() == "mbpp-plus";
    out.push(Claim {
        claim: "Dynamic scaling of unit tests gains about 0.5 point on MBPP+ at a fixed cost",
        source: "CodeRM-8B (arXiv 2501.01054), dynamic unit-test scaling",
        verdict: "cannot be checked here",
        evidence: if mbpp_plus {
            format!("the paper allocates by its probe on Llama-3 policies with CodeRM-8B tests; this pool's models differ{here}")
        } else {
            format!(
                "needs an MBPP+ pool (policy samples and CodeRM-8B tests); this pool is {}{here}",
                config.eval.bench.bench
            )
        },
        shown_in: "scale/scale.md, online held out",
    });
    let (codet, vanilla) = (report.accuracy(Rule::Codet), report.vanilla);
    out.push(Claim {
        claim: "Dual execution agreement picks better than a random sample",
        source: "CodeT (arXiv 2207.10397)",
        verdict: if codet > vanilla {
            "holds"
        } else {
            "does not hold"
        },
        evidence: format!(
            "codet {:.2}% against vanilla {:.2}% ({:+.2} points) on all tests",
            100.0 * codet,
            100.0 * vanilla,
            100.0 * (codet - vanilla)
        ),
        shown_in: "report/report.md",
    });
    out
}

/// "Scaling tests helps harder problems more": per quintile with something
/// to gain (a correct candidate, and not every candidate correct), the
/// vote's accuracy gained from one test per problem to all; it holds when
/// the hardest such quintile gains more than the easiest.
fn harder_gain_more(rule: Rule, report: &Summary) -> Claim {
    let name = if rule == Rule::Coderm {
        "coderm"
    } else {
        "codet"
    };
    let gains: Vec<(usize, f64)> = report
        .difficulty
        .iter()
        .filter(|b| b.oracle > 0.0 && b.vanilla < 1.0)
        .filter_map(|b| {
            let (_, points) = b.curves.iter().find(|(r, _)| r == name)?;
            let (first, last) = (points.first()?, points.last()?);
            Some((b.band, last.accuracy.mean - first.accuracy.mean))
        })
        .collect();
    let listed = gains
        .iter()
        .map(|(b, g)| format!("quintile {b} {:+.1}", 100.0 * g))
        .collect::<Vec<_>>()
        .join(", ");
    let (verdict, evidence) = match (gains.first(), gains.last()) {
        (Some(hard), Some(easy)) if gains.len() >= 2 => (
            if hard.1 > easy.1 { "holds" } else { "does not hold" },
            format!("the {name} vote's accuracy gained from 1 test per problem to all, per quintile of pass rate with something to gain (1 = hardest; a quintile with no correct candidate, or only correct ones, is left out): {listed}"),
        ),
        _ => (
            "cannot be checked here",
            "fewer than two quintiles have both correct and wrong candidates".to_string(),
        ),
    };
    Claim {
        claim: "Scaling unit tests helps harder problems more",
        source: "CodeRM-8B (arXiv 2501.01054)",
        verdict,
        evidence,
        shown_in: "report/report.md, difficulty",
    }
}

fn markdown(s: &StudySummary, config: &ScaleConfig) -> String {
    let mut md = format!(
        "# codejury study\n\n{} tasks; rule {}; {} shuffles. The scaling report is in `scale/` (accuracy against generations, tests run and compute; online held out; allocators per quintile), the rules' report in `report/` (open `report/report.html`).\n\n## Accuracy against compute\n\n",
        s.scale.tasks, s.rule, config.eval.repeats
    );
    match &s.scale.cost {
        None => md += "Not counted (`--tokenizer none`).\n",
        Some(cost) => {
            let _ = writeln!(
                md,
                "Per problem, policy + tester. Tokenizer: {}. {}.\n",
                cost.tokenizer, cost.note
            );
            md += "| strategy | budget | generations | tester tokens | FLOPs | latency (s) | accuracy |\n|---|---|---|---|---|---|---|\n";
            for (name, points) in &s.scale.strategies {
                for p in points.iter().filter(|p| {
                    p.budget == 1
                        || p.budget == s.scale.difficulty_budget
                        || p.budget == s.scale.max_tests
                }) {
                    let _ = writeln!(
                        md,
                        "| {name} | {} | {:.1} | {:.0} | {} | {} | {:.2}% |",
                        p.budget,
                        p.generations,
                        p.tester_tokens.unwrap_or(0.0),
                        p.flops.map_or("n/a".into(), |f| format!("{f:.3e}")),
                        p.latency_s.map_or("n/a".into(), |l| format!("{l:.2}")),
                        100.0 * p.accuracy
                    );
                }
            }
            let latency = match cost.policy_seconds_per_problem {
                Some(s) => format!(
                    "; its calls take {s:.2}s per problem, and latency adds each generation's call and its tests' sandbox time (`scale/scale-latency.svg`)"
                ),
                None => "; latency is not recorded in this pool (a `run`'s files record it)".into(),
            };
            let _ = writeln!(
                md,
                "\nThe policy's {:.0} tokens per problem are spent whatever the budget{latency}.{}",
                cost.policy_tokens_per_problem,
                if cost.policy_params.is_some() && cost.tester_params.is_some() {
                    ""
                } else {
                    " FLOPs need both `--policy-params` and `--tester-params`."
                }
            );
        }
    }
    if let Some(f) = &s.scale.online_cross_fitted {
        let _ = writeln!(
            md,
            "\n## Online, held out\n\nHorizon chosen per fold on the other {} folds (chosen {:?}); in-sample beside it, labelled.\n\n| budget | online held out | online in-sample (tuned) |\n|---|---|---|",
            f.folds - 1,
            f.chosen
        );
        for p in &f.points {
            let _ = writeln!(
                md,
                "| {} | {:.2}% | {:.2}% |",
                p.budget,
                100.0 * p.held_out,
                100.0 * p.in_sample
            );
        }
    }
    md += "\n## Reward quality as tests grow\n\nThe vote as a classifier of candidates (accepted = in the pick), against ground truth, summed over shuffles. FAR = FP/(FP+TP), FRR = FN/(FN+TN), as CodeRM defines them.\n\n| m | Acc | F1 | FAR | FRR |\n|---|---|---|---|---|\n";
    for q in &s.reward_quality {
        let r = q.vote.rates;
        let _ = writeln!(
            md,
            "| {} | {:.3} | {:.3} | {:.3} | {:.3} |",
            q.m, r.acc, r.f1, r.far, r.frr
        );
    }
    md += "\n## Published claims\n\n| claim | source | here | evidence | shown in |\n|---|---|---|---|---|\n";
    for c in &s.claims {
        let _ = writeln!(
            md,
            "| {} | {} | **{}** | {} | {} |",
            c.claim, c.source, c.verdict, c.evidence, c.shown_in
        );
    }
    md
}

/// One study's headline numbers, a column of [`compare`]'s table.
#[derive(Debug, Clone, Serialize)]
pub struct Headline {
    /// The study's name (its directory under the comparison's).
    pub name: String,
    /// The benchmark.
    pub bench: String,
    /// Problems with candidates.
    pub tasks: usize,
    /// The rule tests are spent for.
    pub rule: Rule,
    /// A random candidate's accuracy.
    pub vanilla: f64,
    /// The rule's pick with every test.
    pub vote: f64,
    /// A correct candidate exists.
    pub oracle: f64,
    /// The budget of a third of the pool's generations.
    pub third: usize,
    /// Uniform there.
    pub uniform_at_third: Option<Point>,
    /// Online, held out across folds, there.
    pub online_held_out_at_third: Option<f64>,
    /// Uniform with every generation.
    pub uniform_full: Option<Point>,
    /// Each published claim's verdict.
    pub claims: Vec<(&'static str, &'static str)>,
}

/// `study.json` of several studies, and their comparison.
#[derive(Debug, Clone, Serialize)]
pub struct Compared {
    /// One headline per study, in the order given.
    pub studies: Vec<Headline>,
    /// The comparison's directory.
    pub out: PathBuf,
    /// `study.md`.
    #[serde(skip)]
    pub markdown: String,
}

fn headline(name: &str, s: &StudySummary) -> Headline {
    let third = s.scale.difficulty_budget;
    let uniform = s.scale.strategies.get("uniform");
    Headline {
        name: name.to_string(),
        bench: s.bench.clone(),
        tasks: s.scale.tasks,
        rule: s.rule,
        vanilla: s.report.vanilla,
        vote: s.report.accuracy(s.rule),
        oracle: s.report.oracle,
        third,
        uniform_at_third: uniform.and_then(|u| u.iter().find(|p| p.budget == third).copied()),
        online_held_out_at_third: s
            .scale
            .online_cross_fitted
            .as_ref()
            .and_then(|f| f.points.iter().find(|p| p.budget == third))
            .map(|p| p.held_out),
        uniform_full: uniform.and_then(|u| u.last().copied()),
        claims: s.claims.iter().map(|c| (c.claim, c.verdict)).collect(),
    }
}

/// Compares studies already written (each into `out/<name>/`): writes
/// `out/study.md` — a column per study: the benchmark, vanilla against the
/// vote, uniform and held-out online at a third of the budget, the full
/// budget's cost in tokens, FLOPs and latency, and each claim's verdict —
/// and `out/study.json`.
pub fn compare(out: &std::path::Path, studies: &[(String, StudySummary)]) -> Result<Compared> {
    create_dir(out)?;
    let heads: Vec<Headline> = studies.iter().map(|(n, s)| headline(n, s)).collect();
    let pct = |x: f64| format!("{:.2}%", 100.0 * x);
    let opt = |x: Option<f64>, f: &dyn Fn(f64) -> String| x.map_or("n/a".to_string(), f);
    let mut rows: Vec<(String, Vec<String>)> = vec![
        (
            "benchmark".into(),
            heads.iter().map(|h| h.bench.clone()).collect(),
        ),
        (
            "problems".into(),
            heads.iter().map(|h| h.tasks.to_string()).collect(),
        ),
        (
            "rule".into(),
            heads.iter().map(|h| h.rule.to_string()).collect(),
        ),
        (
            "vanilla → vote, every test".into(),
            heads
                .iter()
                .map(|h| format!("{} → {}", pct(h.vanilla), pct(h.vote)))
                .collect(),
        ),
        (
            "oracle".into(),
            heads.iter().map(|h| pct(h.oracle)).collect(),
        ),
        (
            "uniform at a third of the generations".into(),
            heads
                .iter()
                .map(|h| {
                    h.uniform_at_third.map_or("n/a".into(), |p| {
                        format!("{} ({} per problem)", pct(p.accuracy), h.third)
                    })
                })
                .collect(),
        ),
        (
            "online held out there (gain)".into(),
            heads
                .iter()
                .map(|h| match (h.online_held_out_at_third, h.uniform_at_third) {
                    (Some(o), Some(u)) => {
                        format!("{} ({:+.2})", pct(o), 100.0 * (o - u.accuracy))
                    }
                    _ => "n/a".into(),
                })
                .collect(),
        ),
        (
            "every generation: tester tokens per problem".into(),
            heads
                .iter()
                .map(|h| {
                    opt(h.uniform_full.and_then(|p| p.tester_tokens), &|t| {
                        format!("{t:.0}")
                    })
                })
                .collect(),
        ),
        (
            "every generation: FLOPs per problem".into(),
            heads
                .iter()
                .map(|h| {
                    opt(h.uniform_full.and_then(|p| p.flops), &|f| {
                        format!("{f:.3e}")
                    })
                })
                .collect(),
        ),
        (
            "every generation: latency per problem".into(),
            heads
                .iter()
                .map(|h| {
                    opt(h.uniform_full.and_then(|p| p.latency_s), &|l| {
                        format!("{l:.2} s")
                    })
                })
                .collect(),
        ),
    ];
    if let Some(first) = heads.first() {
        for (k, (claim, _)) in first.claims.iter().enumerate() {
            rows.push((
                format!("claim: {claim}"),
                heads
                    .iter()
                    .map(|h| h.claims.get(k).map_or("n/a", |c| c.1).to_string())
                    .collect(),
            ));
        }
    }
    let mut md = format!(
        "# codejury study · {} studies\n\nEach study's whole report is in its directory (`<name>/study.md`, `<name>/scale/`, `<name>/report/report.html`).\n\n|  |",
        heads.len()
    );
    for h in &heads {
        let _ = write!(md, " {} |", h.name);
    }
    md += "\n|---|";
    md += &"---|".repeat(heads.len());
    md += "\n";
    for (label, cells) in &rows {
        let _ = writeln!(md, "| {label} | {} |", cells.join(" | "));
    }
    let compared = Compared {
        studies: heads,
        out: out.to_path_buf(),
        markdown: md,
    };
    write_json(&out.join("study.json"), &compared)?;
    write_file(&out.join("study.md"), compared.markdown.as_bytes())?;
    Ok(compared)
}
