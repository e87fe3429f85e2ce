//! `iso::` — ISO 7816-4 file commands for scripts.
//!
//! ```rhai
//! iso::select("3F00/5000/0101");
//! let data = iso::read_binary(0, 300);   // two short READ BINARY commands
//! if iso::last_sw() == 0x6282 { print("the file is shorter"); }
//! iso::verify(1, "1234");
//! ```
//!
//! Each function builds its commands with the class byte `iso::cla` set (`00` unless told),
//! sends them following `61xx`/`6Cxx` whatever `--no-auto-response` says (that option is for
//! `send`), and returns the response data. Lengths are split into commands the card accepts
//! (`crate::iso7816::transfer`: short APDUs unless the ATR announces extended lengths or
//! `iso::extended(true)` says so). `90 00` and warnings (`62xx`, `63xx`) return the data and
//! leave the status word in `iso::last_sw()`; anything else throws, naming the status word and
//! its meaning. VERIFY is the exception: it throws on anything but `90 00`, because `63Cx`
//! there means a wrong PIN. PINs given as strings are sent as their text (`"1234"` is
//! `31 32 33 34`); Blobs and secrets are sent as they are. This module knows the command
//! encodings and the Rhai signatures, not any card.

use std::cell::{Ref, RefMut};

use rhai::{Blob, Dynamic, Engine, EvalAltResult, INT, ImmutableString, Module};

use super::bytes_api::{Bytes, bytes_of, parse_hex, scope_of};
use super::error::{Fault, located_fn};
use super::session::Shared;
use crate::apdu::{Command, Response, StatusWord};
use crate::iso7816::extended_length_announced;
use crate::iso7816::transfer::{Failure, Outcome, RecordMode, Transfer, is_warning};
use crate::reader::Exchange;

type Fallible<T> = Result<T, Box<EvalAltResult>>;

/// What `iso::` remembers between calls of one run (kept in the session, where each run
/// starts it anew).
#[derive(Debug)]
pub(crate) struct IsoState {
    /// The class byte of every command.
    cla: u8,
    /// `iso::extended(…)`: `None` means "as the ATR announces".
    extended: Option<bool>,
    /// The status word of the last `iso::` command (a warning, `90 00`, or the error thrown).
    last_sw: StatusWord,
}

impl Default for IsoState {
    fn default() -> IsoState {
        IsoState {
            cla: 0x00,
            extended: None,
            last_sw: StatusWord::OK,
        }
    }
}

/// The session, as each native function needs it.
#[derive(Clone)]
struct Ctx {
    session: Shared,
}

impl Ctx {
    /// The `iso::` state of the run (not to be held across a use of the card).
    fn iso(&self) -> Ref<'_, IsoState> {
        Ref::map(self.session.borrow(), |s| &s.remembered.iso)
    }

    fn iso_mut(&self) -> RefMut<'_, IsoState> {
        RefMut::map(self.session.borrow_mut(), |s| &mut s.remembered.iso)
    }

    /// The transfer settings for the card in the session now (its ATR may change on reset).
    fn transfer(&self) -> Transfer {
        let session = self.session.borrow();
        let iso = &session.remembered.iso;
        let extended = iso
            .extended
            .unwrap_or_else(|| extended_length_announced(session.card.atr()));
        Transfer {
            cla: iso.cla,
            extended,
        }
    }

    /// Runs `f` with a `send` over the session's card, then turns its result into the
    /// script's: the data, `iso::last_sw` set, failures thrown as `what: …`.
    fn run(
        &self,
        what: &str,
        f: impl FnOnce(
            &Transfer,
            &mut dyn FnMut(&Command) -> Result<Response, crate::reader::Error>,
        ) -> Result<Outcome, Failure<crate::reader::Error>>,
    ) -> Fallible<Blob> {
        let transfer = self.transfer();
        let result = {
            let mut session = self.session.borrow_mut();
            let mut send = |command: &Command| session.card.exchange_with(command, Exchange::AUTO);
            f(&transfer, &mut send)
        };
        match result {
            Ok(outcome) => {
                self.iso_mut().last_sw = outcome.sw;
                Ok(outcome.data)
            }
            Err(failure) => Err(self.fail(what, failure)),
        }
    }

    fn fail(&self, what: &str, failure: Failure<crate::reader::Error>) -> Box<EvalAltResult> {
        if let Failure::Card { sw, .. } = &failure {
            self.iso_mut().last_sw = *sw;
        }
        let session = self.session.borrow();
        match failure {
            Failure::Argument(message) => Fault::failed(format!("{what}: {message}")),
            Failure::Send(e) => Fault::transport(&e),
            Failure::Card { command, sw } => Fault::failed(format!(
                "{what}: card answered {sw} ({}) to `{}`",
                sw.describe_after(&command.to_bytes()),
                session.show(&command)
            )),
            Failure::Length {
                command,
                wanted,
                got,
            } => Fault::failed(format!(
                "{what}: card returned {got} byte(s) to `{}`, which asks for {wanted}",
                session.show(&command)
            )),
        }
    }

    /// Sends one command built with the current class byte; `strict` accepts only `90 00`.
    fn single(&self, what: &str, command: Command, strict: bool) -> Fallible<Blob> {
        self.run(what, |t, send| {
            let outcome = t.single(send, command.clone())?;
            if strict && !outcome.sw.is_ok() {
                return Err(Failure::Card {
                    command,
                    sw: outcome.sw,
                });
            }
            Ok(outcome)
        })
    }
}

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
/// `"5000/0101"` (one SELECT per file identifier from the current DF), with class `cla`.
///
/// GSM 11.11 (class `A0`) has neither paths nor P2 `0C`: one `A0 A4 00 00 02 FID` per file.
fn select_commands(path: &str, cla: u8) -> Fallible<Vec<Command>> {
    let what = "iso::select";
    let parts: Vec<&str> = path.split('/').map(str::trim).collect();
    let mut ids = Vec::with_capacity(parts.len());
    for part in &parts {
        ids.push(fid(part, what)?);
    }
    if cla == 0xA0 {
        return Ok(ids
            .iter()
            .map(|id| Command::new(cla, 0xA4, 0x00, 0x00).with_data(id.to_vec()))
            .collect());
    }
    let by_fid = |id: [u8; 2]| Command::new(cla, 0xA4, 0x00, 0x0C).with_data(id.to_vec());
    match ids.as_slice() {
        [one] => Ok(vec![by_fid(*one)]),
        [[0x3F, 0x00], rest @ ..] => {
            let data: Vec<u8> = rest.iter().flatten().copied().collect();
            Ok(vec![Command::new(cla, 0xA4, 0x08, 0x0C).with_data(data)])
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

fn select(c: &Ctx, path: ImmutableString) -> Fallible<Blob> {
    let cla = c.iso().cla;
    let what = format!("iso::select `{path}`");
    let mut data = Vec::new();
    for command in select_commands(&path, cla)? {
        data = c.run(&what, |_, send| {
            let response = send(&command).map_err(Failure::Send)?;
            let sw = response.sw;
            // GSM 11.11: `9Fxx` is a successful SELECT with xx bytes of status to GET.
            let gsm_done = cla == 0xA0 && sw.sw1() == 0x9F;
            if sw.is_ok() || is_warning(sw) || gsm_done {
                Ok(Outcome {
                    data: response.data,
                    sw,
                })
            } else {
                Err(Failure::Card {
                    command: command.clone(),
                    sw,
                })
            }
        })?;
    }
    Ok(data)
}

fn select_aid(c: &Ctx, aid: Dynamic) -> Fallible<Blob> {
    let aid = bytes_of(&aid, "iso::select_aid")?;
    let _scope = scope_of(&c.session, &aid);
    let aid = aid.bytes;
    if aid.is_empty() || aid.len() > 16 {
        return Err(Fault::failed(format!(
            "iso::select_aid: an AID has 1 to 16 bytes, got {}",
            aid.len()
        )));
    }
    let command = Command::new(c.iso().cla, 0xA4, 0x04, 0x00)
        .with_data(aid)
        .with_le(256);
    c.single("iso::select_aid", command, false)
}

fn read_binary(c: &Ctx, offset: INT, len: INT) -> Fallible<Blob> {
    let offset = int_in(offset, 0..=0x7FFF, "iso::read_binary: offset")?;
    let len = int_in(len, 1..=0x8000, "iso::read_binary: length")?;
    c.run("iso::read_binary", |t, send| {
        t.read_binary(send, None, offset, len)
    })
}

fn read_binary_sfi(c: &Ctx, sfi: INT, offset: INT, len: INT) -> Fallible<Blob> {
    let sfi = int_in(sfi, 1..=30, "iso::read_binary_sfi: SFI")? as u8;
    let offset = int_in(offset, 0..=255, "iso::read_binary_sfi: offset")?;
    let len = int_in(len, 1..=0x8000, "iso::read_binary_sfi: length")?;
    c.run("iso::read_binary_sfi", |t, send| {
        t.read_binary(send, Some(sfi), offset, len)
    })
}

fn update_binary(c: &Ctx, offset: INT, data: Dynamic) -> Fallible<Blob> {
    binary_write(
        c,
        "iso::update_binary",
        offset,
        data,
        Transfer::update_binary,
    )
}

fn write_binary(c: &Ctx, offset: INT, data: Dynamic) -> Fallible<Blob> {
    binary_write(c, "iso::write_binary", offset, data, Transfer::write_binary)
}

/// The binary write signature [`Transfer`] offers for UPDATE and WRITE BINARY.
type BinaryWrite = fn(
    &Transfer,
    &mut dyn FnMut(&Command) -> Result<Response, crate::reader::Error>,
    usize,
    &[u8],
) -> Result<Outcome, Failure<crate::reader::Error>>;

fn binary_write(c: &Ctx, what: &str, offset: INT, data: Dynamic, f: BinaryWrite) -> Fallible<Blob> {
    let offset = int_in(offset, 0..=0x7FFF, &format!("{what}: offset"))?;
    let data = bytes_of(&data, &format!("{what}: data"))?;
    let _scope = scope_of(&c.session, &data);
    let data = data.bytes;
    if data.is_empty() {
        return Err(Fault::failed(format!("{what}: data is empty")));
    }
    c.run(what, |t, send| f(t, send, offset, &data))
}

fn erase_binary(c: &Ctx, offset: INT, end: Option<INT>) -> Fallible<Blob> {
    let offset = int_in(offset, 0..=0x7FFF, "iso::erase_binary: offset")?;
    let end = end
        .map(|end| int_in(end, 0..=0x8000, "iso::erase_binary: end"))
        .transpose()?;
    c.run("iso::erase_binary", |t, send| {
        t.erase_binary(send, offset, end)
    })
}

fn record_mode(which: &Dynamic, what: &str) -> Fallible<RecordMode> {
    if let Some(n) = which.clone().try_cast::<INT>() {
        return Ok(RecordMode::Number(record_p1(n, what)?));
    }
    if let Some(text) = which.clone().try_cast::<ImmutableString>() {
        return RecordMode::parse(&text).ok_or_else(|| {
            Fault::failed(format!(
                "{what} `{text}`: give a number 1..=254 or \"first\", \"last\", \"next\", \"previous\""
            ))
        });
    }
    Err(Fault::failed(format!(
        "{what}: give a number 1..=254 or \"first\", \"last\", \"next\", \"previous\", not {}",
        which.type_name()
    )))
}

fn read_record(c: &Ctx, which: Dynamic, len: Option<INT>) -> Fallible<Blob> {
    let what = "iso::read_record";
    let mode = record_mode(&which, "iso::read_record: record")?;
    let len = match len {
        Some(len) => Some(int_in(len, 1..=65_536, "iso::read_record: length")?),
        None => None,
    };
    c.run(what, |t, send| t.read_record(send, None, mode, len))
}

fn update_record(c: &Ctx, n: INT, data: Dynamic) -> Fallible<Blob> {
    let p1 = record_p1(n, "iso::update_record: record")?;
    let data = bytes_of(&data, "iso::update_record: data")?;
    let _scope = scope_of(&c.session, &data);
    let command = Command::new(c.iso().cla, 0xDC, p1, 0x04).with_data(data.bytes);
    c.single("iso::update_record", command, false)
}

fn append_record(c: &Ctx, data: Dynamic) -> Fallible<Blob> {
    let data = bytes_of(&data, "iso::append_record: data")?;
    let _scope = scope_of(&c.session, &data);
    let command = Command::new(c.iso().cla, 0xE2, 0x00, 0x00).with_data(data.bytes);
    c.single("iso::append_record", command, false)
}

fn verify(c: &Ctx, reference: INT, pin: Dynamic) -> Fallible<Blob> {
    let reference = int_in(reference, 0..=255, "iso::verify: reference")? as u8;
    let pin = pin_bytes(&pin, "iso::verify: PIN")?;
    let _scope = scope_of(&c.session, &pin);
    let command = Command::new(c.iso().cla, 0x20, 0x00, reference).with_data(pin.bytes);
    c.single("iso::verify", command, true)
}

fn get_challenge(c: &Ctx, len: INT) -> Fallible<Blob> {
    // The most one command can return on this card: 256, or 65,536 with extended lengths.
    let max = c.transfer().max_le() as INT;
    let len = int_in(len, 1..=max, "iso::get_challenge: length")?;
    c.run("iso::get_challenge", |t, send| t.get_challenge(send, len))
}

fn set_cla(c: &Ctx, cla: INT) -> Fallible<()> {
    let cla = int_in(cla, 0..=255, "iso::cla: class byte")? as u8;
    // `FF` is reserved for PPS (ISO/IEC 7816-3) and the readers' pseudo-APDUs.
    if cla == 0xFF {
        return Err(Fault::failed(
            "iso::cla: class byte FF is not a card class (it is the readers' pseudo-APDUs)",
        ));
    }
    c.iso_mut().cla = cla;
    Ok(())
}

/// Builds the `iso` module.
pub(crate) fn module(session: &Shared) -> Module {
    let mut m = Module::new();
    let ctx = Ctx {
        session: session.clone(),
    };
    let c = ctx.clone();
    located_fn!(m, "select", |path: ImmutableString| select(&c, path));
    let c = ctx.clone();
    located_fn!(m, "select_aid", |aid: Dynamic| select_aid(&c, aid));
    let c = ctx.clone();
    located_fn!(m, "read_binary", |offset: INT, len: INT| {
        read_binary(&c, offset, len)
    });
    let c = ctx.clone();
    located_fn!(m, "read_binary_sfi", |sfi: INT, offset: INT, len: INT| {
        read_binary_sfi(&c, sfi, offset, len)
    });
    let c = ctx.clone();
    located_fn!(m, "update_binary", |offset: INT, data: Dynamic| {
        update_binary(&c, offset, data)
    });
    let c = ctx.clone();
    located_fn!(m, "write_binary", |offset: INT, data: Dynamic| {
        write_binary(&c, offset, data)
    });
    let c = ctx.clone();
    located_fn!(m, "erase_binary", |offset: INT| erase_binary(
        &c, offset, None
    ));
    let c = ctx.clone();
    located_fn!(m, "erase_binary", |offset: INT, end: INT| erase_binary(
        &c,
        offset,
        Some(end)
    ));
    let c = ctx.clone();
    located_fn!(m, "read_record", |which: Dynamic| read_record(
        &c, which, None
    ));
    let c = ctx.clone();
    located_fn!(m, "read_record", |which: Dynamic, len: INT| read_record(
        &c,
        which,
        Some(len)
    ));
    let c = ctx.clone();
    located_fn!(m, "update_record", |n: INT, data: Dynamic| {
        update_record(&c, n, data)
    });
    let c = ctx.clone();
    located_fn!(m, "append_record", |data: Dynamic| append_record(&c, data));
    let c = ctx.clone();
    located_fn!(m, "verify", |reference: INT, pin: Dynamic| {
        verify(&c, reference, pin)
    });
    let c = ctx.clone();
    located_fn!(m, "get_challenge", |len: INT| get_challenge(&c, len));
    let c = ctx.clone();
    located_fn!(m, "cla", |cla: INT| set_cla(&c, cla));
    let c = ctx.clone();
    located_fn!(m, "cla", || Ok::<INT, Box<EvalAltResult>>(INT::from(
        c.iso().cla
    )));
    let c = ctx.clone();
    located_fn!(m, "extended", |on: bool| {
        c.iso_mut().extended = Some(on);
        Ok::<(), Box<EvalAltResult>>(())
    });
    let c = ctx.clone();
    located_fn!(m, "extended", || Ok::<bool, Box<EvalAltResult>>(
        c.transfer().extended
    ));
    let c = ctx;
    located_fn!(m, "last_sw", || Ok::<INT, Box<EvalAltResult>>(INT::from(
        c.iso().last_sw.0
    )));
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
        let commands: Vec<String> = select_commands(path, 0x00)
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
        assert!(select_commands("3F0", 0).is_err());
        assert!(select_commands("3F00//0101", 0).is_err());
        assert!(select_commands("3F0011", 0).is_err());
    }
}
