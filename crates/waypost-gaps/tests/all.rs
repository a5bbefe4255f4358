//! Integration tests of waypost-gaps: one test binary.

mod consumers;
mod detectors;
mod engine;
mod git_status;
mod markdown_links;
mod output;
mod paths;
mod precision_fixtures;
mod support;
