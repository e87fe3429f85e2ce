//! `cos::` — the file-card COS of the source documents for scripts (README "The file-card
//! COS"): authentication, key and PIN administration, CREATE FILE.
//!
//! ```rhai
//! let install = secret("env:COS_INSTALL_KEY");
//! cos::external_auth(0, install);                         // GET CHALLENGE + 00 82 00 00
//! cos::create_file(#{ type: "df", fid: "5000", name: "A0 00 00 02 47 10 01",
//!                     create: "key 0", delete: "key 0" });
//! cos::create_file(#{ type: "keys", fid: "0000", write: "key 0" });
//! cos::install_key(0, secret("env:ISSUER_KEY"), install); // enciphered under the install key
//! cos::install_pin(1, pin, secret("env:ISSUER_KEY"), 3);
//! cos::internal_auth(1, app_key);                         // throws unless the card holds it
//! ```
//!
//! Keys are 16-byte two-key 3DES values (hex text, Blobs or secrets); PINs are strings (sent
//! as their text), Blobs or secrets. Every byte a secret went into — the enciphered key and
//! PIN blocks, the cryptogram, CHANGE PIN's data — is masked as a secret in traces and
//! messages. Every function sends with `61xx` followed, requires `90 00`, and otherwise throws
//! naming the command (masked), the status word and its meaning in this COS. Arguments are
//! checked before anything is sent. `cos::lock_key` is irreversible: refused before sending
//! unless the run is armed (exit 4), and the guard refuses `5C 03` at the wire too.
//! `cos::external_auth` first asks the card for the key's counter (`00 82 00 n`, no data) and,
//! unarmed, refuses the last try: the guard cannot know a cryptogram is wrong, but this API
//! can keep a wrong key from blocking one for good. The
//! formats are those of [`crate::cos`] (the UNCONFIRMED choices documented there).

use std::ops::Range;

use rhai::{Blob, Dynamic, Engine, EvalAltResult, INT, ImmutableString, Map, Module};

use super::bytes_api::{Bytes, bytes_of, parse_hex, scope_of};
use super::error::{Fault, located_fn};
use super::session::Shared;
use crate::apdu::Command;
use crate::cos::{
    self, Access, Condition, CreateFile, FileType, KEY_INSTALL, KEY_LOCK, KEY_UNLOCK, PIN_CHANGE,
    PIN_INSTALL, PIN_UNLOCK, WriteMode,
};
use crate::reader::Exchange;

type Fallible<T> = Result<T, Box<EvalAltResult>>;

/// The retry limit of keys and PINs when a script gives none.
const DEFAULT_TRIES: INT = 3;

/// A key or PIN number, 0..=7.
fn reference(n: INT, what: &str) -> Fallible<u8> {
    u8::try_from(n)
        .ok()
        .filter(|n| *n <= cos::MAX_REFERENCE)
        .ok_or_else(|| Fault::failed(format!("{what}: number {n} is out of range 0..=7")))
}

fn tries(n: INT, what: &str) -> Fallible<u8> {
    u8::try_from(n)
        .ok()
        .filter(|n| (1..=15).contains(n))
        .ok_or_else(|| Fault::failed(format!("{what}: retry limit {n} is out of range 1..=15")))
}

fn key(value: &Dynamic, what: &str) -> Fallible<Bytes> {
    let key = bytes_of(value, what)?;
    if key.bytes.len() != cos::KEY_LEN {
        return Err(Fault::failed(format!(
            "{what}: a key of this COS is 16 bytes (two-key 3DES), got {}",
            key.bytes.len()
        )));
    }
    Ok(key)
}

fn pin(value: &Dynamic, what: &str) -> Fallible<Bytes> {
    let pin = if let Some(text) = value.read_lock::<ImmutableString>() {
        Bytes {
            bytes: text.as_bytes().to_vec(),
            secret: Vec::new(),
        }
    } else {
        bytes_of(value, what)?
    };
    cos::check_pin(&pin.bytes).map_err(|e| Fault::failed(format!("{what}: {e}")))?;
    Ok(pin)
}

/// All of `len` bytes, as secret ranges.
fn whole(len: usize) -> Vec<Range<usize>> {
    std::iter::once(0..len).collect()
}

/// Ranges of `len` bytes of data that are secret when any input was.
fn derived(inputs: &[&Bytes], len: usize) -> Vec<Range<usize>> {
    if inputs.iter().any(|b| b.is_secret()) {
        whole(len)
    } else {
        Vec::new()
    }
}

/// Sends `command` whose data has `secret` ranges, requires `90 00`; the response data.
fn send(
    session: &Shared,
    what: &str,
    command: Command,
    secret: Vec<Range<usize>>,
) -> Fallible<Blob> {
    let data = Bytes {
        bytes: command.data.clone(),
        secret,
    };
    let _scope = scope_of(session, &data);
    let mut session = session.borrow_mut();
    let response = session.exchange_with(&command, Exchange::AUTO)?;
    if response.is_ok() {
        return Ok(response.data);
    }
    let sw = response.sw;
    let meaning = cos::meaning(sw.0).map_or_else(|| sw.describe().to_string(), str::to_string);
    Err(Fault::failed(format!(
        "{what}: card answered {sw} ({meaning}) to `{}`",
        session.show(&command)
    )))
}

/// Key `n`'s tries left as the card reports them (`00 82 00 n` without data: `63Cx`),
/// 0 for a blocked or locked key, `None` when the card does not tell.
fn tries_left(s: &Shared, n: u8) -> Fallible<Option<u8>> {
    let response = s
        .borrow_mut()
        .exchange_with(&Command::new(0x00, 0x82, 0x00, n), Exchange::AUTO)?;
    Ok(match response.sw.0 {
        sw if sw & 0xFFF0 == 0x63C0 => Some((sw & 0x0F) as u8),
        0x6983 => Some(0),
        _ => None,
    })
}

fn key_tries(s: &Shared, n: INT) -> Fallible<Dynamic> {
    let n = reference(n, "cos::key_tries: key")?;
    Ok(tries_left(s, n)?.map_or(Dynamic::UNIT, |t| Dynamic::from_int(INT::from(t))))
}

fn external_auth(s: &Shared, n: INT, key_value: &Dynamic) -> Fallible<()> {
    let what = "cos::external_auth";
    let n = reference(n, &format!("{what}: key"))?;
    let key = key(key_value, &format!("{what}: key"))?;
    // A wrong key on the last try blocks the key, for good if no key can unlock it (a blank
    // card's install key): that try is taken only when armed.
    if tries_left(s, n)? == Some(1) && !s.borrow().settings.armed {
        return Err(Fault::refused(format!(
            "refused: {what}: key {n} has one try left, and a wrong key now would block it (for good, if no key can unlock it): this run is not armed (pass --arm-irreversible)"
        )));
    }
    let challenge = send(
        s,
        what,
        Command::new(0x00, 0x84, 0x00, 0x00).with_le(4),
        Vec::new(),
    )?;
    if challenge.len() != 4 {
        return Err(Fault::failed(format!(
            "{what}: the card gave a challenge of {} bytes to a request for 4",
            challenge.len()
        )));
    }
    let cryptogram = cos::cryptogram(&key.bytes, &challenge)
        .map_err(|e| Fault::failed(format!("{what}: {e}")))?;
    let command = Command::new(0x00, 0x82, 0x00, n).with_data(cryptogram.to_vec());
    send(s, what, command, derived(&[&key], 8)).map(drop)
}

fn internal_auth(
    s: &Shared,
    n: INT,
    key_value: &Dynamic,
    random: Option<&Dynamic>,
) -> Fallible<()> {
    let what = "cos::internal_auth";
    let n = reference(n, &format!("{what}: key"))?;
    let key = key(key_value, &format!("{what}: key"))?;
    let random = match random {
        Some(value) => {
            let random = bytes_of(value, &format!("{what}: random"))?.bytes;
            if !matches!(random.len(), 4 | 8) {
                return Err(Fault::failed(format!(
                    "{what}: random: the terminal's random is 4 or 8 bytes, got {}",
                    random.len()
                )));
            }
            random
        }
        None => crate::crypto::random(4).map_err(|e| Fault::failed(format!("{what}: {e}")))?,
    };
    let expected =
        cos::cryptogram(&key.bytes, &random).map_err(|e| Fault::failed(format!("{what}: {e}")))?;
    let command = Command::new(0x00, 0x88, 0x00, n)
        .with_data(random)
        .with_le(8);
    let answer = send(s, what, command, Vec::new())?;
    if answer != expected {
        return Err(Fault::failed(format!(
            "{what}: the card's cryptogram for key {n} is not the one the given key makes: the card does not hold that key"
        )));
    }
    Ok(())
}

/// A condition from its script spelling: `"always"`, `"never"`, `"pin N"`, `"key N"`.
fn condition(text: &str, what: &str) -> Fallible<Condition> {
    let words: Vec<&str> = text.split_whitespace().collect();
    let number = |n: &str| n.parse::<u8>().ok().filter(|n| *n <= cos::MAX_REFERENCE);
    let parsed = match words.as_slice() {
        ["always"] => Some(Condition::Always),
        ["never"] => Some(Condition::Never),
        ["pin", n] => number(n).map(Condition::Pin),
        ["key", n] => number(n).map(Condition::Key),
        _ => None,
    };
    parsed.ok_or_else(|| {
        Fault::failed(format!(
            "{what}: `{text}` is no access condition (always, never, pin 0-7, key 0-7)"
        ))
    })
}

fn file_type(text: &str, what: &str) -> Fallible<FileType> {
    Ok(match text {
        "df" => FileType::Df,
        "binary" => FileType::Transparent(WriteMode::Replace),
        "binary-or" => FileType::Transparent(WriteMode::Or),
        "binary-and" => FileType::Transparent(WriteMode::And),
        "records" => FileType::Records,
        "keys" => FileType::Keys,
        _ => {
            return Err(Fault::failed(format!(
                "{what}: type `{text}` is none of df, binary, binary-or, binary-and, records, keys"
            )));
        }
    })
}

/// The text of field `name` of `spec`, or `default`.
fn text_field(spec: &Map, name: &str, default: Option<&str>, what: &str) -> Fallible<String> {
    match spec.get(name) {
        Some(value) => value
            .read_lock::<ImmutableString>()
            .map(|s| s.to_string())
            .ok_or_else(|| Fault::failed(format!("{what}: `{name}` must be a string"))),
        None => default
            .map(str::to_string)
            .ok_or_else(|| Fault::failed(format!("{what}: `{name}` is missing"))),
    }
}

fn int_field(spec: &Map, name: &str, what: &str) -> Fallible<Option<INT>> {
    spec.get(name)
        .map(|value| {
            value
                .as_int()
                .map_err(|_| Fault::failed(format!("{what}: `{name}` must be an integer")))
        })
        .transpose()
}

/// Reads `cos::create_file`'s map (README lists its fields).
fn create_spec(spec: &Map) -> Fallible<CreateFile> {
    let what = "cos::create_file";
    const FIELDS: [&str; 10] = [
        "type",
        "fid",
        "name",
        "size",
        "record_len",
        "records",
        "read",
        "write",
        "create",
        "delete",
    ];
    if let Some(unknown) = spec.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(Fault::failed(format!(
            "{what}: unknown field `{unknown}` (type, fid, name, size, record_len, records, read, write, create, delete)"
        )));
    }
    let file_type = file_type(&text_field(spec, "type", None, what)?, what)?;
    let fid_text = text_field(spec, "fid", None, what)?;
    let fid = <[u8; 2]>::try_from(parse_hex(&fid_text, &format!("{what}: fid"))?.as_slice())
        .map(u16::from_be_bytes)
        .map_err(|_| Fault::failed(format!("{what}: fid `{fid_text}` must be 2 bytes")))?;
    let size = match file_type {
        FileType::Transparent(_) => {
            let size = int_field(spec, "size", what)?
                .ok_or_else(|| Fault::failed(format!("{what}: `size` is missing")))?;
            u16::try_from(size)
                .ok()
                .filter(|s| (1..=0x7FFF).contains(s))
                .ok_or_else(|| {
                    Fault::failed(format!("{what}: size {size} is out of range 1..=32767"))
                })?
        }
        FileType::Records => {
            let len = int_field(spec, "record_len", what)?.unwrap_or(0);
            let count = int_field(spec, "records", what)?.unwrap_or(0);
            if !(1..=255).contains(&len) || !(1..=254).contains(&count) {
                return Err(Fault::failed(format!(
                    "{what}: a record file needs `record_len` 1..=255 and `records` 1..=254"
                )));
            }
            (len as u16) << 8 | count as u16
        }
        FileType::Df | FileType::Keys => 0,
    };
    let name = match (file_type, spec.get("name")) {
        (FileType::Df, Some(_)) => parse_hex(
            &text_field(spec, "name", None, what)?,
            &format!("{what}: name"),
        )?,
        (FileType::Df, None) => {
            return Err(Fault::failed(format!(
                "{what}: a DF needs its `name` (AID)"
            )));
        }
        (_, Some(_)) => return Err(Fault::failed(format!("{what}: only a DF has a `name`"))),
        (_, None) => Vec::new(),
    };
    if file_type == FileType::Df && !(1..=16).contains(&name.len()) {
        return Err(Fault::failed(format!("{what}: a DF name is 1 to 16 bytes")));
    }
    let cond = |field: &str, default: Option<&str>| -> Fallible<Condition> {
        condition(
            &text_field(spec, field, default, what)?,
            &format!("{what}: {field}"),
        )
    };
    // A key file cannot be deleted on its own whatever it says; any other file must say who
    // may delete it, since `never` is for good.
    let delete_default = (file_type == FileType::Keys).then_some("never");
    let access = Access {
        // A key file's keys are never readable; say so in its conditions too.
        read: cond(
            "read",
            Some(if delete_default.is_some() {
                "never"
            } else {
                "always"
            }),
        )?,
        write: cond("write", Some("never"))?,
        create: cond("create", Some("never"))?,
        delete: cond("delete", delete_default)?,
    };
    if file_type == FileType::Keys && !matches!(access.write, Condition::Key(_)) {
        return Err(Fault::failed(format!(
            "{what}: a key file's `write` must name the key its keys are installed under (`key N`)"
        )));
    }
    Ok(CreateFile {
        file_type,
        fid,
        size,
        access,
        name,
    })
}

fn create_file(s: &Shared, spec: &Map) -> Fallible<()> {
    let what = "cos::create_file";
    let create = create_spec(spec)?;
    if create.access.delete == Condition::Never
        && create.file_type != FileType::Keys
        && !s.borrow().settings.armed
    {
        return Err(Fault::refused(format!(
            "refused: {what}: a file whose delete condition is `never` can never be removed: this run is not armed (pass --arm-irreversible)"
        )));
    }
    let (p1, p2, data) = create.encode();
    send(
        s,
        what,
        Command::new(0x80, cos::INS_CREATE, p1, p2).with_data(data),
        Vec::new(),
    )
    .map(drop)
}

fn delete_file(s: &Shared, fid: &str) -> Fallible<()> {
    let what = "cos::delete_file";
    let bytes = parse_hex(fid, &format!("{what}: fid"))?;
    if bytes.len() != 2 {
        return Err(Fault::failed(format!(
            "{what}: fid `{fid}` must be 2 bytes"
        )));
    }
    send(
        s,
        what,
        Command::new(0x00, 0xE4, 0x00, 0x00).with_data(bytes),
        Vec::new(),
    )
    .map(drop)
}

fn install_key(s: &Shared, n: INT, new: &Dynamic, under: &Dynamic, limit: INT) -> Fallible<()> {
    let what = "cos::install_key";
    let n = reference(n, &format!("{what}: key"))?;
    let new = key(new, &format!("{what}: key"))?;
    let under = key(under, &format!("{what}: protecting key"))?;
    let limit = tries(limit, what)?;
    let block = cos::key_block(&under.bytes, limit, &new.bytes)
        .map_err(|e| Fault::failed(format!("{what}: {e}")))?;
    let secret = derived(&[&new, &under], block.len());
    let command = Command::new(0x80, cos::INS_KEY, KEY_INSTALL, n).with_data(block);
    send(s, what, command, secret).map(drop)
}

fn install_pin(s: &Shared, n: INT, new: &Dynamic, under: &Dynamic, limit: INT) -> Fallible<()> {
    let what = "cos::install_pin";
    let n = reference(n, &format!("{what}: PIN"))?;
    let new = pin(new, &format!("{what}: PIN"))?;
    let under = key(under, &format!("{what}: protecting key"))?;
    let limit = tries(limit, what)?;
    let block = cos::pin_block(&under.bytes, limit, &new.bytes)
        .map_err(|e| Fault::failed(format!("{what}: {e}")))?;
    // A PIN given as plain text is still a PIN: its block is masked either way.
    let secret = whole(block.len());
    let command = Command::new(0x80, cos::INS_PIN, PIN_INSTALL, n).with_data(block);
    send(s, what, command, secret).map(drop)
}

fn change_pin(s: &Shared, n: INT, old: &Dynamic, new: &Dynamic) -> Fallible<()> {
    let what = "cos::change_pin";
    let n = reference(n, &format!("{what}: PIN"))?;
    let old = pin(old, &format!("{what}: old PIN"))?;
    let new = pin(new, &format!("{what}: new PIN"))?;
    let data = cos::change_pin_data(&old.bytes, &new.bytes);
    let secret = whole(data.len());
    let command = Command::new(0x00, cos::INS_PIN, PIN_CHANGE, n).with_data(data);
    send(s, what, command, secret).map(drop)
}

/// UNLOCK KEY, UNLOCK PIN, LOCK KEY: no data.
fn plain(s: &Shared, what: &str, ins: u8, p1: u8, n: INT) -> Fallible<()> {
    let n = reference(n, &format!("{what}: number"))?;
    send(s, what, Command::new(0x80, ins, p1, n), Vec::new()).map(drop)
}

fn lock_key(s: &Shared, n: INT) -> Fallible<()> {
    let what = "cos::lock_key";
    reference(n, &format!("{what}: key"))?;
    if !s.borrow().settings.armed {
        return Err(Fault::refused(format!(
            "refused: {what}: locking key {n} cannot be undone (a locked install key freezes the card's structure): this run is not armed (pass --arm-irreversible)"
        )));
    }
    plain(s, what, cos::INS_KEY, KEY_LOCK, n)
}

/// Builds the `cos` module.
pub(crate) fn module(session: &Shared) -> Module {
    let mut m = Module::new();
    let s = session.clone();
    located_fn!(m, "external_auth", |n: INT, key: Dynamic| external_auth(
        &s, n, &key
    ));
    let s = session.clone();
    located_fn!(m, "internal_auth", |n: INT, key: Dynamic| internal_auth(
        &s, n, &key, None
    ));
    let s = session.clone();
    located_fn!(
        m,
        "internal_auth",
        |n: INT, key: Dynamic, random: Dynamic| internal_auth(&s, n, &key, Some(&random))
    );
    let s = session.clone();
    located_fn!(m, "create_file", |spec: Map| create_file(&s, &spec));
    let s = session.clone();
    located_fn!(m, "delete_file", |fid: ImmutableString| delete_file(
        &s, &fid
    ));
    let s = session.clone();
    located_fn!(m, "install_key", |n: INT, key: Dynamic, under: Dynamic| {
        install_key(&s, n, &key, &under, DEFAULT_TRIES)
    });
    let s = session.clone();
    located_fn!(
        m,
        "install_key",
        |n: INT, key: Dynamic, under: Dynamic, limit: INT| {
            install_key(&s, n, &key, &under, limit)
        }
    );
    let s = session.clone();
    located_fn!(m, "install_pin", |n: INT, pin: Dynamic, under: Dynamic| {
        install_pin(&s, n, &pin, &under, DEFAULT_TRIES)
    });
    let s = session.clone();
    located_fn!(
        m,
        "install_pin",
        |n: INT, pin: Dynamic, under: Dynamic, limit: INT| {
            install_pin(&s, n, &pin, &under, limit)
        }
    );
    let s = session.clone();
    located_fn!(m, "change_pin", |n: INT, old: Dynamic, new: Dynamic| {
        change_pin(&s, n, &old, &new)
    });
    let s = session.clone();
    located_fn!(m, "unlock_key", |n: INT| plain(
        &s,
        "cos::unlock_key",
        cos::INS_KEY,
        KEY_UNLOCK,
        n
    ));
    let s = session.clone();
    located_fn!(m, "unlock_pin", |n: INT| plain(
        &s,
        "cos::unlock_pin",
        cos::INS_PIN,
        PIN_UNLOCK,
        n
    ));
    let s = session.clone();
    located_fn!(m, "lock_key", |n: INT| lock_key(&s, n));
    let s = session.clone();
    located_fn!(m, "key_tries", |n: INT| key_tries(&s, n));
    m
}

/// Registers the `cos` module under its name.
pub(crate) fn register(engine: &mut Engine, session: &Shared) {
    engine.register_static_module("cos", module(session).into());
}

#[cfg(test)]
mod tests;
