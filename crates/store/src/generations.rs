//! Model generations in the run store: every sample is kept as soon as its
//! call returns, so a rerun never pays twice for a model call.
//!
//! A prompt's samples form a stream under one key (backend identity, role,
//! prompt and sampling): rows `(key, idx)`. The samples of one call are
//! written in one transaction with the call's usage, so a kill leaves
//! either the whole call or none of it.

use crate::{Key, Store, StoreError};
use rusqlite::params;

/// One stored sample.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredGeneration {
    /// The text.
    pub text: String,
    /// Why it ended, if the backend said.
    pub finish_reason: Option<String>,
}

/// What the calls for one key cost, summed.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt_tokens: u64,
    /// Generated tokens.
    pub completion_tokens: u64,
    /// Wall time of the calls, milliseconds.
    pub latency_ms: f64,
    /// HTTP calls (retries included) or model runs.
    pub calls: u64,
}

impl Usage {
    /// Adds another usage.
    pub fn add(&mut self, o: &Usage) {
        self.prompt_tokens += o.prompt_tokens;
        self.completion_tokens += o.completion_tokens;
        self.latency_ms += o.latency_ms;
        self.calls += o.calls;
    }

    /// The share of this usage (of `of` samples) that `taken` of them
    /// cost: a run that takes fewer samples than an earlier run stored
    /// under the same stream is charged for those it takes, not for all.
    pub fn share(&self, taken: usize, of: usize) -> Usage {
        if taken >= of || of == 0 {
            return *self;
        }
        let f = taken as f64 / of as f64;
        Usage {
            prompt_tokens: (self.prompt_tokens as f64 * f).round() as u64,
            completion_tokens: (self.completion_tokens as f64 * f).round() as u64,
            latency_ms: self.latency_ms * f,
            calls: (self.calls as f64 * f).ceil() as u64,
        }
    }
}

pub(crate) const SCHEMA: &str = "
    CREATE TABLE IF NOT EXISTS generations (
        key BLOB NOT NULL,
        idx INTEGER NOT NULL,
        text TEXT NOT NULL,
        finish_reason TEXT,
        PRIMARY KEY (key, idx)
    ) WITHOUT ROWID;
    CREATE TABLE IF NOT EXISTS calls (
        key BLOB NOT NULL,
        first_idx INTEGER NOT NULL,
        samples INTEGER NOT NULL,
        prompt_tokens INTEGER NOT NULL,
        completion_tokens INTEGER NOT NULL,
        latency_ms REAL NOT NULL,
        calls INTEGER NOT NULL,
        PRIMARY KEY (key, first_idx)
    ) WITHOUT ROWID;";

impl Store {
    /// The samples stored under `key`, in stream order.
    pub fn generations(&self, key: &Key) -> Result<Vec<StoredGeneration>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT text, finish_reason FROM generations WHERE key = ?1 ORDER BY idx",
            )
            .map_err(|e| self.err(e))?;
        let rows = stmt
            .query_map(params![&key.0[..]], |r| {
                Ok(StoredGeneration {
                    text: r.get(0)?,
                    finish_reason: r.get(1)?,
                })
            })
            .map_err(|e| self.err(e))?;
        rows.collect::<Result<_, _>>().map_err(|e| self.err(e))
    }

    /// Stores one call's samples as stream entries `start..`, with its
    /// usage, in one transaction.
    pub fn put_generations(
        &self,
        key: &Key,
        start: usize,
        samples: &[StoredGeneration],
        usage: &Usage,
    ) -> Result<(), StoreError> {
        let path = self.path.clone();
        let err = |source| StoreError::Sqlite {
            path: path.clone(),
            source,
        };
        let mut conn = self.conn();
        let tx = conn.transaction().map_err(err)?;
        {
            let mut put = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO generations (key, idx, text, finish_reason) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(err)?;
            for (k, s) in samples.iter().enumerate() {
                put.execute(params![
                    &key.0[..],
                    (start + k) as i64,
                    s.text,
                    s.finish_reason
                ])
                .map_err(err)?;
            }
            tx.execute(
                "INSERT OR REPLACE INTO calls (key, first_idx, samples, prompt_tokens, completion_tokens, latency_ms, calls) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    &key.0[..],
                    start as i64,
                    samples.len() as i64,
                    usage.prompt_tokens as i64,
                    usage.completion_tokens as i64,
                    usage.latency_ms,
                    usage.calls as i64
                ],
            )
            .map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    /// How many model samples the store holds, over every key.
    pub fn generation_count(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM generations", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(n.max(0) as u64)
    }

    /// The summed usage of the calls stored under `key`.
    pub fn usage(&self, key: &Key) -> Result<Usage, StoreError> {
        self.conn()
            .query_row(
                "SELECT COALESCE(SUM(prompt_tokens), 0), COALESCE(SUM(completion_tokens), 0),
                        COALESCE(SUM(latency_ms), 0.0), COALESCE(SUM(calls), 0)
                 FROM calls WHERE key = ?1",
                params![&key.0[..]],
                |r| {
                    Ok(Usage {
                        prompt_tokens: r.get::<_, i64>(0)?.max(0) as u64,
                        completion_tokens: r.get::<_, i64>(1)?.max(0) as u64,
                        latency_ms: r.get(2)?,
                        calls: r.get::<_, i64>(3)?.max(0) as u64,
                    })
                },
            )
            .map_err(|e| self.err(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_append_to_a_stream_and_usage_sums() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.sqlite");
        let key = Key::of(&[b"m", b"prompt"]);
        let g = |t: &str| StoredGeneration {
            text: t.into(),
            finish_reason: Some("stop".into()),
        };
        let u = Usage {
            prompt_tokens: 10,
            completion_tokens: 5,
            latency_ms: 2.0,
            calls: 1,
        };
        {
            let s = Store::open(&path).unwrap();
            s.put_generations(&key, 0, &[g("a"), g("b")], &u).unwrap();
        }
        let s = Store::open(&path).unwrap();
        s.put_generations(&key, 2, &[g("c")], &u).unwrap();
        let texts: Vec<String> = s
            .generations(&key)
            .unwrap()
            .into_iter()
            .map(|x| x.text)
            .collect();
        assert_eq!(texts, ["a", "b", "c"]);
        let total = s.usage(&key).unwrap();
        assert_eq!(
            (total.prompt_tokens, total.completion_tokens, total.calls),
            (20, 10, 2)
        );
        assert!(s.generations(&Key::of(&[b"other"])).unwrap().is_empty());

        // A run that takes one of the three samples is charged a third.
        let third = total.share(1, 3);
        assert_eq!(
            (third.prompt_tokens, third.completion_tokens, third.calls),
            (7, 3, 1)
        );
        assert!((third.latency_ms - 4.0 / 3.0).abs() < 1e-9);
        assert_eq!(total.share(3, 3), total);
        assert_eq!(total.share(5, 3), total, "more than stored: all of it");
    }
}
