//! `mfc::` — MIFARE Classic for scripts: access bits and trailers as data, and the card
//! operations through PC/SC Part 3 storage-card commands (protocols.md §2.1, §4, §5).
//!
//! ```rhai
//! mfc::auth(7, "A", "FFFFFFFFFFFF");
//! let access = mfc::access_bits("110", "110", "110", "011");      // 08 77 8F
//! mfc::write(7, mfc::trailer(secret("env:KEY_A"), access, secret("env:KEY_B")));
//! mfc::auth(4, "B", secret("env:KEY_B"));
//! mfc::value_init(4, 100, 4);
//! mfc::decrement(4, 30);
//! print(mfc::value(4));                                            // 70
//! ```
//!
//! Every argument is checked before anything is sent: a key that is not 6 bytes, a block the
//! card does not have (the layout comes from the ATR, §2.3), data that is not 16 bytes, a value
//! that does not fit 32 bits or an access condition that is not three bits is an error naming
//! the argument. Card functions throw on a status word other than 90 00. `increment` and
//! `decrement` use the reader family's own command and byte order (`picc::kind()`). Keys are loaded into
//! volatile slot 00 (key A) or 01 (key B), the two slots every PC/SC reader has. Whether a
//! trailer write is irreversible is decided below, by the guard (`reader/guard.rs`).
//!
//! This file holds the card operations; `data.rs` the functions that need no card
//! (`access_bits`, `decode_access`, `trailer`).

mod data;

use rhai::{Blob, Dynamic, Engine, EvalAltResult, INT, ImmutableString, Module};

use super::bytes_api::{bytes_of, scope_of};
use super::error::{Fault, located_fn};
use super::session::Shared;
use crate::apdu::Command;
use crate::mifare::classic::{Layout, parse_value_block, value_block};
use crate::reader::framing::ValueOp;
use crate::reader::guard::Family;
use data::{access_bits, decode_access, key_arg, trailer};

type Fallible<T> = Result<T, Box<EvalAltResult>>;

/// The card's layout from its ATR, or an error naming the function.
fn layout(session: &Shared, what: &str) -> Fallible<Layout> {
    match Family::from_atr(session.borrow().card.atr()) {
        Family::Classic(layout) => Ok(layout),
        _ => Err(Fault::failed(format!(
            "{what}: the card is not a MIFARE Classic (its ATR names no Classic card, protocols.md §2.3)"
        ))),
    }
}

fn block_arg(session: &Shared, block: INT, what: &str) -> Fallible<(u8, Layout)> {
    let layout = layout(session, what)?;
    let last = INT::from(layout.block_count()) - 1;
    match u8::try_from(block) {
        Ok(b) if layout.has_block(b) => Ok((b, layout)),
        _ => Err(Fault::failed(format!(
            "{what}: block {block} is out of range for a MIFARE Classic {layout} (blocks 0 to {last})"
        ))),
    }
}

fn int_arg(value: INT, range: std::ops::RangeInclusive<INT>, what: &str) -> Fallible<INT> {
    if range.contains(&value) {
        Ok(value)
    } else {
        Err(Fault::failed(format!(
            "{what} {value} does not fit: expected {} to {}",
            range.start(),
            range.end()
        )))
    }
}

fn auth(session: &Shared, block: INT, key_type: &str, key: &Dynamic) -> Fallible<()> {
    let what = "mfc::auth";
    let (block, _) = block_arg(session, block, what)?;
    let (slot, code, name) = match key_type {
        "A" | "a" => (0x00, 0x60, "key A"),
        "B" | "b" => (0x01, 0x61, "key B"),
        other => {
            return Err(Fault::failed(format!(
                "{what}: key type must be \"A\" or \"B\", got \"{other}\""
            )));
        }
    };
    let key = key_arg(key, "mfc::auth: key")?;
    let _scope = scope_of(session, &key);
    let load = Command::new(0xFF, 0x82, 0x00, slot).with_data(key.bytes);
    let general =
        Command::new(0xFF, 0x86, 0x00, 0x00).with_data(vec![0x01, 0x00, block, code, slot]);
    let mut s = session.borrow_mut();
    s.exchange_ok(&format!("{what}: loading {name}"), &load)?;
    s.exchange_ok(&format!("{what}: block {block} with {name}"), &general)?;
    Ok(())
}

fn read(session: &Shared, block: INT, what: &str) -> Fallible<(u8, [u8; 16])> {
    let (block, _) = block_arg(session, block, what)?;
    let command = Command::new(0xFF, 0xB0, 0x00, block).with_le(16);
    let data = session
        .borrow_mut()
        .exchange_ok(&format!("{what}: block {block}"), &command)?;
    let data = <[u8; 16]>::try_from(data.as_slice()).map_err(|_| {
        Fault::failed(format!(
            "{what}: block {block}: the card answered {} bytes, not 16",
            data.len()
        ))
    })?;
    Ok((block, data))
}

fn write(session: &Shared, block: u8, data: Vec<u8>, what: &str) -> Fallible<()> {
    let command = Command::new(0xFF, 0xD6, 0x00, block).with_data(data);
    session
        .borrow_mut()
        .exchange_ok(&format!("{what}: block {block}"), &command)?;
    Ok(())
}

/// INCREMENT / DECREMENT with TRANSFER in the reader's own command and byte order: Omnikey
/// `FF D4`/`FF D8 00 <blk> 04 <n LSB first>` (§1.2), ACS `FF D7 00 <blk> 05 01|02 <n MSB
/// first>` (`reader/driver.rs`). A failure names the reader family.
fn value_op(session: &Shared, op: ValueOp, block: INT, n: INT, what: &str) -> Fallible<()> {
    let (block, _) = block_arg(session, block, what)?;
    let n = int_arg(n, 0..=INT::from(i32::MAX), &format!("{what}: n"))? as u32;
    let kind = session.borrow_mut().reader_kind()?;
    let command = kind
        .driver()
        .value_command(op, block, n)
        .map_err(|e| Fault::failed(format!("{what}: {e}")))?;
    session.borrow_mut().exchange_ok(
        &format!("{what}: block {block} (reader family: {})", kind.family()),
        &command,
    )?;
    Ok(())
}

fn write_block(session: &Shared, block: INT, data: &Dynamic) -> Fallible<()> {
    let what = "mfc::write";
    let (block, _) = block_arg(session, block, what)?;
    let data = bytes_of(data, "mfc::write: data")?;
    let _scope = scope_of(session, &data);
    let data = data.bytes;
    if data.len() != 16 {
        return Err(Fault::failed(format!(
            "{what}: data must be 16 bytes (one block), got {}",
            data.len()
        )));
    }
    write(session, block, data, what)
}

fn value_init(session: &Shared, block: INT, value: INT, addr: INT) -> Fallible<()> {
    let what = "mfc::value_init";
    let (block, layout) = block_arg(session, block, what)?;
    if layout.is_trailer(block) {
        return Err(Fault::failed(format!(
            "{what}: block {block} is a sector trailer, not a data block"
        )));
    }
    let full = INT::from(i32::MIN)..=INT::from(i32::MAX);
    let value = int_arg(value, full, &format!("{what}: value"))? as i32;
    let addr = int_arg(addr, 0..=255, &format!("{what}: addr"))? as u8;
    write(session, block, value_block(value, addr).to_vec(), what)
}

fn value(session: &Shared, block: INT) -> Fallible<INT> {
    let what = "mfc::value";
    let (block, data) = read(session, block, what)?;
    let (value, _) = parse_value_block(&data)
        .map_err(|e| Fault::failed(format!("{what}: block {block} is not a value block: {e}")))?;
    Ok(INT::from(value))
}

/// Builds the `mfc` module.
pub(crate) fn module(session: &Shared) -> Module {
    type Text = ImmutableString;
    let mut m = Module::new();
    located_fn!(m, "access_bits", |b0: Text, b1: Text, b2: Text, t: Text| {
        access_bits([("b0", &b0), ("b1", &b1), ("b2", &b2), ("trailer", &t)])
    });
    located_fn!(m, "decode_access", |bytes: Dynamic| decode_access(&bytes));
    located_fn!(m, "trailer", |a: Dynamic, bits: Dynamic, b: Dynamic| {
        trailer(&a, &bits, None, &b)
    });
    located_fn!(m, "trailer", |a: Dynamic,
                               bits: Dynamic,
                               gpb: Dynamic,
                               b: Dynamic| {
        trailer(&a, &bits, Some(&gpb), &b)
    });
    let s = session.clone();
    located_fn!(m, "auth", |block: INT, key_type: Text, key: Dynamic| {
        auth(&s, block, &key_type, &key)
    });
    let s = session.clone();
    located_fn!(m, "read", |block: INT| {
        read(&s, block, "mfc::read").map(|(_, data)| Blob::from(data))
    });
    let s = session.clone();
    located_fn!(m, "write", |block: INT, data: Dynamic| {
        write_block(&s, block, &data)
    });
    let s = session.clone();
    located_fn!(m, "value_init", |block: INT, v: INT, addr: INT| {
        value_init(&s, block, v, addr)
    });
    let s = session.clone();
    located_fn!(m, "value", |block: INT| value(&s, block));
    let s = session.clone();
    located_fn!(m, "increment", |block: INT, n: INT| {
        value_op(&s, ValueOp::Increment, block, n, "mfc::increment")
    });
    let s = session.clone();
    located_fn!(m, "decrement", |block: INT, n: INT| {
        value_op(&s, ValueOp::Decrement, block, n, "mfc::decrement")
    });
    m
}

/// Registers the `mfc` module under its name.
pub(crate) fn register(engine: &mut Engine, session: &Shared) {
    engine.register_static_module("mfc", module(session).into());
}

#[cfg(test)]
mod tests;
