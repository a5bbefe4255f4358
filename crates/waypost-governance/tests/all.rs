//! Integration tests of waypost-governance: one test binary.

mod approvals;
mod budget;
mod lifecycle;
mod policy;
mod support;
