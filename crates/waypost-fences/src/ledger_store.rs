//! Where hash-chained ledger entries are kept: one boundary, so the
//! repository's files (one machine) and a shared database (several) hold
//! the same chain under the same rules.

use waypost_schemas::{GENESIS_HASH, LedgerEntryV1, LedgerName};

// Invariant: FENCE-010 A ledger append is all or nothing, and the chain is checked where it is stored.
// Category: concurrency
// Why: two appenders on different machines that both read head N and both write N+1
//      fork the chain; an append that stops half way leaves entries no verifier accepts.
// Root cause: reading the head and writing after it as two steps without one lock or
//      transaction around both.
// Correct pattern: read the entries, chain the new ones after the head and write them
//      under one exclusive hold of the ledger (a file lock, a database transaction); the
//      store checks every new entry continues the chain (sequence, prev_hash, its own
//      hash) before anything is kept.
// Forbidden: appending after a head read outside the lock; trusting the caller's chain
//      without checking it; rewriting or deleting entries to repair a fork.
// Enforced by: LedgerStore::append_chained implementations and check_chain.

/// Where the entries of the ledgers live. Implementations run
/// [`LedgerStore::append_chained`] under one exclusive hold of the ledger
/// (an OS file lock; a database transaction).
pub trait LedgerStore {
    /// Every entry of `ledger`, oldest first, verified.
    fn entries(&self, ledger: LedgerName) -> Result<Vec<LedgerEntryV1>, LedgerStoreError>;

    /// Under the ledger's exclusive hold: reads its entries, asks `chain`
    /// for the entries to add after them, checks they continue the chain
    /// ([`check_chain`]) and appends them all, or none. Returns what was
    /// appended.
    fn append_chained(
        &self,
        ledger: LedgerName,
        chain: &mut dyn FnMut(&[LedgerEntryV1]) -> Vec<LedgerEntryV1>,
    ) -> Result<Vec<LedgerEntryV1>, LedgerStoreError>;
}

/// A ledger store failed. Nothing was appended by the failed call.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LedgerStoreError {
    /// New entries do not continue the ledger's chain.
    #[error("{ledger} ledger: entry {sequence} does not continue the chain: {problem}")]
    Chain {
        /// The ledger.
        ledger: LedgerName,
        /// The offending entry's sequence.
        sequence: u64,
        /// What is wrong.
        problem: String,
    },
    /// The stored ledger does not verify; nothing is read from it or
    /// appended to it.
    #[error("{ledger} ledger does not verify: {problem}")]
    Invalid {
        /// The ledger.
        ledger: LedgerName,
        /// What is wrong.
        problem: String,
    },
    /// The store failed (a file, a database).
    #[error("{ledger} ledger: {source}")]
    Store {
        /// The ledger.
        ledger: LedgerName,
        /// What the store said.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

/// Checks that `new` continues `ledger`'s chain after `head` (the last
/// stored entry, or none): each entry belongs to the ledger, has the next
/// sequence, names the previous entry's hash (the genesis hash first), and
/// carries the hash and id its content gives.
pub fn check_chain(
    ledger: LedgerName,
    head: Option<&LedgerEntryV1>,
    new: &[LedgerEntryV1],
) -> Result<(), LedgerStoreError> {
    let mut sequence = head.map_or(0, |e| e.sequence);
    let mut prev = head.map_or(GENESIS_HASH, |e| e.hash.as_str()).to_owned();
    for entry in new {
        let broken = |problem: String| LedgerStoreError::Chain {
            ledger,
            sequence: entry.sequence,
            problem,
        };
        if entry.ledger != ledger {
            return Err(broken(format!("it belongs to the {} ledger", entry.ledger)));
        }
        if entry.sequence != sequence + 1 {
            return Err(broken(format!("the next sequence is {}", sequence + 1)));
        }
        if entry.prev_hash != prev {
            return Err(broken(format!(
                "prev_hash is {} but the head's hash is {prev}",
                entry.prev_hash
            )));
        }
        let computed = entry.compute_hash();
        if entry.hash != computed {
            return Err(broken(format!(
                "its hash is {} but its content hashes to {computed}",
                entry.hash
            )));
        }
        let derived = entry.derive_entry_id();
        if entry.entry_id != derived {
            return Err(broken(format!(
                "entry_id is {} but its content gives {derived}",
                entry.entry_id
            )));
        }
        sequence = entry.sequence;
        prev.clone_from(&entry.hash);
    }
    Ok(())
}
