//! The file tree of the ISO 7816-4 card: MF, DFs and EFs (transparent or linear fixed).
//!
//! The tree is a flat list in which every file names its parent by index, the MF first, and
//! every parent comes before its children. DELETE FILE removes a file with everything under
//! it through [`Tree::remove`], which returns how the indices moved, so the session's
//! "current file" indices can follow. The image stores the same list (`check.rs` validates a loaded
//! one). This file knows nothing about commands,
//! current files or status words.

use serde::{Deserialize, Serialize};

use crate::cos::WriteMode;
use crate::sim::serde_hex;

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

/// The whole file system, MF first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub(super) struct Tree {
    files: Vec<File>,
}

impl Tree {
    /// A tree from a list already known to be valid (the built-in card).
    pub(super) fn new(files: Vec<File>) -> Tree {
        Tree { files }
    }

    /// The file at `index` (an index handed out by this tree).
    pub(super) fn file(&self, index: usize) -> &File {
        &self.files[index]
    }

    /// The file at `index`, for writing.
    pub(super) fn file_mut(&mut self, index: usize) -> &mut File {
        &mut self.files[index]
    }

    /// Whether the file at `index` is a DF.
    pub(super) fn is_df(&self, index: usize) -> bool {
        matches!(self.files[index].body, Body::Df)
    }

    /// The parent DF of `index`; `None` for the MF.
    pub(super) fn parent(&self, index: usize) -> Option<usize> {
        self.files[index].parent
    }

    /// The files directly under `df`, in creation order.
    pub(super) fn children(&self, df: usize) -> impl Iterator<Item = usize> + '_ {
        (0..self.files.len()).filter(move |&i| self.files[i].parent == Some(df))
    }

    /// The child of `df` with identifier `fid`.
    pub(super) fn child(&self, df: usize, fid: u16) -> Option<usize> {
        self.children(df).find(|&i| self.files[i].fid == fid)
    }

    /// The EF under `df` with short identifier `sfi`.
    pub(super) fn ef_by_sfi(&self, df: usize, sfi: u8) -> Option<usize> {
        self.children(df)
            .find(|&i| self.files[i].sfi == Some(sfi) && !self.is_df(i))
    }

    /// The DF whose name is `name`, or else the first whose name starts with it.
    pub(super) fn df_by_name(&self, name: &[u8]) -> Option<usize> {
        let named = || {
            self.files
                .iter()
                .enumerate()
                .filter_map(|(i, f)| f.name.as_deref().map(|n| (i, n)))
        };
        named()
            .find(|&(_, n)| n == name)
            .or_else(|| named().find(|&(_, n)| n.starts_with(name)))
            .map(|(i, _)| i)
    }

    /// Whether some DF already has exactly this name.
    pub(super) fn has_name(&self, name: &[u8]) -> bool {
        self.files.iter().any(|f| f.name.as_deref() == Some(name))
    }

    /// Every file, MF first.
    pub(super) fn files(&self) -> &[File] {
        &self.files
    }

    /// Number of files, MF included.
    pub(super) fn len(&self) -> usize {
        self.files.len()
    }

    /// Bytes of card memory all files take.
    pub(super) fn allocated(&self) -> usize {
        self.files.iter().map(|f| f.body.allocated()).sum()
    }

    /// Removes the file at `index` (never the MF) and every file under it. Returns, for each
    /// old index, its new index, or `None` for a removed file.
    pub(super) fn remove(&mut self, index: usize) -> Vec<Option<usize>> {
        remove_subtree(&mut self.files, index, |f| &mut f.parent)
    }

    /// Adds a file (the caller has checked it fits) and returns its index.
    pub(super) fn push(&mut self, file: File) -> usize {
        self.files.push(file);
        self.files.len() - 1
    }
}

/// Removes the file at `index` (never the root, index 0) and everything under it from a
/// flat tree whose files name their parents (`parent_of`, parents listed first), renumbering
/// the parents that remain. Returns, for each old index, its new one (`None`: removed).
/// Shared by the simulated file cards.
pub(in crate::sim) fn remove_subtree<F>(
    files: &mut Vec<F>,
    index: usize,
    parent_of: impl Fn(&mut F) -> &mut Option<usize>,
) -> Vec<Option<usize>> {
    if index == 0 || index >= files.len() {
        return (0..files.len()).map(Some).collect();
    }
    let mut gone = vec![false; files.len()];
    gone[index] = true;
    // Parents come before their children, so one pass finds every descendant.
    for i in index + 1..files.len() {
        if parent_of(&mut files[i]).is_some_and(|p| gone[p]) {
            gone[i] = true;
        }
    }
    let mut next = 0;
    let map: Vec<Option<usize>> = gone
        .iter()
        .map(|&g| {
            (!g).then(|| {
                next += 1;
                next - 1
            })
        })
        .collect();
    let old = std::mem::take(files);
    *files = old
        .into_iter()
        .zip(&map)
        .filter(|(_, new)| new.is_some())
        .map(|(mut file, _)| {
            let parent = parent_of(&mut file);
            *parent = parent.and_then(|p| map[p]);
            file
        })
        .collect();
    map
}
