//! The engine's work queue: pieces of jobs, shared by all workers.
//!
//! A piece is a job with some of its tests. A run starts with one piece per
//! job; a worker that hands tests back after a time-out (the wire
//! protocol's `yield`) puts them in front again as two halves, so the rest
//! of a slow candidate spreads over the free workers instead of running
//! after the time-out on the worker that met it.

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};

/// Part of a job: the job's index and the indices of the tests to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Piece {
    pub(crate) job: usize,
    pub(crate) tests: Vec<usize>,
}

#[derive(Default)]
struct State {
    pieces: VecDeque<Piece>,
    /// Pieces taken and not yet finished: while any is out, more may come.
    out: usize,
    stopped: bool,
}

/// A blocking queue of pieces that ends when it is empty and no piece is
/// out (or when the run is stopped).
#[derive(Default)]
pub(crate) struct PieceQueue {
    state: Mutex<State>,
    changed: Condvar,
}

impl PieceQueue {
    /// A queue holding one whole piece per job.
    pub(crate) fn new(test_counts: impl Iterator<Item = usize>) -> PieceQueue {
        let pieces = test_counts
            .enumerate()
            .map(|(job, n)| Piece {
                job,
                tests: (0..n).collect(),
            })
            .collect();
        PieceQueue {
            state: Mutex::new(State {
                pieces,
                out: 0,
                stopped: false,
            }),
            changed: Condvar::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent across a panic elsewhere: every
        // change is a single push, pop or count.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The next piece, waiting while others are out and may hand tests
    /// back; `None` once the run is over or stopped.
    pub(crate) fn take(&self) -> Option<Piece> {
        let mut s = self.lock();
        loop {
            if s.stopped {
                return None;
            }
            if let Some(p) = s.pieces.pop_front() {
                s.out += 1;
                return Some(p);
            }
            if s.out == 0 {
                return None;
            }
            s = self.changed.wait(s).unwrap_or_else(|e| e.into_inner());
        }
    }

    /// Marks a taken piece finished, queueing the tests it handed back in
    /// front, split in two halves (so two workers can share them).
    pub(crate) fn finish(&self, job: usize, mut handed_back: Vec<usize>) {
        let mut s = self.lock();
        s.out = s.out.saturating_sub(1);
        if !handed_back.is_empty() {
            let second = handed_back.split_off(handed_back.len().div_ceil(2));
            if !second.is_empty() {
                s.pieces.push_front(Piece { job, tests: second });
            }
            s.pieces.push_front(Piece {
                job,
                tests: handed_back,
            });
        }
        drop(s);
        self.changed.notify_all();
    }

    /// Ends the run: pieces not yet taken are never handed out.
    pub(crate) fn stop(&self) {
        self.lock().stopped = true;
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handed_back_tests_come_first_in_two_halves_and_the_queue_ends_when_none_are_out() {
        let q = PieceQueue::new([3, 5].into_iter());
        let a = q.take().expect("first piece");
        assert_eq!(a.tests, vec![0, 1, 2]);
        let b = q.take().expect("second piece");
        assert_eq!((b.job, b.tests.len()), (1, 5));
        q.finish(1, vec![2, 3, 4]);
        assert_eq!(q.take().map(|p| p.tests), Some(vec![2, 3]));
        assert_eq!(q.take().map(|p| p.tests), Some(vec![4]));
        q.finish(1, vec![]);
        q.finish(1, vec![]);
        q.finish(0, vec![]);
        assert_eq!(q.take(), None);
    }

    #[test]
    fn a_waiting_worker_wakes_for_handed_back_tests_and_for_the_end() {
        let q = std::sync::Arc::new(PieceQueue::new([2].into_iter()));
        let first = q.take().expect("the only piece");
        let waiter = {
            let q = q.clone();
            std::thread::spawn(move || {
                // Waits: the queue is empty but a piece is out.
                let got = q.take();
                if let Some(p) = &got {
                    q.finish(p.job, vec![]);
                }
                (got, q.take())
            })
        };
        q.finish(first.job, vec![1]);
        let (got, end) = waiter.join().expect("waiter");
        assert_eq!(got.map(|p| p.tests), Some(vec![1]));
        assert_eq!(end, None);
    }

    #[test]
    fn stop_ends_the_queue_with_pieces_left() {
        let q = PieceQueue::new([1, 1].into_iter());
        q.stop();
        assert_eq!(q.take(), None);
    }
}
