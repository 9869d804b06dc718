//! Sampling generations through the run store: what is stored is reused,
//! the rest is asked for, and each call's samples are committed with their
//! usage the moment the call returns — a killed run never pays twice for a
//! model call.

use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::reporter::{Reporter, Stage};
use codejury_core::prompt::Ask;
use codejury_llm::drive::{self, GenerationSink};
use codejury_llm::{GenError, Request, Response, Sampling};
use codejury_store::{Key, Store, StoredGeneration, Usage};
use serde::Serialize;
use std::collections::HashMap;
use std::time::Instant;
use tokio::runtime::Handle;
use tokio_util::sync::CancellationToken;

/// One generation stage's outcome.
#[derive(Debug, Clone, Default)]
pub struct Generated {
    /// Per ask, its texts (at most the number wanted).
    pub texts: Vec<Vec<String>>,
    /// Per ask, the usage of every call stored for it (this run or earlier).
    pub usage: Vec<Usage>,
    /// Samples made now (not from the store).
    pub fresh_samples: usize,
    /// Samples read from the store.
    pub stored_samples: usize,
    /// Requests that failed for good: (ask, message).
    pub failures: Vec<(usize, String)>,
    /// Samples a replay file did not have.
    pub missing: usize,
    /// Wall seconds.
    pub secs: f64,
}

/// Usage summed over asks.
pub fn total_usage(u: &[Usage]) -> Usage {
    let mut t = Usage::default();
    for x in u {
        t.add(x);
    }
    t
}

/// One ask of a stage: the task it is for and the prompt.
#[derive(Debug, Clone)]
pub struct Question {
    /// The task id (replay looks generations up by it).
    pub task_id: String,
    /// The prompt.
    pub ask: Ask,
}

/// The key of a prompt's sample stream: backend identity, role, prompt and
/// sampling.
fn stream_key(identity: &str, role: &str, ask: &Ask, s: &Sampling) -> Key {
    let prompt = serde_json::to_string(&ask.prompt).unwrap_or_default();
    let sampling = serde_json::to_string(s).unwrap_or_default();
    Key::of(&[
        b"generation/v1",
        identity.as_bytes(),
        role.as_bytes(),
        prompt.as_bytes(),
        sampling.as_bytes(),
    ])
}

/// The sink that commits each call's samples.
struct Commit<'a> {
    store: &'a Store,
    keys: &'a [Key],
    starts: HashMap<usize, usize>,
    questions: &'a [Question],
    stage: &'a Stage,
    reporter: &'a dyn Reporter,
    fresh: usize,
    failures: Vec<(usize, String)>,
}

impl GenerationSink for Commit<'_> {
    type Error = Error;

    fn response(&mut self, id: usize, result: Result<Response, GenError>) -> Result<bool> {
        match result {
            Ok(resp) => {
                let samples: Vec<StoredGeneration> = resp
                    .completions
                    .iter()
                    .map(|c| StoredGeneration {
                        text: c.text.clone(),
                        finish_reason: c.finish_reason.clone(),
                    })
                    .collect();
                let usage = Usage {
                    prompt_tokens: resp.prompt_tokens,
                    completion_tokens: resp.completion_tokens,
                    latency_ms: resp.latency.as_secs_f64() * 1e3,
                    calls: u64::from(resp.calls),
                };
                if !samples.is_empty() {
                    let start = self.starts.get(&id).copied().unwrap_or(0);
                    self.store
                        .put_generations(&self.keys[id], start, &samples, &usage)?;
                }
                self.fresh += samples.len();
                self.reporter.advance(self.stage, samples.len() as u64);
            }
            Err(e) => {
                let task = &self.questions[id].task_id;
                self.reporter
                    .warn(&format!("{} for {task}: {e}", self.stage));
                self.failures.push((id, e.to_string()));
            }
        }
        Ok(true)
    }
}

/// Everything a stage needs besides its questions.
pub struct StageContext<'a> {
    /// The runtime the model calls run on (the caller's).
    pub handle: &'a Handle,
    /// The run store.
    pub store: &'a Store,
    /// Where progress goes.
    pub reporter: &'a dyn Reporter,
    /// Stops the stage.
    pub cancel: &'a CancellationToken,
}

/// Samples `want[i]` generations for question `i` from `backend` as `role`
/// (part of the key: a policy's and a tester's samples of one prompt are
/// different streams), through the store.
#[allow(clippy::too_many_arguments)]
pub fn generate(
    cx: &StageContext<'_>,
    stage: &Stage,
    backend: &Backend,
    role: &str,
    questions: &[Question],
    want: &[usize],
    sampling: &Sampling,
) -> Result<Generated> {
    let started = Instant::now();
    let identity = backend.generator.identity();
    let mut keys = Vec::with_capacity(questions.len());
    let mut requests = Vec::new();
    let mut stored_samples = 0;
    for (i, q) in questions.iter().enumerate() {
        let s = Sampling {
            stop: q.ask.stop.clone(),
            ..sampling.clone()
        };
        let key = stream_key(&identity, role, &q.ask, &s);
        let stored = cx.store.generations(&key)?.len();
        stored_samples += stored.min(want[i]);
        if stored < want[i] {
            requests.push(Request {
                id: i,
                task_id: q.task_id.clone(),
                prompt: q.ask.prompt.clone(),
                n: want[i] - stored,
                start: stored,
                sampling: s,
            });
        }
        keys.push(key);
    }
    let wanted: usize = want.iter().sum();
    cx.reporter
        .start(stage, wanted as u64, stored_samples as u64);
    let mut sink = Commit {
        store: cx.store,
        keys: &keys,
        starts: requests.iter().map(|r| (r.id, r.start)).collect(),
        questions,
        stage,
        reporter: cx.reporter,
        fresh: 0,
        failures: Vec::new(),
    };
    if !requests.is_empty() && !cx.cancel.is_cancelled() {
        drive::blocking::generate_all(
            cx.handle,
            backend.generator.as_ref(),
            requests,
            cx.cancel,
            &mut sink,
        )?;
    }
    cx.reporter.finish(stage);
    let (fresh_samples, failures) = (sink.fresh, sink.failures);
    let mut texts = Vec::with_capacity(questions.len());
    let mut usage = Vec::with_capacity(questions.len());
    for (key, &want) in keys.iter().zip(want) {
        let g = cx.store.generations(key)?;
        let stored = g.len();
        let taken: Vec<String> = g.into_iter().take(want).map(|g| g.text).collect();
        usage.push(cx.store.usage(key)?.share(taken.len(), stored));
        texts.push(taken);
    }
    let have: usize = texts.iter().map(Vec::len).sum();
    let missing = if cx.cancel.is_cancelled() || !failures.is_empty() {
        0
    } else {
        wanted.saturating_sub(have)
    };
    Ok(Generated {
        texts,
        usage,
        fresh_samples,
        stored_samples,
        failures,
        missing,
        secs: started.elapsed().as_secs_f64(),
    })
}

/// What one stage cost, as `run.json` reports it.
#[derive(Debug, Clone, Serialize)]
pub struct StageCost {
    /// The backend as the user named it.
    pub backend: String,
    /// Its cache identity.
    pub identity: String,
    /// Its parameter count, when known.
    pub parameters: Option<u64>,
    /// Samples made now.
    pub samples_new: usize,
    /// Samples read from the store.
    pub samples_stored: usize,
    /// Requests that failed for good.
    pub failed_requests: usize,
    /// Prompt tokens over every stored call.
    pub prompt_tokens: u64,
    /// Generated tokens over every stored call.
    pub completion_tokens: u64,
    /// Calls (retries included).
    pub calls: u64,
    /// Seconds the model calls took.
    pub model_seconds: f64,
    /// 2 × parameters × tokens.
    pub flops: Option<f64>,
    /// Wall seconds of the stage.
    pub wall_seconds: f64,
}

/// FLOPs of a forward pass over the tokens of `u`: 2 × parameters × tokens.
pub fn flops(params: Option<u64>, u: &Usage) -> Option<f64> {
    params.map(|p| 2.0 * p as f64 * (u.prompt_tokens + u.completion_tokens) as f64)
}

impl StageCost {
    /// The cost of `g`, made by `backend`.
    pub fn of(backend: &Backend, g: &Generated) -> StageCost {
        let u = total_usage(&g.usage);
        StageCost {
            backend: backend.name.clone(),
            identity: backend.generator.identity(),
            parameters: backend.generator.parameters(),
            samples_new: g.fresh_samples,
            samples_stored: g.stored_samples,
            failed_requests: g.failures.len(),
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            calls: u.calls,
            model_seconds: u.latency_ms / 1e3,
            flops: flops(backend.generator.parameters(), &u),
            wall_seconds: g.secs,
        }
    }
}
