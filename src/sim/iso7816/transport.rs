//! How response data reaches the terminal: Le, `61xx` with GET RESPONSE, `6Cxx`
//! (protocols.md §8.1, §8.2).
//!
//! Handlers either shape their own answer ([`Reply::Done`], the reads, which know what is
//! available) or hand over a fixed blob ([`Reply::Blob`], an FCP template) that
//! [`FileCard::deliver`] fits to the command and protocol:
//!
//! * T=1: the blob comes back directly. An Le shorter than the blob returns Le bytes and
//!   keeps the rest for GET RESPONSE (`61xx`). No Le at all is read leniently as "whatever
//!   is available" rather than ISO's "no data".
//! * T=0: a command with data (case 3 or 4) answers `61xx` and keeps the blob for GET
//!   RESPONSE, because a T=0 TPDU cannot carry data both ways. A command without data sends
//!   Le as P3 (absent = `00` = 256), and anything but the exact length gets `6Cxx`.

use super::sw::{self, END_OF_FILE, OK};
use super::{FileCard, Protocol};
use crate::apdu::{Command, MAX_LE, StatusWord};

/// What a command handler produced.
pub(in crate::sim) enum Reply {
    /// Final data and status word.
    Done(Vec<u8>, StatusWord),
    /// Data to deliver per the transport rules; may be empty.
    Blob(Vec<u8>),
}

impl Reply {
    /// `90 00` without data.
    pub(in crate::sim) fn ok() -> Reply {
        Reply::Done(Vec::with_capacity(2), OK)
    }
}

/// Whether Le was written as all zeros: "up to the maximum", not a length.
fn is_wildcard(command: &Command, le: usize) -> bool {
    (le == 256 && !command.extended) || le == MAX_LE
}

impl FileCard {
    /// Fits a blob to the command's Le and the protocol (see the module docs).
    pub(super) fn deliver(&mut self, command: &Command, data: Vec<u8>) -> (Vec<u8>, StatusWord) {
        deliver(self.protocol, &mut self.session.pending, command, data)
    }

    /// How many of `available` bytes a read returns; see [`read_len`].
    pub(super) fn read_len(
        &self,
        command: &Command,
        available: usize,
        whole: bool,
    ) -> Result<(usize, StatusWord), StatusWord> {
        read_len(self.protocol, command, available, whole)
    }

    /// GET RESPONSE (INS C0): the next part of the data a `61xx` announced.
    pub(super) fn get_response(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        get_response(self.protocol, &mut self.session.pending, command)
    }
}

/// Fits a blob to the command's Le and the protocol (see the module docs); data kept for
/// GET RESPONSE goes to `pending`. Shared by every simulated contact card.
pub(in crate::sim) fn deliver(
    protocol: Protocol,
    pending: &mut Vec<u8>,
    command: &Command,
    mut data: Vec<u8>,
) -> (Vec<u8>, StatusWord) {
    if data.is_empty() {
        return (data, OK);
    }
    match protocol {
        Protocol::T0 if !command.data.is_empty() => {
            let sw = sw::bytes_available(data.len());
            *pending = data;
            (Vec::with_capacity(2), sw)
        }
        Protocol::T0 => {
            if command.le.unwrap_or(256) == data.len() {
                (data, OK)
            } else {
                (Vec::with_capacity(2), sw::exact_length(data.len()))
            }
        }
        Protocol::T1 => match command.le {
            Some(le) if le < data.len() => {
                *pending = data.split_off(le);
                let sw = sw::bytes_available(pending.len());
                (data, sw)
            }
            _ => (data, OK),
        },
    }
}

/// How many of `available` bytes (at least one) a read returns, and its status word.
///
/// With `whole`, the data is a record, which T=0 returns only in one piece: any Le but
/// the record length gets `6Cxx`. Otherwise a shorter Le reads a prefix, and a longer one
/// gets `6Cxx` on T=0 and the available bytes with `62 82` on T=1 (unless Le is `00`,
/// which means "as much as there is").
pub(in crate::sim) fn read_len(
    protocol: Protocol,
    command: &Command,
    available: usize,
    whole: bool,
) -> Result<(usize, StatusWord), StatusWord> {
    match protocol {
        Protocol::T0 => {
            let wanted = command.le.unwrap_or(256);
            let available = available.min(256);
            if wanted > available || (whole && wanted != available) {
                Err(sw::exact_length(available))
            } else {
                Ok((wanted, OK))
            }
        }
        Protocol::T1 => Ok(match command.le {
            None => (available.min(256), OK),
            Some(le) if is_wildcard(command, le) => (available.min(le), OK),
            Some(le) if le > available => (available, END_OF_FILE),
            Some(le) => (le, OK),
        }),
    }
}

/// GET RESPONSE (INS C0): the next part of the data in `pending` a `61xx` announced.
pub(in crate::sim) fn get_response(
    protocol: Protocol,
    pending: &mut Vec<u8>,
    command: &Command,
) -> Result<Reply, StatusWord> {
    if command.p1 != 0 || command.p2 != 0 {
        return Err(sw::INCORRECT_P1P2);
    }
    if !command.data.is_empty() {
        return Err(sw::WRONG_LENGTH);
    }
    if pending.is_empty() {
        return Err(sw::CONDITIONS_NOT_SATISFIED);
    }
    let wanted = command.le.unwrap_or(256);
    let n = match protocol {
        // The pending data stays put, so the terminal can ask again with the right Le.
        Protocol::T0 if wanted > pending.len() => return Err(sw::exact_length(pending.len())),
        Protocol::T0 | Protocol::T1 => wanted.min(pending.len()),
    };
    let rest = pending.split_off(n);
    let mut data = std::mem::replace(pending, rest);
    data.reserve(2);
    let sw = match pending.len() {
        0 => OK,
        left => sw::bytes_available(left),
    };
    Ok(Reply::Done(data, sw))
}
