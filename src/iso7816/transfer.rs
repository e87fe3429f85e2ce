//! Transfers of any length, split into commands the card accepts, with one result on T=0 and
//! T=1.
//!
//! A [`Transfer`] knows the class byte to use and whether the card takes extended lengths; it
//! builds each command and hands it to a `send` function (a script session, a test's fake
//! card), which applies the transport rules (`61xx`, `6Cxx`) as `reader::Card::exchange`
//! does. The rules decided here:
//!
//! * **Splitting.** Reads ask for at most 256 bytes per command (Le `00`), writes carry at
//!   most 255 (Lc `FF`), unless the card takes extended lengths: then 65,536 and 65,535.
//! * **Warnings.** `62xx` and `63xx` are warnings: their data is kept and the first warning
//!   becomes the [`Outcome`]'s status word; anything else but `90 00` is a [`Failure`].
//! * **Past the end.** When a read gets fewer bytes than it asked for, the bytes that exist
//!   are returned with `62 82` ("end of file or record reached before reading Le bytes"): a
//!   T=1 card says `62 82` itself, a T=0 card answers `6Cxx` and the resend comes back
//!   `90 00` with the short data, so the short data is what tells. A later chunk of a split
//!   read answered `6B 00` (offset beyond the end) also ends the read that way.
//!
//! Nothing here prints, sleeps or knows which card is behind `send`.

use std::fmt;

use crate::apdu::{Command, MAX_LE, Response, StatusWord};

/// The largest offset READ/UPDATE BINARY can address in P1-P2 (15 bits).
pub const MAX_OFFSET: usize = 0x7FFF;

/// "End of file or record reached before reading Le bytes".
pub const END_OF_FILE: StatusWord = StatusWord(0x6282);

const OFFSET_OUTSIDE_FILE: StatusWord = StatusWord(0x6B00);

/// What a transfer returned: the data, and `90 00` or the first warning met.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The response data, all chunks joined.
    pub data: Vec<u8>,
    /// `90 00`, or the first warning (`62xx`, `63xx`) a command of the transfer got.
    pub sw: StatusWord,
}

/// Why a transfer stopped.
#[derive(Debug)]
pub enum Failure<E> {
    /// An argument is out of range; nothing was sent.
    Argument(String),
    /// `send` failed (the transport, or the guard's refusal).
    Send(E),
    /// The card answered an error status word to `command`.
    Card {
        /// The command that got it.
        command: Command,
        /// The status word.
        sw: StatusWord,
    },
    /// The card returned another number of bytes than the command requires.
    Length {
        /// The command.
        command: Command,
        /// Bytes asked for.
        wanted: usize,
        /// Bytes returned.
        got: usize,
    },
}

impl<E: fmt::Display> fmt::Display for Failure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Argument(message) => f.write_str(message),
            Failure::Send(e) => write!(f, "{e}"),
            Failure::Card { command, sw } => {
                let meaning = sw.describe_after(&command.to_bytes());
                write!(f, "card answered {sw} ({meaning}) to `{command}`")
            }
            Failure::Length {
                command,
                wanted,
                got,
            } => write!(
                f,
                "card returned {got} byte(s) to `{command}`, which asks for {wanted}"
            ),
        }
    }
}

/// Whether `sw` is a warning: the command was done, its data (if any) is valid.
pub fn is_warning(sw: StatusWord) -> bool {
    matches!(sw.sw1(), 0x62 | 0x63)
}

/// Which record READ RECORD reads (ISO/IEC 7816-4 §11.3.3, P1 and P2 bits 3-1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RecordMode {
    /// Record number 1..=254 (P1), P2 `…100`.
    Number(u8),
    /// The first record (P1 `00`, P2 `…000`).
    First,
    /// The last record (`…001`).
    Last,
    /// The record after the current one (`…010`).
    Next,
    /// The record before the current one (`…011`).
    Previous,
}

impl RecordMode {
    /// Reads `first`, `last`, `next`, `previous` (any case).
    pub fn parse(text: &str) -> Option<RecordMode> {
        match text.to_ascii_lowercase().as_str() {
            "first" => Some(RecordMode::First),
            "last" => Some(RecordMode::Last),
            "next" => Some(RecordMode::Next),
            "previous" | "prev" => Some(RecordMode::Previous),
            _ => None,
        }
    }

    /// P1 and the low three bits of P2.
    fn p1_p2(self) -> (u8, u8) {
        match self {
            RecordMode::Number(n) => (n, 0b100),
            RecordMode::First => (0, 0b000),
            RecordMode::Last => (0, 0b001),
            RecordMode::Next => (0, 0b010),
            RecordMode::Previous => (0, 0b011),
        }
    }
}

/// How the `iso::` commands are built for one card; the default is class `00`, short lengths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Transfer {
    /// The class byte of every command (`00` interindustry, `A0` GSM, …).
    pub cla: u8,
    /// Whether the card takes extended Lc/Le (from its ATR, or the user said so).
    pub extended: bool,
}

/// The `send` function a transfer uses.
pub type Send<'a, E> = dyn FnMut(&Command) -> Result<Response, E> + 'a;

impl Transfer {
    /// The most response bytes one command may ask for.
    pub fn max_le(&self) -> usize {
        if self.extended { MAX_LE } else { 256 }
    }

    /// The most data bytes one command may carry.
    pub fn max_lc(&self) -> usize {
        if self.extended { 65_535 } else { 255 }
    }

    /// A command with this transfer's class byte.
    pub fn command(&self, ins: u8, p1: u8, p2: u8) -> Command {
        Command::new(self.cla, ins, p1, p2)
    }

    /// Sends one command; `90 00` and warnings give an [`Outcome`], anything else fails.
    pub fn single<E>(
        &self,
        send: &mut Send<'_, E>,
        command: Command,
    ) -> Result<Outcome, Failure<E>> {
        let response = send(&command).map_err(Failure::Send)?;
        if response.sw.is_ok() || is_warning(response.sw) {
            Ok(Outcome {
                data: response.data,
                sw: response.sw,
            })
        } else {
            Err(Failure::Card {
                command,
                sw: response.sw,
            })
        }
    }

    /// READ BINARY of `len` bytes from `offset` of the current EF, or of the EF with short
    /// identifier `sfi` (then `offset` must be below 256; later chunks address the EF, now
    /// current, by offset).
    pub fn read_binary<E>(
        &self,
        send: &mut Send<'_, E>,
        sfi: Option<u8>,
        offset: usize,
        len: usize,
    ) -> Result<Outcome, Failure<E>> {
        if sfi.is_some() && offset > 0xFF {
            return Err(Failure::Argument(format!(
                "offset {offset} cannot follow an SFI (0..=255)"
            )));
        }
        if offset > MAX_OFFSET {
            return Err(Failure::Argument(format!(
                "offset {offset} is out of range 0..={MAX_OFFSET}"
            )));
        }
        if len == 0 {
            return Err(Failure::Argument("length 0: nothing to read".into()));
        }
        let mut data = Vec::with_capacity(len);
        let mut warning = None;
        while data.len() < len {
            let at = offset + data.len();
            let le = (len - data.len()).min(self.max_le());
            let command = match (sfi, data.is_empty()) {
                (Some(sfi), true) => self.command(0xB0, 0x80 | sfi, at as u8),
                _ if at > MAX_OFFSET => {
                    return Err(Failure::Argument(format!(
                        "reading {len} bytes from offset {offset} passes offset {MAX_OFFSET}, \
                         the last READ BINARY can address"
                    )));
                }
                _ => self.command(0xB0, (at >> 8) as u8, at as u8),
            }
            .with_le(le);
            let response = send(&command).map_err(Failure::Send)?;
            let sw = response.sw;
            if sw == OFFSET_OUTSIDE_FILE && !data.is_empty() {
                // The previous chunk ended exactly at the end of the file.
                warning.get_or_insert(END_OF_FILE);
                break;
            }
            if !sw.is_ok() && !is_warning(sw) {
                return Err(Failure::Card { command, sw });
            }
            let got = response.data.len();
            if got > le {
                return Err(Failure::Length {
                    command,
                    wanted: le,
                    got,
                });
            }
            data.extend_from_slice(&response.data);
            if !sw.is_ok() {
                warning.get_or_insert(sw);
            }
            if got < le {
                warning.get_or_insert(END_OF_FILE);
                break;
            }
        }
        Ok(Outcome {
            data,
            sw: warning.unwrap_or(StatusWord::OK),
        })
    }

    /// UPDATE BINARY of `data` at `offset` of the current EF, in as many commands as needed.
    /// Every chunk's offset is checked before the first is sent.
    pub fn update_binary<E>(
        &self,
        send: &mut Send<'_, E>,
        offset: usize,
        data: &[u8],
    ) -> Result<Outcome, Failure<E>> {
        self.binary_write(send, 0xD6, "UPDATE BINARY", offset, data)
    }

    /// WRITE BINARY (`D0`): as [`Transfer::update_binary`], but the card combines the data
    /// with what the EF holds per its data coding (replace, OR, AND; cos-and-serial.md §4).
    pub fn write_binary<E>(
        &self,
        send: &mut Send<'_, E>,
        offset: usize,
        data: &[u8],
    ) -> Result<Outcome, Failure<E>> {
        self.binary_write(send, 0xD0, "WRITE BINARY", offset, data)
    }

    /// ERASE BINARY (`0E`) from `offset` to the end of the current EF, or up to (not
    /// including) `end`: one command, P1-P2 the offset, `end` as 2 bytes of data.
    pub fn erase_binary<E>(
        &self,
        send: &mut Send<'_, E>,
        offset: usize,
        end: Option<usize>,
    ) -> Result<Outcome, Failure<E>> {
        if offset > MAX_OFFSET || end.is_some_and(|end| end < offset || end > MAX_OFFSET + 1) {
            return Err(Failure::Argument(format!(
                "ERASE BINARY addresses offsets 0..={MAX_OFFSET}, the end not before the offset"
            )));
        }
        let mut command = self.command(0x0E, (offset >> 8) as u8, offset as u8);
        if let Some(end) = end {
            command = command.with_data((end as u16).to_be_bytes().to_vec());
        }
        self.single(send, command)
    }

    /// UPDATE or WRITE BINARY in as many commands as the data needs.
    fn binary_write<E>(
        &self,
        send: &mut Send<'_, E>,
        ins: u8,
        name: &str,
        offset: usize,
        data: &[u8],
    ) -> Result<Outcome, Failure<E>> {
        if data.is_empty() {
            return Err(Failure::Argument("data is empty".into()));
        }
        let chunk = self.max_lc();
        let last = offset + (data.len() - 1) / chunk * chunk;
        if offset > MAX_OFFSET || last > MAX_OFFSET {
            return Err(Failure::Argument(format!(
                "writing {} bytes at offset {offset} needs offset {last}; {name} \
                 addresses 0..={MAX_OFFSET}",
                data.len()
            )));
        }
        let mut warning = None;
        for (i, part) in data.chunks(chunk).enumerate() {
            let at = offset + i * chunk;
            let command = self
                .command(ins, (at >> 8) as u8, at as u8)
                .with_data(part.to_vec());
            let outcome = self.single(send, command)?;
            if !outcome.sw.is_ok() {
                warning.get_or_insert(outcome.sw);
            }
        }
        Ok(Outcome {
            data: Vec::new(),
            sw: warning.unwrap_or(StatusWord::OK),
        })
    }

    /// READ RECORD: `record` of the current EF (or of the EF `sfi`). With `len`, Le is that
    /// length and a shorter record comes back with `62 82`; without, Le is `00` (the whole
    /// record, up to 256 bytes; 65,536 on a card with extended lengths).
    pub fn read_record<E>(
        &self,
        send: &mut Send<'_, E>,
        sfi: Option<u8>,
        record: RecordMode,
        len: Option<usize>,
    ) -> Result<Outcome, Failure<E>> {
        if let RecordMode::Number(n) = record {
            if !(1..=254).contains(&n) {
                return Err(Failure::Argument(format!(
                    "record {n} is out of range 1..=254"
                )));
            }
        }
        let le = match len {
            Some(0) => return Err(Failure::Argument("length 0: nothing to read".into())),
            Some(len) if len > self.max_le() => {
                return Err(Failure::Argument(format!(
                    "length {len} is more than one READ RECORD can return ({}{})",
                    self.max_le(),
                    if self.extended {
                        ""
                    } else {
                        "; the card announces no extended lengths"
                    }
                )));
            }
            Some(len) => len,
            None => self.max_le(),
        };
        let (p1, mode) = record.p1_p2();
        let p2 = sfi.map_or(0, |sfi| sfi << 3) | mode;
        let command = self.command(0xB2, p1, p2).with_le(le);
        let mut outcome = self.single(send, command.clone())?;
        if outcome.data.len() > le {
            return Err(Failure::Length {
                command,
                wanted: le,
                got: outcome.data.len(),
            });
        }
        if len.is_some() && outcome.data.len() < le && outcome.sw.is_ok() {
            outcome.sw = END_OF_FILE;
        }
        Ok(outcome)
    }

    /// GET CHALLENGE of exactly `len` bytes; a card that returns another number fails.
    pub fn get_challenge<E>(
        &self,
        send: &mut Send<'_, E>,
        len: usize,
    ) -> Result<Outcome, Failure<E>> {
        if len == 0 || len > self.max_le() {
            return Err(Failure::Argument(format!(
                "length {len} is out of range 1..={}",
                self.max_le()
            )));
        }
        let command = self.command(0x84, 0x00, 0x00).with_le(len);
        let outcome = self.single(send, command.clone())?;
        if outcome.data.len() != len {
            return Err(Failure::Length {
                command,
                wanted: len,
                got: outcome.data.len(),
            });
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests;
