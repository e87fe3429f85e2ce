//! MIFARE Classic access conditions (protocols.md §4): the bits, their byte encoding, what
//! they allow, and which of them are dangerous.
//!
//! - `triple.rs`: [`Triple`] (C1 C2 C3 of one block group), [`AccessBits`] (a sector's four
//!   groups), text forms (`"110"`, `"000 000 000 001"`) and which group governs a block.
//! - `bits.rs`: bytes 6–8 of a sector trailer <-> [`AccessBits`], with the inverted-copy check.
//! - `permission.rs`: [`Permission`] and the operations of data blocks and trailers.
//! - `explain.rs`: the permission tables of §4.2 and §4.3 as data, with the key-B-readable rule.
//! - `classify.rs`: malformed / irreversible / well-known configurations, and warnings.
//!
//! This module does not build or split whole trailers (see [`crate::mifare::classic`]) and does
//! not enforce anything: the simulator and the irreversible-operation guard do, using it.

mod bits;
mod classify;
mod explain;
mod permission;
mod triple;

pub use bits::{DecodeError, Decoded, Malformed, decode, decode_slice, encode};
pub use classify::{Classification, Known, classify, frozen_groups, is_irreversible, warnings};
pub use explain::{
    Explanation, data_permissions, data_use, explain, key_b_readable, trailer_permissions,
};
pub use permission::{DataPermissions, Permission, TrailerPermissions};
pub use triple::{AccessBits, AccessTextError, Triple, TripleError, group_of};

#[cfg(test)]
mod tests;
