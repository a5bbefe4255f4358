//! Integration tests of the `waypost` binary: one test binary, one module
//! per command. Each test runs the real executable.

mod anchor;
mod compat;
mod fences;
mod first_run;
mod hostile;
mod policy;
mod propose;
mod run;
mod runs;
mod scan;
mod schema;
mod secrets;
mod store;
mod support;
mod tidy;
mod validate;
mod verbose;
