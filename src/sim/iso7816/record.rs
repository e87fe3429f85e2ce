//! READ RECORD, UPDATE RECORD and APPEND RECORD (ISO/IEC 7816-4) on linear fixed EFs.
//!
//! P2 bits 8-4 name the EF: `0` the current EF, `1..=30` the EF with that SFI (which becomes
//! current). READ and UPDATE take the record number in P1 (P2 bits 3-1 = `100`); APPEND
//! takes P1 = `00` and P2 bits 3-1 = `000`. Record pointers (P1 = `00`, first/last/next/
//! previous) and reading several records at once are not supported (`6A 86`).

use super::FileCard;
use super::fs::Body;
use super::sw;
use super::transport::Reply;
use crate::apdu::{Command, StatusWord};

impl FileCard {
    /// The EF a record command addresses through P2.
    fn record_target(&mut self, p2: u8) -> Result<usize, StatusWord> {
        match p2 >> 3 {
            0 => self.session.ef.ok_or(sw::NO_CURRENT_EF),
            sfi => self.select_sfi(sfi),
        }
    }

    /// The EF and the index of record P1 for READ/UPDATE RECORD, with the access checked.
    fn record_slot(&mut self, command: &Command, read: bool) -> Result<(usize, usize), StatusWord> {
        if command.p2 & 0x07 != 0x04 || command.p1 == 0x00 || command.p1 == 0xFF {
            return Err(sw::INCORRECT_P1P2);
        }
        let ef = self.record_target(command.p2)?;
        let file = self.state.files.file(ef);
        let Body::LinearFixed { records, .. } = &file.body else {
            return Err(sw::WRONG_STRUCTURE);
        };
        self.allowed(if read { file.read } else { file.update })?;
        let index = command.p1 as usize - 1;
        if index >= records.len() {
            return Err(sw::RECORD_NOT_FOUND);
        }
        Ok((ef, index))
    }

    /// READ RECORD (INS B2): record P1 of the addressed EF.
    pub(super) fn read_record(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        if !command.data.is_empty() {
            return Err(sw::WRONG_LENGTH);
        }
        let (ef, index) = self.record_slot(command, true)?;
        let Body::LinearFixed { records, .. } = &self.state.files.file(ef).body else {
            return Err(sw::WRONG_STRUCTURE);
        };
        let record = &records[index];
        let (n, status) = self.read_len(command, record.len(), true)?;
        let mut out = Vec::with_capacity(n + 2);
        out.extend_from_slice(&record[..n]);
        Ok(Reply::Done(out, status))
    }

    /// UPDATE RECORD (INS DC): replaces record P1; the data must be one record long.
    pub(super) fn update_record(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        let (ef, index) = self.record_slot(command, false)?;
        let Body::LinearFixed { records, .. } = &mut self.state.files.file_mut(ef).body else {
            return Err(sw::WRONG_STRUCTURE);
        };
        let record = &mut records[index];
        if command.data.len() != record.len() {
            return Err(sw::WRONG_LENGTH);
        }
        record.copy_from_slice(&command.data);
        Ok(Reply::ok())
    }

    /// APPEND RECORD (INS E2): adds a record after the last one, if the file has room.
    pub(super) fn append_record(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        if command.p1 != 0x00 || command.p2 & 0x07 != 0x00 {
            return Err(sw::INCORRECT_P1P2);
        }
        let ef = self.record_target(command.p2)?;
        let file = self.state.files.file(ef);
        let Body::LinearFixed { .. } = &file.body else {
            return Err(sw::WRONG_STRUCTURE);
        };
        self.allowed(file.update)?;
        let Body::LinearFixed {
            record_len,
            max_records,
            records,
        } = &mut self.state.files.file_mut(ef).body
        else {
            return Err(sw::WRONG_STRUCTURE);
        };
        if command.data.len() != *record_len as usize {
            return Err(sw::WRONG_LENGTH);
        }
        if records.len() >= *max_records as usize {
            return Err(sw::NOT_ENOUGH_MEMORY);
        }
        records.push(command.data.clone());
        Ok(Reply::ok())
    }
}
