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

pub mod propose;

pub use propose::{ProposeError, ProposeOptions, propose};
