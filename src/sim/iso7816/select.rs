//! SELECT (ISO/IEC 7816-4, INS A4) and the other ways a file becomes current (SFI in P1/P2).
//!
//! Supported P1: `00` by identifier (MF, the current DF, its children, its parent and the
//! parent's children; empty data selects the MF), `01` child DF, `02` child EF, `03` parent
//! DF, `04` by DF name (exact, else first name starting with the data), `08` path from the
//! MF (without `3F00`), `09` path from the current DF. P2 `00`/`04` return the FCP template,
//! `0C` nothing; FCI, FMD and next occurrence are not supported (`6A 86`). A failed SELECT
//! leaves the current files as they were.

use super::fs::{MAX_NAME_LEN, MF, MF_FID};
use super::sw;
use super::transport::Reply;
use super::{FileCard, fcp};
use crate::apdu::{Command, StatusWord};

/// Reads the two-byte identifier a SELECT by FID carries.
fn fid(data: &[u8]) -> Result<u16, StatusWord> {
    match data {
        [hi, lo] => Ok(u16::from_be_bytes([*hi, *lo])),
        _ => Err(sw::LC_INCONSISTENT),
    }
}

impl FileCard {
    /// SELECT (INS A4).
    pub(super) fn select(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        let with_fcp = match command.p2 {
            0x00 | 0x04 => true,
            0x0C => false,
            _ => return Err(sw::INCORRECT_P1P2),
        };
        let data = command.data.as_slice();
        let tree = &self.state.files;
        let df = self.session.df;
        let target = match command.p1 {
            0x00 if data.is_empty() => Some(MF),
            0x00 => self.find_fid(fid(data)?),
            0x01 => tree.child(df, fid(data)?).filter(|&i| tree.is_df(i)),
            0x02 => tree.child(df, fid(data)?).filter(|&i| !tree.is_df(i)),
            0x03 if data.is_empty() => tree.parent(df),
            0x03 => return Err(sw::LC_INCONSISTENT),
            0x04 if data.is_empty() => Some(MF),
            0x04 if data.len() > MAX_NAME_LEN => return Err(sw::LC_INCONSISTENT),
            0x04 => tree.df_by_name(data),
            0x08 => self.find_path(MF, data)?,
            0x09 => self.find_path(df, data)?,
            _ => return Err(sw::INCORRECT_P1P2),
        };
        let target = target.ok_or(sw::FILE_NOT_FOUND)?;
        self.make_current(target);
        if with_fcp {
            Ok(Reply::Blob(fcp::encode(&self.state.files, target)))
        } else {
            Ok(Reply::ok())
        }
    }

    /// Selection by identifier: the MF, the current DF, its children, its parent, and the
    /// parent's children, in that order.
    fn find_fid(&self, fid: u16) -> Option<usize> {
        let tree = &self.state.files;
        let df = self.session.df;
        if fid == MF_FID {
            return Some(MF);
        }
        if tree.file(df).fid == fid {
            return Some(df);
        }
        tree.child(df, fid).or_else(|| {
            let parent = tree.parent(df)?;
            if tree.file(parent).fid == fid {
                Some(parent)
            } else {
                tree.child(parent, fid)
            }
        })
    }

    /// Follows a path of identifiers down from `start`; every step but the last must be a DF.
    fn find_path(&self, start: usize, path: &[u8]) -> Result<Option<usize>, StatusWord> {
        if path.is_empty() || path.len() % 2 != 0 {
            return Err(sw::LC_INCONSISTENT);
        }
        let tree = &self.state.files;
        let mut at = start;
        for step in path.chunks_exact(2) {
            if !tree.is_df(at) {
                return Ok(None);
            }
            match tree.child(at, u16::from_be_bytes([step[0], step[1]])) {
                Some(next) => at = next,
                None => return Ok(None),
            }
        }
        Ok(Some(at))
    }

    /// Selects the EF with short identifier `sfi` in the current DF, as READ BINARY and the
    /// record commands do when P1 or P2 carries an SFI (protocols.md §8.3).
    pub(super) fn select_sfi(&mut self, sfi: u8) -> Result<usize, StatusWord> {
        if !(1..=30).contains(&sfi) {
            return Err(sw::INCORRECT_P1P2);
        }
        let ef = self
            .state
            .files
            .ef_by_sfi(self.session.df, sfi)
            .ok_or(sw::FILE_NOT_FOUND)?;
        self.make_current(ef);
        Ok(ef)
    }

    /// Makes `index` current: a DF becomes the current DF (no current EF), an EF the current
    /// EF with its parent as current DF.
    pub(super) fn make_current(&mut self, index: usize) {
        if self.session.ef != Some(index) {
            self.session.record = None;
        }
        let tree = &self.state.files;
        if tree.is_df(index) {
            self.session.df = index;
            self.session.ef = None;
        } else {
            self.session.df = tree.parent(index).unwrap_or(MF);
            self.session.ef = Some(index);
        }
    }
}
