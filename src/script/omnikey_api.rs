//! `omnikey::` — the HID Omnikey 5x21 generic session for scripts (protocols.md §1.1).
//!
//! ```rhai
//! let answer = omnikey::session(|| {
//!     omnikey::transceive("30 04")            // Ultralight READ of page 4: 16 bytes
//! });
//! ```
//!
//! | function | does |
//! |---|---|
//! | `omnikey::open()`, `omnikey::close()` | `FF A0 00 07 03 01 00 01` / `… 02`; throw unless `90 00` |
//! | `omnikey::transceive(frame)` | `FF A0 00 05 <6+n> 01 00 F3 00 00 64 <frame> 00` (always with Le); returns the card's bytes as a Blob |
//! | `omnikey::session(\|\| { … })` | opens, runs the closure, closes — also when the closure throws; returns the closure's value |
//! | `omnikey::answer(response)` | reads a transceive answer the script sent itself with `send`: the card's bytes, or the diagnosis |
//!
//! The frame is a layer-3 frame without CRC (the reader adds and checks it) and without
//! ISO 14443-4 framing (frame I-blocks with `iso14443::i_block`). An empty frame is an error
//! and nothing is sent. `64 00` (no answer) and a bare `90 00` (nothing exchanged) are
//! errors; for an ISO 14443-4 card the message explains why it ignores unframed frames. The
//! wrapping and the diagnoses are `crate::reader::omnikey`; this file adapts arguments and
//! masks frames (which may carry keys) in messages.

use rhai::{Blob, Dynamic, Engine, EvalAltResult, FnPtr, Module, NativeCallContext};

use super::bytes_api::{bytes_of, scope_of};
use super::card_api::ScriptResponse;
use super::error::{Fault, at, located_fn};
use super::session::Shared;
use crate::reader::Card;
use crate::reader::omnikey::{self, Error};
use crate::reader::trace::mask_command;

type Fallible<T> = Result<T, Box<EvalAltResult>>;

/// Turns an Omnikey error into a script fault: the guard's refusals and transport failures
/// keep their kind (exit 4 or 3), the rest fail the step.
fn fault(what: &str, error: Error) -> Box<EvalAltResult> {
    match error {
        Error::Reader(e) => Fault::transport(&e),
        other => Fault::failed(format!("{what}: {other}")),
    }
}

/// A frame as messages show it, secrets and WritePerso keys masked.
pub(super) fn shown_frame(session: &Shared, frame: &[u8]) -> String {
    // Masked in a transceive with Le, so that every form the trace knows is recognised; the
    // 11 header bytes and Le are never masked, so the frame is what lies between them.
    let Ok(apdu) = omnikey::transceive_command(frame) else {
        return String::new();
    };
    let masked = mask_command(&apdu, &session.borrow().redactor).spaced;
    let tokens: Vec<&str> = masked.split(' ').collect();
    tokens[11..tokens.len() - 1].join(" ")
}

/// [`omnikey::open`] or [`omnikey::close`].
type Step = fn(&mut dyn Card) -> Result<(), Error>;

fn simple(session: &Shared, step: Step, what: &str) -> Fallible<()> {
    step(session.borrow_mut().card.as_mut()).map_err(|e| fault(what, e))
}

fn transceive(session: &Shared, frame: &Dynamic) -> Fallible<Blob> {
    let what = "omnikey::transceive";
    let frame = bytes_of(frame, &format!("{what}: frame"))?;
    let _scope = scope_of(session, &frame);
    let frame = frame.bytes;
    let result = omnikey::transceive(session.borrow_mut().card.as_mut(), &frame);
    result.map_err(|e| match e {
        Error::EmptyFrame | Error::FrameTooLong { .. } => fault(what, e),
        _ => fault(&format!("{what} `{}`", shown_frame(session, &frame)), e),
    })
}

fn answer(session: &Shared, response: &ScriptResponse) -> Fallible<Blob> {
    let apdu = response.command.bytes.clone();
    let Some((_, frame)) = omnikey::frame_of(&apdu) else {
        return Err(Fault::failed(format!(
            "omnikey::answer: `{}` is not a generic-session transceive",
            mask_command(&apdu, &session.borrow().redactor).spaced
        )));
    };
    let reply = crate::apdu::Response::new(response.data.clone(), response.sw);
    let atr = session.borrow().card.atr().to_vec();
    omnikey::card_bytes(&reply, frame, &atr).map_err(|e| {
        let shown = shown_frame(session, frame);
        fault(&format!("omnikey::answer to `{shown}`"), e)
    })
}

fn session_call(session: &Shared, ctx: &NativeCallContext, body: &FnPtr) -> Fallible<Dynamic> {
    simple(session, omnikey::open, "omnikey::session: open")?;
    // No borrow of the session is held here: the closure's own calls need it.
    let result = body.call_within_context::<Dynamic>(ctx, ());
    let closed = simple(session, omnikey::close, "omnikey::session: close");
    let value = result?;
    closed?;
    Ok(value)
}

/// Builds the `omnikey` module.
pub(crate) fn module(session: &Shared) -> Module {
    let mut m = Module::new();
    let s = session.clone();
    located_fn!(m, "open", || simple(&s, omnikey::open, "omnikey::open"));
    let s = session.clone();
    located_fn!(m, "close", || simple(&s, omnikey::close, "omnikey::close"));
    let s = session.clone();
    located_fn!(m, "transceive", |frame: Dynamic| transceive(&s, &frame));
    // Set by hand: the closure is called within the call's own context.
    let s = session.clone();
    m.set_native_fn("session", move |ctx: NativeCallContext, body: FnPtr| {
        at(&ctx, session_call(&s, &ctx, &body))
    });
    let s = session.clone();
    located_fn!(m, "answer", |response: ScriptResponse| {
        answer(&s, &response)
    });
    m
}

/// Registers the `omnikey` module under its name.
pub(crate) fn register(engine: &mut Engine, session: &Shared) {
    engine.register_static_module("omnikey", module(session).into());
}

#[cfg(test)]
mod tests;
