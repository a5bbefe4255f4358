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

/// A state machine whose transitions are recorded in a hash-chained
/// history. Implemented by the state enum; [`transition`] applies the rules
/// every machine shares.
pub(crate) trait Machine: Copy {
    /// The state's name as the history records it.
    fn name(self) -> &'static str;
    /// Whether no transition may leave this state.
    fn is_terminal(self) -> bool;
    /// Whether the machine has an edge `from -> to`.
    fn allowed(from: Self, to: Self) -> bool;
}

/// Why [`transition`] refused; the caller turns it into its own error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Refusal<S> {
    /// The current state is terminal.
    Terminal(S),
    /// There is no edge `from -> to`.
    NoEdge {
        /// Current state.
        from: S,
        /// Requested state.
        to: S,
    },
}

/// Refuses if `state` is terminal.
pub(crate) fn ensure_live<S: Machine>(state: S) -> Result<(), Refusal<S>> {
    if state.is_terminal() {
        Err(Refusal::Terminal(state))
    } else {
        Ok(())
    }
}

/// Moves `*state` to `to` and appends the transition to `history`.
///
/// Refuses, changing nothing, if `*state` is terminal or the machine has no
/// edge to `to`; `refused` turns the [`Refusal`] into the caller's error.
pub(crate) fn transition<S: Machine, E>(
    state: &mut S,
    to: S,
    history: &mut Vec<HistoryEntry>,
    at: Timestamp,
    actor: &str,
    note: Option<String>,
    refused: impl FnOnce(Refusal<S>) -> E,
) -> Result<(), E> {
    let from = *state;
    check(from, to).map_err(refused)?;
    append(history, Some(from.name()), to.name(), at, actor, note);
    *state = to;
    Ok(())
}

/// The checks every transition passes: the current state is not terminal,
/// then the edge exists.
fn check<S: Machine>(from: S, to: S) -> Result<(), Refusal<S>> {
    ensure_live(from)?;
    if S::allowed(from, to) {
        Ok(())
    } else {
        Err(Refusal::NoEdge { from, to })
    }
}

/// A new history whose first entry enters `initial`.
pub(crate) fn begin<S: Machine>(
    initial: S,
    at: Timestamp,
    actor: &str,
    note: Option<String>,
) -> Vec<HistoryEntry> {
    let mut history = Vec::new();
    append(&mut history, None, initial.name(), at, actor, note);
    history
}

/// Appends one entry to `history`, linked to the one before it. The
/// lower-level helper under [`transition`] and [`begin`]: it checks no
/// state machine, so use it directly only for entries outside one (a job's
/// step entries, `step-<index>:<state>`).
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A two-edge machine: `Open -> Shut`, `Open -> Gone`; `Gone` is terminal.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    enum Door {
        Open,
        Shut,
        Gone,
    }

    impl Machine for Door {
        fn name(self) -> &'static str {
            match self {
                Self::Open => "open",
                Self::Shut => "shut",
                Self::Gone => "gone",
            }
        }

        fn is_terminal(self) -> bool {
            self == Self::Gone
        }

        fn allowed(from: Self, to: Self) -> bool {
            matches!((from, to), (Self::Open, Self::Shut | Self::Gone))
        }
    }

    fn at() -> Timestamp {
        Timestamp::parse("2026-01-01T00:00:00Z").expect("a valid timestamp")
    }

    #[test]
    fn a_transition_moves_the_state_and_extends_the_chain() {
        let mut state = Door::Open;
        let mut history = begin(state, at(), "tester", None);
        transition(
            &mut state,
            Door::Shut,
            &mut history,
            at(),
            "tester",
            None,
            |r| r,
        )
        .expect("open -> shut is an edge");
        assert_eq!(state, Door::Shut);
        let moves: Vec<_> = history
            .iter()
            .map(|e| (e.from.as_deref(), e.to.as_str()))
            .collect();
        assert_eq!(moves, [(None, "open"), (Some("open"), "shut")]);
        verify_history(&history).expect("the chain verifies");
    }

    #[test]
    fn a_refused_transition_changes_nothing() {
        let mut state = Door::Shut;
        let mut history = begin(state, at(), "tester", None);
        let before = history.clone();
        let refusal = transition(&mut state, Door::Open, &mut history, at(), "t", None, |r| r);
        assert_eq!(
            refusal,
            Err(Refusal::NoEdge {
                from: Door::Shut,
                to: Door::Open
            })
        );
        assert_eq!((state, &history), (Door::Shut, &before));

        let mut state = Door::Gone;
        let refusal = transition(&mut state, Door::Shut, &mut history, at(), "t", None, |r| r);
        assert_eq!(refusal, Err(Refusal::Terminal(Door::Gone)));
        assert_eq!((state, &history), (Door::Gone, &before));
    }
}
