//! The reader seam: every byte that reaches a card, real or simulated, goes through [`Card`].
//!
//! A [`Reader`] hands out cards as they are inserted; a [`Card`] moves raw APDU bytes.
//! [`Card::exchange`] adds the ISO 7816-4 transport rules once for every backend: it follows
//! `61xx` with GET RESPONSE and `6Cxx` by resending with the exact Le. A status word other
//! than 9000 is data here, never an `Err`; `Err` means the transport failed.
//!
//! This module does not know which backends exist: the PC/SC one lives in [`pcsc`], the
//! simulated ones in `crate::sim`, the serial ones (TLP224, raw T=0) in [`serial`], and the
//! command line picks one. [`driver`] sends raw frames through
//! whichever reader family holds the card ([`omnikey`], [`part3`], [`acs_pn532`], [`direct`]),
//! over any [`Card`].

pub mod acs_pn532;
pub mod atr;
pub mod direct;
pub mod driver;
pub mod framing;
pub mod guard;
pub mod omnikey;
pub mod part3;
pub mod pcsc;
pub mod record;
pub mod serial;
pub mod trace;

use std::time::Duration;

use crate::apdu::{Command, Response};

/// A transport failure. Every variant maps to exit code 3 at the command line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The PC/SC service (pcscd) is not running or not reachable.
    #[error("the PC/SC service is not running (start pcscd)")]
    NoService,
    /// The PC/SC service stopped while we were using it.
    #[error("the PC/SC service stopped")]
    ServiceStopped,
    /// No reader is attached at all.
    #[error("no smart-card reader is attached")]
    NoReaders,
    /// No reader matches the name pattern or index the user gave.
    #[error("no reader matches `{pattern}` (readers: {available})")]
    NoReaderMatching {
        /// What the user asked for.
        pattern: String,
        /// The names that exist, comma-separated.
        available: String,
    },
    /// The name pattern is part of several reader names and equals none of them.
    #[error("`{pattern}` matches several readers: {matches} (give more of the name, or an index)")]
    AmbiguousReader {
        /// What the user asked for.
        pattern: String,
        /// The names that contain it, comma-separated.
        matches: String,
    },
    /// The reader has no card in it.
    #[error("no card in reader `{reader}`")]
    NoCard {
        /// Reader name.
        reader: String,
    },
    /// The card was removed while in use.
    #[error("card removed from reader `{reader}`")]
    CardRemoved {
        /// Reader name.
        reader: String,
    },
    /// The reader disappeared (unplugged).
    #[error("reader `{reader}` is no longer available")]
    ReaderGone {
        /// Reader name.
        reader: String,
    },
    /// The card does not speak the requested protocol, or could not be powered.
    #[error("card in reader `{reader}` cannot be used: {reason}")]
    Unusable {
        /// Reader name.
        reader: String,
        /// What the reader said.
        reason: String,
    },
    /// The card answered with fewer than the two status bytes.
    #[error("card answered {len} byte(s), fewer than the two status bytes")]
    ShortResponse {
        /// Bytes received.
        len: usize,
    },
    /// The card kept answering `61xx` beyond any sensible response length.
    #[error("card kept answering 61xx: gave up after {rounds} GET RESPONSE commands")]
    EndlessResponse {
        /// How many GET RESPONSE commands were sent.
        rounds: usize,
    },
    /// The command bytes are not valid; nothing was sent.
    #[error("invalid command: {0}")]
    InvalidCommand(#[from] crate::apdu::CommandError),
    /// Waiting for a card event timed out.
    #[error("timed out waiting for {what} in reader `{reader}`")]
    Timeout {
        /// What was awaited (a card, its removal).
        what: &'static str,
        /// Reader name.
        reader: String,
    },
    /// The guard refused to send the command (not armed, or never allowed).
    #[error("refused: {reason}")]
    Refused {
        /// What the command would have done and why it was refused.
        reason: String,
    },
    /// Any other failure reported by the transport, with its text.
    #[error("reader `{reader}`: {message}")]
    Transport {
        /// Reader name.
        reader: String,
        /// What went wrong.
        message: String,
    },
}

/// How [`Card::exchange_with`] treats `61xx` and `6Cxx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exchange {
    /// Follow `61xx` with GET RESPONSE until the card stops announcing data.
    pub get_response: bool,
    /// Resend once with the exact Le when the card answers `6Cxx`.
    pub resend_on_6c: bool,
}

impl Exchange {
    /// Both rules on, as [`Card::exchange`] applies them.
    pub const AUTO: Exchange = Exchange {
        get_response: true,
        resend_on_6c: true,
    };
    /// Both rules off: the first answer is returned as it came.
    pub const RAW: Exchange = Exchange {
        get_response: false,
        resend_on_6c: false,
    };
}

/// More GET RESPONSE rounds than this means the card is looping: 65,536 bytes of data at
/// 256 per round is 256 rounds.
const MAX_GET_RESPONSE_ROUNDS: usize = 257;

/// A card in a reader, real or simulated, ready to exchange APDUs.
pub trait Card {
    /// The answer-to-reset as the reader reports it.
    fn atr(&self) -> &[u8];

    /// The name of the reader the card sits in.
    fn reader_name(&self) -> &str;

    /// Sends one command APDU as bytes and returns the raw response, status word included.
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, Error>;

    /// Resets the card (warm reset) and returns the new ATR.
    fn reset(&mut self) -> Result<Vec<u8>, Error>;

    /// Sends `command` and follows `61xx` and `6Cxx` (ISO 7816-4 §5.3.4, protocols.md §8.2).
    fn exchange(&mut self, command: &Command) -> Result<Response, Error> {
        self.exchange_with(command, Exchange::AUTO)
    }

    /// [`Card::exchange`] with the transport rules chosen by the caller.
    fn exchange_with(&mut self, command: &Command, rules: Exchange) -> Result<Response, Error> {
        command.validate()?;
        self.exchange_encoded(command, &command.to_bytes(), rules)
    }

    /// [`Card::exchange_with`] for a valid `command` already encoded as `encoded`
    /// (`command.to_bytes()`), so a caller that sends one command many times encodes it once.
    fn exchange_encoded(
        &mut self,
        command: &Command,
        encoded: &[u8],
        rules: Exchange,
    ) -> Result<Response, Error> {
        let mut response = self.transmit_response(encoded)?;
        if rules.resend_on_6c {
            if let Some(le) = response.sw.exact_length() {
                // Resend once: a card that answers 6Cxx again is reported as it answered.
                let mut again = command.clone();
                again.le = Some(le);
                response = self.transmit_response(&again.to_bytes())?;
            }
        }
        if rules.get_response {
            let mut rounds = 0;
            while let Some(available) = response.sw.bytes_available() {
                rounds += 1;
                if rounds > MAX_GET_RESPONSE_ROUNDS {
                    return Err(Error::EndlessResponse { rounds: rounds - 1 });
                }
                // GET RESPONSE uses the class byte of the command it completes.
                let get = Command::new(command.cla, 0xC0, 0x00, 0x00).with_le(available);
                let next = self.transmit_response(&get.to_bytes())?;
                response.data.extend_from_slice(&next.data);
                response.sw = next.sw;
            }
        }
        Ok(response)
    }

    /// Sends bytes and splits the answer into data and status word.
    fn transmit_response(&mut self, command: &[u8]) -> Result<Response, Error> {
        let bytes = self.transmit(command)?;
        let len = bytes.len();
        Response::from_bytes(bytes).ok_or(Error::ShortResponse { len })
    }
}

impl<C: Card + ?Sized> Card for Box<C> {
    fn atr(&self) -> &[u8] {
        (**self).atr()
    }
    fn reader_name(&self) -> &str {
        (**self).reader_name()
    }
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, Error> {
        (**self).transmit(command)
    }
    fn reset(&mut self) -> Result<Vec<u8>, Error> {
        (**self).reset()
    }
}

/// A source of cards: a PC/SC reader, or a stream of simulated cards.
pub trait Reader {
    /// Human-readable name, used in messages and records.
    fn name(&self) -> &str;

    /// Blocks until a card is present and returns it connected; `None` on timeout or when a
    /// simulated stream is exhausted.
    fn next_card(&mut self, timeout: Option<Duration>) -> Result<Option<Box<dyn Card>>, Error>;

    /// Blocks until the card last returned has been removed.
    fn wait_removed(&mut self, timeout: Option<Duration>) -> Result<(), Error>;

    /// A stable name for the card last returned by [`Reader::next_card`], for a card without
    /// a UID to tell it apart (a simulated contact card is named by its place in the
    /// stream). Real readers return `None`: their cards are told apart by UID or not at all.
    fn card_identity(&self) -> Option<String> {
        None
    }

    /// Whether `next_card` returning `None` means that no card will ever come (a finite
    /// simulated stream) rather than a timeout.
    fn is_finite(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests;
