//! `iso::` — ISO 7816-4 file commands for scripts.
//!
//! ```rhai
//! iso::select("3F00/5000/0101");
//! let data = iso::read_binary(0, 16);
//! iso::verify(1, "1234");
//! ```
//!
//! Each function builds the command, sends it with the run's transport rules, throws on a
//! status word other than 90 00 (naming it and its meaning) and returns the response data.
//! PINs given as strings are sent as their text (`"1234"` is `31 32 33 34`); Blobs and
//! secrets are sent as they are. This module knows the command encodings, not any card.

use rhai::{Blob, Dynamic, Engine, EvalAltResult, INT, ImmutableString, Module};

use super::bytes_api::{Bytes, bytes_of, parse_hex, scope_of};
use super::error::{Fault, located_fn};
use super::session::Shared;
use crate::apdu::Command;

type Fallible<T> = Result<T, Box<EvalAltResult>>;

fn int_in(value: INT, range: std::ops::RangeInclusive<INT>, what: &str) -> Fallible<usize> {
    if range.contains(&value) {
        Ok(value as usize)
    } else {
        Err(Fault::failed(format!(
            "{what} {value} is out of range {}..={}",
            range.start(),
            range.end()
        )))
    }
}

fn fid(text: &str, what: &str) -> Fallible<[u8; 2]> {
    let bytes = parse_hex(text, what)?;
    <[u8; 2]>::try_from(bytes.as_slice()).map_err(|_| {
        Fault::failed(format!(
            "{what}: file identifier `{text}` must be 2 bytes (4 hex digits)"
        ))
    })
}

/// The SELECT commands for `"3F00"`, `"3F00/5000/0101"` (path from the MF, P1=08) or
/// `"5000/0101"` (one SELECT per file identifier from the current DF).
fn select_commands(path: &str) -> Fallible<Vec<Command>> {
    let what = "iso::select";
    let parts: Vec<&str> = path.split('/').map(str::trim).collect();
    let mut ids = Vec::with_capacity(parts.len());
    for part in &parts {
        ids.push(fid(part, what)?);
    }
    let by_fid = |id: [u8; 2]| Command::new(0x00, 0xA4, 0x00, 0x0C).with_data(id.to_vec());
    match ids.as_slice() {
        [one] => Ok(vec![by_fid(*one)]),
        [[0x3F, 0x00], rest @ ..] => {
            let data: Vec<u8> = rest.iter().flatten().copied().collect();
            Ok(vec![Command::new(0x00, 0xA4, 0x08, 0x0C).with_data(data)])
        }
        many => Ok(many.iter().map(|id| by_fid(*id)).collect()),
    }
}

fn pin_bytes(value: &Dynamic, what: &str) -> Fallible<Bytes> {
    if let Some(text) = value.read_lock::<ImmutableString>() {
        return Ok(Bytes {
            bytes: text.as_bytes().to_vec(),
            secret: Vec::new(),
        });
    }
    bytes_of(value, what)
}

fn record_p1(n: INT, what: &str) -> Fallible<u8> {
    Ok(int_in(n, 1..=254, what)? as u8)
}

fn select(s: &Shared, path: ImmutableString) -> Fallible<Blob> {
    let mut data = Vec::new();
    for command in select_commands(&path)? {
        data = s
            .borrow_mut()
            .exchange_ok(&format!("iso::select `{path}`"), &command)?;
    }
    Ok(data)
}

fn select_aid(s: &Shared, aid: Dynamic) -> Fallible<Blob> {
    let aid = bytes_of(&aid, "iso::select_aid")?;
    let _scope = scope_of(s, &aid);
    let aid = aid.bytes;
    if aid.is_empty() || aid.len() > 16 {
        return Err(Fault::failed(format!(
            "iso::select_aid: an AID has 1 to 16 bytes, got {}",
            aid.len()
        )));
    }
    let command = Command::new(0x00, 0xA4, 0x04, 0x00)
        .with_data(aid)
        .with_le(256);
    s.borrow_mut().exchange_ok("iso::select_aid", &command)
}

fn read_binary(s: &Shared, offset: INT, len: INT) -> Fallible<Blob> {
    let offset = int_in(offset, 0..=0x7FFF, "iso::read_binary: offset")?;
    let len = int_in(len, 1..=65_536, "iso::read_binary: length")?;
    let command = Command::new(0x00, 0xB0, (offset >> 8) as u8, offset as u8).with_le(len);
    s.borrow_mut().exchange_ok("iso::read_binary", &command)
}

fn read_binary_sfi(s: &Shared, sfi: INT, offset: INT, len: INT) -> Fallible<Blob> {
    let sfi = int_in(sfi, 1..=30, "iso::read_binary_sfi: SFI")?;
    let offset = int_in(offset, 0..=255, "iso::read_binary_sfi: offset")?;
    let len = int_in(len, 1..=65_536, "iso::read_binary_sfi: length")?;
    let command = Command::new(0x00, 0xB0, 0x80 | sfi as u8, offset as u8).with_le(len);
    s.borrow_mut().exchange_ok("iso::read_binary_sfi", &command)
}

fn update_binary(s: &Shared, offset: INT, data: Dynamic) -> Fallible<Blob> {
    let offset = int_in(offset, 0..=0x7FFF, "iso::update_binary: offset")?;
    let data = bytes_of(&data, "iso::update_binary: data")?;
    let _scope = scope_of(s, &data);
    let data = data.bytes;
    if data.is_empty() {
        return Err(Fault::failed("iso::update_binary: data is empty"));
    }
    let command = Command::new(0x00, 0xD6, (offset >> 8) as u8, offset as u8).with_data(data);
    s.borrow_mut().exchange_ok("iso::update_binary", &command)
}

fn read_record(s: &Shared, n: INT) -> Fallible<Blob> {
    let command =
        Command::new(0x00, 0xB2, record_p1(n, "iso::read_record: record")?, 0x04).with_le(256);
    s.borrow_mut().exchange_ok("iso::read_record", &command)
}

fn update_record(s: &Shared, n: INT, data: Dynamic) -> Fallible<Blob> {
    let p1 = record_p1(n, "iso::update_record: record")?;
    let data = bytes_of(&data, "iso::update_record: data")?;
    let _scope = scope_of(s, &data);
    let data = data.bytes;
    let command = Command::new(0x00, 0xDC, p1, 0x04).with_data(data);
    s.borrow_mut().exchange_ok("iso::update_record", &command)
}

fn append_record(s: &Shared, data: Dynamic) -> Fallible<Blob> {
    let data = bytes_of(&data, "iso::append_record: data")?;
    let _scope = scope_of(s, &data);
    let data = data.bytes;
    let command = Command::new(0x00, 0xE2, 0x00, 0x00).with_data(data);
    s.borrow_mut().exchange_ok("iso::append_record", &command)
}

fn verify(s: &Shared, reference: INT, pin: Dynamic) -> Fallible<Blob> {
    let reference = int_in(reference, 0..=255, "iso::verify: reference")? as u8;
    let pin = pin_bytes(&pin, "iso::verify: PIN")?;
    let _scope = scope_of(s, &pin);
    let command = Command::new(0x00, 0x20, 0x00, reference).with_data(pin.bytes);
    s.borrow_mut().exchange_ok("iso::verify", &command)
}

fn get_challenge(s: &Shared, len: INT) -> Fallible<Blob> {
    let len = int_in(len, 1..=256, "iso::get_challenge: length")?;
    let command = Command::new(0x00, 0x84, 0x00, 0x00).with_le(len);
    s.borrow_mut().exchange_ok("iso::get_challenge", &command)
}

/// Builds the `iso` module.
pub(crate) fn module(session: &Shared) -> Module {
    let mut m = Module::new();
    let s = session.clone();
    located_fn!(m, "select", |path: ImmutableString| select(&s, path));
    let s = session.clone();
    located_fn!(m, "select_aid", |aid: Dynamic| select_aid(&s, aid));
    let s = session.clone();
    located_fn!(m, "read_binary", |offset: INT, len: INT| {
        read_binary(&s, offset, len)
    });
    let s = session.clone();
    located_fn!(m, "read_binary_sfi", |sfi: INT, offset: INT, len: INT| {
        read_binary_sfi(&s, sfi, offset, len)
    });
    let s = session.clone();
    located_fn!(m, "update_binary", |offset: INT, data: Dynamic| {
        update_binary(&s, offset, data)
    });
    let s = session.clone();
    located_fn!(m, "read_record", |n: INT| read_record(&s, n));
    let s = session.clone();
    located_fn!(m, "update_record", |n: INT, data: Dynamic| {
        update_record(&s, n, data)
    });
    let s = session.clone();
    located_fn!(m, "append_record", |data: Dynamic| append_record(&s, data));
    let s = session.clone();
    located_fn!(m, "verify", |reference: INT, pin: Dynamic| {
        verify(&s, reference, pin)
    });
    let s = session.clone();
    located_fn!(m, "get_challenge", |len: INT| get_challenge(&s, len));
    m
}

/// Registers the `iso` module under its name.
pub(crate) fn register(engine: &mut Engine, session: &Shared) {
    engine.register_static_module("iso", module(session).into());
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::apdu::hex;

    #[track_caller]
    fn check_select(path: &str, expected: &[&str]) {
        let commands: Vec<String> = select_commands(path)
            .unwrap()
            .iter()
            .map(|c| hex::format(&c.to_bytes()))
            .collect();
        assert_eq!(commands, expected, "{path}");
    }

    #[test]
    fn select_paths() {
        check_select("3F00", &["00 A4 00 0C 02 3F 00"]);
        check_select("3F00/5000/0101", &["00 A4 08 0C 04 50 00 01 01"]);
        check_select(
            "5000/0101",
            &["00 A4 00 0C 02 50 00", "00 A4 00 0C 02 01 01"],
        );
        assert!(select_commands("3F0").is_err());
        assert!(select_commands("3F00//0101").is_err());
        assert!(select_commands("3F0011").is_err());
    }
}
