//! DELETE FILE (ISO 7816-9, INS E4).
//!
//! P1-P2 `00 00`; the data is the identifier of a file in the current DF, or nothing for the
//! current file (the current EF, else the current DF). The DF holding the file must allow
//! updates (its condition for CREATE FILE, `69 82`); the MF cannot be deleted (`69 85`). A
//! DF goes with everything under it. Afterwards the current DF is the deleted file's parent
//! if the current files went with it.

use super::FileCard;
use super::fs::MF;
use super::sw;
use super::transport::Reply;
use crate::apdu::{Command, StatusWord};

impl FileCard {
    /// DELETE FILE (INS E4).
    pub(super) fn delete_file(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        if command.p1 != 0 || command.p2 != 0 {
            return Err(sw::INCORRECT_P1P2);
        }
        let tree = &self.state.files;
        let target = match command.data.as_slice() {
            [] => self.session.ef.unwrap_or(self.session.df),
            [hi, lo] => tree
                .child(self.session.df, u16::from_be_bytes([*hi, *lo]))
                .ok_or(sw::FILE_NOT_FOUND)?,
            _ => return Err(sw::LC_INCONSISTENT),
        };
        let Some(parent) = tree.parent(target).filter(|_| target != MF) else {
            return Err(sw::CONDITIONS_NOT_SATISFIED);
        };
        self.allowed(tree.file(parent).update)?;
        let map = self.state.files.remove(target);
        let parent = map[parent].unwrap_or(MF);
        self.session.df = map[self.session.df].unwrap_or(parent);
        self.session.ef = self.session.ef.and_then(|ef| map[ef]);
        self.session.record = None;
        Ok(Reply::ok())
    }
}
