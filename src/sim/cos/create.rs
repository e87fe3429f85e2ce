//! CREATE FILE (`F2`, the layout of [`crate::cos::CreateFile`]) and DELETE FILE (`E4`).
//!
//! CREATE FILE makes a file in the current DF when the DF's create condition holds
//! (`69 82`; found from the DF itself, so the MF's install key admits files in the MF and,
//! until an application DF has keys of its own, in it too). A bad type is `6A 86`, a bad
//! condition or size `6A 80`, a wrong length `67 00`, a taken identifier (or a second key
//! file) `6A 89`, a taken name `6A 8A`, no room `6A 84`. A key file's write condition must
//! name a key. The new file becomes current; a new transparent EF holds its erased state
//! (`FF` for write-AND, else `00`), new records `00`.
//!
//! DELETE FILE (`00 E4 00 00 02 FID`) removes a file of the current DF, with everything under
//! it, when the file's delete condition holds. A key file cannot be deleted on its own
//! (`69 85`): its keys go only with their DF. The security state is cleared afterwards.

use super::fs::{Body, CAPACITY, File, MAX_EF_SIZE, MAX_FILES, MF_FID};
use super::keys::KeyFile;
use super::{CosCard, sw};
use crate::apdu::{Command, StatusWord};
use crate::cos::{Condition, CreateError, CreateFile, FileType};
use crate::sim::iso7816::transport::Reply;

/// `6A 8A`: a DF with that name exists.
const NAME_EXISTS: StatusWord = StatusWord(0x6A8A);

impl CosCard {
    /// CREATE FILE (INS F2).
    pub(super) fn create_file(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        let create =
            CreateFile::decode(command.p1, command.p2, &command.data).map_err(|e| match e {
                CreateError::FileType(_) => sw::INCORRECT_P1P2,
                CreateError::Condition(_) => sw::INCORRECT_DATA,
                CreateError::Length => sw::WRONG_LENGTH,
            })?;
        let df = self.session.df;
        self.allowed(df, self.state.files.file(df).access.create)?;
        let tree = &self.state.files;
        if matches!(create.fid, MF_FID | 0x3FFF | 0xFFFF) {
            return Err(sw::INCORRECT_DATA);
        }
        if create.fid == tree.file(df).fid || tree.child(df, create.fid).is_some() {
            return Err(sw::FILE_EXISTS);
        }
        let size = usize::from(create.size);
        let body = match create.file_type {
            FileType::Df if size == 0 => Body::Df,
            FileType::Transparent(mode) if (1..=MAX_EF_SIZE).contains(&size) => Body::Transparent {
                mode,
                data: vec![mode.erased(); size],
            },
            FileType::Records => {
                let (len, count) = (size >> 8, size & 0xFF);
                if len == 0 || !(1..=254).contains(&count) {
                    return Err(sw::INCORRECT_DATA);
                }
                Body::Records {
                    records: vec![vec![0; len]; count],
                }
            }
            FileType::Keys if size == 0 => {
                if tree.key_file(df).is_some() {
                    return Err(sw::FILE_EXISTS);
                }
                if !matches!(create.access.write, Condition::Key(_)) {
                    return Err(sw::INCORRECT_DATA);
                }
                Body::Keys(KeyFile::default())
            }
            _ => return Err(sw::INCORRECT_DATA),
        };
        if create.file_type == FileType::Df && tree.df_by_name(&create.name).is_some() {
            return Err(NAME_EXISTS);
        }
        if tree.len() >= MAX_FILES || tree.allocated() + body.allocated() > CAPACITY {
            return Err(sw::NOT_ENOUGH_MEMORY);
        }
        let is_df = body == Body::Df;
        let index = self.state.files.push(File {
            fid: create.fid,
            parent: Some(df),
            name: is_df.then_some(create.name),
            access: create.access,
            body,
        });
        if is_df {
            self.session.df = index;
            self.session.ef = None;
        } else {
            self.session.ef = Some(index);
        }
        Ok(Reply::ok())
    }

    /// DELETE FILE (INS E4).
    pub(super) fn delete_file(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        if command.p1 != 0 || command.p2 != 0 {
            return Err(sw::INCORRECT_P1P2);
        }
        let &[hi, lo] = command.data.as_slice() else {
            return Err(sw::WRONG_LENGTH);
        };
        let df = self.session.df;
        let target = self
            .state
            .files
            .child(df, u16::from_be_bytes([hi, lo]))
            .ok_or(sw::FILE_NOT_FOUND)?;
        let file = self.state.files.file(target);
        if matches!(file.body, Body::Keys(_)) {
            return Err(sw::CONDITIONS_NOT_SATISFIED);
        }
        self.allowed(df, file.access.delete)?;
        // Children come after their parent, so the current DF keeps its index.
        self.state.files.remove(target);
        self.session.ef = None;
        self.session.keys.clear();
        self.session.pins.clear();
        Ok(Reply::ok())
    }
}
