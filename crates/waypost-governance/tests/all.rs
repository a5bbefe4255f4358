//! Integration tests of waypost-governance: one test binary.

mod approvals;
mod policy;
mod support;
