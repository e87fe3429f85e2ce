//! The one place APDUs are traced: a [`Card`] decorator that reports every exchange.
//!
//! [`Traced`] wraps a card and hands each command and response to a sink as a
//! [`TraceEvent`], with secret bytes already masked: the data of VERIFY, CHANGE REFERENCE
//! DATA and RESET RETRY COUNTER (INS 20, 24, 2C), of LOAD KEYS (`FF 82`), of MIFARE Plus
//! WritePerso to key addresses (direct or in the Omnikey generic session, `perso.rs`), the
//! exact bytes a secret filled in a command (provenance scopes of the [`Redactor`]), and in
//! responses any run equal to a whole loaded secret or a piece of 4+ bytes of one. Masked
//! runs read `(secret)`.
//! This module formats nothing for a terminal and writes nowhere: the command line decides
//! whether events become `>>`/`<<` lines on stderr or JSON Lines in a file.

use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::{Instant, SystemTime};

use super::{Card, Error};
use crate::apdu::{Command, Context, StatusWord, hex};

mod perso;

/// The shortest piece of a secret recognised on its own in traffic: a read-back of part of a
/// key (at an offset, or in two halves) is caught from this length on. Shorter pieces would
/// mask innocent bytes; a whole secret is recognised in responses whatever its length.
const MIN_PIECE: usize = 4;

/// The text that stands for masked bytes.
pub const MASK: &str = "(secret)";

/// The secret values of a run, shared between the script or profile that loads them and the
/// trace, and the provenance of the secret bytes in the commands being sent.
///
/// Two mechanisms, one for each direction:
/// - *Provenance* (commands): whoever builds a command from secret bytes opens a
///   [`Provenance`] scope naming the bytes it built and which ranges of them are secret;
///   while the scope lives, a command containing those bytes has exactly those ranges
///   masked, whatever their length (a 2-byte PIN too).
/// - *Recognition* (responses, and commands as a second line): a run of bytes equal to a
///   whole loaded secret, or to a piece of [`MIN_PIECE`] or more bytes of one, is masked.
#[derive(Clone, Default)]
pub struct Redactor {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    /// Whole secret values, deduplicated.
    secrets: Vec<Vec<u8>>,
    /// Open provenance scopes: (id, bytes built, their secret ranges).
    scopes: Vec<(u64, Vec<u8>, Vec<Range<usize>>)>,
    next_scope: u64,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the values: only how many there are.
        let count = self.inner.lock().map(|s| s.secrets.len()).unwrap_or(0);
        write!(f, "Redactor({count} secrets)")
    }
}

/// An open provenance scope ([`Redactor::provenance`]); closed when dropped.
#[must_use = "the secret ranges are masked only while the scope lives"]
pub struct Provenance {
    inner: Option<(Arc<Mutex<Inner>>, u64)>,
}

impl std::fmt::Debug for Provenance {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Provenance")
    }
}

impl Drop for Provenance {
    fn drop(&mut self) {
        if let Some((inner, id)) = self.inner.take() {
            let mut inner = inner.lock().unwrap_or_else(|e| e.into_inner());
            inner.scopes.retain(|(scope, _, _)| *scope != id);
        }
    }
}

/// A secret recognised for a while ([`Redactor::add_while`]); forgotten when dropped.
#[must_use = "the secret is recognised only while the guard lives"]
pub struct Recognised {
    inner: Option<(Arc<Mutex<Inner>>, Vec<u8>)>,
}

impl std::fmt::Debug for Recognised {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Recognised")
    }
}

impl Drop for Recognised {
    fn drop(&mut self) {
        if let Some((inner, mut secret)) = self.inner.take() {
            let mut inner = inner.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(at) = inner.secrets.iter().position(|s| *s == secret) {
                let mut gone = inner.secrets.remove(at);
                gone.iter_mut().for_each(|b| *b = 0);
            }
            secret.iter_mut().for_each(|b| *b = 0);
        }
    }
}

impl Redactor {
    /// Remembers a secret value so that it is masked wherever it shows up in traffic.
    pub fn add(&self, secret: &[u8]) {
        if secret.is_empty() {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if !inner.secrets.iter().any(|s| s == secret) {
            inner.secrets.push(secret.to_vec());
        }
    }

    /// Like [`Redactor::add`], for as long as the returned guard lives: a secret of one card
    /// (a diversified key, a decrypted data cell) is recognised while that card runs and
    /// forgotten after, so a long batch neither keeps every card's keys in memory nor
    /// compares each response against all of them.
    pub fn add_while(&self, secret: &[u8]) -> Recognised {
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if secret.is_empty() || inner.secrets.iter().any(|s| s == secret) {
            return Recognised { inner: None };
        }
        inner.secrets.push(secret.to_vec());
        Recognised {
            inner: Some((self.inner.clone(), secret.to_vec())),
        }
    }

    /// Opens a scope in which `bytes` (a command, or the part of one a function builds from
    /// its arguments) has `ranges` masked wherever the bytes appear in a command. A scope
    /// without ranges costs nothing.
    pub fn provenance(&self, bytes: &[u8], ranges: &[Range<usize>]) -> Provenance {
        let ranges = crate::secret::normalise(ranges, bytes.len());
        if ranges.is_empty() {
            return Provenance { inner: None };
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let id = inner.next_scope;
        inner.next_scope += 1;
        inner.scopes.push((id, bytes.to_vec(), ranges));
        Provenance {
            inner: Some((self.inner.clone(), id)),
        }
    }

    /// Marks the bytes of a command that open provenance scopes say are secret.
    fn mark_provenance(&self, command: &[u8], masked: &mut [bool]) {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for (_, built, ranges) in &inner.scopes {
            let mut found = false;
            if built.len() <= command.len() {
                for start in 0..=command.len() - built.len() {
                    if command[start..start + built.len()] == built[..] {
                        found = true;
                        for r in ranges {
                            masked[start + r.start..start + r.end].fill(true);
                        }
                    }
                }
            }
            if !found {
                mark_resent(command, built, ranges, masked);
            }
        }
    }

    /// Marks every run of `bytes` equal to a whole secret (if `whole` is set, whatever its
    /// length) or to a piece of at least [`MIN_PIECE`] bytes of one.
    fn mark(&self, bytes: &[u8], masked: &mut [bool], whole: bool) {
        let inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        for secret in &inner.secrets {
            for start in 0..bytes.len() {
                // The longest run from `start` that equals some piece of the secret.
                let mut longest = 0;
                for offset in 0..secret.len() {
                    let run = bytes[start..]
                        .iter()
                        .zip(&secret[offset..])
                        .take_while(|(a, b)| a == b)
                        .count();
                    let is_whole = whole && offset == 0 && run == secret.len();
                    if run >= MIN_PIECE || is_whole {
                        longest = longest.max(run);
                    }
                }
                masked[start..start + longest].fill(true);
            }
        }
    }
}

/// A command sent again with another Le (`6Cxx`): same header and data as the one built, so
/// the built data ranges apply to it at its own data offset.
fn mark_resent(command: &[u8], built: &[u8], ranges: &[Range<usize>], masked: &mut [bool]) {
    let (Ok(sent), Ok(made)) = (Command::parse(command), Command::parse(built)) else {
        return;
    };
    let same = (sent.cla, sent.ins, sent.p1, sent.p2) == (made.cla, made.ins, made.p1, made.p2)
        && sent.data == made.data;
    if !same || sent.data.is_empty() {
        return;
    }
    let header = |c: &Command| if c.is_extended() { 7 } else { 5 };
    let (from, to) = (header(&made), header(&sent));
    for r in ranges {
        // Only ranges inside the data move with it; the header is the same bytes anyway.
        let start = r.start.max(from) - from;
        let end = r.end.min(from + made.data.len()).saturating_sub(from);
        if start < end {
            masked[to + start..to + end].fill(true);
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
        // The file-card COS's PIN and key administration (`cos`): PINs, enciphered blocks.
        (_, 0x5E | 0x5C) => true,
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

/// Masks a command: its sensitive data by kind, the ranges secrets filled (provenance),
/// and any run equal to a piece of 4 or more bytes of a known secret.
pub fn mask_command(command: &[u8], redactor: &Redactor) -> Masked {
    mask_command_and(command, redactor, None)
}

/// [`mask_command`], with `also` masked as well (the rest of a chain whose start the trace
/// judged secret).
fn mask_command_and(command: &[u8], redactor: &Redactor, also: Option<Range<usize>>) -> Masked {
    let mut masked = vec![false; command.len()];
    for range in [sensitive_data(command), also].into_iter().flatten() {
        masked[range].iter_mut().for_each(|m| *m = true);
    }
    redactor.mark_provenance(command, &mut masked);
    // Whole short secrets are not searched for in commands: provenance covers the bytes a
    // secret filled, and a search would mask innocent header bytes.
    redactor.mark(command, &mut masked, false);
    Masked::new(command, masked)
}

/// Masks a response (data and status word): any run of its data equal to a whole known
/// secret, whatever its length, or to a piece of 4 or more bytes of one. The status word is
/// the card's, never a secret's, and stays readable.
pub fn mask_response(response: &[u8], redactor: &Redactor) -> Masked {
    let mut masked = vec![false; response.len()];
    let data = response.len().saturating_sub(2);
    redactor.mark(&response[..data], &mut masked[..data], true);
    Masked::new(response, masked)
}

/// Masks response data (no status word): as [`mask_response`].
pub fn mask_data(data: &[u8], redactor: &Redactor) -> Masked {
    let mut masked = vec![false; data.len()];
    redactor.mark(data, &mut masked, true);
    Masked::new(data, masked)
}

/// Bytes with some runs masked, ready to print.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Masked {
    /// Uppercase hex pairs separated by spaces; masked runs read `(secret)`.
    pub spaced: String,
    /// Uppercase hex without separators; masked runs read `(secret)`.
    pub compact: String,
    /// The masked byte ranges, in order (for writers that keep lengths, such as dumps).
    pub runs: Vec<Range<usize>>,
}

impl Masked {
    fn new(bytes: &[u8], masked: Vec<bool>) -> Masked {
        let mut spaced = String::with_capacity(bytes.len() * 3);
        let mut compact = String::with_capacity(bytes.len() * 2);
        let mut runs = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            if !spaced.is_empty() {
                spaced.push(' ');
            }
            if masked[i] {
                let start = i;
                while i < bytes.len() && masked[i] {
                    i += 1;
                }
                runs.push(start..i);
                spaced.push_str(MASK);
                compact.push_str(MASK);
            } else {
                hex::push_pair(&mut spaced, bytes[i]);
                hex::push_pair(&mut compact, bytes[i]);
                i += 1;
            }
        }
        Masked {
            spaced,
            compact,
            runs,
        }
    }

    /// Bytes shown as they are.
    pub fn plain(bytes: &[u8]) -> Masked {
        Masked {
            spaced: hex::format(bytes),
            compact: hex::format_compact(bytes),
            runs: Vec::new(),
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
        /// Which table explains the status word: the command's (`apdu::Context`).
        context: Context,
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
    /// A chained I-block carrying a WritePerso to a key address went by, and its chain has
    /// not ended: every following part is key data, masked whole.
    key_chain: bool,
}

/// An ISO 14443-4 I-block sent in a transceive: the range of its INF in the APDU, and
/// whether the chaining bit says more parts follow.
fn i_block_in_transceive(command: &[u8]) -> Option<(Range<usize>, bool)> {
    let (start, frame) = super::omnikey::frame_of(command)?;
    let pcb = *frame.first()?;
    if pcb & 0xE2 != 0x02 {
        return None;
    }
    let prologue = 1 + usize::from(pcb & 0x08 != 0) + usize::from(pcb & 0x04 != 0);
    (frame.len() >= prologue).then(|| (start + prologue..start + frame.len(), pcb & 0x10 != 0))
}

impl Traced {
    /// Wraps `inner`; `show_secrets` turns masking off (for the bench only).
    pub fn new(inner: Box<dyn Card>, sink: Sink, redactor: Redactor, show_secrets: bool) -> Traced {
        Traced {
            inner,
            sink,
            redactor,
            show_secrets,
            key_chain: false,
        }
    }

    /// What of `command` the chain state masks besides [`mask_command`]'s rules, and the
    /// state after it: a chain that starts with a WritePerso to a key address has only key
    /// data in its later parts, which no stateless rule can tell from other bytes.
    fn chain_mask(&mut self, command: &[u8]) -> Option<Range<usize>> {
        let (inf, more) = i_block_in_transceive(command)?;
        let masked = self.key_chain.then(|| inf.clone());
        self.key_chain = if self.key_chain {
            more
        } else {
            more && perso::write_perso_key_data(command).is_some()
        };
        masked
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
        let also = self.chain_mask(command);
        let bytes = if self.show_secrets {
            Masked::plain(command)
        } else {
            mask_command_and(command, &self.redactor, also)
        };
        (self.sink)(&TraceEvent::Command {
            time: SystemTime::now(),
            bytes,
        });
        let context = Context::of_command(command);
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
            context,
        });
        Ok(response)
    }

    fn reset(&mut self) -> Result<Vec<u8>, Error> {
        self.key_chain = false;
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
        check(
            "00 5E 00 01 09 31 32 33 34 FF 35 36 37 38",
            "00 5E 00 01 09 (secret)",
        );
        check("80 5C 02 01 02 AA BB", "80 5C 02 01 02 (secret)");
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
mod provenance_tests {
    use super::*;

    #[test]
    fn a_secret_added_for_a_while_is_recognised_until_its_guard_drops() {
        let redactor = Redactor::default();
        redactor.add(&[0x11; 4]);
        let key = [0xA5, 0x5A, 0x01, 0x02, 0x03, 0x04];
        let response = [&key[..], &[0x90, 0x00]].concat();
        {
            let _guard = redactor.add_while(&key);
            assert_eq!(mask_response(&response, &redactor).spaced, "(secret) 90 00");
            // A secret already loaded stays when a guard for the same bytes drops.
            drop(redactor.add_while(&[0x11; 4]));
        }
        assert_eq!(
            mask_response(&response, &redactor).spaced,
            "A5 5A 01 02 03 04 90 00"
        );
        let loaded = [0x11, 0x11, 0x11, 0x11, 0x90, 0x00];
        assert_eq!(mask_response(&loaded, &redactor).spaced, "(secret) 90 00");
        assert_eq!(format!("{redactor:?}"), "Redactor(1 secrets)");
    }

    #[test]
    fn provenance_masks_exactly_the_secret_bytes_while_the_scope_lives() {
        let redactor = Redactor::default();
        // A 2-byte secret in an UPDATE BINARY: far too short to search for.
        let command = hex::parse("00 D6 00 10 02 5A 6B").unwrap();
        {
            let _scope = redactor.provenance(&[0x5A, 0x6B], std::slice::from_ref(&(0..2)));
            assert_eq!(
                mask_command(&command, &redactor).spaced,
                "00 D6 00 10 02 (secret)"
            );
            // Sent again with another Le after 6Cxx: the data still masked.
            let built = hex::parse("00 D6 00 10 02 5A 6B 00").unwrap();
            let _resent = redactor.provenance(&built, std::slice::from_ref(&(5..7)));
            let again = hex::parse("00 D6 00 10 02 5A 6B 10").unwrap();
            assert_eq!(
                mask_command(&again, &redactor).spaced,
                "00 D6 00 10 02 (secret) 10"
            );
        }
        assert_eq!(
            mask_command(&command, &redactor).spaced,
            "00 D6 00 10 02 5A 6B"
        );
    }

    #[test]
    fn responses_mask_whole_secrets_and_pieces_of_four_or_more() {
        let redactor = Redactor::default();
        redactor.add(&[0xA1, 0xB2, 0xC3, 0xD4, 0xE5, 0xF6, 0x07, 0x18]);
        redactor.add(&[0x5A, 0x6B]);
        let show = |text: &str| mask_response(&hex::parse(text).unwrap(), &redactor).spaced;
        assert_eq!(show("C3 D4 E5 F6 07 18 90 00"), "(secret) 90 00");
        assert_eq!(show("00 A1 B2 C3 D4 00 90 00"), "00 (secret) 00 90 00");
        assert_eq!(show("E5 F6 07 18 90 00"), "(secret) 90 00");
        assert_eq!(show("5A 6B 90 00"), "(secret) 90 00");
        // Three bytes of a longer secret alone are not recognised (documented).
        assert_eq!(show("A1 B2 C3 90 00"), "A1 B2 C3 90 00");
        // The status word is never masked.
        assert_eq!(show("5A 6B"), "5A 6B");
    }

    proptest::proptest! {
        #[test]
        fn masking_never_panics_and_keeps_the_status_word(
            secret in proptest::collection::vec(proptest::num::u8::ANY, 1..20),
            response in proptest::collection::vec(proptest::num::u8::ANY, 2..64),
            start in 0usize..80, len in 0usize..20,
        ) {
            let redactor = Redactor::default();
            redactor.add(&secret);
            let _scope = redactor.provenance(&secret, std::slice::from_ref(&(start..start + len)));
            let shown = mask_response(&response, &redactor).spaced;
            let sw = hex::format(&response[response.len() - 2..]);
            proptest::prop_assert!(shown.ends_with(&sw));
            let _ = mask_command(&response, &redactor);
        }
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
        // ACR122U direct transmit and the PC/SC Part 3 transparent exchange.
        check(
            &format!("FF 00 00 00 16 D4 40 01 A8 00 90 {KEY}"),
            "FF 00 00 00 16 D4 40 01 A8 00 90 (secret)",
        );
        check(
            &format!("FF 00 00 00 16 D4 42 02 A8 00 90 {KEY}"),
            "FF 00 00 00 16 D4 42 02 A8 00 90 (secret)",
        );
        check(
            &format!("FF C2 00 01 16 95 14 02 A8 00 90 {KEY} 00"),
            "FF C2 00 01 16 95 14 02 A8 00 90 (secret) 00",
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

#[cfg(test)]
mod chain_tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;
    use crate::test_support::Fixed;

    /// The later parts of a chained WritePerso to a key address carry only key bytes: the
    /// trace masks them whole, and forgets the chain once it ends.
    #[test]
    fn every_part_of_a_chained_key_write_perso_is_masked() {
        let lines: Rc<RefCell<Vec<String>>> = Rc::default();
        let seen = lines.clone();
        let sink: Sink = Box::new(move |event| {
            if let TraceEvent::Command { bytes, .. } = event {
                seen.borrow_mut().push(bytes.spaced.clone());
            }
        });
        let card = Fixed::new(Some(vec![0x00, 0x00, 0xA2, 0x90, 0x00]));
        let mut traced = Traced::new(Box::new(card), sink, Redactor::default(), false);
        for apdu in [
            // First part (PCB 12, chaining): WritePerso to key 9000 and 8 key bytes.
            "FF A0 00 05 12 01 00 F3 00 00 64 12 A8 00 90 11 22 33 44 55 66 77 88 00",
            // Last part (PCB 03): the other 8 key bytes.
            "FF A0 00 05 0F 01 00 F3 00 00 64 03 99 AA BB CC DD EE F1 F2 00",
            // After the chain: an ordinary unchained block, not masked.
            "FF A0 00 05 0B 01 00 F3 00 00 64 02 A8 04 00 00",
        ] {
            let _ = traced.transmit(&hex::parse(apdu).unwrap());
        }
        let lines = lines.borrow();
        assert!(!lines[0].contains("11 22"), "{}", lines[0]);
        assert!(
            !lines[1].contains("99 AA") && !lines[1].contains("F2"),
            "{}",
            lines[1]
        );
        assert!(lines[2].ends_with("02 A8 04 00 00"), "{}", lines[2]);
    }
}
