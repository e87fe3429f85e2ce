//! SELECT and the data commands: READ / UPDATE / WRITE / ERASE BINARY, READ / UPDATE RECORD.
//!
//! SELECT (`00 A4`): P1 `00` by identifier (no data: the MF; the MF, the current DF, its
//! children, its parent and the parent's children), `01` child DF, `02` EF of the current
//! DF, `04` DF by name (exact); P2 `00` or `0C`; no data is returned (UNCONFIRMED: the
//! source shows only `0C`). Binary addressing is cos-and-serial.md §3: P1 bit 8 set, bits
//! 5-1 an SFI (the low 5 bits of an EF's identifier in the current DF) and P2 the offset;
//! else P1-P2 a 15-bit offset in the current EF. UPDATE BINARY replaces; WRITE BINARY
//! combines per the EF's write mode (replace / OR / AND); ERASE BINARY sets the erased state
//! (`FF` on a write-AND EF, else `00`) from the offset to the end, or up to (not including)
//! the offset its 2-byte data gives. Records: P1 the record number, P2 `04` (current EF) or
//! `SFI<<3 | 04`. Reads need the EF's read condition, the rest its write condition.

use super::fs::{Body, MF, MF_FID};
use super::{CosCard, sw};
use crate::apdu::{Command, StatusWord};
use crate::cos::WriteMode;
use crate::sim::iso7816::transport::{self, Reply};

/// What a binary write does to the bytes.
#[derive(Clone, Copy)]
enum Op {
    Update,
    Write,
    Erase,
}

impl CosCard {
    /// SELECT (INS A4).
    pub(super) fn select(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        if command.p2 != 0x00 && command.p2 != 0x0C {
            return Err(sw::INCORRECT_P1P2);
        }
        let tree = &self.state.files;
        let df = self.session.df;
        let fid = || match command.data.as_slice() {
            &[hi, lo] => Ok(u16::from_be_bytes([hi, lo])),
            _ => Err(sw::LC_INCONSISTENT),
        };
        let target = match command.p1 {
            0x00 if command.data.is_empty() => Some(MF),
            0x00 => {
                let fid = fid()?;
                let parent = tree.parent(df);
                if fid == MF_FID {
                    Some(MF)
                } else if tree.file(df).fid == fid {
                    Some(df)
                } else {
                    tree.child(df, fid).or_else(|| {
                        let parent = parent?;
                        (tree.file(parent).fid == fid)
                            .then_some(parent)
                            .or_else(|| tree.child(parent, fid))
                    })
                }
            }
            0x01 => tree.child(df, fid()?).filter(|&i| tree.is_df(i)),
            0x02 => tree.child(df, fid()?).filter(|&i| !tree.is_df(i)),
            0x04 if command.data.is_empty() || command.data.len() > 16 => {
                return Err(sw::LC_INCONSISTENT);
            }
            0x04 => tree.df_by_name(&command.data),
            _ => return Err(sw::INCORRECT_P1P2),
        };
        let target = target.ok_or(sw::FILE_NOT_FOUND)?;
        if tree.is_df(target) {
            self.session.df = target;
            self.session.ef = None;
        } else {
            self.session.df = tree.parent(target).unwrap_or(MF);
            self.session.ef = Some(target);
        }
        Ok(Reply::ok())
    }

    /// The EF named by an SFI in the current DF, made current.
    fn by_sfi(&mut self, sfi: u8) -> Result<usize, StatusWord> {
        let ef = self
            .state
            .files
            .ef_by_sfi(self.session.df, sfi)
            .ok_or(sw::FILE_NOT_FOUND)?;
        self.session.ef = Some(ef);
        Ok(ef)
    }

    /// The transparent EF and offset a binary command addresses.
    fn binary_target(&mut self, command: &Command) -> Result<(usize, usize), StatusWord> {
        let ef = if command.p1 & 0x80 != 0 {
            if command.p1 & 0x60 != 0 {
                return Err(sw::INCORRECT_P1P2);
            }
            self.by_sfi(command.p1 & 0x1F)?
        } else {
            self.session.ef.ok_or(sw::NO_CURRENT_EF)?
        };
        let offset = if command.p1 & 0x80 != 0 {
            usize::from(command.p2)
        } else {
            usize::from(u16::from_be_bytes([command.p1, command.p2]))
        };
        if !matches!(self.state.files.file(ef).body, Body::Transparent { .. }) {
            return Err(sw::WRONG_STRUCTURE);
        }
        Ok((ef, offset))
    }

    /// READ BINARY (INS B0).
    pub(super) fn read_binary(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        if !command.data.is_empty() || command.le.is_none() {
            return Err(sw::WRONG_LENGTH);
        }
        let (ef, offset) = self.binary_target(command)?;
        self.allowed(self.df_of(ef), self.state.files.file(ef).access.read)?;
        let Body::Transparent { data, .. } = &self.state.files.file(ef).body else {
            return Err(sw::WRONG_STRUCTURE);
        };
        if offset >= data.len() {
            return Err(sw::OUTSIDE_FILE);
        }
        let (n, status) = transport::read_len(self.protocol, command, data.len() - offset, false)?;
        Ok(Reply::Done(data[offset..offset + n].to_vec(), status))
    }

    /// UPDATE BINARY (INS D6): replaces.
    pub(super) fn update_binary(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        self.binary_write(command, Op::Update)
    }

    /// WRITE BINARY (INS D0): per the EF's write mode.
    pub(super) fn write_binary(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        self.binary_write(command, Op::Write)
    }

    /// ERASE BINARY (INS 0E).
    pub(super) fn erase_binary(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        self.binary_write(command, Op::Erase)
    }

    fn binary_write(&mut self, command: &Command, how: Op) -> Result<Reply, StatusWord> {
        let has_data = !command.data.is_empty();
        if command.le.is_some() || (!has_data && !matches!(how, Op::Erase)) {
            return Err(sw::WRONG_LENGTH);
        }
        let (ef, offset) = self.binary_target(command)?;
        self.allowed(self.df_of(ef), self.state.files.file(ef).access.write)?;
        let Body::Transparent { mode, data } = &mut self.state.files.file_mut(ef).body else {
            return Err(sw::WRONG_STRUCTURE);
        };
        if offset >= data.len() {
            return Err(sw::OUTSIDE_FILE);
        }
        match how {
            Op::Erase => {
                let end = match command.data.as_slice() {
                    [] => data.len(),
                    &[hi, lo] => usize::from(u16::from_be_bytes([hi, lo])),
                    _ => return Err(sw::WRONG_LENGTH),
                };
                if end < offset || end > data.len() {
                    return Err(sw::INCORRECT_DATA);
                }
                data[offset..end].fill(mode.erased());
            }
            Op::Update | Op::Write => {
                if command.data.len() > data.len() - offset {
                    return Err(sw::NOT_ENOUGH_MEMORY);
                }
                let mode = match how {
                    Op::Write => *mode,
                    _ => WriteMode::Replace,
                };
                for (old, &new) in data[offset..].iter_mut().zip(&command.data) {
                    *old = mode.apply(*old, new);
                }
            }
        }
        Ok(Reply::ok())
    }

    /// The record EF and record index a record command addresses.
    fn record_slot(&mut self, command: &Command) -> Result<(usize, usize), StatusWord> {
        if command.p2 & 0x07 != 0x04 || command.p1 == 0 {
            return Err(sw::INCORRECT_P1P2);
        }
        let ef = match command.p2 >> 3 {
            0 => self.session.ef.ok_or(sw::NO_CURRENT_EF)?,
            sfi => self.by_sfi(sfi)?,
        };
        let Body::Records { records } = &self.state.files.file(ef).body else {
            return Err(sw::WRONG_STRUCTURE);
        };
        let index = usize::from(command.p1) - 1;
        if index >= records.len() {
            return Err(sw::RECORD_NOT_FOUND);
        }
        Ok((ef, index))
    }

    /// READ RECORD (INS B2).
    pub(super) fn read_record(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        if !command.data.is_empty() || command.le.is_none() {
            return Err(sw::WRONG_LENGTH);
        }
        let (ef, index) = self.record_slot(command)?;
        self.allowed(self.df_of(ef), self.state.files.file(ef).access.read)?;
        let Body::Records { records } = &self.state.files.file(ef).body else {
            return Err(sw::WRONG_STRUCTURE);
        };
        let record = &records[index];
        let (n, status) = transport::read_len(self.protocol, command, record.len(), true)?;
        Ok(Reply::Done(record[..n].to_vec(), status))
    }

    /// UPDATE RECORD (INS DC): the data must be one record long.
    pub(super) fn update_record(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        let (ef, index) = self.record_slot(command)?;
        self.allowed(self.df_of(ef), self.state.files.file(ef).access.write)?;
        let Body::Records { records } = &mut self.state.files.file_mut(ef).body else {
            return Err(sw::WRONG_STRUCTURE);
        };
        let record = &mut records[index];
        if command.data.len() != record.len() {
            return Err(sw::WRONG_LENGTH);
        }
        record.copy_from_slice(&command.data);
        Ok(Reply::ok())
    }
}
