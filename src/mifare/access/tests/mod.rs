//! Tests of the access module: `encoding.rs` checks bytes <-> conditions against the seed table
//! of protocols.md §4 and exhaustively; `meaning.rs` checks the permission tables against the
//! libfreefare bitmaps quoted in §4.3, the key-B rule, classification and warnings.

mod encoding;
mod meaning;

use super::{AccessBits, Triple};

fn bits(text: &str) -> AccessBits {
    text.parse().unwrap()
}

fn t(text: &str) -> Triple {
    text.parse().unwrap()
}
