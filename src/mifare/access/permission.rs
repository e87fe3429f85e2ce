//! The vocabulary of access permissions: which key an operation needs ([`Permission`]) and the
//! operations of a data block and of a sector trailer (protocols.md §4.2, §4.3).
//!
//! Types and words only; which condition grants what is in `explain.rs`.

use std::fmt;

use crate::mifare::KeyType;

/// Which key an operation needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// No key allows it.
    Never,
    /// Only after authenticating with key A.
    KeyA,
    /// Only after authenticating with key B.
    KeyB,
    /// After authenticating with either key.
    KeyAOrB,
}

impl Permission {
    /// Words for the permission: `never`, `key A`, `key B`, `key A or B`.
    pub fn words(self) -> &'static str {
        match self {
            Permission::Never => "never",
            Permission::KeyA => "key A",
            Permission::KeyB => "key B",
            Permission::KeyAOrB => "key A or B",
        }
    }

    /// Whether a reader authenticated with `key` may do the operation.
    pub fn allows(self, key: KeyType) -> bool {
        matches!(
            (self, key),
            (Permission::KeyA | Permission::KeyAOrB, KeyType::A)
                | (Permission::KeyB | Permission::KeyAOrB, KeyType::B)
        )
    }

    /// Whether no key allows the operation.
    pub fn is_never(self) -> bool {
        self == Permission::Never
    }

    /// The permission once key B cannot authenticate: "key A or B" becomes "key A" and
    /// "key B" becomes "never" (protocols.md §4.3, key-B-readable rule).
    pub fn without_key_b(self) -> Permission {
        match self {
            Permission::KeyAOrB | Permission::KeyA => Permission::KeyA,
            Permission::KeyB | Permission::Never => Permission::Never,
        }
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.words())
    }
}

/// What a data block's condition allows (protocols.md §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DataPermissions {
    /// READ.
    pub read: Permission,
    /// WRITE.
    pub write: Permission,
    /// INCREMENT (value blocks).
    pub increment: Permission,
    /// DECREMENT, TRANSFER and RESTORE (value blocks), which the table grants together.
    pub decrement: Permission,
}

impl DataPermissions {
    /// The operations with their names, in table order.
    pub fn operations(&self) -> [(&'static str, Permission); 4] {
        [
            ("read", self.read),
            ("write", self.write),
            ("increment", self.increment),
            ("decrement/transfer/restore", self.decrement),
        ]
    }

    /// The permissions once key B cannot authenticate (see [`Permission::without_key_b`]).
    pub fn without_key_b(self) -> DataPermissions {
        DataPermissions {
            read: self.read.without_key_b(),
            write: self.write.without_key_b(),
            increment: self.increment.without_key_b(),
            decrement: self.decrement.without_key_b(),
        }
    }

    /// Whether nothing at all is allowed.
    pub fn is_dead(&self) -> bool {
        self.operations().iter().all(|(_, p)| p.is_never())
    }

    /// Whether the block can be read but nothing can change it.
    pub fn is_read_only(&self) -> bool {
        !self.read.is_never()
            && self.write.is_never()
            && self.increment.is_never()
            && self.decrement.is_never()
    }
}

impl fmt::Display for DataPermissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&list(&self.operations()))
    }
}

/// What the trailer's condition allows (protocols.md §4.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct TrailerPermissions {
    /// Reading key A (never, for every condition: key A reads back as zeros).
    pub read_key_a: Permission,
    /// Writing key A.
    pub write_key_a: Permission,
    /// Reading the access bits (and the general purpose byte).
    pub read_access_bits: Permission,
    /// Writing the access bits; never means the conditions are final.
    pub write_access_bits: Permission,
    /// Reading key B; if any key may, key B cannot authenticate.
    pub read_key_b: Permission,
    /// Writing key B.
    pub write_key_b: Permission,
}

impl TrailerPermissions {
    /// The operations with their names, in table order.
    pub fn operations(&self) -> [(&'static str, Permission); 6] {
        [
            ("read key A", self.read_key_a),
            ("write key A", self.write_key_a),
            ("read access bits", self.read_access_bits),
            ("write access bits", self.write_access_bits),
            ("read key B", self.read_key_b),
            ("write key B", self.write_key_b),
        ]
    }

    /// The permissions once key B cannot authenticate (see [`Permission::without_key_b`]).
    pub fn without_key_b(self) -> TrailerPermissions {
        TrailerPermissions {
            read_key_a: self.read_key_a.without_key_b(),
            write_key_a: self.write_key_a.without_key_b(),
            read_access_bits: self.read_access_bits.without_key_b(),
            write_access_bits: self.write_access_bits.without_key_b(),
            read_key_b: self.read_key_b.without_key_b(),
            write_key_b: self.write_key_b.without_key_b(),
        }
    }
}

impl fmt::Display for TrailerPermissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&list(&self.operations()))
    }
}

/// `read key A or B, write key B, …`
fn list(operations: &[(&str, Permission)]) -> String {
    let words: Vec<String> = operations
        .iter()
        .map(|(name, p)| format!("{name} {p}"))
        .collect();
    words.join(", ")
}
