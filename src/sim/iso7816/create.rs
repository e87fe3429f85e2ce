//! CREATE FILE (ISO 7816-9, INS E0) in the current DF.
//!
//! The template is read by `fcp.rs`. Here: the current DF's update condition must hold
//! (`69 82`), the identifier must be new in the DF and not the DF's own (`6A 89`; reserved
//! `3FFF`/`FFFF` are `6A 80`), a DF name must be new on the card (`6A 8A`), an SFI new in the
//! DF (`6A 80`), and the card must have room (`6A 84`). The new file becomes current. New
//! transparent EFs hold their erased state (`FF` for write-AND, else `00`); new linear fixed EFs start with no records.

use super::fs::{CAPACITY, MAX_FILES, MF_FID};
use super::sw;
use super::transport::Reply;
use super::{FileCard, fcp};
use crate::apdu::{Command, StatusWord};

impl FileCard {
    /// CREATE FILE (INS E0) with an FCP template as data and P1-P2 `00 00`.
    pub(super) fn create_file(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        if command.p1 != 0 || command.p2 != 0 {
            return Err(sw::INCORRECT_P1P2);
        }
        if command.data.is_empty() {
            return Err(sw::WRONG_LENGTH);
        }
        let df = self.session.df;
        let tree = &self.state.files;
        self.allowed(tree.file(df).update)?;
        let mut file = fcp::parse_create(&command.data)?;
        if matches!(file.fid, 0x3FFF | 0xFFFF) {
            return Err(sw::INCORRECT_DATA);
        }
        if file.fid == MF_FID || file.fid == tree.file(df).fid || tree.child(df, file.fid).is_some()
        {
            return Err(sw::FILE_EXISTS);
        }
        if file.name.as_deref().is_some_and(|name| tree.has_name(name)) {
            return Err(sw::NAME_EXISTS);
        }
        if file
            .sfi
            .is_some_and(|sfi| tree.ef_by_sfi(df, sfi).is_some())
        {
            return Err(sw::INCORRECT_DATA);
        }
        if tree.len() >= MAX_FILES || tree.allocated() + file.body.allocated() > CAPACITY {
            return Err(sw::NOT_ENOUGH_MEMORY);
        }
        file.parent = Some(df);
        let index = self.state.files.push(file);
        self.make_current(index);
        Ok(Reply::ok())
    }
}
