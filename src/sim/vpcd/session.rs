//! One connection to vpcd: one card in the reader until it is removed or the link breaks.
//!
//! The session answers every frame (protocols.md §7.2), counts commands, and decides when a
//! used card leaves the reader. It sets TCP_NODELAY once and re-arms TCP_QUICKACK before
//! every read: vpcd writes a frame in pieces, and with delayed ACKs on our side each piece
//! waits out the peer's Nagle timer, ~40 ms per APDU instead of ~0.1 ms. It does not connect,
//! reconnect or choose cards; `serve` does.

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
    /// Once used (at least one command answered): when pcscd powers it off, or when no
    /// command came for this long, whichever is first.
    AfterUse(Duration),
}

/// How a session ended.
#[derive(Debug)]
pub(crate) enum End {
    /// The card was used and is now removed ([`Removal::AfterUse`]).
    Removed,
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
    pub(crate) stream: TcpStream,
    pub(crate) card: &'a mut dyn Card,
    pub(crate) position: u32,
    pub(crate) removal: Removal,
    pub(crate) quickack: bool,
    /// Commands answered on this connection.
    pub(crate) commands: u64,
}

impl Session<'_> {
    /// Serves frames until the session ends.
    pub(crate) fn run(&mut self, handler: &mut dyn Handler, stop: &AtomicBool) -> End {
        if let Err(err) = self.stream.set_nodelay(true) {
            return End::Failed(err);
        }
        let quickack = self.quickack;
        let mut framer = Framer::default();
        let mut reply = Vec::new();
        let mut timeout = None;
        let mut last_command: Option<Instant> = None;
        // A partial frame, and when it last grew: a frame whose rest never comes is malformed.
        let mut last_partial = None;
        let mut last_progress = Instant::now();
        loop {
            let now = Instant::now();
            let wait = match (self.removal, last_command) {
                (Removal::AfterUse(dwell), Some(last)) => {
                    let Some(left) = dwell.checked_sub(now - last).filter(|d| !d.is_zero()) else {
                        return End::Removed;
                    };
                    left.min(TICK)
                }
                _ => TICK,
            };
            if timeout != Some(wait) {
                if let Err(err) = self.stream.set_read_timeout(Some(wait)) {
                    return End::Failed(err);
                }
                timeout = Some(wait);
            }
            let received = framer.read(&mut &self.stream, || {
                if quickack {
                    // Best effort: without it the exchange is slow, not wrong.
                    let _ = SockRef::from(&self.stream).set_tcp_quickack(true);
                }
            });
            let payload = match received {
                Err(err) => return End::Failed(err),
                Ok(Err(malformed)) => return End::Malformed(malformed),
                Ok(Ok(Received::Closed)) => return End::Closed,
                Ok(Ok(Received::Pending)) => {
                    if stop.load(Ordering::Relaxed) {
                        return End::Stopped;
                    }
                    let partial = framer.partial();
                    if partial != last_partial {
                        last_partial = partial;
                        last_progress = Instant::now();
                    } else if let Some((announced, received)) = partial {
                        if last_progress.elapsed() >= STALL {
                            return End::Malformed(FrameError::Stalled {
                                announced,
                                received,
                            });
                        }
                    }
                    continue;
                }
                Ok(Ok(Received::Frame(payload))) => payload,
            };
            last_partial = None;
            match classify(&payload) {
                Message::PowerOff => {
                    handler.event(Event::PoweredOff {
                        card: self.position,
                    });
                    if last_command.is_some() && self.removal != Removal::Never {
                        return End::Removed;
                    }
                }
                Message::PowerOn | Message::Reset => {
                    // A power cycle clears volatile state as a warm reset does; the
                    // simulated card's reset cannot fail, and a real one's error has nowhere
                    // to go (vpcd expects no reply), so GET ATR reports what is left.
                    let _ = self.card.reset();
                }
                Message::GetAtr => {
                    let atr = self.card.atr().to_vec();
                    if let Err(err) = self.send(&atr, &mut reply, handler) {
                        return End::Failed(err);
                    }
                }
                Message::Command(command) => {
                    let answer = match self.card.transmit(command) {
                        Ok(answer) => answer,
                        Err(err) => {
                            handler.event(Event::Fault {
                                card: self.position,
                                message: err.to_string(),
                            });
                            NO_DIAGNOSIS.to_vec()
                        }
                    };
                    if let Err(err) = self.send(&answer, &mut reply, handler) {
                        return End::Failed(err);
                    }
                    self.commands += 1;
                    last_command = Some(Instant::now());
                }
            }
            // Checked after each answer too: an application sending without pause never
            // lets a read time out.
            if stop.load(Ordering::Relaxed) {
                return End::Stopped;
            }
        }
    }

    /// Frames and writes one answer. An empty answer would make vpcd eject the card and one
    /// over 65,535 bytes cannot be framed: both go out as `6F 00`, reported as a fault.
    fn send(
        &mut self,
        answer: &[u8],
        reply: &mut Vec<u8>,
        handler: &mut dyn Handler,
    ) -> io::Result<()> {
        let framed = if answer.is_empty() {
            None
        } else {
            encode(answer, reply)
        };
        if framed.is_none() {
            handler.event(Event::Fault {
                card: self.position,
                message: format!(
                    "an answer of {} bytes cannot go through vpcd; sent 6F 00 instead",
                    answer.len()
                ),
            });
            encode(&NO_DIAGNOSIS, reply);
        }
        // One write per frame: the length and the payload in one segment.
        self.stream.write_all(reply)
    }
}
