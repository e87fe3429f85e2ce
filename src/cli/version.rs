//! What `apdu-run --version` prints: the crate version and the commit it was built from.
//!
//! The commit comes from `build.rs` (`abc1234`, `abc1234-dirty`, or `unknown` outside git).

/// `0.1.0 (abc1234)`: the version clap prints after the program name.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (",
    env!("APDU_RUN_COMMIT"),
    ")"
);
