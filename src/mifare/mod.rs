//! MIFARE rules as data: Classic access bits, Classic memory layout and special blocks,
//! Ultralight (MF0ICU1) UID check bytes and lock bits, and the MIFARE Plus SL0 address map.
//!
//! Pure: no I/O, no printing, nothing else from this crate. The byte-level facts come from
//! `docs/protocols.md` (§3.2–§3.4 MIFARE Plus, §4 access conditions, §5 Classic value blocks,
//! §6 Ultralight); each file cites the section it implements. Nothing here talks to a card:
//! the simulator enforces these rules, the script API exposes them, and `reader/guard.rs` uses
//! them to classify irreversible writes.

pub mod access;
pub mod classic;
pub mod plus;
pub mod ultralight;

use std::fmt;
use std::fmt::Write as _;

/// Which of the two keys of a sector: key A or key B.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// Key A (authentication command `60`).
    A,
    /// Key B (authentication command `61`).
    B,
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KeyType::A => "key A",
            KeyType::B => "key B",
        })
    }
}

/// Uppercase, space-separated hex for messages (`FF 07 80`).
///
/// Kept local so that `mifare` depends on nothing else in the crate (design.md, layout).
fn hex(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let _ = write!(out, "{b:02X}");
    }
    out
}

/// Joins words as English does: `a`, `a and b`, `a, b and c`.
fn join_words(words: &[String]) -> String {
    match words {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}
