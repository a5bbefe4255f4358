//! Integration tests of waypost-schemas: one test binary, one module per area.

mod canonical;
mod command;
mod compat;
mod fixtures;
mod hostile;
mod io;
mod layout;
mod paths;
mod redaction;
mod roundtrip;
mod support;
