//! `mfp::` — MIFARE Plus security-level-0 personalisation for scripts (protocols.md §3).
//!
//! ```rhai
//! if mfp::level() != 0 { throw "the card is not in security level 0"; }
//! mfp::write_perso(0x9000, secret("env:CARD_MASTER_KEY"));
//! mfp::write_perso(0x9001, secret("env:CARD_CONFIG_KEY"));
//! mfp::write_perso(0x9003, secret("env:LEVEL3_SWITCH_KEY"));
//! mfp::commit_perso();                     // irreversible: needs --arm-irreversible
//! reset();                                 // the card comes back in SL1
//! ```
//!
//! | function | sends |
//! |---|---|
//! | `mfp::write_perso(addr, data)` | `A8 <addr LSB> <addr MSB> <data>` directly: the reader frames it in an I-block (§3.6 A) |
//! | `mfp::commit_perso()` | `AA` |
//! | `mfp::level()` | nothing for a storage-card ATR (`0036`/`0037` → 1); for an ISO 14443-4 ATR the probe `A8 90 90 <16 × 00>` (`09` → 0, `0B` → 3, §3.1), which writes nothing: 9090 is no address |
//!
//! The card answers one status byte (Omnikey) or the status byte and `90 00` (ACS, which
//! appends an SW to short answers); both are accepted, any other status throws with its
//! meaning (§3.2). Arguments are checked before anything is sent: the address must be in the
//! map of §3.3 and not block 0, the data 16 bytes per block (1 to 15 blocks; S and X cards
//! take one). `commit_perso` refuses, before sending, when 9000, 9001 or 9003 were not
//! written in this run, and when the run is not armed (exit 4); the guard refuses `AA` at the
//! wire too. WritePerso data to key addresses is masked in traces (`reader/trace/perso.rs`).

mod answer;

use std::collections::BTreeSet;

use rhai::{Dynamic, Engine, EvalAltResult, INT, Module};

use super::bytes_api::{bytes_of, scope_of};
use super::error::{Fault, located_fn};
use super::session::Shared;
use crate::mifare::plus::{Address, COMMIT_PERSO, COMMIT_REQUIRED, WRITE_PERSO};
use answer::{check_status, level_of_atr, level_of_probe};

type Fallible<T> = Result<T, Box<EvalAltResult>>;

/// The most blocks one WritePerso carries (EV1: 16 to 240 bytes, §3.2).
const MAX_BLOCKS: usize = 15;

/// What this run wrote with WritePerso, for the checks before CommitPerso (kept in the
/// session, where each run starts it anew).
#[derive(Debug, Default)]
pub(crate) struct Perso {
    written: BTreeSet<u16>,
}

/// The addresses a WritePerso of `blocks` blocks at `addr` writes, checked against the map.
fn addresses(addr: INT, blocks: usize, what: &str) -> Fallible<Vec<Address>> {
    let first = u16::try_from(addr).map_err(|_| {
        Fault::failed(format!(
            "{what}: address {addr} is out of range 0x0000 to 0xFFFF"
        ))
    })?;
    (0..blocks)
        .map(|i| {
            let at = u16::try_from(usize::from(first) + i).ok();
            match at.map(|a| (a, Address::from_u16(a))) {
                Some((_, Some(Address::Block(0)))) => Err(Fault::failed(format!(
                    "{what}: block 0 (UID and manufacturer data) cannot be written"
                ))),
                Some((_, Some(address))) => Ok(address),
                Some((a, None)) => Err(Fault::failed(format!(
                    "{what}: address {a:04X} is not in the MIFARE Plus SL0 address map (protocols.md §3.3)"
                ))),
                None => Err(Fault::failed(format!(
                    "{what}: {blocks} blocks from {first:04X} go past FFFF"
                ))),
            }
        })
        .collect()
}

fn write_perso(session: &Shared, addr: INT, data: &Dynamic) -> Fallible<()> {
    let what = "mfp::write_perso";
    let data = bytes_of(data, &format!("{what}: data"))?;
    let _scope = scope_of(session, &data);
    let data = data.bytes;
    if data.is_empty() || data.len() % 16 != 0 || data.len() > 16 * MAX_BLOCKS {
        return Err(Fault::failed(format!(
            "{what}: data must be 16 bytes per block (16 to {}), got {}",
            16 * MAX_BLOCKS,
            data.len()
        )));
    }
    let targets = addresses(addr, data.len() / 16, what)?;
    let first = targets[0];
    if let Some(danger) = targets.iter().find_map(|a| a.danger()) {
        if !session.borrow().settings.armed {
            return Err(Fault::refused(format!(
                "refused: {what}: {danger}: this run is not armed (pass --arm-irreversible)"
            )));
        }
    }
    let [lo, hi] = first.to_u16().to_le_bytes();
    let mut command = vec![WRITE_PERSO, lo, hi];
    command.extend_from_slice(&data);
    let answer = transmit(session, &command)?;
    check_status(session, &format!("{what} {first}"), &answer)?;
    let mut session = session.borrow_mut();
    let perso = &mut session.remembered.perso;
    perso.written.extend(targets.iter().map(|a| a.to_u16()));
    Ok(())
}

fn commit_perso(session: &Shared) -> Fallible<()> {
    let what = "mfp::commit_perso";
    let written = session.borrow().remembered.perso.written.clone();
    let missing: Vec<String> = COMMIT_REQUIRED
        .iter()
        .filter(|key| !written.contains(&key.to_u16()))
        .map(|key| key.to_string())
        .collect();
    if let Some((last, init)) = missing.split_last() {
        let (list, verb) = match init {
            [] => (last.clone(), "was"),
            _ => (format!("{} and {last}", init.join(", ")), "were"),
        };
        return Err(Fault::failed(format!(
            "{what}: {list} {verb} not written in this run; the card refuses CommitPerso without \
             9000, 9001 and 9003 (protocols.md §3.4); nothing sent"
        )));
    }
    if !session.borrow().settings.armed {
        return Err(Fault::refused(format!(
            "refused: {what}: CommitPerso (`AA`) ends security level 0 for good: this run is not \
             armed (pass --arm-irreversible)"
        )));
    }
    let answer = transmit(session, &[COMMIT_PERSO])?;
    check_status(session, what, &answer)
}

fn level(session: &Shared) -> Fallible<INT> {
    let what = "mfp::level";
    let atr = session.borrow().card.atr().to_vec();
    if let Some(level) = level_of_atr(&atr, what)? {
        return Ok(level);
    }
    let probe = answer::probe();
    let answer = transmit(session, &probe)?;
    level_of_probe(&answer, what)
}

/// Sends raw bytes: the answer may be a single status byte, which is not a response APDU.
fn transmit(session: &Shared, command: &[u8]) -> Fallible<Vec<u8>> {
    session
        .borrow_mut()
        .card
        .transmit(command)
        .map_err(|e| Fault::transport(&e))
}

/// Builds the `mfp` module; what it remembers lives in the session, for one run.
pub(crate) fn module(session: &Shared) -> Module {
    let mut m = Module::new();
    let s = session.clone();
    located_fn!(m, "write_perso", |addr: INT, data: Dynamic| {
        write_perso(&s, addr, &data)
    });
    let s = session.clone();
    located_fn!(m, "commit_perso", || commit_perso(&s));
    let s = session.clone();
    located_fn!(m, "level", || level(&s));
    m
}

/// Registers the `mfp` module under its name.
pub(crate) fn register(engine: &mut Engine, session: &Shared) {
    engine.register_static_module("mfp", module(session).into());
}

#[cfg(test)]
pub(super) mod tests;
