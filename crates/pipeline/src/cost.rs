//! What a pool's generations cost in tokens, FLOPs and seconds, for budget
//! curves drawn against compute and latency rather than against calls.
//!
//! A `run` records what every call cost (its backend's token usage and
//! wall time) and writes it beside each generation in `solutions.jsonl` and
//! `tests.jsonl`; a pool with that record is costed from it, and its
//! latency curve adds the sandbox's time for every pair a test generation
//! brings. A published pool records texts, not usage, so its tokens are counted with a
//! named tokenizer (the embedded SmolLM2-135M's by default: a GPT-2-style
//! BPE of 49k entries; a pool's own model may split text differently, which
//! is why the tokenizer is named in every report). A candidate costs the
//! tokens of its whole program (the prompt is its prefix: prompt and
//! completion together); a test generation costs the problem's prompt plus
//! its text (the pool does not keep the instructions around the prompt, so
//! the tester's prompt is undercounted by their length). FLOPs are
//! 2 × parameters × tokens (prompt and completion), as `run` counts them.

use crate::error::{config, Result};
use crate::pool::Pool;
use serde::Serialize;

/// Token counts of one pool, aligned with its tasks.
#[derive(Debug, Clone)]
pub struct PoolTokens {
    /// Which tokenizer counted them.
    pub tokenizer: String,
    /// Per problem: the policy's tokens for all of its candidates.
    pub policy: Vec<f64>,
    /// Per problem and test generation (in the pool's order): the tester's
    /// tokens for it.
    pub generations: Vec<Vec<f64>>,
}

/// The cost model a report states beside its compute curves.
#[derive(Debug, Clone, Serialize)]
pub struct CostModel {
    /// Which tokenizer counted the pool's texts.
    pub tokenizer: String,
    /// The policy's tokens per problem (all candidates, prompt and
    /// completion).
    pub policy_tokens_per_problem: f64,
    /// The policy's seconds per problem, when the pool recorded them.
    pub policy_seconds_per_problem: Option<f64>,
    /// The policy's parameters, when given.
    pub policy_params: Option<u64>,
    /// The tester's parameters, when given.
    pub tester_params: Option<u64>,
    /// What is and is not counted.
    pub note: &'static str,
}

/// What a pool's compute curves leave out, said in every report.
pub const NOTE: &str = "tokens counted with the named tokenizer; a candidate costs its whole program (prompt + completion), a test generation the problem's prompt plus its text (instructions around the prompt are not in the pool, so not counted); FLOPs = 2 × parameters × tokens; latency is not recorded in a pool (a `run` records it)";

/// What a recorded pool's curves count, said in every report.
pub const RECORDED_NOTE: &str = "tokens as the backends reported them for each call (prompt + completion; a call's usage shared evenly among its samples); FLOPs = 2 × parameters × tokens; latency per problem = the policy's calls + each bought test generation's call + the sandbox's wall time for its tests against every distinct candidate, one after another (a server running calls side by side finishes sooner; ground-truth labelling is not counted)";

/// The name a recorded pool's counts go by.
pub const RECORDED: &str = "recorded by the backends (usage of each call)";

/// Seconds per problem of a pool whose calls' latency was recorded.
#[derive(Debug, Clone)]
pub struct PoolSeconds {
    /// Per problem: the policy's calls for all of its candidates.
    pub policy: Vec<f64>,
    /// Per problem and test generation (in the pool's order): the tester's
    /// call for it plus the sandbox's time running its tests against every
    /// distinct candidate.
    pub generations: Vec<Vec<f64>>,
}

/// Whether every candidate and test generation of `pool` carries its
/// recorded usage (a `run`'s files do).
pub fn recorded(pool: &Pool) -> bool {
    !pool.tasks.is_empty()
        && pool.tasks.iter().all(|t| {
            t.candidate_usage.iter().all(Option::is_some)
                && t.generation_usage.iter().all(Option::is_some)
        })
}

fn recorded_tokens(pool: &Pool) -> PoolTokens {
    let tokens = |u: &Option<crate::pool::Recorded>| u.map_or(0.0, |u| u.tokens());
    PoolTokens {
        tokenizer: RECORDED.to_string(),
        policy: pool
            .tasks
            .iter()
            .map(|t| t.candidate_usage.iter().map(tokens).sum())
            .collect(),
        generations: pool
            .tasks
            .iter()
            .map(|t| t.generation_usage.iter().map(tokens).collect())
            .collect(),
    }
}

/// The seconds of a recorded pool, with `pair_ms` (per task, distinct
/// program and distinct test, aligned with `pool.tasks`) for execution;
/// `None` when the pool recorded no latency.
pub fn seconds(pool: &Pool, pair_ms: &[Vec<Vec<f64>>]) -> Option<PoolSeconds> {
    if !recorded(pool) {
        return None;
    }
    let ms = |u: &Option<crate::pool::Recorded>| u.map_or(0.0, |u| u.latency_ms);
    let mut policy = Vec::with_capacity(pool.tasks.len());
    let mut generations = Vec::with_capacity(pool.tasks.len());
    for (t, pairs) in pool.tasks.iter().zip(pair_ms) {
        policy.push(t.candidate_usage.iter().map(ms).sum::<f64>() / 1e3);
        let mut start = 0;
        let per: Vec<f64> = t
            .generations
            .iter()
            .zip(&t.generation_usage)
            .map(|(&n, u)| {
                let exec: f64 = t.cols[start..start + n]
                    .iter()
                    .map(|&test| pairs.iter().map(|row| row[test]).sum::<f64>())
                    .sum();
                start += n;
                (ms(u) + exec) / 1e3
            })
            .collect();
        generations.push(per);
    }
    Some(PoolSeconds {
        policy,
        generations,
    })
}

/// Counts tokens of `pool`'s candidates and test generations; `prompts` are
/// the problems' prompts, aligned with `pool.tasks`. A pool that recorded
/// its usage is costed from the record; otherwise `spec` names the
/// tokenizer: `embedded`, `embedded:FILE.gguf`, or `none` (no counts).
pub fn count(pool: &Pool, prompts: &[String], spec: &str) -> Result<Option<PoolTokens>> {
    if recorded(pool) {
        return Ok(Some(recorded_tokens(pool)));
    }
    if spec == "none" {
        return Ok(None);
    }
    let parsed: crate::backend::Spec = spec
        .parse()
        .map_err(|e| config(format!("--tokenizer {e}")))?;
    let crate::backend::Spec::Embedded(path) = parsed else {
        return Err(config(
            "--tokenizer needs an embedded model's tokenizer (`embedded` or `embedded:FILE.gguf`) or `none`",
        ));
    };
    let counter = Counter::load(path.as_deref())?;
    let mut policy = Vec::with_capacity(pool.tasks.len());
    let mut generations = Vec::with_capacity(pool.tasks.len());
    for (tp, prompt) in pool.tasks.iter().zip(prompts) {
        let per_program: Vec<f64> = tp
            .programs
            .iter()
            .map(|p| counter.tokens(p))
            .collect::<Result<_>>()?;
        policy.push(tp.rows.iter().map(|&p| per_program[p]).sum());
        let prompt_tokens = counter.tokens(prompt)?;
        generations.push(
            tp.generation_text
                .iter()
                .map(|t| Ok(prompt_tokens + counter.tokens(t)?))
                .collect::<Result<_>>()?,
        );
    }
    Ok(Some(PoolTokens {
        tokenizer: counter.name,
        policy,
        generations,
    }))
}

/// FLOPs of `tokens` through a model of `params` parameters.
pub fn flops(params: u64, tokens: f64) -> f64 {
    2.0 * params as f64 * tokens
}

struct Counter {
    name: String,
    #[cfg(feature = "embedded")]
    model: codejury_embedded::EmbeddedGenerator,
    /// Without the embedded model no counter exists.
    #[cfg(not(feature = "embedded"))]
    never: std::convert::Infallible,
}

impl Counter {
    #[cfg(feature = "embedded")]
    fn load(path: Option<&std::path::Path>) -> Result<Counter> {
        let model = crate::backend::embedded(path, 1)?;
        let name = match path {
            None => "SmolLM2-135M (the embedded model's BPE)".to_string(),
            Some(p) => format!("{} (its BPE)", p.display()),
        };
        Ok(Counter { name, model })
    }

    #[cfg(not(feature = "embedded"))]
    fn load(_: Option<&std::path::Path>) -> Result<Counter> {
        Err(config(
            "--tokenizer needs the embedded model, which this build lacks; pass --tokenizer none",
        ))
    }

    #[cfg(feature = "embedded")]
    fn tokens(&self, text: &str) -> Result<f64> {
        Ok(self.model.tokenize(text)?.len() as f64)
    }

    #[cfg(not(feature = "embedded"))]
    fn tokens(&self, _: &str) -> Result<f64> {
        match self.never {}
    }
}
