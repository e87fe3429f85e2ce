//! The `apdu-run` binary: see the library crate.

fn main() {}
