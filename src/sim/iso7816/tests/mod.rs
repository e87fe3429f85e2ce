//! Sequence tests for the file card: hex command → expected hex answer, in order.
//!
//! Expected answers are [`DataMask`]s, so `XX` stands for a byte the test does not pin
//! (random challenges). One file per area; `card.rs` covers what is common to all commands.

mod binary;
mod card;
mod create;
mod image;
mod pin;
mod record;
mod select;
mod t0;

use super::{FileCard, Protocol};
use crate::apdu::{DataMask, hex};

/// A fresh demo card over T=1.
fn t1() -> FileCard {
    FileCard::demo(Protocol::T1, 0, crate::sim::iso7816::challenge::SEED)
}

/// A fresh demo card over T=0.
fn t0() -> FileCard {
    FileCard::demo(Protocol::T0, 0, crate::sim::iso7816::challenge::SEED)
}

/// Sends each command and checks each answer (data and status word) against its mask.
#[track_caller]
fn run(card: &mut FileCard, steps: &[(&str, &str)]) {
    for (i, (command, expected)) in steps.iter().enumerate() {
        let bytes = hex::parse(command).unwrap();
        let answer = card.transmit(&bytes);
        let mask = DataMask::parse(expected).unwrap();
        assert!(
            mask.matches(&answer),
            "step {i}: {command}\n  expected {expected}\n  got      {}",
            hex::format(&answer)
        );
    }
}

/// Hex for `n` bytes counting up from `start` (wrapping), as the demo EF `0101` holds them.
fn counting(start: usize, n: usize) -> String {
    let bytes: Vec<u8> = (start..start + n).map(|i| (i % 256) as u8).collect();
    hex::format(&bytes)
}

/// Hex for `n` copies of `byte`.
fn repeat(byte: u8, n: usize) -> String {
    hex::format(&vec![byte; n])
}

/// Selects DF `5000` by its AID, without FCP.
const SELECT_APP: &str = "00 A4 04 0C 07 A0 00 00 02 47 10 01";
/// Selects EF `2F00` from the MF, without FCP.
const SELECT_2F00: &str = "00 A4 00 0C 02 2F 00";
/// Selects EF `0010` from the MF, without FCP.
const SELECT_0010: &str = "00 A4 00 0C 02 00 10";
/// VERIFY PIN `01` with `1234`.
const VERIFY_PIN: &str = "00 20 00 01 04 31 32 33 34";
/// VERIFY PIN `01` with a wrong value.
const VERIFY_WRONG: &str = "00 20 00 01 04 30 30 30 30";
