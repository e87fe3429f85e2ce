//! One connection to vpcd: one card in the reader until it is removed or the link breaks.
//!
//! The session answers every frame (protocols.md §7.2), counts commands, and decides when a
//! card leaves the reader. The card counts as inserted only once vpcd sends something: the
//! kernel completes a connection to a vpcd whose slot is taken (it listens with backlog 0)
//! without vpcd ever accepting it, so a connection alone proves nothing. It sets TCP_NODELAY once and re-arms TCP_QUICKACK before
//! every read: vpcd writes the length and the payload of a frame separately, Nagle makes
//! the payload wait for the length's ACK, and a delayed ACK on our side makes every APDU
//! cost ~50 ms instead of ~0.1 ms (BENCHMARKS.md). It does not connect, reconnect or choose
//! cards; `serve` does.

use std::io::{self, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use socket2::SockRef;

use super::frame::{FrameError, Framer, Message, Received, classify, encode};
use super::{Event, Handler};
use crate::reader::Card;

/// How often a quiet session looks at the stop flag and the removal deadline.
const TICK: Duration = Duration::from_millis(100);

/// How long part of a frame may wait for the rest before the frame counts as malformed.
const STALL: Duration = Duration::from_secs(2);

/// The answer sent in place of one that cannot be sent: `6F 00`, no precise diagnosis.
const NO_DIAGNOSIS: [u8; 2] = [0x6F, 0x00];

/// When a card leaves the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Removal {
    /// Never: the card stays until the server stops.
    Never,
    /// When no command came for this long (counted from its insertion while it is unused),
    /// or, once used (at least one command answered), when pcscd powers it off.
    Dwell(Duration),
}

/// What the session says when vpcd first sends something: the card is in the reader.
#[derive(Debug)]
pub(crate) struct Insertion {
    /// The UID to report, when the card has one.
    pub(crate) uid: Option<Vec<u8>>,
    /// How long vpcd may take to send its first frame before the slot counts as taken.
    pub(crate) claim_within: Duration,
}

/// How a session ended.
#[derive(Debug)]
pub(crate) enum End {
    /// The card is now removed ([`Removal::Dwell`]).
    Removed,
    /// vpcd sent nothing within [`Insertion::claim_within`]: it has not taken the card.
    Unclaimed,
    /// vpcd closed the connection between frames.
    Closed,
    /// vpcd sent something that is not a frame; the connection must be dropped.
    Malformed(FrameError),
    /// The stop flag was raised.
    Stopped,
    /// The socket failed.
    Failed(io::Error),
}

/// One card on one connection.
pub(crate) struct Session<'a> {
    stream: TcpStream,
    card: &'a mut dyn Card,
    position: u32,
    removal: Removal,
    quickack: bool,
    /// Commands answered on this connection.
    commands: u64,
    /// When the last command was answered; `None` while the card is unused.
    last_command: Option<Instant>,
    /// When vpcd first sent something; `None` until it has.
    inserted: Option<Instant>,
    /// Announced (as [`Event::Inserted`]) when vpcd first sends something.
    insertion: Insertion,
    /// The framed answer being sent (kept to reuse its allocation).
    reply: Vec<u8>,
}

impl<'a> Session<'a> {
    /// A session for `card` (at `position` in the stream) on a fresh connection.
    pub(crate) fn new(
        stream: TcpStream,
        card: &'a mut dyn Card,
        position: u32,
        removal: Removal,
        quickack: bool,
        insertion: Insertion,
    ) -> Session<'a> {
        Session {
            stream,
            card,
            position,
            removal,
            quickack,
            commands: 0,
            last_command: None,
            inserted: None,
            insertion,
            reply: Vec::new(),
        }
    }

    /// Commands answered on this connection so far.
    pub(crate) fn commands(&self) -> u64 {
        self.commands
    }

    /// Serves frames until the session ends; dropping the session then closes the connection.
    pub(crate) fn run(&mut self, handler: &mut dyn Handler, stop: &AtomicBool) -> End {
        if let Err(err) = self.stream.set_nodelay(true) {
            return End::Failed(err);
        }
        let mut framer = Framer::default();
        let mut timeout = None;
        // A partial frame, and when it last grew: a frame whose rest never comes is malformed.
        let mut partial = None;
        let mut progress = Instant::now();
        let connected = Instant::now();
        loop {
            if self.inserted.is_none() && connected.elapsed() >= self.insertion.claim_within {
                return End::Unclaimed;
            }
            let Some(wait) = self.wait() else {
                return End::Removed;
            };
            if timeout != Some(wait) {
                if let Err(err) = self.stream.set_read_timeout(Some(wait)) {
                    return End::Failed(err);
                }
                timeout = Some(wait);
            }
            let quickack = self.quickack;
            let stream = &self.stream;
            let received = framer.read(&mut &self.stream, || {
                if quickack {
                    // Best effort: without it the exchange is slow, not wrong.
                    let _ = SockRef::from(stream).set_tcp_quickack(true);
                }
            });
            // Anything from vpcd, even a bad frame, means it took the connection: the card is
            // announced before the frame is answered or reported.
            let end = match received {
                Err(err) => Some(End::Failed(err)),
                Ok(Err(malformed)) => {
                    self.announce(handler);
                    Some(End::Malformed(malformed))
                }
                Ok(Ok(Received::Closed)) => Some(End::Closed),
                Ok(Ok(Received::Pending)) => {
                    let now = framer.partial();
                    if now.is_some() {
                        self.announce(handler);
                    }
                    if now != partial {
                        partial = now;
                        progress = Instant::now();
                    }
                    match partial {
                        Some((announced, received)) if progress.elapsed() >= STALL => {
                            Some(End::Malformed(FrameError::Stalled {
                                announced,
                                received,
                            }))
                        }
                        _ => None,
                    }
                }
                Ok(Ok(Received::Frame(payload))) => {
                    self.announce(handler);
                    partial = None;
                    self.answer(&payload, handler)
                        .err()
                        .map(End::Failed)
                        .or_else(|| {
                            // A power-off after use is the application letting go of the card.
                            let released = classify(&payload) == Message::PowerOff;
                            (released
                                && self.removal != Removal::Never
                                && self.last_command.is_some())
                            .then_some(End::Removed)
                        })
                }
            };
            if let Some(end) = end {
                return end;
            }
            // Checked after every frame as well as on timeouts: an application sending
            // without pause never lets a read time out.
            if stop.load(Ordering::Relaxed) {
                return End::Stopped;
            }
        }
    }

    /// Reports the insertion, the first time vpcd is heard from.
    fn announce(&mut self, handler: &mut dyn Handler) {
        if self.inserted.is_some() {
            return;
        }
        self.inserted = Some(Instant::now());
        handler.event(Event::Inserted {
            card: self.position,
            uid: self.insertion.uid.as_deref(),
            atr: self.card.atr(),
        });
    }

    /// How long the next read may wait; `None` when the card's dwell time is over: since
    /// its last command, or since its insertion when it has had none.
    fn wait(&self) -> Option<Duration> {
        match (self.removal, self.last_command.or(self.inserted)) {
            (Removal::Dwell(dwell), Some(since)) => {
                let left = dwell
                    .checked_sub(since.elapsed())
                    .filter(|d| !d.is_zero())?;
                Some(left.min(TICK))
            }
            _ => Some(TICK),
        }
    }

    /// Does what one frame asks and answers it when it expects an answer.
    fn answer(&mut self, payload: &[u8], handler: &mut dyn Handler) -> io::Result<()> {
        match classify(payload) {
            Message::PowerOff => handler.event(Event::PoweredOff {
                card: self.position,
            }),
            Message::PowerOn | Message::Reset => {
                // A power cycle clears volatile state as a warm reset does. The simulated
                // card's reset cannot fail, and a failure has nowhere to go anyway (vpcd
                // expects no reply); the GET ATR that follows reports the card as it is.
                let _ = self.card.reset();
            }
            Message::GetAtr => {
                let atr = self.card.atr().to_vec();
                self.send(&atr, handler)?;
            }
            Message::Command(command) => {
                let answer = self.card.transmit(command).unwrap_or_else(|err| {
                    handler.event(Event::Fault {
                        card: self.position,
                        message: err.to_string(),
                    });
                    NO_DIAGNOSIS.to_vec()
                });
                self.send(&answer, handler)?;
                self.commands += 1;
                self.last_command = Some(Instant::now());
            }
        }
        Ok(())
    }

    /// Frames and writes one answer. An empty answer would make vpcd eject the card and one
    /// over 65,535 bytes cannot be framed: both go out as `6F 00`, reported as a fault.
    fn send(&mut self, answer: &[u8], handler: &mut dyn Handler) -> io::Result<()> {
        let framed = if answer.is_empty() {
            None
        } else {
            encode(answer, &mut self.reply)
        };
        if framed.is_none() {
            handler.event(Event::Fault {
                card: self.position,
                message: format!(
                    "an answer of {} bytes cannot go through vpcd; sent 6F 00 instead",
                    answer.len()
                ),
            });
            encode(&NO_DIAGNOSIS, &mut self.reply);
        }
        // One write per frame: the length and the payload in one segment.
        self.stream.write_all(&self.reply)
    }
}
