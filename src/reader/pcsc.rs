//! The PC/SC backend: real readers through pcscd, by way of the `pcsc` crate.
//!
//! This is the only file that names `pcsc`. It lists readers with the state of their slot,
//! picks one by name or index, waits for cards to arrive and leave (`SCardGetStatusChange`),
//! connects to them exclusively and moves APDU bytes. Every PC/SC failure becomes a
//! [`reader::Error`](Error) variant, so callers can tell a removed card, a vanished reader and a
//! stopped pcscd apart without knowing PC/SC.
//!
//! It does not interpret APDUs (`61xx`/`6Cxx` are [`Card::exchange`]'s job), send reader
//! control commands, or open transactions: a batch tool owns its reader, and an exclusive
//! connection is all the locking it needs.

use std::ffi::CString;
use std::fmt;
use std::str::FromStr;
use std::time::{Duration, Instant};

use pcsc::{Context, Disposition, ReaderState, Scope, ShareMode, State};

use super::{Card, Error, Reader};

/// The transmission protocols a connection may use (`--protocol`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Protocol {
    /// T=0 or T=1, whichever the reader negotiates (pcscd prefers T=1 when both are offered).
    #[default]
    Any,
    /// T=0 only.
    T0,
    /// T=1 only.
    T1,
}

impl Protocol {
    fn protocols(self) -> pcsc::Protocols {
        match self {
            Protocol::Any => pcsc::Protocols::T0 | pcsc::Protocols::T1,
            Protocol::T0 => pcsc::Protocols::T0,
            Protocol::T1 => pcsc::Protocols::T1,
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Any => "any",
            Protocol::T0 => "t0",
            Protocol::T1 => "t1",
        })
    }
}

/// A `--protocol` value that is not `any`, `t0` or `t1`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown protocol `{0}` (expected `any`, `t0` or `t1`)")]
pub struct UnknownProtocol(pub String);

impl FromStr for Protocol {
    type Err = UnknownProtocol;

    /// Parses `any`, `t0` or `t1`, in any case.
    fn from_str(text: &str) -> Result<Protocol, UnknownProtocol> {
        match text.to_ascii_lowercase().as_str() {
            "any" => Ok(Protocol::Any),
            "t0" => Ok(Protocol::T0),
            "t1" => Ok(Protocol::T1),
            _ => Err(UnknownProtocol(text.to_owned())),
        }
    }
}

/// What is in a reader's slot, as pcscd reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CardState {
    /// No card.
    Empty,
    /// A card that answered to reset and is free to connect to.
    Present,
    /// A card held exclusively by an application (this one included).
    InUse,
    /// A card that does not answer to reset.
    Mute,
    /// The reader cannot be used (unplugged, or its driver failed).
    Unavailable,
}

impl CardState {
    fn from_pcsc(state: State) -> CardState {
        if state.intersects(State::UNKNOWN | State::UNAVAILABLE | State::IGNORE) {
            CardState::Unavailable
        } else if state.contains(State::MUTE) {
            CardState::Mute
        } else if state.contains(State::PRESENT) {
            if state.contains(State::EXCLUSIVE) {
                CardState::InUse
            } else {
                CardState::Present
            }
        } else if state.contains(State::EMPTY) {
            CardState::Empty
        } else {
            CardState::Unavailable
        }
    }
}

impl fmt::Display for CardState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CardState::Empty => "empty",
            CardState::Present => "present",
            CardState::InUse => "in use",
            CardState::Mute => "mute",
            CardState::Unavailable => "unavailable",
        })
    }
}

/// One reader as [`list_readers`] sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReaderInfo {
    /// Position in pcscd's list; `--reader` accepts it in place of a name.
    pub index: usize,
    /// The reader name, as pcscd spells it.
    pub name: String,
    /// What is in the slot.
    pub state: CardState,
    /// The ATR of the card in the slot, when there is one.
    pub atr: Option<Vec<u8>>,
}

/// Lists the readers pcscd knows, in its order, with the state of each slot.
///
/// No reader at all is an empty list, not an error; [`PcscReader::open`] is where that fails.
pub fn list_readers() -> Result<Vec<ReaderInfo>, Error> {
    let context = establish()?;
    let names = reader_names(&context)?;
    if names.is_empty() {
        return Ok(Vec::new());
    }
    let mut states: Vec<ReaderState> = names
        .into_iter()
        .map(|name| ReaderState::new(name, State::UNAWARE))
        .collect();
    // Against UNAWARE every reader counts as changed, so this returns at once.
    context
        .get_status_change(Duration::ZERO, &mut states)
        .map_err(|err| {
            let names: Vec<_> = states
                .iter()
                .map(|state| state.name().to_string_lossy())
                .collect();
            map_error(err, &names.join(", "))
        })?;
    Ok(states
        .iter()
        .enumerate()
        .map(|(index, reader)| {
            let state = CardState::from_pcsc(reader.event_state());
            let atr = reader.atr();
            ReaderInfo {
                index,
                name: reader.name().to_string_lossy().into_owned(),
                state,
                atr: (!atr.is_empty() && state != CardState::Empty).then(|| atr.to_vec()),
            }
        })
        .collect())
}

/// One PC/SC reader, opened by name or index; hands out the cards put into it.
pub struct PcscReader {
    context: Context,
    name: String,
    c_name: CString,
    protocol: Protocol,
    /// The reader's card-event counter when the last card was handed out, so that
    /// [`Reader::wait_removed`] also notices a card swapped faster than it looked.
    handed_out: Option<u32>,
}

impl fmt::Debug for PcscReader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PcscReader")
            .field("name", &self.name)
            .field("protocol", &self.protocol)
            .finish_non_exhaustive()
    }
}

impl PcscReader {
    /// Opens the reader `pattern` names: a decimal index into [`list_readers`] order, or a
    /// case-insensitive substring of one reader's name.
    ///
    /// A substring that several names contain is refused with [`Error::AmbiguousReader`],
    /// unless one of them is exactly the pattern (case aside). Fails with
    /// [`Error::NoService`] when pcscd is not running and [`Error::NoReaders`] when it has no
    /// reader.
    pub fn open(pattern: &str, protocol: Protocol) -> Result<PcscReader, Error> {
        let context = establish()?;
        let c_names = reader_names(&context)?;
        let names: Vec<String> = c_names
            .iter()
            .map(|name| name.to_string_lossy().into_owned())
            .collect();
        let index = select(&names, pattern)?;
        Ok(PcscReader {
            context,
            name: names[index].clone(),
            c_name: c_names[index].clone(),
            protocol,
            handed_out: None,
        })
    }

    /// Connects to the card in the reader now, exclusively; [`Error::NoCard`] when there is none.
    ///
    /// Exclusive means no other application can send APDUs to the card until it is dropped.
    /// When another application is connected, this fails with [`Error::Unusable`] rather than
    /// fall back to a shared connection, because commands interleaved by someone else would
    /// corrupt a personalisation flow without a trace.
    pub fn connect(&mut self) -> Result<Box<dyn Card + Send>, Error> {
        let snapshot = self.snapshot()?;
        let card = self.connect_card()?;
        self.handed_out = Some(snapshot.event_count());
        Ok(Box::new(card))
    }

    /// The protocols this reader connects with.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    fn connect_card(&self) -> Result<PcscCard, Error> {
        let protocols = self.protocol.protocols();
        let card = self
            .context
            .connect(&self.c_name, ShareMode::Exclusive, protocols)
            .map_err(|err| match err {
                pcsc::Error::NoSmartcard | pcsc::Error::RemovedCard => Error::NoCard {
                    reader: self.name.clone(),
                },
                err => map_error(err, &self.name),
            })?;
        let atr = read_atr(&card, &self.name)?;
        Ok(PcscCard {
            card,
            context: self.context.clone(),
            reader: self.name.clone(),
            c_reader: self.c_name.clone(),
            protocols,
            atr,
            buffer: vec![0; pcsc::MAX_BUFFER_SIZE_EXTENDED].into_boxed_slice(),
        })
    }

    /// The reader's state right now.
    fn snapshot(&self) -> Result<ReaderState, Error> {
        let mut state = ReaderState::new(self.c_name.clone(), State::UNAWARE);
        self.wait_change(&mut state, Some(Instant::now()))?;
        Ok(state)
    }

    /// Waits until the reader's state differs from `state`'s current state and updates it;
    /// `false` when `deadline` passed first (`None` waits for ever).
    fn wait_change(
        &self,
        state: &mut ReaderState,
        deadline: Option<Instant>,
    ) -> Result<bool, Error> {
        let timeout = deadline.map(|deadline| deadline.saturating_duration_since(Instant::now()));
        match self
            .context
            .get_status_change(timeout, std::slice::from_mut(state))
        {
            Ok(()) => {
                if CardState::from_pcsc(state.event_state()) == CardState::Unavailable {
                    return Err(Error::ReaderGone {
                        reader: self.name.clone(),
                    });
                }
                Ok(true)
            }
            Err(pcsc::Error::Timeout) => Ok(false),
            Err(err) => Err(map_error(err, &self.name)),
        }
    }
}

impl Reader for PcscReader {
    fn name(&self) -> &str {
        &self.name
    }

    /// Returns the card in the reader, waiting for one to be inserted if the slot is empty.
    fn next_card(&mut self, timeout: Option<Duration>) -> Result<Option<Box<dyn Card>>, Error> {
        let deadline = deadline(timeout);
        let mut state = ReaderState::new(self.c_name.clone(), State::UNAWARE);
        loop {
            if !self.wait_change(&mut state, deadline)? {
                return Ok(None);
            }
            match CardState::from_pcsc(state.event_state()) {
                CardState::Mute => {
                    return Err(Error::Unusable {
                        reader: self.name.clone(),
                        reason: "it does not answer to reset".into(),
                    });
                }
                CardState::Present | CardState::InUse => match self.connect_card() {
                    Ok(card) => {
                        self.handed_out = Some(state.event_count());
                        return Ok(Some(Box::new(card)));
                    }
                    // Pulled out again between the event and the connection: keep waiting.
                    Err(Error::NoCard { .. }) => {}
                    Err(err) => return Err(err),
                },
                CardState::Empty | CardState::Unavailable => {}
            }
            state.sync_current_state();
        }
    }

    /// Waits until the slot is empty, or holds another card than the one handed out last.
    fn wait_removed(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        let deadline = deadline(timeout);
        let mut state = ReaderState::new(self.c_name.clone(), State::UNAWARE);
        loop {
            if !self.wait_change(&mut state, deadline)? {
                return Err(Error::Timeout {
                    what: "card removal",
                    reader: self.name.clone(),
                });
            }
            let swapped = self
                .handed_out
                .is_some_and(|count| count != state.event_count());
            if state.event_state().contains(State::EMPTY) || swapped {
                self.handed_out = None;
                return Ok(());
            }
            state.sync_current_state();
        }
    }
}

/// A card connected exclusively through PC/SC.
///
/// Dropping it disconnects and resets the card, so no state (a verified PIN, an open
/// session) outlives the flow that created it.
pub struct PcscCard {
    card: pcsc::Card,
    context: Context,
    reader: String,
    c_reader: CString,
    protocols: pcsc::Protocols,
    atr: Vec<u8>,
    buffer: Box<[u8]>,
}

impl fmt::Debug for PcscCard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PcscCard")
            .field("reader", &self.reader)
            .field("atr", &crate::apdu::hex::format(&self.atr))
            .finish_non_exhaustive()
    }
}

impl PcscCard {
    /// Reconnects to the card (`SCardReconnect`) and reads its ATR again.
    fn reconnect(&mut self, initialization: Disposition) -> Result<(), Error> {
        self.card
            .reconnect(ShareMode::Exclusive, self.protocols, initialization)
            .map_err(|err| map_error(err, &self.reader))?;
        self.atr = read_atr(&self.card, &self.reader)?;
        Ok(())
    }

    fn transmit_once(&mut self, command: &[u8]) -> Result<Vec<u8>, pcsc::Error> {
        // A short APDU cannot be answered with more than 256 data bytes and the SW, so it gets
        // the short receive buffer: pcsc-lite moves the whole buffer length through pcscd on
        // every exchange, and the 64 KiB extended buffer cost about a quarter of the
        // throughput through vpcd (BENCHMARKS.md).
        let limit = if is_extended(command) {
            self.buffer.len()
        } else {
            pcsc::MAX_BUFFER_SIZE
        };
        let response = self.card.transmit(command, &mut self.buffer[..limit])?;
        Ok(response.to_vec())
    }

    /// Maps a failed `SCardTransmit`, telling a card pulled out mid-command from other failures.
    fn transmit_error(&self, err: pcsc::Error) -> Error {
        // pcsc-lite reports any exchange the driver could not complete as
        // SCARD_E_NOT_TRANSACTED, a card pulled out included; the removal itself shows only when
        // pcscd next polls the reader (every 400 ms for vpcd), so look a little while for it.
        if matches!(err, pcsc::Error::NotTransacted | pcsc::Error::CommError)
            && self.left_within(REMOVAL_NOTICE)
        {
            return Error::CardRemoved {
                reader: self.reader.clone(),
            };
        }
        map_error(err, &self.reader)
    }

    /// Whether pcscd reports the slot empty within `patience`.
    fn left_within(&self, patience: Duration) -> bool {
        let deadline = Instant::now() + patience;
        let mut state = [ReaderState::new(self.c_reader.clone(), State::UNAWARE)];
        loop {
            let timeout = deadline.saturating_duration_since(Instant::now());
            if self.context.get_status_change(timeout, &mut state).is_err() {
                return false;
            }
            let now = state[0].event_state();
            if now.contains(State::EMPTY) || !now.contains(State::PRESENT) {
                return true;
            }
            state[0].sync_current_state();
        }
    }
}

/// Whether a command uses extended length fields (ISO 7816-4: a 0 byte where a short Lc or
/// Le would be, followed by at least two more bytes).
fn is_extended(command: &[u8]) -> bool {
    command.len() >= 7 && command[4] == 0
}

/// How long a failed exchange waits for pcscd to report the card gone: two and a half of its
/// 400 ms polls (`PCSCLITE_STATUS_POLL_RATE`).
const REMOVAL_NOTICE: Duration = Duration::from_millis(1000);

impl Card for PcscCard {
    fn atr(&self) -> &[u8] {
        &self.atr
    }

    fn reader_name(&self) -> &str {
        &self.reader
    }

    /// Sends the bytes with `SCardTransmit`.
    ///
    /// A card that someone else reset is reconnected once and the command sent again; what
    /// the reset cleared (selected file, verified PIN) stays cleared.
    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, Error> {
        let response = match self.transmit_once(command) {
            Err(pcsc::Error::ResetCard) => {
                self.reconnect(Disposition::LeaveCard)?;
                self.transmit_once(command)
            }
            other => other,
        };
        let response = response.map_err(|err| self.transmit_error(err))?;
        // vpcd answers a command to a card that vanished mid-exchange with an empty
        // "success"; no card answers nothing, so check whether it left before calling it short.
        if response.is_empty() && self.left_within(REMOVAL_NOTICE) {
            return Err(Error::CardRemoved {
                reader: self.reader.clone(),
            });
        }
        Ok(response)
    }

    /// Warm-resets the card (`SCardReconnect` with `SCARD_RESET_CARD`) and returns its ATR.
    fn reset(&mut self) -> Result<Vec<u8>, Error> {
        self.reconnect(Disposition::ResetCard)?;
        Ok(self.atr.clone())
    }
}

/// Stands for the reader in messages about failures before any reader is chosen.
const NO_READER_YET: &str = "(none chosen yet)";

/// Connects to pcscd.
fn establish() -> Result<Context, Error> {
    Context::establish(Scope::User).map_err(|err| map_error(err, NO_READER_YET))
}

/// The reader names in pcscd's order; empty when there is none.
fn reader_names(context: &Context) -> Result<Vec<CString>, Error> {
    match context.list_readers_owned() {
        Ok(names) => Ok(names),
        Err(pcsc::Error::NoReadersAvailable) => Ok(Vec::new()),
        Err(err) => Err(map_error(err, NO_READER_YET)),
    }
}

/// The card's ATR, read with `SCardStatus` (vpcd does not answer `SCARD_ATTR_ATR_STRING`).
fn read_atr(card: &pcsc::Card, reader: &str) -> Result<Vec<u8>, Error> {
    let status = card.status2_owned().map_err(|err| map_error(err, reader))?;
    Ok(status.atr().to_vec())
}

/// Picks the reader `pattern` designates among `names`; see [`PcscReader::open`].
fn select(names: &[String], pattern: &str) -> Result<usize, Error> {
    if names.is_empty() {
        return Err(Error::NoReaders);
    }
    let no_match = || Error::NoReaderMatching {
        pattern: pattern.to_owned(),
        available: quoted_list(names),
    };
    if !pattern.is_empty() && pattern.bytes().all(|b| b.is_ascii_digit()) {
        return match pattern.parse::<usize>() {
            Ok(index) if index < names.len() => Ok(index),
            _ => Err(no_match()),
        };
    }
    let wanted = pattern.to_lowercase();
    let matches: Vec<usize> = names
        .iter()
        .enumerate()
        .filter(|(_, name)| name.to_lowercase().contains(&wanted))
        .map(|(index, _)| index)
        .collect();
    match matches[..] {
        [] => Err(no_match()),
        [only] => Ok(only),
        _ => matches
            .iter()
            .copied()
            .find(|&index| names[index].to_lowercase() == wanted)
            .ok_or_else(|| Error::AmbiguousReader {
                pattern: pattern.to_owned(),
                matches: quoted_list(matches.iter().map(|&index| &names[index])),
            }),
    }
}

/// `` `a`, `b` `` for messages.
fn quoted_list<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> String {
    names
        .into_iter()
        .map(|name| format!("`{}`", name.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Maps a PC/SC failure onto the crate's transport errors; see the table in the module tests.
fn map_error(err: pcsc::Error, reader: &str) -> Error {
    let reader = reader.to_owned();
    match err {
        pcsc::Error::NoService => Error::NoService,
        pcsc::Error::ServiceStopped => Error::ServiceStopped,
        pcsc::Error::NoReadersAvailable => Error::NoReaders,
        pcsc::Error::RemovedCard | pcsc::Error::NoSmartcard => Error::CardRemoved { reader },
        pcsc::Error::ReaderUnavailable | pcsc::Error::UnknownReader => Error::ReaderGone { reader },
        pcsc::Error::SharingViolation => Error::Unusable {
            reader,
            reason: "another application is connected to it".into(),
        },
        // pcsc-lite's code for "the driver could not exchange the command", whatever MSDN says.
        pcsc::Error::NotTransacted => Error::Transport {
            reader,
            message: format!(
                "the command could not be exchanged with the card (PC/SC error 0x{:08X})",
                err as u32
            ),
        },
        pcsc::Error::UnpoweredCard | pcsc::Error::UnresponsiveCard | pcsc::Error::ProtoMismatch => {
            Error::Unusable {
                reader,
                reason: describe(err),
            }
        }
        err => Error::Transport {
            reader,
            message: describe(err),
        },
    }
}

/// The `pcsc` crate's one-line text for an error, as a lowercase fragment with its code.
fn describe(err: pcsc::Error) -> String {
    let text = err.to_string();
    let mut chars = text.chars();
    let first: String = chars
        .next()
        .map(char::to_lowercase)
        .into_iter()
        .flatten()
        .collect();
    format!(
        "{first}{} (PC/SC error 0x{:08X})",
        chars.as_str(),
        err as u32
    )
}

fn deadline(timeout: Option<Duration>) -> Option<Instant> {
    // A timeout too far away to represent is as good as none.
    timeout.and_then(|timeout| Instant::now().checked_add(timeout))
}

#[cfg(test)]
mod tests;
