//! Integration tests of waypost-gaps: one test binary.

mod detectors;
mod engine;
mod output;
mod paths;
mod support;
