//! # waypost-planning
//!
//! What to do about the gaps, and what to do when agent work fails: the
//! plan proposer (gaps to bounded actions, each classified by
//! waypost-governance, ordered by their dependencies), task DAG batching and
//! the gate pilot.
//!
//! - [`pilot`]: the gate pilot. The task graph and its batching under a
//!   concurrency limit and file conflicts, context rebuilt from the run
//!   directory, the [`pilot::Advisor`] seam with a deterministic
//!   [`pilot::HeuristicAdvisor`], validation of every decision before it is
//!   applied, and `pilot_decision_v1` files written run-local.

pub mod pilot;
