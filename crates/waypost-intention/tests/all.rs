//! Integration tests of waypost-intention: one test binary.

mod authoring;
mod checks;
mod completeness;
mod merge;
mod paths;
mod revision;
mod support;
