//! The file tree of the COS card: DFs, transparent EFs (with their write mode), record EFs
//! and key files, each with four access conditions.
//!
//! A flat list, MF first, every file naming its parent by index and every parent listed
//! before its children (the layout of the ISO card's tree; the files differ: four
//! conditions that may name keys, a write mode, key files). This file knows nothing about
//! commands, sessions or status words.

use serde::{Deserialize, Serialize};

use super::keys::KeyFile;
use crate::cos::{Access, Condition, WriteMode};
use crate::sim::iso7816::fs::remove_subtree;
use crate::sim::serde_hex;

/// Index of the MF.
pub(super) const MF: usize = 0;
/// The MF's identifier.
pub(super) const MF_FID: u16 = 0x3F00;
/// The largest transparent EF.
pub(super) const MAX_EF_SIZE: usize = 0x7FFF;
/// Bytes of file contents the card holds in all.
pub(super) const CAPACITY: usize = 32 * 1024;
/// Files the card holds in all.
pub(super) const MAX_FILES: usize = 128;

/// One file.
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
    /// The access conditions.
    #[serde(with = "access_serde")]
    pub access: Access,
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
    /// A DF.
    Df,
    /// A transparent EF.
    Transparent {
        /// How WRITE BINARY combines data with the contents.
        mode: WriteMode,
        /// The contents; its length is the file size.
        #[serde(with = "serde_hex::bytes")]
        data: Vec<u8>,
    },
    /// A linear fixed record EF, every record allocated at creation (filled with `00`).
    Records {
        /// The records, record 1 first; all of one length.
        #[serde(with = "serde_hex::byte_list")]
        records: Vec<Vec<u8>>,
    },
    /// The DF's key file.
    Keys(KeyFile),
}

impl Body {
    /// Bytes of card memory the file takes (a key file: its slots, 24 bytes each).
    pub(super) fn allocated(&self) -> usize {
        match self {
            Body::Df => 0,
            Body::Transparent { data, .. } => data.len(),
            Body::Records { records } => records.iter().map(Vec::len).sum(),
            Body::Keys(keys) => keys.allocated(),
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
    /// A tree from a list known to be valid.
    pub(super) fn new(files: Vec<File>) -> Tree {
        Tree { files }
    }

    /// The file at `index`.
    pub(super) fn file(&self, index: usize) -> &File {
        &self.files[index]
    }

    /// The file at `index`, for writing.
    pub(super) fn file_mut(&mut self, index: usize) -> &mut File {
        &mut self.files[index]
    }

    /// Whether `index` is a DF.
    pub(super) fn is_df(&self, index: usize) -> bool {
        matches!(self.files[index].body, Body::Df)
    }

    /// The parent of `index`; `None` for the MF.
    pub(super) fn parent(&self, index: usize) -> Option<usize> {
        self.files[index].parent
    }

    /// The child of `df` with identifier `fid`.
    pub(super) fn child(&self, df: usize, fid: u16) -> Option<usize> {
        (0..self.files.len())
            .find(|&i| self.files[i].parent == Some(df) && self.files[i].fid == fid)
    }

    /// The EF of `df` whose identifier's low 5 bits are `sfi` (this COS's short identifiers).
    pub(super) fn ef_by_sfi(&self, df: usize, sfi: u8) -> Option<usize> {
        (0..self.files.len()).find(|&i| {
            self.files[i].parent == Some(df)
                && !self.is_df(i)
                && (self.files[i].fid & 0x1F) as u8 == sfi
        })
    }

    /// The DF named `name`.
    pub(super) fn df_by_name(&self, name: &[u8]) -> Option<usize> {
        self.files
            .iter()
            .position(|f| f.name.as_deref() == Some(name))
    }

    /// The key file of `df`, if it has one.
    pub(super) fn key_file(&self, df: usize) -> Option<usize> {
        (0..self.files.len()).find(|&i| {
            self.files[i].parent == Some(df) && matches!(self.files[i].body, Body::Keys(_))
        })
    }

    /// The keys and PINs of `df`, if it has a key file.
    pub(super) fn keys(&self, df: usize) -> Option<&KeyFile> {
        match &self.files[self.key_file(df)?].body {
            Body::Keys(keys) => Some(keys),
            _ => None,
        }
    }

    /// The keys and PINs of `df`, for writing.
    pub(super) fn keys_mut(&mut self, df: usize) -> Option<&mut KeyFile> {
        let index = self.key_file(df)?;
        match &mut self.files[index].body {
            Body::Keys(keys) => Some(keys),
            _ => None,
        }
    }

    /// Number of files.
    pub(super) fn len(&self) -> usize {
        self.files.len()
    }

    /// Bytes of card memory all files take.
    pub(super) fn allocated(&self) -> usize {
        self.files.iter().map(|f| f.body.allocated()).sum()
    }

    /// Adds a file (the caller checked it fits) and returns its index.
    pub(super) fn push(&mut self, file: File) -> usize {
        self.files.push(file);
        self.files.len() - 1
    }

    /// Removes `index` (never the MF) and everything under it (the ISO card's removal rule).
    pub(super) fn remove(&mut self, index: usize) {
        remove_subtree(&mut self.files, index, |f| &mut f.parent);
    }

    /// Checks a tree read from an image: the MF first, parents before children and DFs,
    /// identifiers unique per DF, names unique, one key file per DF, sizes in range.
    pub(super) fn validate(&self) -> Result<(), String> {
        let Some(mf) = self.files.first() else {
            return Err("the file list is empty (it must start with the MF)".into());
        };
        if mf.fid != MF_FID || mf.parent.is_some() || mf.body != Body::Df {
            return Err("the first file must be the MF: a DF `3F00` without parent".into());
        }
        if self.files.len() > MAX_FILES || self.allocated() > CAPACITY {
            return Err(format!(
                "the card holds {MAX_FILES} files and {CAPACITY} bytes"
            ));
        }
        for (i, file) in self.files.iter().enumerate() {
            self.validate_file(i, file)
                .map_err(|e| format!("file {i} (`{:04X}`): {e}", file.fid))?;
        }
        Ok(())
    }

    fn validate_file(&self, index: usize, file: &File) -> Result<(), String> {
        if index != MF {
            match file.parent {
                Some(p) if p < index && self.is_df(p) => {}
                _ => return Err("its parent must be a DF listed before it".into()),
            }
            if matches!(file.fid, MF_FID | 0x3FFF | 0xFFFF) {
                return Err("the identifier is reserved".into());
            }
            let twins = self
                .files
                .iter()
                .filter(|f| f.parent == file.parent && f.fid == file.fid);
            if twins.count() > 1 {
                return Err("another file in the same DF has this identifier".into());
            }
        }
        let is_df = file.body == Body::Df;
        match &file.name {
            Some(name) if !is_df || name.is_empty() || name.len() > 16 => {
                return Err("only a DF has a name, of 1..=16 bytes".into());
            }
            Some(name)
                if self
                    .files
                    .iter()
                    .filter(|f| f.name.as_ref() == Some(name))
                    .count()
                    > 1 =>
            {
                return Err("another DF has this name".into());
            }
            _ => {}
        }
        match &file.body {
            Body::Df => Ok(()),
            Body::Transparent { data, .. } if !data.is_empty() && data.len() <= MAX_EF_SIZE => {
                Ok(())
            }
            Body::Transparent { .. } => {
                Err(format!("a transparent EF holds 1..={MAX_EF_SIZE} bytes"))
            }
            Body::Records { records } => {
                let len = records.first().map_or(0, Vec::len);
                if records.is_empty() || records.len() > 254 || len == 0 || len > 255 {
                    return Err("records must be 1..=255 bytes, 1..=254 of them".into());
                }
                if records.iter().any(|r| r.len() != len) {
                    return Err("every record must have the same length".into());
                }
                Ok(())
            }
            Body::Keys(keys) => {
                if file.parent.is_some_and(|p| self.key_file(p) != Some(index)) {
                    return Err("a DF has one key file".into());
                }
                if !matches!(file.access.write, Condition::Key(_)) {
                    return Err("a key file's write condition must name a key".into());
                }
                keys.validate()
            }
        }
    }
}

/// The four conditions in an image: `{"read": "00", "write": "20", …}` in their byte form.
mod access_serde {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::cos::{Access, Condition};

    #[derive(Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Bytes {
        read: String,
        write: String,
        create: String,
        delete: String,
    }

    pub(super) fn serialize<S: Serializer>(access: &Access, s: S) -> Result<S::Ok, S::Error> {
        let byte = |c: Condition| format!("{:02X}", c.to_byte());
        Bytes {
            read: byte(access.read),
            write: byte(access.write),
            create: byte(access.create),
            delete: byte(access.delete),
        }
        .serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Access, D::Error> {
        let bytes = Bytes::deserialize(d)?;
        let condition = |text: &str| {
            u8::from_str_radix(text, 16)
                .ok()
                .filter(|_| text.len() == 2)
                .and_then(Condition::from_byte)
                .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is no access condition")))
        };
        Ok(Access {
            read: condition(&bytes.read)?,
            write: condition(&bytes.write)?,
            create: condition(&bytes.create)?,
            delete: condition(&bytes.delete)?,
        })
    }
}
