//! Integration tests of waypost-governance: one test binary.

mod approvals;
mod budget;
mod policy;
mod support;
