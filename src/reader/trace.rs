//! The one place APDUs are traced: a [`Card`] decorator that reports every exchange.
//!
//! [`Traced`] wraps a card and hands each command and response to a sink as a
//! [`TraceEvent`], with secret bytes already masked: the data of VERIFY, CHANGE REFERENCE
//! DATA and RESET RETRY COUNTER (INS 20, 24, 2C), of LOAD KEYS (`FF 82`), of MIFARE Plus
//! WritePerso to key addresses (direct or in the Omnikey generic session, `perso.rs`), and
//! any run of bytes equal to a secret the run has loaded ([`Redactor`]). Masked runs read `(secret)`.
//! This module formats nothing for a terminal and writes nowhere: the command line decides
//! whether events become `>>`/`<<` lines on stderr or JSON Lines in a file.

use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use super::{Card, Error};
use crate::apdu::{Command, StatusWord, hex};

mod perso;

/// Secrets shorter than this are not searched for in traffic: they would mask innocent
/// bytes, and the command rules already cover PINs sent with VERIFY.
const MIN_SEARCHED_SECRET: usize = 4;

/// The text that stands for masked bytes.
pub const MASK: &str = "(secret)";

/// The secret values of a run, shared between the script that loads them and the trace.
#[derive(Clone, Default)]
pub struct Redactor {
    secrets: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the values: only how many there are.
        let count = self.secrets.lock().map(|s| s.len()).unwrap_or(0);
        write!(f, "Redactor({count} secrets)")
    }
}

impl Redactor {
    /// Remembers a secret value so that it is masked wherever it shows up in traffic.
    pub fn add(&self, secret: &[u8]) {
        if secret.len() >= MIN_SEARCHED_SECRET {
            if let Ok(mut secrets) = self.secrets.lock() {
                if !secrets.iter().any(|s| s == secret) {
                    secrets.push(secret.to_vec());
                }
            }
        }
    }

    /// Marks in `masked` every byte of `bytes` that belongs to a known secret.
    fn mark(&self, bytes: &[u8], masked: &mut [bool]) {
        let Ok(secrets) = self.secrets.lock() else {
            return;
        };
        for secret in secrets.iter() {
            if secret.len() > bytes.len() {
                continue;
            }
            for start in 0..=bytes.len() - secret.len() {
                if &bytes[start..start + secret.len()] == secret.as_slice() {
                    masked[start..start + secret.len()]
                        .iter_mut()
                        .for_each(|m| *m = true);
                }
            }
        }
    }
}

/// The byte range of a command that carries secret data by its kind, if any.
pub fn sensitive_data(command: &[u8]) -> Option<std::ops::Range<usize>> {
    if let Some(range) = perso::write_perso_key_data(command) {
        return Some(range);
    }
    let (cla, ins) = (*command.first()?, *command.get(1)?);
    let sensitive = match (cla, ins) {
        // LOAD KEYS, PC/SC Part 3 (protocols.md §2.1).
        (0xFF, 0x82) => true,
        // VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER (ISO 7816-4).
        (0xFF, _) => false,
        (_, 0x20 | 0x24 | 0x2C) => true,
        _ => false,
    };
    if !sensitive || command.len() <= 4 {
        return None;
    }
    match Command::parse(command) {
        Ok(parsed) if parsed.data.is_empty() => None,
        Ok(parsed) => {
            let header = if parsed.is_extended() { 7 } else { 5 };
            Some(header..header + parsed.data.len())
        }
        // Unparseable: mask everything after the header rather than guess.
        Err(_) => Some(4..command.len()),
    }
}

/// Masks a command: its sensitive data and any known secret.
pub fn mask_command(command: &[u8], redactor: &Redactor) -> Masked {
    let mut masked = vec![false; command.len()];
    if let Some(range) = sensitive_data(command) {
        masked[range].iter_mut().for_each(|m| *m = true);
    }
    redactor.mark(command, &mut masked);
    Masked::new(command, masked)
}

/// Masks a response: any known secret.
pub fn mask_response(response: &[u8], redactor: &Redactor) -> Masked {
    let mut masked = vec![false; response.len()];
    redactor.mark(response, &mut masked);
    Masked::new(response, masked)
}

/// Bytes with some runs masked, ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masked {
    /// Uppercase hex pairs separated by spaces; masked runs read `(secret)`.
    pub spaced: String,
    /// Uppercase hex without separators; masked runs read `(secret)`.
    pub compact: String,
}

impl Masked {
    fn new(bytes: &[u8], masked: Vec<bool>) -> Masked {
        let mut spaced = String::with_capacity(bytes.len() * 3);
        let mut compact = String::with_capacity(bytes.len() * 2);
        let mut i = 0;
        while i < bytes.len() {
            if !spaced.is_empty() {
                spaced.push(' ');
            }
            if masked[i] {
                while i < bytes.len() && masked[i] {
                    i += 1;
                }
                spaced.push_str(MASK);
                compact.push_str(MASK);
            } else {
                hex::push_pair(&mut spaced, bytes[i]);
                hex::push_pair(&mut compact, bytes[i]);
                i += 1;
            }
        }
        Masked { spaced, compact }
    }

    /// Bytes shown as they are.
    pub fn plain(bytes: &[u8]) -> Masked {
        Masked {
            spaced: hex::format(bytes),
            compact: hex::format_compact(bytes),
        }
    }
}

/// One traced event.
#[derive(Debug, Clone)]
pub enum TraceEvent {
    /// A command is about to be sent.
    Command {
        /// Wall-clock time of sending.
        time: SystemTime,
        /// The command, masked.
        bytes: Masked,
    },
    /// The card answered.
    Response {
        /// Wall-clock time of the answer.
        time: SystemTime,
        /// The whole response (data and SW), masked.
        bytes: Masked,
        /// The status word, when the answer had one.
        sw: Option<StatusWord>,
        /// Time from sending the command to the answer.
        micros: u64,
    },
    /// The card was reset.
    Reset {
        /// Wall-clock time.
        time: SystemTime,
        /// The new ATR.
        atr: Masked,
    },
}

/// A receiver of trace events.
pub type Sink = Box<dyn FnMut(&TraceEvent)>;

/// A card that reports every exchange to a sink.
pub struct Traced {
    inner: Box<dyn Card>,
    sink: Sink,
    redactor: Redactor,
    show_secrets: bool,
}

impl Traced {
    /// Wraps `inner`; `show_secrets` turns masking off (for the bench only).
    pub fn new(inner: Box<dyn Card>, sink: Sink, redactor: Redactor, show_secrets: bool) -> Traced {
        Traced {
            inner,
            sink,
            redactor,
            show_secrets,
        }
    }
}

impl Card for Traced {
    fn atr(&self) -> &[u8] {
        self.inner.atr()
    }

    fn reader_name(&self) -> &str {
        self.inner.reader_name()
    }

    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, Error> {
        let bytes = if self.show_secrets {
            Masked::plain(command)
        } else {
            mask_command(command, &self.redactor)
        };
        (self.sink)(&TraceEvent::Command {
            time: SystemTime::now(),
            bytes,
        });
        let started = Instant::now();
        let response = self.inner.transmit(command)?;
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        let sw = (response.len() >= 2)
            .then(|| StatusWord::new(response[response.len() - 2], response[response.len() - 1]));
        let bytes = if self.show_secrets {
            Masked::plain(&response)
        } else {
            mask_response(&response, &self.redactor)
        };
        (self.sink)(&TraceEvent::Response {
            time: SystemTime::now(),
            bytes,
            sw,
            micros,
        });
        Ok(response)
    }

    fn reset(&mut self) -> Result<Vec<u8>, Error> {
        let atr = self.inner.reset()?;
        (self.sink)(&TraceEvent::Reset {
            time: SystemTime::now(),
            atr: Masked::plain(&atr),
        });
        Ok(atr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(command: &str, expected: &str) {
        let bytes = hex::parse(command).unwrap();
        assert_eq!(mask_command(&bytes, &Redactor::default()).spaced, expected);
    }

    #[test]
    fn masks_pin_and_key_commands() {
        check("00 20 00 01 04 31 32 33 34", "00 20 00 01 04 (secret)");
        check(
            "00 24 00 01 08 31 32 33 34 35 36 37 38",
            "00 24 00 01 08 (secret)",
        );
        check(
            "00 2C 00 01 0C 31 32 33 34 35 36 37 38 39 39 39 39",
            "00 2C 00 01 0C (secret)",
        );
        check(
            "FF 82 00 00 06 FF FF FF FF FF FF",
            "FF 82 00 00 06 (secret)",
        );
        // Empty VERIFY (asks for the counter) has nothing to mask.
        check("00 20 00 01", "00 20 00 01");
        // FF 20 is a reader pseudo-APDU, not VERIFY.
        check("FF 20 00 00 01 AA", "FF 20 00 00 01 AA");
        check("00 B0 00 00 10", "00 B0 00 00 10");
        // Inconsistent lengths: everything after the header is masked.
        check("00 20 00 01 09 31 32", "00 20 00 01 (secret)");
    }

    proptest::proptest! {
        #[test]
        fn unmasked_bytes_print_as_plain_hex(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..300)
        ) {
            proptest::prop_assert_eq!(
                mask_response(&bytes, &Redactor::default()),
                Masked::plain(&bytes)
            );
        }
    }

    #[test]
    fn masks_known_secrets_anywhere() {
        let redactor = Redactor::default();
        redactor.add(&[0xA0, 0xA1, 0xA2, 0xA3, 0xA4, 0xA5]);
        redactor.add(&[0x01, 0x02]); // too short to search for
        let command =
            hex::parse("FF D6 00 07 10 A0 A1 A2 A3 A4 A5 FF 07 80 69 01 02 03 04 05 06").unwrap();
        let masked = mask_command(&command, &redactor);
        assert_eq!(
            masked.spaced,
            "FF D6 00 07 10 (secret) FF 07 80 69 01 02 03 04 05 06"
        );
        assert_eq!(masked.compact, "FFD6000710(secret)FF078069010203040506");
    }
}

#[cfg(test)]
mod perso_tests {
    use super::*;

    #[track_caller]
    fn check(command: &str, expected: &str) {
        let bytes = hex::parse(command).unwrap();
        assert_eq!(mask_command(&bytes, &Redactor::default()).spaced, expected);
    }

    const KEY: &str = "00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F";

    #[test]
    fn write_perso_key_data_is_masked_in_every_form() {
        // Direct, to the card master key and an AES sector key (protocols.md §3.6 A).
        check(&format!("A8 00 90 {KEY}"), "A8 00 90 (secret)");
        check(&format!("A8 01 40 {KEY}"), "A8 01 40 (secret)");
        check(&format!("A8 81 A0 {KEY}"), "A8 81 A0 (secret)");
        check(&format!("A8 00 C0 {KEY}"), "A8 00 C0 (secret)");
        // Generic session: unframed (the forum), as an I-block, with a CID (§3.6 B).
        check(
            &format!("FF A0 00 05 19 01 00 F3 00 00 64 A8 03 90 {KEY} 00"),
            "FF A0 00 05 19 01 00 F3 00 00 64 A8 03 90 (secret) 00",
        );
        check(
            &format!("FF A0 00 05 1A 01 00 F3 00 00 64 02 A8 00 90 {KEY} 00"),
            "FF A0 00 05 1A 01 00 F3 00 00 64 02 A8 00 90 (secret) 00",
        );
        check(
            &format!("FF A0 00 05 1B 01 00 F3 00 00 64 0B 00 A8 04 90 {KEY}"),
            "FF A0 00 05 1B 01 00 F3 00 00 64 0B 00 A8 04 90 (secret)",
        );
    }

    #[test]
    fn block_data_and_other_commands_are_not_masked() {
        check(&format!("A8 04 00 {KEY}"), &format!("A8 04 00 {KEY}"));
        check(&format!("A8 00 B0 {KEY}"), &format!("A8 00 B0 {KEY}"));
        check("A8 00 90", "A8 00 90");
        check("AA", "AA");
        check(
            &format!("FF A0 00 05 1A 01 00 F3 00 00 64 02 A8 05 00 {KEY} 00"),
            &format!("FF A0 00 05 1A 01 00 F3 00 00 64 02 A8 05 00 {KEY} 00"),
        );
    }
}
