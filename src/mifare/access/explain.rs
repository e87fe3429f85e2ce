//! What access conditions allow: the tables of protocols.md §4.2 (data blocks) and §4.3
//! (sector trailer) as data, and the rule that a readable key B cannot authenticate.
//!
//! [`data_permissions`] and [`trailer_permissions`] are the tables as printed. [`explain`]
//! applies them to a whole sector and then the key-B rule, giving what a reader can
//! actually do. Judging whether that is dangerous is `classify.rs`'s job.

use super::permission::{DataPermissions, Permission, TrailerPermissions};
use super::triple::{AccessBits, Triple};

// Short names keep the tables below as easy to compare with protocols.md as possible.
use Permission::{KeyA as A, KeyAOrB as AB, KeyB as B, Never as N};

/// The data-block table of protocols.md §4.2, rows in the document's order.
pub fn data_permissions(condition: Triple) -> DataPermissions {
    let (read, write, increment, decrement) = match condition.bits() {
        0b000 => (AB, AB, AB, AB),
        0b010 => (AB, N, N, N),
        0b100 => (AB, B, N, N),
        0b110 => (AB, B, B, AB),
        0b001 => (AB, N, N, AB),
        0b011 => (B, B, N, N),
        0b101 => (B, N, N, N),
        // 111: `bits()` is at most 7.
        _ => (N, N, N, N),
    };
    DataPermissions {
        read,
        write,
        increment,
        decrement,
    }
}

/// The "typical use" column of protocols.md §4.2.
pub fn data_use(condition: Triple) -> &'static str {
    match condition.bits() {
        0b000 => "transport",
        0b010 => "read-only",
        0b100 => "read / write with key B",
        0b110 => "value block (recharge with key B)",
        0b001 => "value block, decrement only",
        0b011 => "key B only data",
        0b101 => "read with key B",
        // 111: `bits()` is at most 7.
        _ => "dead",
    }
}

/// The sector-trailer table of protocols.md §4.3, rows in the document's order.
///
/// Where proxmark3's text for `000` disagrees (it calls key A readable), this follows the
/// NXP-derived tables, as §4.3 says to.
pub fn trailer_permissions(condition: Triple) -> TrailerPermissions {
    let (write_key_a, read_access_bits, write_access_bits, read_key_b, write_key_b) =
        match condition.bits() {
            0b000 => (A, A, N, A, A),
            0b010 => (N, A, N, A, N),
            0b100 => (B, AB, N, N, B),
            0b110 => (N, AB, N, N, N),
            0b001 => (A, A, A, A, A),
            0b011 => (B, AB, B, N, B),
            0b101 => (N, AB, B, N, N),
            // 111: `bits()` is at most 7.
            _ => (N, AB, N, N, N),
        };
    TrailerPermissions {
        read_key_a: N,
        write_key_a,
        read_access_bits,
        write_access_bits,
        read_key_b,
        write_key_b,
    }
}

/// Whether the trailer's condition lets key B be read (`000`, `010`, `001`), in which case
/// key B cannot be used to authenticate (protocols.md §4.3, MifareClassicTool `isKeyBReadable`).
pub fn key_b_readable(trailer: Triple) -> bool {
    !trailer_permissions(trailer).read_key_b.is_never()
}

/// What a reader can actually do in a sector with these conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Explanation {
    /// The conditions explained.
    pub access: AccessBits,
    /// Key B is readable, so it is not an authentication key and the permissions below have
    /// been narrowed accordingly.
    pub key_b_readable: bool,
    /// Effective permissions of data groups 0, 1 and 2.
    pub data: [DataPermissions; 3],
    /// Effective permissions on the trailer.
    pub trailer: TrailerPermissions,
}

impl Explanation {
    /// One line per group, for people: `data group 0 (110, value block (recharge with key B)):
    /// read key A or B, write key B, …`, then the trailer, then a note when key B is readable.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = (0..3)
            .map(|g| {
                let t = self.access.blocks[g];
                format!("data group {g} ({t}, {}): {}", data_use(t), self.data[g])
            })
            .collect();
        out.push(format!(
            "trailer ({}): {}",
            self.access.trailer(),
            self.trailer
        ));
        if self.key_b_readable {
            out.push(format!(
                "key B is readable (trailer {}), so it cannot authenticate: \
                 \"key A or B\" means key A, \"key B\" means never",
                self.access.trailer()
            ));
        }
        out
    }
}

/// Applies the tables to a sector, then the key-B rule: when the trailer makes key B readable,
/// every "key A or B" becomes "key A" and every "key B" becomes "never" (protocols.md §4.3).
///
/// The second half is an inference: §4.3 states only the first, and MifareClassicTool's
/// `getOperationRequirements` still answers "key B" for B-only data operations. A key that
/// cannot authenticate cannot grant anything, so those operations are never possible.
pub fn explain(access: &AccessBits) -> Explanation {
    let key_b_readable = key_b_readable(access.trailer());
    let narrow = |p: DataPermissions| if key_b_readable { p.without_key_b() } else { p };
    let trailer = trailer_permissions(access.trailer());
    Explanation {
        access: *access,
        key_b_readable,
        data: access.data().map(|t| narrow(data_permissions(t))),
        trailer: if key_b_readable {
            trailer.without_key_b()
        } else {
            trailer
        },
    }
}
