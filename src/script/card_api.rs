//! The card in scripts: `send`, `send_raw`, `atr`, `reset`, `uid`, the `Response` type, `armed`,
//! `require_armed` and `secret`.
//!
//! ```rhai
//! let r = send("00 A4 04 00 07 A0 00 00 02 47 10 01 00", "9000|61XX");
//! print(r.hex);
//! ```
//!
//! `send` never turns a status word into an error unless the script states an expectation.
//! This module does not know any card kind; the `iso::` helpers live in `iso_api`.

use std::rc::Rc;

use rhai::{Array, Blob, Dynamic, Engine, EvalAltResult, INT, ImmutableString};

use super::bytes_api::{Bytes, bytes_of};
use super::error::Fault;
use super::parse_cache::Parsed;
use super::session::Shared;
use crate::apdu::{Command, StatusWord, SwExpectation, SwPattern, hex};
use crate::reader::Exchange;
use crate::reader::trace::{Provenance, Redactor, mask_command, mask_data};
use crate::secret::{Encoding, SecretSource};

/// A response as scripts see it.
#[derive(Debug, Clone)]
pub(crate) struct ScriptResponse {
    pub data: Blob,
    pub sw: StatusWord,
    /// The command as sent. Masked only when a message needs it: formatting every command
    /// up front would cost more than the exchange itself in tight loops.
    pub command: Rc<Parsed>,
    /// The run's secrets, to mask `command` with.
    pub redactor: Redactor,
    /// Which bytes of `command` came from a secret, while the response is alive: an
    /// expectation checked later still names the command with those bytes masked.
    pub provenance: Option<Rc<Provenance>>,
}

impl ScriptResponse {
    fn check(self, expectation: &SwExpectation) -> Result<ScriptResponse, Box<EvalAltResult>> {
        if expectation.matches(self.sw) {
            Ok(self)
        } else {
            Err(Fault::failed(format!(
                "`{}`: card answered {} ({}), expected {expectation}",
                mask_command(&self.command.bytes, &self.redactor).spaced,
                self.sw,
                self.sw.describe_after(&self.command.bytes)
            )))
        }
    }
}

/// Reads an expectation argument: `"9000|6282"`, an array of such strings, or an integer.
pub(crate) fn expectation_of(value: &Dynamic) -> Result<SwExpectation, Box<EvalAltResult>> {
    let bad = |e: crate::apdu::PatternError| Fault::failed(format!("expected status word: {e}"));
    if let Some(text) = value.read_lock::<ImmutableString>() {
        return SwExpectation::parse(&text).map_err(bad);
    }
    if let Ok(n) = value.as_int() {
        let sw = u16::try_from(n).map_err(|_| {
            Fault::failed(format!("expected status word: {n} is not a 16-bit value"))
        })?;
        return Ok(SwExpectation::any_of(vec![SwPattern::exact(StatusWord(
            sw,
        ))]));
    }
    if let Some(items) = value.read_lock::<Array>() {
        let mut texts = Vec::with_capacity(items.len());
        for item in items.iter() {
            let text = item.read_lock::<ImmutableString>().ok_or_else(|| {
                Fault::failed(format!(
                    "expected status word: array items must be strings, got {}",
                    item.type_name()
                ))
            })?;
            texts.push(text.to_string());
        }
        return SwExpectation::parse_all(texts.iter().map(String::as_str)).map_err(bad);
    }
    Err(Fault::failed(format!(
        "expected status word: expected a string, an array or an integer, got {}",
        value.type_name()
    )))
}

fn command_of(apdu: &Bytes, redactor: &Redactor) -> Result<Command, Box<EvalAltResult>> {
    Command::parse(&apdu.bytes).map_err(|e| {
        let display = if apdu.is_secret() {
            // The command was never sent: its secret ranges are masked here, by provenance.
            let _scope = redactor.provenance(&apdu.bytes, &apdu.secret);
            mask_command(&apdu.bytes, redactor).spaced
        } else {
            hex::format(&apdu.bytes)
        };
        Fault::failed(format!("send: `{display}` is not a valid APDU: {e}"))
    })
}

fn send(session: &Shared, command: Rc<Parsed>) -> Result<ScriptResponse, Box<EvalAltResult>> {
    let rules = session.borrow().settings.rules;
    send_with(session, command, rules)
}

fn send_with(
    session: &Shared,
    command: Rc<Parsed>,
    rules: Exchange,
) -> Result<ScriptResponse, Box<EvalAltResult>> {
    let mut s = session.borrow_mut();
    let response = s
        .card
        .exchange_encoded(&command.command, &command.bytes, rules)
        .map_err(|e| Fault::transport(&e))?;
    Ok(ScriptResponse {
        data: response.data,
        sw: response.sw,
        command,
        redactor: s.redactor.clone(),
        provenance: None,
    })
}

/// Sends bytes given as a value: the ranges a secret filled stay masked in the trace and
/// in messages about this command.
fn send_bytes(
    session: &Shared,
    apdu: Bytes,
    rules: Option<Exchange>,
) -> Result<ScriptResponse, Box<EvalAltResult>> {
    let redactor = session.borrow().redactor.clone();
    let provenance = Rc::new(redactor.provenance(&apdu.bytes, &apdu.secret));
    let command = Rc::new(Parsed::new(command_of(&apdu, &redactor)?));
    let mut response = match rules {
        Some(rules) => send_with(session, command, rules)?,
        None => send(session, command)?,
    };
    response.provenance = Some(provenance);
    Ok(response)
}

fn blob_of(bytes: &[u8]) -> Dynamic {
    Dynamic::from_blob(bytes.to_vec())
}

/// Registers the card functions and the `Response` type.
pub(crate) fn register(engine: &mut Engine, session: &Shared) {
    engine
        .register_type_with_name::<ScriptResponse>("Response")
        .register_get("sw", |r: &mut ScriptResponse| r.sw.0 as INT)
        .register_get("sw1", |r: &mut ScriptResponse| r.sw.sw1() as INT)
        .register_get("sw2", |r: &mut ScriptResponse| r.sw.sw2() as INT)
        .register_get("data", |r: &mut ScriptResponse| r.data.clone())
        .register_get("hex", |r: &mut ScriptResponse| hex::format_compact(&r.data))
        .register_get("ok", |r: &mut ScriptResponse| r.sw.is_ok())
        .register_get("meaning", |r: &mut ScriptResponse| {
            r.sw.describe_after(&r.command.bytes).into_owned()
        })
        .register_fn("expect", |r: &mut ScriptResponse, pattern: Dynamic| {
            r.clone().check(&expectation_of(&pattern)?)
        })
        // Printing a response masks what a loaded secret read back would show.
        .register_fn("to_string", |r: &mut ScriptResponse| {
            format!("{} {}", mask_data(&r.data, &r.redactor).spaced, r.sw)
        })
        .register_fn("to_debug", |r: &mut ScriptResponse| {
            format!(
                "Response({} / {})",
                mask_data(&r.data, &r.redactor).spaced,
                r.sw
            )
        });

    // `send` with a literal hex string is the hot path of loops: its texts are parsed once
    // per run (the cache is part of what a run remembers, so no text outlives its card).
    let s = session.clone();
    engine.register_fn("send", move |apdu: ImmutableString| {
        let command = s.borrow_mut().remembered.parsed.command(&apdu)?;
        send(&s, command)
    });
    let s = session.clone();
    engine.register_fn(
        "send",
        move |apdu: ImmutableString, expect: ImmutableString| {
            let (command, expectation) = {
                let mut session = s.borrow_mut();
                let parsed = &mut session.remembered.parsed;
                (parsed.command(&apdu)?, parsed.expectation(&expect)?)
            };
            send(&s, command)?.check(&expectation)
        },
    );
    let s = session.clone();
    engine.register_fn("send", move |apdu: Dynamic| {
        send_bytes(&s, bytes_of(&apdu, "send")?, None)
    });
    let s = session.clone();
    engine.register_fn("send", move |apdu: Dynamic, expect: Dynamic| {
        let expectation = expectation_of(&expect)?;
        send_bytes(&s, bytes_of(&apdu, "send")?, None)?.check(&expectation)
    });

    // `send_raw` returns 61xx/6Cxx as the card answered, whatever the run's setting.
    let s = session.clone();
    engine.register_fn("send_raw", move |apdu: Dynamic| {
        send_bytes(&s, bytes_of(&apdu, "send_raw")?, Some(Exchange::RAW))
    });
    let s = session.clone();
    engine.register_fn("send_raw", move |apdu: Dynamic, expect: Dynamic| {
        let expectation = expectation_of(&expect)?;
        send_bytes(&s, bytes_of(&apdu, "send_raw")?, Some(Exchange::RAW))?.check(&expectation)
    });

    let s = session.clone();
    engine.register_fn("atr", move || blob_of(s.borrow().card.atr()));
    let s = session.clone();
    engine.register_fn("reset", move || -> Result<Dynamic, Box<EvalAltResult>> {
        let atr = s
            .borrow_mut()
            .card
            .reset()
            .map_err(|e| Fault::transport(&e))?;
        Ok(blob_of(&atr))
    });
    let s = session.clone();
    engine.register_fn("uid", move || -> Result<Dynamic, Box<EvalAltResult>> {
        let command = Command::new(0xFF, 0xCA, 0x00, 0x00).with_le(256);
        Ok(blob_of(&s.borrow_mut().exchange_ok("uid", &command)?))
    });
    let s = session.clone();
    engine.register_fn("armed", move || s.borrow().settings.armed);
    let s = session.clone();
    engine.register_fn(
        "require_armed",
        move |reason: ImmutableString| -> Result<(), Box<EvalAltResult>> {
            if s.borrow().settings.armed {
                Ok(())
            } else {
                Err(Fault::refused(format!(
                    "refused: {reason}: this run is not armed (pass --arm-irreversible)"
                )))
            }
        },
    );

    let s = session.clone();
    engine.register_fn(
        "secret",
        move |source: ImmutableString| -> Result<Dynamic, Box<EvalAltResult>> {
            // A key in a token has no bytes here: a handle the crypto built-ins use.
            if crate::keys::is_token_spec(&source) {
                return super::keys_api::load(&source);
            }
            // A development key file (`dev:PATH?passphrase=…`): its key, as a secret.
            if source.starts_with("dev:") {
                let (key, _) = crate::keys::devfile::DevSpec::parse(&source)
                    .and_then(|spec| spec.read())
                    .map_err(|e| Fault::failed(e.to_string()))?;
                s.borrow().redactor.add(key.expose());
                return Ok(Dynamic::from(key));
            }
            load_secret(&s, &source, Encoding::Hex).map(Dynamic::from)
        },
    );
    let s = session.clone();
    engine.register_fn("secret_text", move |source: ImmutableString| {
        load_secret(&s, &source, Encoding::Text)
    });
}

fn load_secret(
    session: &Shared,
    source: &str,
    encoding: Encoding,
) -> Result<crate::secret::Secret, Box<EvalAltResult>> {
    let secret = SecretSource::parse(source)
        .and_then(|s| s.load(encoding))
        .map_err(|e| Fault::failed(e.to_string()))?;
    session.borrow().redactor.add(secret.expose());
    Ok(secret)
}
