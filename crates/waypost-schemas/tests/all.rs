//! Integration tests of waypost-schemas: one test binary, one module per area.

mod canonical;
mod fixtures;
mod io;
mod layout;
mod redaction;
mod roundtrip;
mod support;
