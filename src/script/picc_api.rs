//! `picc::` — a native frame to the contactless chip through whichever reader holds it
//! (README "Reader families"); the script does not name the reader.
//!
//! ```rhai
//! let page = picc::session(|| picc::transceive("30 04"));   // Ultralight READ, 16 bytes
//! ```
//!
//! | function | does |
//! |---|---|
//! | `picc::switch_protocol(standard, layer)` | PC/SC Part 3 `FF C2 00 02 04 8F 02 <standard> <layer>`; other families throw |
//! | `picc::kind()` | the reader family: `omnikey`, `acs-pn532`, `pcsc-part3` or `direct` |
//! | `picc::open()`, `picc::close()` | the family's raw session (Omnikey `FF A0`, Part 3 `81`/`82`; nothing on ACS and direct) |
//! | `picc::transceive(frame)` | sends the frame (CRC added by the reader, no ISO 14443-4 framing added) and returns the chip's bytes |
//! | `picc::session(\|\| { … })` | opens, runs the closure, closes — also when it throws |
//! | `picc::rf_off()`, `picc::rf_on()` | switch the field (Part 3 `83`/`84`, PN532 RFConfiguration + InListPassiveTarget); after them the guard treats writes as irreversible until `reset()` |
//!
//! The family is `--reader-kind`, else read from the reader's name, else probed once
//! (`reader/driver.rs`). Errors name the family and what its status means; frames are masked
//! in messages as the trace masks them. The wrappings live in `reader/` (one file per
//! family); this file adapts arguments and errors.

use rhai::{Blob, Dynamic, Engine, EvalAltResult, FnPtr, INT, Module, NativeCallContext};

use super::bytes_api::{bytes_of, scope_of};
use super::error::{Fault, at, located_fn};
use super::omnikey_api::shown_frame;
use super::session::Shared;
use crate::reader::driver::{Error, ReaderDriver};

type Fallible<T> = Result<T, Box<EvalAltResult>>;

/// A driver error as a script fault: transport failures and refusals keep their kind.
fn fault(what: &str, error: Error) -> Box<EvalAltResult> {
    match error {
        Error::Reader(e) => Fault::transport(&e),
        Error::Omnikey(crate::reader::omnikey::Error::Reader(e)) => Fault::transport(&e),
        other => Fault::failed(format!("{what}: {other}")),
    }
}

fn driver(session: &Shared) -> Fallible<&'static dyn ReaderDriver> {
    Ok(session.borrow_mut().reader_kind()?.driver())
}

type Step = fn(&dyn ReaderDriver, &mut dyn crate::reader::Card) -> Result<(), Error>;

fn simple(session: &Shared, step: Step, what: &str) -> Fallible<()> {
    let driver = driver(session)?;
    step(driver, session.borrow_mut().card.as_mut()).map_err(|e| fault(what, e))
}

fn transceive(session: &Shared, frame: &Dynamic) -> Fallible<Blob> {
    let what = "picc::transceive";
    let frame = bytes_of(frame, &format!("{what}: frame"))?;
    let _scope = scope_of(session, &frame);
    let frame = frame.bytes;
    let driver = driver(session)?;
    let result = driver.transceive(session.borrow_mut().card.as_mut(), &frame);
    result.map_err(|e| match e {
        Error::Frame { .. } => fault(what, e),
        _ => fault(&format!("{what} `{}`", shown_frame(session, &frame)), e),
    })
}

fn switch_protocol(session: &Shared, standard: INT, layer: INT) -> Fallible<()> {
    let what = "picc::switch_protocol";
    let byte = |value: INT, name: &str| {
        u8::try_from(value).map_err(|_| {
            Fault::failed(format!(
                "{what}: {name} {value} does not fit a byte (0 to 255)"
            ))
        })
    };
    let (standard, layer) = (byte(standard, "standard")?, byte(layer, "layer")?);
    let driver = driver(session)?;
    driver
        .switch_protocol(session.borrow_mut().card.as_mut(), standard, layer)
        .map_err(|e| fault(what, e))
}

fn session_call(session: &Shared, ctx: &NativeCallContext, body: &FnPtr) -> Fallible<Dynamic> {
    simple(session, |d, c| d.open(c), "picc::session: open")?;
    // No borrow of the session is held here: the closure's own calls need it.
    let result = body.call_within_context::<Dynamic>(ctx, ());
    let closed = simple(session, |d, c| d.close(c), "picc::session: close");
    let value = result?;
    closed?;
    Ok(value)
}

/// Builds the `picc` module.
pub(crate) fn module(session: &Shared) -> Module {
    let mut m = Module::new();
    let s = session.clone();
    located_fn!(m, "kind", || {
        let kind = s.borrow_mut().reader_kind()?;
        Ok::<_, Box<EvalAltResult>>(kind.name().to_string())
    });
    let s = session.clone();
    located_fn!(m, "open", || simple(&s, |d, c| d.open(c), "picc::open"));
    let s = session.clone();
    located_fn!(m, "close", || simple(&s, |d, c| d.close(c), "picc::close"));
    let s = session.clone();
    located_fn!(m, "rf_off", || simple(
        &s,
        |d, c| d.field(c, false),
        "picc::rf_off"
    ));
    let s = session.clone();
    located_fn!(m, "rf_on", || simple(
        &s,
        |d, c| d.field(c, true),
        "picc::rf_on"
    ));
    let s = session.clone();
    located_fn!(m, "switch_protocol", |standard: INT, layer: INT| {
        switch_protocol(&s, standard, layer)
    });
    let s = session.clone();
    located_fn!(m, "transceive", |frame: Dynamic| transceive(&s, &frame));
    let s = session.clone();
    m.set_native_fn("session", move |ctx: NativeCallContext, body: FnPtr| {
        at(&ctx, session_call(&s, &ctx, &body))
    });
    m
}

/// Registers the `picc` module under its name.
pub(crate) fn register(engine: &mut Engine, session: &Shared) {
    engine.register_static_module("picc", module(session).into());
}

#[cfg(test)]
mod tests;
