//! Admission control counted in pairs: the server takes on at most a fixed
//! number of (candidate, test) pairs at once, so memory and queueing stay
//! bounded under any burst. `/v1/*` callers the queue cannot take now are
//! told to come back (429 with `Retry-After`); `/run_code` callers wait up
//! to their deadline and then get a 504, the one status verl retries.

use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Why a request was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rejected {
    /// More pairs than the whole queue holds: it can never be admitted.
    TooLarge {
        /// Pairs asked for.
        pairs: usize,
        /// The queue's size.
        capacity: usize,
    },
    /// The queue is full now.
    Busy,
}

/// The bounded queue of pairs.
pub(crate) struct Admission {
    slots: Arc<Semaphore>,
    capacity: usize,
}

/// Pairs admitted; given back when dropped (when the work is done, even if
/// the client went away).
pub(crate) type Ticket = OwnedSemaphorePermit;

impl Admission {
    /// A queue of `capacity` pairs.
    pub(crate) fn new(capacity: usize) -> Admission {
        let capacity = capacity.clamp(1, Semaphore::MAX_PERMITS);
        Admission {
            slots: Arc::new(Semaphore::new(capacity)),
            capacity,
        }
    }

    /// The queue's size.
    pub(crate) fn capacity(&self) -> usize {
        self.capacity
    }

    /// Pairs admitted and not yet done.
    pub(crate) fn in_use(&self) -> usize {
        self.capacity - self.slots.available_permits()
    }

    fn permits(&self, pairs: usize) -> Result<u32, Rejected> {
        if pairs > self.capacity {
            return Err(Rejected::TooLarge {
                pairs,
                capacity: self.capacity,
            });
        }
        u32::try_from(pairs.max(1)).map_err(|_| Rejected::TooLarge {
            pairs,
            capacity: self.capacity,
        })
    }

    /// Admits `pairs` now, or says why not.
    pub(crate) fn try_admit(&self, pairs: usize) -> Result<Ticket, Rejected> {
        let n = self.permits(pairs)?;
        self.slots
            .clone()
            .try_acquire_many_owned(n)
            .map_err(|_| Rejected::Busy)
    }

    /// Admits `pairs` as soon as they fit, waiting at most `patience`.
    pub(crate) async fn admit_within(
        &self,
        pairs: usize,
        patience: Duration,
    ) -> Result<Ticket, Rejected> {
        let n = self.permits(pairs)?;
        match tokio::time::timeout(patience, self.slots.clone().acquire_many_owned(n)).await {
            Ok(Ok(t)) => Ok(t),
            _ => Err(Rejected::Busy),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_queue_refuses_and_a_finished_request_makes_room() {
        let a = Admission::new(10);
        let t = a.try_admit(8).expect("fits");
        assert_eq!(a.in_use(), 8);
        assert_eq!(a.try_admit(3).unwrap_err(), Rejected::Busy);
        drop(t);
        assert_eq!(a.in_use(), 0);
        assert!(a.try_admit(10).is_ok());
    }

    #[test]
    fn more_pairs_than_the_queue_holds_is_too_large_not_busy() {
        let a = Admission::new(10);
        assert_eq!(
            a.try_admit(11).unwrap_err(),
            Rejected::TooLarge {
                pairs: 11,
                capacity: 10
            }
        );
    }

    #[tokio::test]
    async fn run_code_waits_for_room_up_to_its_deadline() {
        let a = Admission::new(2);
        let t = a.try_admit(2).expect("fits");
        let waited = a.admit_within(1, Duration::from_millis(20)).await;
        assert_eq!(waited.unwrap_err(), Rejected::Busy);
        let freer = async {
            tokio::time::sleep(Duration::from_millis(10)).await;
            drop(t);
        };
        let (got, ()) = tokio::join!(a.admit_within(1, Duration::from_secs(5)), freer);
        assert!(got.is_ok());
    }
}
