//! # waypost-planning
//!
//! What to do about the gaps, and what to do when agent work fails.
//!
//! - [`propose()`]: the plan proposer. It maps each gap of a
//!   [`GapReportV1`](waypost_schemas::GapReportV1) to bounded candidate
//!   actions, scores their risk from explicit factors, has
//!   waypost-governance classify every action (never a rule of its own),
//!   orders them by their dependencies and returns a
//!   [`PlanProposalV1`](waypost_schemas::PlanProposalV1).
//! - [`pilot`]: the gate pilot. The task graph and its batching under a
//!   concurrency limit and file conflicts, context rebuilt from the run
//!   directory, the [`pilot::Advisor`] seam with a deterministic
//!   [`pilot::HeuristicAdvisor`], validation of every decision before it is
//!   applied, and `pilot_decision_v1` files written run-local.

pub mod pilot;
pub mod propose;

pub use propose::{ProposeError, ProposeOptions, propose};
