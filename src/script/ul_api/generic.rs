//! `ul::write_compat`: the Ultralight COMPATIBILITY WRITE through the Omnikey generic
//! session (protocols.md §1.1, §6.2, §6.6).
//!
//! The session is opened with `FF A0 00 07 03 01 00 01`, the frame goes in one transceive
//! `FF A0 00 05 <6+n> 01 00 F3 00 00 64 <frame> 00`, and the session is closed with
//! `FF A0 00 07 03 01 00 02` whatever happened in between. This file knows the wrapping and
//! the ACK/NAK answer, not the card's page rules.

use super::{Fallible, check_armed};
use crate::apdu::{Command, Response, StatusWord};
use crate::reader::omnikey::TRANSCEIVE_HEADER;
use crate::script::error::Fault;
use crate::script::session::Session;

/// The ACK of an Ultralight write (§6.2).
const ACK: u8 = 0x0A;
/// The reader's "no response from the card" (§1.1, §1.3).
const NO_ANSWER: StatusWord = StatusWord(0x6400);

fn session_command(p3: u8) -> Command {
    Command::new(0xFF, 0xA0, 0x00, 0x07).with_data(vec![0x01, 0x00, p3])
}

/// What a 4-bit NAK means (§6.2).
fn nak_meaning(code: u8) -> &'static str {
    match code {
        0x0 => "invalid argument: page out of range, read-only or locked",
        0x1 => "parity or CRC error",
        0x4 => "counter overflow or authentication failed",
        0x5 => "EEPROM write error",
        _ => "unknown NAK",
    }
}

/// Checks a transceive answer: `90 00` with `00 00` + the card's ACK.
pub(super) fn check_ack(what: &str, response: &Response) -> Fallible<()> {
    if response.sw == NO_ANSWER {
        return Err(Fault::failed(format!(
            "{what}: the card did not answer (reader status {NO_ANSWER})"
        )));
    }
    if !response.is_ok() {
        return Err(Fault::failed(format!(
            "{what}: reader answered {} ({}) to the transceive",
            response.sw,
            response.sw.describe_in(crate::apdu::Context::Omnikey)
        )));
    }
    match response.data.as_slice() {
        [0x00, 0x00, ACK] => Ok(()),
        [0x00, 0x00, code] if *code < 0x10 => Err(Fault::failed(format!(
            "{what}: card answered NAK {code:X} ({})",
            nak_meaning(*code)
        ))),
        other => Err(Fault::failed(format!(
            "{what}: unexpected answer `{}` (expected `00 00 0A`)",
            crate::apdu::hex::format(other)
        ))),
    }
}

/// `ul::write_compat(page, data16)`: COMPATIBILITY WRITE of 16 bytes to `page` through the
/// Omnikey generic session. **Only the first 4 bytes are stored**; the other 12 are
/// ignored by the tag (send `00`), which is why 16-byte "writes" to an Ultralight change a
/// single page (§6.6).
///
/// ```rhai
/// ul::write_compat(4, "DE AD BE EF 00 00 00 00 00 00 00 00 00 00 00 00"); // page 4 only
/// ```
///
/// The frame `A0 <page> <16 bytes>` is sent in one transceive. Real tags take the command in
/// two phases with an ACK between (`A0 <page>`, then the 16 bytes); whether an Omnikey
/// passes the one-frame form to a real tag is not confirmed, while the simulator accepts both
/// forms and `reader/guard.rs` can see page and data together only in this one. The session
/// is closed even when the transceive fails; the first error is reported.
pub(super) fn write_compat(session: &mut Session, page: u8, data: &[u8]) -> Fallible<()> {
    let what = "ul::write_compat";
    let mut body = TRANSCEIVE_HEADER.to_vec();
    body.extend_from_slice(&[0xA0, page]);
    body.extend_from_slice(data);
    let transceive = Command::new(0xFF, 0xA0, 0x00, 0x05)
        .with_data(body)
        .with_le(256);
    check_armed(session, &transceive, what)?;
    session.exchange_ok(&format!("{what}: open session"), &session_command(0x01))?;
    let written = session
        .exchange(&transceive)
        .and_then(|response| check_ack(what, &response));
    let closed = session.exchange_ok(&format!("{what}: close session"), &session_command(0x02));
    written?;
    closed.map(drop)
}
