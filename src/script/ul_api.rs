//! `ul::` — MIFARE Ultralight (MF0ICU1) pages for scripts, through PC/SC Part 3 storage-card
//! commands and the Omnikey generic session (protocols.md §2.1, §1.1, §6).
//!
//! ```rhai
//! let uid = ul::uid();                       // 7 bytes, BCC0/BCC1 checked
//! ul::write(4, "DE AD BE EF");
//! let pages = ul::read(4);                   // pages 4-7, 16 bytes
//! ul::lock([4, 5]);                          // irreversible: needs --arm-irreversible
//! print(ul::locked_pages());                 // [4, 5]
//! ```
//!
//! | function | sends |
//! |---|---|
//! | `ul::read(page)` | `FF B0 00 <page> 10` |
//! | `ul::write(page, data4)` | `FF D6 00 <page> 04 <data>` |
//! | `ul::write_compat(page, data16)` | generic session: open, `A0 <page> <16 bytes>`, close |
//! | `ul::uid()` | `FF CA 00 00 00`, then `FF B0 00 00 10` to check the BCCs |
//! | `ul::lock(pages)` | `FF D6 00 02 04 00 00 LOCK0 LOCK1`, then reads page 2 back |
//! | `ul::otp(data4)` | `FF D6 00 03 04 <data>`, then reads page 3 back |
//! | `ul::locked_pages()` | `FF B0 00 02 10` |
//!
//! Arguments are checked before anything is sent: pages are 0–15, data has exactly the
//! length asked for, and errors name the function and the argument. Writes that would set
//! lock or OTP bits (`ul::lock`, `ul::otp`, and `ul::write`/`ul::write_compat` to pages 2–3)
//! are refused unless the run is armed, before any APDU (exit code 4); `reader/guard.rs`
//! catches the same writes again at the wire. A status word other than 90 00 is an error
//! naming the command. This module knows the command encodings, not the card's rules
//! (those are `mifare::ultralight` and the simulated chip).

mod generic;

use rhai::{Array, Blob, Dynamic, Engine, EvalAltResult, INT, Module};

use super::bytes_api::{Bytes, bytes_of};
use super::error::{Fault, located_fn};
use super::session::{Session, Shared};
use crate::apdu::{Command, hex};
use crate::mifare::ultralight::{
    LAST_USER_PAGE, LOCK_PAGE, OTP_PAGE, PAGE_SIZE, lock_bytes_for, locked_pages, uid_from_pages,
};
use crate::reader::guard::{Family, Verdict, classify};
use crate::reader::trace::{Provenance, Redactor};

type Fallible<T> = Result<T, Box<EvalAltResult>>;

/// A page number argument: 0..=15.
fn page_arg(page: INT, what: &str) -> Fallible<u8> {
    match u8::try_from(page) {
        Ok(p) if p <= LAST_USER_PAGE => Ok(p),
        _ => Err(Fault::failed(format!(
            "{what}: page {page} is out of range 0..={LAST_USER_PAGE}"
        ))),
    }
}

/// A bytes argument of exactly `len` bytes (hex text, Blob or secret), with the scope that
/// masks its secret bytes in the commands it goes into.
fn data_arg(
    redactor: &Redactor,
    value: &Dynamic,
    len: usize,
    what: &str,
) -> Fallible<(Bytes, Provenance)> {
    let bytes = bytes_of(value, what)?;
    if bytes.bytes.len() == len {
        let scope = redactor.provenance(&bytes.bytes, &bytes.secret);
        Ok((bytes, scope))
    } else {
        let bytes = bytes.bytes;
        let n = bytes.len();
        let unit = if n == 1 { "byte" } else { "bytes" };
        Err(Fault::failed(format!(
            "{what} has {n} {unit}, expected {len}"
        )))
    }
}

/// Refuses a command that would set lock or OTP bits when the run is not armed.
fn check_armed(session: &Session, command: &Command, what: &str) -> Fallible<()> {
    match classify(Family::Ultralight, &command.to_bytes()) {
        Verdict::Allow => Ok(()),
        Verdict::Irreversible(_) if session.settings.armed => Ok(()),
        Verdict::Irreversible(why) | Verdict::Forbidden(why) => Err(Fault::refused(format!(
            "refused: {what}: {why}: this run is not armed (pass --arm-irreversible)"
        ))),
    }
}

/// `ul::read(page)`: READ BINARY of 4 pages from `page` (`FF B0 00 <page> 10`,
/// protocols.md §6.6), 16 bytes; the tag wraps from page 15 to page 0.
///
/// ```rhai
/// let ticket = ul::read(4);          // pages 4-7
/// ```
fn read(session: &mut Session, page: u8, what: &str) -> Fallible<[u8; 16]> {
    let command = Command::new(0xFF, 0xB0, 0x00, page).with_le(16);
    let data = session.exchange_ok(what, &command)?;
    <[u8; 16]>::try_from(data.as_slice()).map_err(|_| {
        Fault::failed(format!(
            "{what}: reader returned {} bytes for `{}`, expected 16",
            data.len(),
            session.show(&command)
        ))
    })
}

/// `ul::write(page, data4)`: UPDATE BINARY of one page (`FF D6 00 <page> 04 <data>`,
/// protocols.md §6.6). Pages 0–1 and locked pages are refused by the card; writes to page 2
/// or 3 that set bits are irreversible and need an armed run.
///
/// ```rhai
/// ul::write(4, "DE AD BE EF");
/// ```
fn write(session: &mut Session, page: u8, data: Vec<u8>, what: &str) -> Fallible<()> {
    let command = Command::new(0xFF, 0xD6, 0x00, page).with_data(data);
    check_armed(session, &command, what)?;
    session.exchange_ok(what, &command).map(drop)
}

/// Reads back `page` and returns the bits of `wanted` that are not set in it (all zero when
/// the write took), with the page as read.
fn missing_bits(
    session: &mut Session,
    page: u8,
    wanted: [u8; 4],
    what: &str,
) -> Fallible<([u8; 4], [u8; 4])> {
    let data = read(session, page, what)?;
    let now = [data[0], data[1], data[2], data[3]];
    let missing = [0, 1, 2, 3].map(|i| wanted[i] & !now[i]);
    Ok((now, missing))
}

/// `ul::uid()`: the 7-byte UID as the reader reports it (`FF CA 00 00 00`), after checking
/// it against pages 0–2 (`FF B0 00 00 10`): BCC0 and BCC1 must match (protocols.md §6.1) and
/// the serial number in pages 0–1 must be the reported UID, else it throws.
///
/// ```rhai
/// let uid = ul::uid();
/// ```
fn uid(session: &mut Session) -> Fallible<Blob> {
    let what = "ul::uid";
    let command = Command::new(0xFF, 0xCA, 0x00, 0x00).with_le(256);
    let reported = session.exchange_ok(what, &command)?;
    if reported.len() != 7 {
        return Err(Fault::failed(format!(
            "{what}: the reader reports a {}-byte UID; an Ultralight has 7",
            reported.len()
        )));
    }
    let pages = read(session, 0, what)?;
    let stored = uid_from_pages(&pages).map_err(|e| {
        Fault::failed(format!(
            "{what}: {e} in pages 0-2 `{}` (UID `{}`)",
            hex::format(&pages[..12]),
            hex::format(&reported)
        ))
    })?;
    if stored[..] != reported[..] {
        return Err(Fault::failed(format!(
            "{what}: pages 0-1 hold UID `{}`, the reader reports `{}`",
            hex::format(&stored),
            hex::format(&reported)
        )));
    }
    Ok(reported)
}

fn pages_arg(pages: &Array, what: &str) -> Fallible<Vec<u8>> {
    if pages.is_empty() {
        return Err(Fault::failed(format!("{what}: pages is empty")));
    }
    pages
        .iter()
        .map(|item| {
            let n = item
                .as_int()
                .map_err(|t| Fault::failed(format!("{what}: pages must be integers, got {t}")))?;
            page_arg(n, what)
        })
        .collect()
}

/// `ul::lock(pages)`: makes pages 3–15 read-only for ever by setting their lock bits
/// (`mifare::ultralight::lock_bytes_for`, protocols.md §6.3) with one write to page 2, then
/// reads page 2 back and throws if a bit did not take (frozen by a block-lock bit).
/// Block-lock bits are not set. Needs an armed run; refused before anything is sent.
///
/// ```rhai
/// ul::lock([4, 5, 6, 7, 8]);
/// ```
fn lock(session: &mut Session, pages: &Array) -> Fallible<()> {
    let what = "ul::lock";
    let pages = pages_arg(pages, what)?;
    let (lock0, lock1) =
        lock_bytes_for(&pages).map_err(|e| Fault::failed(format!("{what}: {e}")))?;
    if !session.settings.armed {
        return Err(Fault::refused(format!(
            "refused: {what}: locking pages {pages:?} is irreversible: this run is not armed (pass --arm-irreversible)"
        )));
    }
    // Bytes 0-1 of page 2 (BCC1, INT) are not changed by a write (§6.3); send zeros.
    write(session, LOCK_PAGE, vec![0, 0, lock0, lock1], what)?;
    let (now, missing) = missing_bits(session, LOCK_PAGE, [0, 0, lock0, lock1], what)?;
    let stuck = locked_pages(missing[2], missing[3]);
    if stuck.is_empty() {
        Ok(())
    } else {
        Err(Fault::failed(format!(
            "{what}: pages {stuck:?} did not lock: page 2 reads back `{}` (their lock bits are frozen by a block-lock bit)",
            hex::format(&now)
        )))
    }
}

/// `ul::otp(data4)`: ORs bits into the OTP page 3 (protocols.md §6.3) and reads it back.
/// Bits can never be cleared: needs an armed run; refused before anything is sent.
///
/// ```rhai
/// ul::otp("01 00 00 00");            // sets bit 0 of OTP byte 0
/// ```
fn otp(session: &mut Session, data: &Dynamic) -> Fallible<()> {
    let what = "ul::otp";
    let redactor = session.redactor.clone();
    let (data, _scope) = data_arg(&redactor, data, PAGE_SIZE, "ul::otp: data")?;
    if !session.settings.armed {
        let shown = if data.is_secret() {
            super::MASKED.to_string()
        } else {
            hex::format(&data.bytes)
        };
        return Err(Fault::refused(format!(
            "refused: {what}: OTP bits `{shown}` can never be cleared: this run is not armed (pass --arm-irreversible)"
        )));
    }
    let data = data.bytes;
    let wanted = [data[0], data[1], data[2], data[3]];
    write(session, OTP_PAGE, data, what)?;
    let (now, missing) = missing_bits(session, OTP_PAGE, wanted, what)?;
    if missing == [0; 4] {
        Ok(())
    } else {
        Err(Fault::failed(format!(
            "{what}: page 3 reads back `{}`: bits `{}` did not take",
            hex::format(&now),
            hex::format(&missing)
        )))
    }
}

/// `ul::locked_pages()`: the pages (3–15) the lock bytes make read-only, in ascending
/// order, as an array of integers.
///
/// ```rhai
/// if ul::locked_pages().len() > 0 { throw "card is locked"; }
/// ```
fn locked(session: &mut Session) -> Fallible<Array> {
    let page = read(session, LOCK_PAGE, "ul::locked_pages")?;
    Ok(locked_pages(page[2], page[3])
        .into_iter()
        .map(|p| Dynamic::from(INT::from(p)))
        .collect())
}

fn read_pages(s: &Shared, page: INT) -> Fallible<Blob> {
    let page = page_arg(page, "ul::read")?;
    Ok(read(&mut s.borrow_mut(), page, "ul::read")?.to_vec())
}

fn write_page(s: &Shared, page: INT, data: Dynamic) -> Fallible<()> {
    let page = page_arg(page, "ul::write")?;
    let redactor = s.borrow().redactor.clone();
    let (data, _scope) = data_arg(&redactor, &data, PAGE_SIZE, "ul::write: data")?;
    write(&mut s.borrow_mut(), page, data.bytes, "ul::write")
}

fn write_compat(s: &Shared, page: INT, data: Dynamic) -> Fallible<()> {
    let page = page_arg(page, "ul::write_compat")?;
    let redactor = s.borrow().redactor.clone();
    let (data, _scope) = data_arg(&redactor, &data, 16, "ul::write_compat: data")?;
    generic::write_compat(&mut s.borrow_mut(), page, &data.bytes)
}

/// Builds the `ul` module.
pub(crate) fn module(session: &Shared) -> Module {
    let mut m = Module::new();
    let s = session.clone();
    located_fn!(m, "read", |page: INT| read_pages(&s, page));
    let s = session.clone();
    located_fn!(m, "write", |page: INT, data: Dynamic| {
        write_page(&s, page, data)
    });
    let s = session.clone();
    located_fn!(m, "write_compat", |page: INT, data: Dynamic| {
        write_compat(&s, page, data)
    });
    let s = session.clone();
    located_fn!(m, "uid", || uid(&mut s.borrow_mut()));
    let s = session.clone();
    located_fn!(m, "lock", |pages: Array| lock(&mut s.borrow_mut(), &pages));
    let s = session.clone();
    located_fn!(m, "otp", |data: Dynamic| otp(&mut s.borrow_mut(), &data));
    let s = session.clone();
    located_fn!(m, "locked_pages", || locked(&mut s.borrow_mut()));
    m
}

/// Registers the `ul` module under its name.
pub(crate) fn register(engine: &mut Engine, session: &Shared) {
    engine.register_static_module("ul", module(session).into());
}

#[cfg(test)]
mod tests;
