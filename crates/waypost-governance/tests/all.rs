//! Integration tests of waypost-governance: one test binary.

mod approvals;
mod budget;
mod commands;
mod lifecycle;
mod policy;
mod reach;
mod support;
