//! READ RECORD, UPDATE RECORD and APPEND RECORD (ISO/IEC 7816-4) on linear fixed EFs.
//!
//! P2 bits 8-4 name the EF: `0` the current EF, `1..=30` the EF with that SFI (which becomes
//! current). READ and UPDATE take the record number in P1 (P2 bits 3-1 = `100`); APPEND
//! takes P1 = `00` and P2 bits 3-1 = `000`. READ RECORD also takes P1 = `00` with P2 bits
//! 3-1 `000` first, `001` last, `010` next, `011` previous and `100` current record: a
//! record pointer per session, set by every READ RECORD and forgotten when another EF becomes
//! current; next without a pointer is the first record, previous the last. Record
//! identifiers (P1 ≠ `00` with those modes) and reading several records at once answer
//! `6A 81` (function not supported).

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

    /// The EF and record index READ RECORD addresses, per P1 and the mode in P2 bits 3-1.
    fn read_slot(&mut self, command: &Command) -> Result<(usize, usize), StatusWord> {
        let mode = command.p2 & 0x07;
        if command.p1 == 0xFF || mode == 0b111 {
            return Err(sw::INCORRECT_P1P2);
        }
        if mode != 0b100 && (command.p1 != 0x00 || mode > 0b100) {
            return Err(sw::FUNCTION_NOT_SUPPORTED);
        }
        let ef = self.record_target(command.p2)?;
        let file = self.state.files.file(ef);
        let Body::LinearFixed { records, .. } = &file.body else {
            return Err(sw::WRONG_STRUCTURE);
        };
        self.allowed(file.read)?;
        let count = records.len();
        let pointer = self
            .session
            .record
            .filter(|&(at, _)| at == ef)
            .map(|(_, i)| i);
        let index = match (command.p1, mode) {
            (0, 0b000) => Some(0),
            (0, 0b001) => count.checked_sub(1),
            (0, 0b010) => Some(pointer.map_or(0, |i| i + 1)),
            (0, 0b011) => match pointer {
                Some(i) => i.checked_sub(1),
                None => count.checked_sub(1),
            },
            (0, _) => pointer,
            (n, _) => Some(n as usize - 1),
        };
        match index {
            Some(i) if i < count => Ok((ef, i)),
            _ => Err(sw::RECORD_NOT_FOUND),
        }
    }

    /// READ RECORD (INS B2): the addressed record of the addressed EF. Case 2 only: without
    /// Le there is no data to return (`67 00`).
    pub(super) fn read_record(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        if !command.data.is_empty() || command.le.is_none() {
            return Err(sw::WRONG_LENGTH);
        }
        let (ef, index) = self.read_slot(command)?;
        let Body::LinearFixed { records, .. } = &self.state.files.file(ef).body else {
            return Err(sw::WRONG_STRUCTURE);
        };
        let record = &records[index];
        // A wrong Le (`6Cxx` on T=0) reads nothing, so it does not move the pointer either.
        let (n, status) = self.read_len(command, record.len(), true)?;
        let mut out = Vec::with_capacity(n + 2);
        out.extend_from_slice(&record[..n]);
        self.session.record = Some((ef, index));
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
