//! Integration tests of waypost-gaps: one test binary.

mod detectors;
mod engine;
mod git_status;
mod output;
mod paths;
mod support;
