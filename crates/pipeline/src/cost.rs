//! What a pool's generations cost in tokens and FLOPs, for budget curves
//! drawn against compute rather than against calls.
//!
//! A pool file records texts, not usage, so its tokens are counted with a
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
    /// The policy's parameters, when given.
    pub policy_params: Option<u64>,
    /// The tester's parameters, when given.
    pub tester_params: Option<u64>,
    /// What is and is not counted.
    pub note: &'static str,
}

/// What a pool's compute curves leave out, said in every report.
pub const NOTE: &str = "tokens counted with the named tokenizer; a candidate costs its whole program (prompt + completion), a test generation the problem's prompt plus its text (instructions around the prompt are not in the pool, so not counted); FLOPs = 2 × parameters × tokens; latency is not recorded in a pool (a `run` records it)";

/// Counts tokens of `pool`'s candidates and test generations; `prompts` are
/// the problems' prompts, aligned with `pool.tasks`. `spec` names the
/// tokenizer: `embedded`, `embedded:FILE.gguf`, or `none` (no counts).
pub fn count(pool: &Pool, prompts: &[String], spec: &str) -> Result<Option<PoolTokens>> {
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
