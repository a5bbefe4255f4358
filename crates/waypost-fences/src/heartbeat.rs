//! Heartbeats: keep a claim's lease alive while the owner still holds it.

use std::sync::Arc;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use crate::claim::{ClaimError, ClaimStore};

// Invariant: FENCE-005 A heartbeat renews only while its owner still holds the claim.
// Category: concurrency
// Why: a renewer that keeps going after its claim was taken over (or released) makes
//      the new holder's lease look contested, or revives a claim nobody should hold.
// Root cause: renewing by rewriting the timestamp without checking who holds the record.
// Correct pattern: renew is a compare-and-set on the owner token; the first NotOwner
//      answer stops the heartbeat and reports the loss.
// Forbidden: renewing by key alone; retrying NotOwner; a heartbeat that outlives its
//      owner's interest (it stops on request and on drop).
// Enforced by: ClaimStore::renew checks the token; Heartbeat stops on NotOwner.

/// How a heartbeat ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum HeartbeatEnd {
    /// Stopped on request; the claim was still held at the last renewal.
    Stopped {
        /// Successful renewals.
        renewals: u64,
    },
    /// The claim was no longer this owner's: the heartbeat stopped itself.
    Lost {
        /// Successful renewals before the loss.
        renewals: u64,
        /// What the store said.
        error: ClaimError,
    },
    /// Renewal failed `max_failures` times in a row for another reason.
    Failed {
        /// Successful renewals before the failures.
        renewals: u64,
        /// The last error.
        error: ClaimError,
    },
}

/// A background thread that renews one claim every `interval`.
///
/// Embedders that schedule their own work can call [`ClaimStore::renew`]
/// directly instead; this is the same loop, on a thread.
#[derive(Debug)]
pub struct Heartbeat {
    stop: Option<Sender<()>>,
    handle: Option<JoinHandle<HeartbeatEnd>>,
}

/// Consecutive non-ownership errors tolerated before a heartbeat gives up.
pub const MAX_CONSECUTIVE_FAILURES: u32 = 3;

impl Heartbeat {
    /// Starts renewing `key` with `owner_token` every `interval`.
    pub fn start<S>(store: Arc<S>, key: &str, owner_token: &str, interval: Duration) -> Self
    where
        S: ClaimStore + Send + Sync + ?Sized + 'static,
    {
        let (stop, stopped) = mpsc::channel::<()>();
        let key = key.to_owned();
        let token = owner_token.to_owned();
        let handle = thread::Builder::new()
            .name(format!("heartbeat-{key}"))
            .spawn(move || {
                let mut renewals = 0;
                let mut failures = 0;
                loop {
                    match stopped.recv_timeout(interval) {
                        Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                            return HeartbeatEnd::Stopped { renewals };
                        }
                        Err(RecvTimeoutError::Timeout) => {}
                    }
                    match store.renew(&key, &token) {
                        Ok(_) => {
                            renewals += 1;
                            failures = 0;
                        }
                        Err(error @ ClaimError::NotOwner { .. }) => {
                            return HeartbeatEnd::Lost { renewals, error };
                        }
                        Err(error) => {
                            failures += 1;
                            if failures >= MAX_CONSECUTIVE_FAILURES {
                                return HeartbeatEnd::Failed { renewals, error };
                            }
                        }
                    }
                }
            })
            .expect("spawning a thread succeeds unless the process is out of resources");
        Self {
            stop: Some(stop),
            handle: Some(handle),
        }
    }

    /// Whether the heartbeat still runs (it stops itself when ownership is lost).
    pub fn is_running(&self) -> bool {
        self.handle.as_ref().is_some_and(|h| !h.is_finished())
    }

    /// Stops the heartbeat and says how it ended.
    pub fn stop(mut self) -> HeartbeatEnd {
        self.finish()
    }

    fn finish(&mut self) -> HeartbeatEnd {
        drop(self.stop.take());
        match self.handle.take().map(JoinHandle::join) {
            Some(Ok(end)) => end,
            // The thread panicked or was already joined: nothing renewed since.
            _ => HeartbeatEnd::Stopped { renewals: 0 },
        }
    }
}

impl Drop for Heartbeat {
    fn drop(&mut self) {
        if self.handle.is_some() {
            let _ = self.finish();
        }
    }
}
