//! Integration tests of waypost-planning: one test binary, one module per
//! part.

mod pilot;
mod propose;
