//! Hash-chained, append-only transition history.

use waypost_schemas::{GENESIS_HASH, HistoryEntry, Timestamp};

// Invariant: CONTRACT-006 A transition history cannot be edited, shortened or reordered unnoticed.
// Category: audit
// Why: audit evidence must describe what happened; a history someone can rewrite proves nothing.
// Enforced by: every entry carries the hash of the previous one and its own hash over its
//      content; verify_history recomputes both and checks the sequence numbers.

/// Where a history stops being trustworthy.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum HistoryError {
    /// An entry's sequence number is not its position (an entry was
    /// removed, inserted or moved).
    #[error(
        "history entry {index} has sequence {found}; entries were removed, inserted or reordered"
    )]
    Sequence {
        /// Position in the history.
        index: usize,
        /// The sequence number found there.
        found: u64,
    },
    /// An entry does not point at the hash of the one before it.
    #[error("history entry {index} does not link to the entry before it")]
    Link {
        /// Position in the history.
        index: usize,
    },
    /// An entry's content does not match its hash (it was edited).
    #[error("history entry {index} was changed after it was written (its hash no longer matches)")]
    Hash {
        /// Position in the history.
        index: usize,
    },
}

/// Checks the whole chain: sequence numbers, links and hashes.
pub fn verify_history(entries: &[HistoryEntry]) -> Result<(), HistoryError> {
    let mut previous = GENESIS_HASH;
    for (index, entry) in entries.iter().enumerate() {
        if entry.sequence != index as u64 {
            return Err(HistoryError::Sequence {
                index,
                found: entry.sequence,
            });
        }
        if entry.prev_hash != previous {
            return Err(HistoryError::Link { index });
        }
        if entry.compute_hash() != entry.hash {
            return Err(HistoryError::Hash { index });
        }
        previous = &entry.hash;
    }
    Ok(())
}

/// Appends one transition to `history`.
pub(crate) fn append(
    history: &mut Vec<HistoryEntry>,
    from: Option<&str>,
    to: &str,
    at: Timestamp,
    actor: &str,
    note: Option<String>,
) {
    let prev = history
        .last()
        .map_or(GENESIS_HASH, |e| e.hash.as_str())
        .to_owned();
    let entry = HistoryEntry::chained(history.len() as u64, from, to, at, actor, note, &prev);
    history.push(entry);
}
