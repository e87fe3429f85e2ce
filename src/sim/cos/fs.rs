//! The file tree of the COS card: DFs, transparent EFs (with their write mode), record EFs
//! and key files, each with four access conditions.
//!
//! The tree is `crate::sim::tree` (a flat list, MF first, parents before children, as the
//! ISO card's) over this card's files, which differ: four conditions that may name keys, a
//! write mode, key files. This file knows nothing about
//! commands, sessions or status words.

use serde::{Deserialize, Serialize};

use super::keys::KeyFile;
use crate::cos::{Access, Condition, WriteMode};
use crate::sim::serde_hex;
use crate::sim::tree;

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

tree::file_node!(File, Body::Df);

/// The whole file system, MF first (`crate::sim::tree`).
pub(super) type Tree = tree::Tree<File>;

/// What only this card's tree does.
impl Tree {
    /// The EF of `df` whose identifier's low 5 bits are `sfi` (this COS's short identifiers).
    pub(super) fn ef_by_sfi(&self, df: usize, sfi: u8) -> Option<usize> {
        self.children(df)
            .find(|&i| !self.is_df(i) && (self.file(i).fid & 0x1F) as u8 == sfi)
    }

    /// The DF named `name`.
    pub(super) fn df_by_name(&self, name: &[u8]) -> Option<usize> {
        self.named(name)
    }

    /// The key file of `df`, if it has one.
    pub(super) fn key_file(&self, df: usize) -> Option<usize> {
        self.children(df)
            .find(|&i| matches!(self.file(i).body, Body::Keys(_)))
    }

    /// The keys and PINs of `df`, if it has a key file.
    pub(super) fn keys(&self, df: usize) -> Option<&KeyFile> {
        match &self.file(self.key_file(df)?).body {
            Body::Keys(keys) => Some(keys),
            _ => None,
        }
    }

    /// The keys and PINs of `df`, for writing.
    pub(super) fn keys_mut(&mut self, df: usize) -> Option<&mut KeyFile> {
        let index = self.key_file(df)?;
        match &mut self.file_mut(index).body {
            Body::Keys(keys) => Some(keys),
            _ => None,
        }
    }

    /// Checks a tree read from an image: the MF first, parents before children and DFs,
    /// identifiers unique per DF, names unique, one key file per DF, sizes in range.
    pub(super) fn validate(&self) -> Result<(), String> {
        let Some(mf) = self.files().first() else {
            return Err("the file list is empty (it must start with the MF)".into());
        };
        if mf.fid != MF_FID || mf.parent.is_some() || mf.body != Body::Df {
            return Err("the first file must be the MF: a DF `3F00` without parent".into());
        }
        if self.len() > MAX_FILES || self.allocated() > CAPACITY {
            return Err(format!(
                "the card holds {MAX_FILES} files and {CAPACITY} bytes"
            ));
        }
        for (i, file) in self.files().iter().enumerate() {
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
                .files()
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
                    .files()
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
