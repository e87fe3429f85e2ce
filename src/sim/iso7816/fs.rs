//! The file tree of the ISO 7816-4 card: MF, DFs and EFs (transparent or linear fixed).
//!
//! The tree is `crate::sim::tree` (a flat list, MF first, parents before children) over
//! this card's files; DELETE FILE removes a file with everything under it through
//! `Tree::remove`, which returns how the indices moved, so the session's "current file"
//! indices can follow. The image stores the same list (`check.rs` validates a loaded one).
//! This file knows nothing about commands, current files or status words.

use serde::{Deserialize, Serialize};

use crate::cos::WriteMode;
use crate::sim::serde_hex;
use crate::sim::tree;

/// Index of the MF: always the first file.
pub(super) const MF: usize = 0;
/// The MF's file identifier.
pub(super) const MF_FID: u16 = 0x3F00;
/// The largest transparent EF: offsets are 15 bits (protocols.md §8.3).
pub(super) const MAX_EF_SIZE: usize = 0x7FFF;
/// Bytes of file contents the card can hold in all.
pub(super) const CAPACITY: usize = 64 * 1024;
/// Files the card can hold in all, MF included.
pub(super) const MAX_FILES: usize = 256;
/// The longest DF name (AID) ISO/IEC 7816-4 allows.
pub(super) const MAX_NAME_LEN: usize = 16;
/// The largest number of records in a linear fixed EF (record numbers 01..FE).
pub(super) const MAX_RECORDS: u8 = 0xFE;

/// Who may perform an access: read (READ BINARY/RECORD) or update (UPDATE, APPEND, and for
/// a DF, CREATE FILE inside it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(super) enum Condition {
    /// No condition.
    Always,
    /// The PIN with this reference (01 PIN, 02 PUK) is verified in this session.
    Pin(u8),
    /// Nobody.
    Never,
}

impl Condition {
    /// The one-byte form used in FCP tag `86`: `00` always, `01`/`02` PIN reference, `FF` never.
    pub(super) fn to_byte(self) -> u8 {
        match self {
            Condition::Always => 0x00,
            Condition::Pin(reference) => reference,
            Condition::Never => 0xFF,
        }
    }

    /// Reads the one-byte form; `None` for a reference the card does not have.
    pub(super) fn from_byte(byte: u8) -> Option<Condition> {
        match byte {
            0x00 => Some(Condition::Always),
            0x01 | 0x02 => Some(Condition::Pin(byte)),
            0xFF => Some(Condition::Never),
            _ => None,
        }
    }
}

/// One file: identifier, place in the tree, access conditions and contents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct File {
    /// File identifier.
    #[serde(with = "serde_hex::fid")]
    pub fid: u16,
    /// Index of the parent DF; `None` only for the MF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<usize>,
    /// DF name (AID); DFs only.
    #[serde(
        default,
        with = "serde_hex::opt_bytes",
        skip_serializing_if = "Option::is_none"
    )]
    pub name: Option<Vec<u8>>,
    /// Short EF identifier, 1..=30; EFs only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sfi: Option<u8>,
    /// Condition for reading.
    pub read: Condition,
    /// Condition for updating (for a DF: creating files in it).
    pub update: Condition,
    /// Structure and contents.
    pub body: Body,
}

/// What a file is and holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    tag = "type",
    rename_all = "kebab-case",
    rename_all_fields = "kebab-case",
    deny_unknown_fields
)]
pub(super) enum Body {
    /// A dedicated file (directory).
    Df,
    /// A transparent EF of fixed size.
    Transparent {
        /// The contents; its length is the file size.
        #[serde(with = "serde_hex::bytes")]
        data: Vec<u8>,
        /// How WRITE BINARY combines data with the contents (its data coding byte).
        #[serde(default, skip_serializing_if = "WriteMode::is_replace")]
        mode: WriteMode,
    },
    /// A linear fixed EF: records of one length, appended up to a maximum.
    LinearFixed {
        /// Length of every record.
        record_len: u8,
        /// How many records fit.
        max_records: u8,
        /// The records present, record 1 first.
        #[serde(with = "serde_hex::byte_list")]
        records: Vec<Vec<u8>>,
    },
}

impl Body {
    /// Bytes of card memory the file takes.
    pub(super) fn allocated(&self) -> usize {
        match self {
            Body::Df => 0,
            Body::Transparent { data, .. } => data.len(),
            Body::LinearFixed {
                record_len,
                max_records,
                ..
            } => *record_len as usize * *max_records as usize,
        }
    }
}

tree::file_node!(File, Body::Df);

/// The whole file system, MF first (`crate::sim::tree`).
pub(super) type Tree = tree::Tree<File>;

/// What only this card's tree does.
impl Tree {
    /// The EF under `df` with short identifier `sfi`.
    pub(super) fn ef_by_sfi(&self, df: usize, sfi: u8) -> Option<usize> {
        self.children(df)
            .find(|&i| self.file(i).sfi == Some(sfi) && !self.is_df(i))
    }

    /// The DF whose name is `name`, or else the first whose name starts with it.
    pub(super) fn df_by_name(&self, name: &[u8]) -> Option<usize> {
        self.named(name).or_else(|| {
            self.files()
                .iter()
                .position(|f| f.name.as_deref().is_some_and(|n| n.starts_with(name)))
        })
    }

    /// Whether some DF already has exactly this name.
    pub(super) fn has_name(&self, name: &[u8]) -> bool {
        self.named(name).is_some()
    }
}
