//! # waypost-planning
//!
//! What to do about the gaps, and what to do when agent work fails: the
//! plan proposer (gaps to bounded actions, each classified by
//! waypost-governance, ordered by their dependencies), task DAG batching and
//! the gate pilot.
