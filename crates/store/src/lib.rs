//! The run store: every model sample, verdict and ground-truth label
//! codejury computes, keyed by a content hash of what produced it, in
//! SQLite (WAL). One [`Store`] is `Sync` and serves every caller of a
//! process; [`CachedRunner`] puts it in front of a sandbox engine.
//!
//! A key covers everything that can change a result — the program, the
//! test (format, source, data), the prelude, the entry point, the limits and
//! the execution mode — so a rerun of any command finds finished work and
//! costs nothing, and a run killed with `kill -9` resumes without repeating
//! a finished pair: each result is committed on its own as it arrives
//! (`synchronous=NORMAL` in WAL mode costs no fsync per commit, and a killed
//! process loses nothing the kernel already has).

#![warn(missing_docs, unreachable_pub)]

mod cached;
mod generations;

pub use cached::{CacheError, CachedRunner};
pub use generations::{StoredGeneration, Usage};

use codejury_core::{Hint, Verdict};
use rusqlite::{params, Connection, OptionalExtension};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

/// Why the store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite failed.
    #[error("run store {}", path.display())]
    Sqlite {
        /// The database file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: rusqlite::Error,
    },
    /// The directory for the store could not be made.
    #[error("cannot create {}", path.display())]
    Io {
        /// The directory.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

impl Hint for StoreError {
    fn hint(&self) -> Option<String> {
        match self {
            StoreError::Sqlite { .. } => Some(
                "the store is a cache: delete it (or pass another --store) to start afresh".into(),
            ),
            StoreError::Io { .. } => Some("pass --store with a writable path".into()),
        }
    }
}

/// A content hash identifying one computation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Key(pub [u8; 32]);

impl Key {
    /// Hashes the parts, each length-prefixed so that no two different
    /// lists of parts collide by concatenation.
    pub fn of(parts: &[&[u8]]) -> Key {
        let mut h = Sha256::new();
        for p in parts {
            h.update((p.len() as u64).to_le_bytes());
            h.update(p);
        }
        Key(h.finalize().into())
    }

    /// Hex form, for logs and exports.
    pub fn hex(&self) -> String {
        hex::encode(self.0)
    }
}

/// A stored verdict.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredVerdict {
    /// The verdict.
    pub verdict: Verdict,
    /// CPU time, milliseconds.
    pub cpu_ms: f64,
    /// Wall time, milliseconds.
    pub wall_ms: f64,
    /// The message.
    pub message: String,
    /// What the test stored in `__cj_output__` (expected outputs a
    /// reference solution computed, for one), if anything.
    pub value: Option<String>,
}

/// The store. Its one connection sits behind a mutex, so a `&Store` can
/// be shared by every thread of a process (an engine's sink, a server's
/// handlers); SQLite's WAL lets other processes read and write meanwhile.
pub struct Store {
    conn: Mutex<Connection>,
    path: PathBuf,
}

impl Store {
    /// Opens (creating if needed) the store at `path`.
    pub fn open(path: &Path) -> Result<Store, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|source| StoreError::Io {
                path: dir.to_path_buf(),
                source,
            })?;
        }
        let err = |source| StoreError::Sqlite {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(err)?;
        conn.busy_timeout(std::time::Duration::from_secs(30))
            .map_err(err)?;
        conn.execute_batch(
            "PRAGMA journal_mode = WAL;
             PRAGMA synchronous = NORMAL;
             CREATE TABLE IF NOT EXISTS verdicts (
                 key BLOB PRIMARY KEY,
                 verdict TEXT NOT NULL,
                 cpu_ms REAL NOT NULL,
                 wall_ms REAL NOT NULL,
                 message TEXT NOT NULL
             ) WITHOUT ROWID;",
        )
        .map_err(err)?;
        // Stores written before verdicts kept a test's value gain the column.
        let has_value: bool = conn
            .prepare("SELECT 1 FROM pragma_table_info('verdicts') WHERE name = 'value'")
            .and_then(|mut s| s.exists([]))
            .map_err(err)?;
        if !has_value {
            conn.execute_batch("ALTER TABLE verdicts ADD COLUMN value TEXT;")
                .map_err(err)?;
        }
        conn.execute_batch(generations::SCHEMA).map_err(err)?;
        Ok(Store {
            conn: Mutex::new(conn),
            path: path.to_path_buf(),
        })
    }

    /// The connection; a panic in another holder cannot leave SQLite in a
    /// state worse than a killed process would, so a poisoned lock is taken.
    fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn err(&self, source: rusqlite::Error) -> StoreError {
        StoreError::Sqlite {
            path: self.path.clone(),
            source,
        }
    }

    /// The verdict stored under `key`, if any. A row whose verdict text is
    /// not a known verdict (written by another version) counts as absent.
    pub fn verdict(&self, key: &Key) -> Result<Option<StoredVerdict>, StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "SELECT verdict, cpu_ms, wall_ms, message, value FROM verdicts WHERE key = ?1",
            )
            .map_err(|e| self.err(e))?;
        let row = stmt
            .query_row(params![&key.0[..]], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                ))
            })
            .optional()
            .map_err(|e| self.err(e))?;
        Ok(row.and_then(|(v, cpu_ms, wall_ms, message, value)| {
            v.parse().ok().map(|verdict| StoredVerdict {
                verdict,
                cpu_ms,
                wall_ms,
                message,
                value,
            })
        }))
    }

    /// Stores a verdict, committed at once.
    pub fn put_verdict(&self, key: &Key, v: &StoredVerdict) -> Result<(), StoreError> {
        let conn = self.conn();
        let mut stmt = conn
            .prepare_cached(
                "INSERT OR REPLACE INTO verdicts (key, verdict, cpu_ms, wall_ms, message, value) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(|e| self.err(e))?;
        stmt.execute(params![
            &key.0[..],
            v.verdict.as_str(),
            v.cpu_ms,
            v.wall_ms,
            v.message,
            v.value
        ])
        .map_err(|e| self.err(e))?;
        Ok(())
    }

    /// How many verdicts the store holds.
    pub fn len(&self) -> Result<u64, StoreError> {
        let n: i64 = self
            .conn()
            .query_row("SELECT COUNT(*) FROM verdicts", [], |r| r.get(0))
            .map_err(|e| self.err(e))?;
        Ok(n.max(0) as u64)
    }

    /// Whether the store is empty.
    pub fn is_empty(&self) -> Result<bool, StoreError> {
        Ok(self.len()? == 0)
    }

    /// Where the store lives.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_store_from_before_values_were_kept_opens_and_reads_its_verdicts() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("old.sqlite");
        let k = Key::of(&[b"old"]);
        {
            let c = Connection::open(&path).unwrap();
            c.execute_batch(
                "CREATE TABLE verdicts (key BLOB PRIMARY KEY, verdict TEXT NOT NULL,
                 cpu_ms REAL NOT NULL, wall_ms REAL NOT NULL, message TEXT NOT NULL) WITHOUT ROWID;",
            )
            .unwrap();
            c.execute(
                "INSERT INTO verdicts VALUES (?1, 'pass', 1.0, 2.0, '')",
                params![&k.0[..]],
            )
            .unwrap();
        }
        let s = Store::open(&path).unwrap();
        let v = s.verdict(&k).unwrap().expect("the old row");
        assert_eq!((v.verdict, v.value), (Verdict::Pass, None));
    }

    #[test]
    fn verdicts_round_trip_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s/store.sqlite");
        let k = Key::of(&[b"def f(): pass", b"assert f() is None"]);
        let v = StoredVerdict {
            verdict: Verdict::Timeout,
            cpu_ms: 1.5,
            wall_ms: 1000.0,
            message: "slow".into(),
            value: Some("[1, 2]".into()),
        };
        {
            let s = Store::open(&path).unwrap();
            assert!(s.verdict(&k).unwrap().is_none());
            s.put_verdict(&k, &v).unwrap();
        }
        let s = Store::open(&path).unwrap();
        assert_eq!(s.verdict(&k).unwrap(), Some(v));
        assert_eq!(s.len().unwrap(), 1);
    }

    #[test]
    fn keys_do_not_collide_by_concatenation() {
        assert_ne!(Key::of(&[b"ab", b"c"]), Key::of(&[b"a", b"bc"]));
    }
}
