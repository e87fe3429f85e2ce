//! READ BINARY, UPDATE BINARY, WRITE BINARY and ERASE BINARY (ISO/IEC 7816-4) on
//! transparent EFs.
//!
//! UPDATE replaces; WRITE (`D0`) combines with the stored bytes per the EF's data coding
//! (replace, OR, AND: cos-and-serial.md §4); ERASE (`0E`) sets the erased state — `FF` on a
//! write-AND EF, so that the next WRITE stores its bytes, else `00` (UNCONFIRMED: ISO leaves
//! the erased state to the card) — from the offset to the end, or up to (not including) the
//! offset its 2-byte data gives. All three need the EF's update condition.
//!
//! Addressing (protocols.md §8.3): P1 bit 8 clear, P1-P2 is a 15-bit offset in the current
//! EF; P1 = `80 | SFI`, P2 is an offset in the EF with that SFI, which becomes current. The
//! odd-INS (BER-TLV offset) forms are not supported. READ BINARY is the hot path of the
//! benchmark, so it copies straight from the file into the one response buffer.

use super::FileCard;
use super::fs::Body;
use super::sw;
use super::transport::Reply;
use crate::apdu::{Command, StatusWord};
use crate::cos::WriteMode;

impl FileCard {
    /// The EF and offset a binary command addresses.
    fn binary_target(&mut self, command: &Command) -> Result<(usize, usize), StatusWord> {
        if command.p1 & 0x80 != 0 {
            if command.p1 & 0x60 != 0 {
                return Err(sw::INCORRECT_P1P2);
            }
            let ef = self.select_sfi(command.p1 & 0x1F)?;
            Ok((ef, command.p2 as usize))
        } else {
            let ef = self.session.ef.ok_or(sw::NO_CURRENT_EF)?;
            Ok((ef, u16::from_be_bytes([command.p1, command.p2]) as usize))
        }
    }

    /// READ BINARY (INS B0). Case 2 only: a command without Le asks for no data, which a
    /// read cannot do (`67 00`, nothing returned).
    pub(super) fn read_binary(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        if !command.data.is_empty() || command.le.is_none() {
            return Err(sw::WRONG_LENGTH);
        }
        let (ef, offset) = self.binary_target(command)?;
        let file = self.state.files.file(ef);
        let Body::Transparent { data, .. } = &file.body else {
            return Err(sw::WRONG_STRUCTURE);
        };
        self.allowed(file.read)?;
        if offset >= data.len() {
            return Err(sw::OUTSIDE_FILE);
        }
        let (n, status) = self.read_len(command, data.len() - offset, false)?;
        let mut out = Vec::with_capacity(n + 2);
        out.extend_from_slice(&data[offset..offset + n]);
        Ok(Reply::Done(out, status))
    }

    /// UPDATE BINARY (INS D6): writes the data at the offset; it must fit in the EF.
    pub(super) fn update_binary(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        self.binary_write(command, Op::Update)
    }

    /// WRITE BINARY (INS D0): combines the data per the EF's write mode.
    pub(super) fn write_binary(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        self.binary_write(command, Op::Write)
    }

    /// ERASE BINARY (INS 0E).
    pub(super) fn erase_binary(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        self.binary_write(command, Op::Erase)
    }

    fn binary_write(&mut self, command: &Command, op: Op) -> Result<Reply, StatusWord> {
        if command.data.is_empty() && op != Op::Erase {
            return Err(sw::WRONG_LENGTH);
        }
        let (ef, offset) = self.binary_target(command)?;
        let file = self.state.files.file(ef);
        let Body::Transparent { .. } = &file.body else {
            return Err(sw::WRONG_STRUCTURE);
        };
        self.allowed(file.update)?;
        let Body::Transparent { data, mode } = &mut self.state.files.file_mut(ef).body else {
            return Err(sw::WRONG_STRUCTURE);
        };
        if offset >= data.len() {
            return Err(sw::OUTSIDE_FILE);
        }
        if op == Op::Erase {
            let end = match command.data.as_slice() {
                [] => data.len(),
                &[hi, lo] => usize::from(u16::from_be_bytes([hi, lo])),
                _ => return Err(sw::WRONG_LENGTH),
            };
            if end < offset || end > data.len() {
                return Err(sw::INCORRECT_DATA);
            }
            data[offset..end].fill(mode.erased());
            return Ok(Reply::ok());
        }
        if command.data.len() > data.len() - offset {
            return Err(sw::NOT_ENOUGH_MEMORY);
        }
        let mode = if op == Op::Write {
            *mode
        } else {
            WriteMode::Replace
        };
        for (old, &new) in data[offset..].iter_mut().zip(&command.data) {
            *old = mode.apply(*old, new);
        }
        Ok(Reply::ok())
    }
}

/// Which binary write a command is.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Update,
    Write,
    Erase,
}
