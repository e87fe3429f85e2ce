//! Judging access conditions: malformed, irreversible, well-known by name, and warnings in
//! words (protocols.md §4.5).
//!
//! This is the knowledge the irreversible-operation guard and the script API need. It refuses
//! nothing itself: deciding what to do about a dangerous trailer is the caller's job.

use crate::mifare::join_words;

use super::bits::{Malformed, decode, encode};
use super::explain::{data_permissions, explain};
use super::permission::Permission;
use super::triple::{AccessBits, Triple};

/// Whether these conditions can never be changed again: the trailer never allows writing the
/// access bits. That is trailer conditions `000`, `010`, `100`, `110` and `111`, the rows of
/// protocols.md §4.3 whose "access bits write" is never (§4.5 lists the same set).
pub fn is_irreversible(access: &AccessBits) -> bool {
    explain(access).trailer.write_access_bits.is_never()
}

/// A well-known configuration, recognised by its exact conditions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Known {
    /// `FF 07 80`: data `000`, trailer `001`. The factory setting.
    Transport,
    /// `08 77 8F`: data `110`, trailer `011`. Value blocks topped up with key B.
    Wallet,
    /// `07 8F 0F`: data `010`, trailer `110`. Read-only for ever.
    ReadOnly,
    /// `00 F0 FF`: every group `111`. Nothing can be read or written, for ever.
    Dead,
}

impl Known {
    /// Every named configuration.
    pub const ALL: [Known; 4] = [
        Known::Transport,
        Known::Wallet,
        Known::ReadOnly,
        Known::Dead,
    ];

    /// The configuration's name: `transport`, `wallet`, `read-only` or `dead`.
    pub fn name(self) -> &'static str {
        match self {
            Known::Transport => "transport",
            Known::Wallet => "wallet",
            Known::ReadOnly => "read-only",
            Known::Dead => "dead",
        }
    }

    /// The configuration with the given name (as returned by [`Known::name`]).
    pub fn from_name(name: &str) -> Option<Known> {
        Known::ALL.into_iter().find(|k| k.name() == name)
    }

    /// What the configuration means, in one sentence derived from protocols.md §4.2–§4.3.
    pub fn description(self) -> &'static str {
        match self {
            Known::Transport => {
                "factory setting: key A reads, writes and changes keys and access bits; \
                 key B is readable, so it cannot authenticate"
            }
            Known::Wallet => {
                "value blocks: key A or B reads and decrements, key B writes and increments; \
                 key B changes keys and access bits"
            }
            Known::ReadOnly => {
                "data readable with key A or B and never writable; keys and access bits \
                 can never change again"
            }
            Known::Dead => {
                "no key can read or write the data blocks; keys and access bits can never \
                 change again"
            }
        }
    }

    /// The configuration's conditions.
    pub fn access(self) -> AccessBits {
        let t = |bits: usize| Triple::ALL[bits];
        match self {
            Known::Transport => AccessBits::uniform(t(0b000), t(0b001)),
            Known::Wallet => AccessBits::uniform(t(0b110), t(0b011)),
            Known::ReadOnly => AccessBits::uniform(t(0b010), t(0b110)),
            Known::Dead => AccessBits::uniform(t(0b111), t(0b111)),
        }
    }

    /// The configuration's trailer bytes 6–8.
    pub fn bytes(self) -> [u8; 3] {
        encode(&self.access())
    }

    /// The named configuration these conditions are, if any.
    pub fn identify(access: &AccessBits) -> Option<Known> {
        Known::ALL.into_iter().find(|k| k.access() == *access)
    }
}

/// What trailer bytes 6–8 amount to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Classification {
    /// The inverted copies disagree: writing these bytes makes the sector unusable (§4.5).
    Malformed(Malformed),
    /// Valid conditions.
    WellFormed {
        /// The decoded conditions.
        access: AccessBits,
        /// Whether the access bits can never be changed again (see [`is_irreversible`]).
        irreversible: bool,
        /// The well-known configuration they are, if any.
        known: Option<Known>,
    },
}

impl Classification {
    /// Whether the bytes are malformed.
    pub fn is_malformed(&self) -> bool {
        matches!(self, Classification::Malformed(_))
    }

    /// Whether the bytes are valid but can never be changed once written.
    pub fn is_irreversible(&self) -> bool {
        matches!(
            self,
            Classification::WellFormed {
                irreversible: true,
                ..
            }
        )
    }
}

/// The data groups nothing can ever change again: the access bits are locked
/// ([`is_irreversible`]) and the group's effective permissions (key-B rule applied) leave it
/// read-only or dead (protocols.md §4.5: data `010`, `101` read-only, `111` dead; a group
/// that only key B could write, under a trailer that makes key B readable, too). With
/// writable access bits nothing is frozen: rewriting the trailer undoes it.
pub fn frozen_groups(access: &AccessBits) -> Vec<usize> {
    if !is_irreversible(access) {
        return Vec::new();
    }
    let effective = explain(access);
    (0..3)
        .filter(|&g| effective.data[g].is_dead() || effective.data[g].is_read_only())
        .collect()
}

/// Classifies trailer bytes 6–8: malformed, or valid with irreversibility and a name.
pub fn classify(bytes: [u8; 3]) -> Classification {
    match decode(bytes) {
        Err(malformed) => Classification::Malformed(malformed),
        Ok(access) => Classification::WellFormed {
            access,
            irreversible: is_irreversible(&access),
            known: Known::identify(&access),
        },
    }
}

/// Everything worth a warning about these conditions, one sentence each, most severe first:
/// irreversibility, keys frozen for ever, operations lost because key B is readable, and data
/// groups that are read-only or dead. Empty for the transport and wallet configurations.
pub fn warnings(access: &AccessBits) -> Vec<String> {
    let effective = explain(access);
    let trailer = access.trailer();
    let irreversible = effective.trailer.write_access_bits.is_never();
    let mut out = Vec::new();

    if irreversible {
        out.push(format!(
            "irreversible: trailer condition {trailer} never allows writing the access bits again"
        ));
        let frozen: Vec<String> = [
            ("key A", effective.trailer.write_key_a),
            ("key B", effective.trailer.write_key_b),
        ]
        .iter()
        .filter(|(_, p)| p.is_never())
        .map(|(name, _)| (*name).to_owned())
        .collect();
        if !frozen.is_empty() {
            out.push(format!(
                "{} can never be changed again",
                join_words(&frozen)
            ));
        }
    }

    if effective.key_b_readable {
        for (group, condition) in access.data().into_iter().enumerate() {
            let lost: Vec<String> = data_permissions(condition)
                .operations()
                .iter()
                .filter(|(_, p)| *p == Permission::KeyB)
                .map(|(name, _)| (*name).to_owned())
                .collect();
            if !lost.is_empty() {
                out.push(format!(
                    "key B is readable (trailer {trailer}), so it cannot authenticate and \
                     data group {group} ({condition}) loses its key-B-only {}",
                    join_words(&lost)
                ));
            }
        }
    }

    let lasting = if irreversible {
        "for ever"
    } else {
        "until the access bits are rewritten"
    };
    let data = access.data();
    for (first, condition) in data.iter().enumerate() {
        if data[..first].contains(condition) {
            continue;
        }
        let groups: Vec<String> = (first..3)
            .filter(|&g| data[g] == *condition)
            .map(|g| g.to_string())
            .collect();
        let (subject, is) = if groups.len() == 1 {
            ("data group", "is")
        } else {
            ("data groups", "are")
        };
        let who = format!("{subject} {} ({condition})", join_words(&groups));
        let permissions = effective.data[first];
        if permissions.is_dead() {
            out.push(format!(
                "{who} {is} dead {lasting}: no key can read or write"
            ));
        } else if permissions.is_read_only() {
            out.push(format!("{who} {is} read-only {lasting}"));
        }
    }
    out
}
