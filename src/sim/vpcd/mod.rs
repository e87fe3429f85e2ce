//! Serves cards to pcscd through vsmartcard's vpcd driver, so that any PC/SC application —
//! `apdu-run --reader`, scriptor, a batch — reaches a simulated card through the real stack.
//!
//! vpcd listens on TCP (port 35963 for `Virtual PCD 00 00`, 35964 for `00 01`) and the card
//! connects to it: a connection is a card in the reader, closing it is pulling the card out
//! (protocols.md §7.1). [`serve`] connects, answers vpcd's frames with the [`Card`] it gets
//! from its [`Handler`] (`session.rs`), and reports what happens as [`Event`]s. With a
//! [`Config::count`] it presents that many cards one after another, each removed after
//! [`Config::dwell`] without a command (or once used and powered off); without one it
//! presents a single card until told to stop. A card is reported inserted only when vpcd
//! talks to it: a slot already served by another card is an error, not an insertion.
//!
//! This is the simulator's one piece of network I/O. It does not print (the command line
//! turns events into lines), does not build cards (the handler does), and never answers a
//! frame with nothing: an empty answer makes vpcd eject the card.

mod frame;
mod session;
mod uid;

use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

pub use frame::FrameError;
pub use uid::reported_uid;

use crate::reader::Card;
use session::{End, Insertion, Removal, Session};

/// vpcd's default address: slot 0, `Virtual PCD 00 00`.
pub const DEFAULT_ADDRESS: &str = "127.0.0.1:35963";

/// How `serve` presents its cards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// vpcd's `HOST:PORT` (port 35963 + slot).
    pub address: String,
    /// Present this many fresh cards one after another, each removed once used; `None`
    /// presents one card that stays until the server stops.
    pub count: Option<u32>,
    /// With a count: how long a card stays after its last command (after its insertion when
    /// nobody uses it) when pcscd does not power a used card off first.
    pub dwell: Duration,
    /// How long vpcd may take to talk to a fresh connection before its slot counts as
    /// served already ([`CLAIM_WITHIN`] by default).
    pub claim_within: Duration,
    /// Re-arm TCP_QUICKACK before every read (Linux). Off only to measure what it saves.
    pub quickack: bool,
}

/// Something that happened to a card, for the caller to report.
#[derive(Debug)]
pub enum Event<'a> {
    /// Card `card` (1, 2, …) is in the reader: vpcd has taken the connection and talked to it.
    Inserted {
        /// Position of the card in the stream.
        card: u32,
        /// Its UID as a reader reports it (`FF CA`), when it has one.
        uid: Option<&'a [u8]>,
        /// Its ATR.
        atr: &'a [u8],
    },
    /// pcscd powered the card off: no application is using it any more.
    PoweredOff {
        /// Position of the card.
        card: u32,
    },
    /// The card has been pulled out: used and released, or its dwell time is over (with no
    /// command at all when `commands` is 0).
    Removed {
        /// Position of the card.
        card: u32,
        /// Commands it answered since it was inserted.
        commands: u64,
    },
    /// vpcd closed the connection (pcscd stopped, or ejected the card), or the socket failed;
    /// reconnecting.
    Closed {
        /// Position of the card.
        card: u32,
        /// Commands it answered since it was inserted.
        commands: u64,
        /// The socket's failure, when it was not a plain close.
        error: Option<&'a io::Error>,
    },
    /// vpcd sent something that is not a frame; the connection was dropped, reconnecting.
    Dropped {
        /// Position of the card.
        card: u32,
        /// What was wrong.
        error: &'a FrameError,
    },
    /// The card could not answer a command as it wanted; vpcd got `6F 00` instead.
    Fault {
        /// Position of the card.
        card: u32,
        /// Why.
        message: String,
    },
}

/// What [`serve`] needs from its caller.
pub trait Handler {
    /// The card to present at `position` (1, 2, …), fresh for each position.
    fn card(&mut self, position: u32) -> Box<dyn Card>;
    /// The UID to announce for `card` in the insertion event: by default asked of the card
    /// (`FF CA 00 00 00`). A card that must see only its session's own commands (a
    /// replayed dump) answers `None` without being asked.
    fn uid(&mut self, card: &mut dyn Card) -> Option<Vec<u8>> {
        reported_uid(card)
    }
    /// Takes note of an event; called on the serving thread, so keep it short.
    fn event(&mut self, event: Event<'_>);
}

/// How [`serve`] finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    /// Every card of the count was presented, used and removed.
    Done,
    /// The stop flag was raised.
    Stopped,
}

/// Why serving failed. Each message is one line.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// No connection to vpcd at the start.
    #[error(
        "cannot reach vpcd at `{address}`: {source} (is pcscd running with vsmartcard's vpcd driver?)"
    )]
    Unreachable {
        /// The address tried.
        address: String,
        /// Why the connection failed.
        source: io::Error,
    },
    /// vpcd did not take the connection: another card is most likely in its slot already.
    #[error(
        "vpcd at `{address}` {what} within {seconds} s: its slot is most likely served \
         already (another `apdu-run sim serve` or vicc), though apdu-run cannot tell that from \
         a pcscd that stopped polling; stop the other card or use another slot (`--vpcd \
         127.0.0.1:35964` is `Virtual PCD 00 01`)"
    )]
    Occupied {
        /// The address.
        address: String,
        /// What vpcd did not do.
        what: &'static str,
        /// How long it was given.
        seconds: u64,
    },
    /// The connection to vpcd broke and could not be made again.
    #[error("lost vpcd at `{address}`: {source}")]
    Lost {
        /// The address.
        address: String,
        /// The last failure.
        source: io::Error,
    },
}

/// How long vpcd may take to talk to a new connection. pcscd polls vpcd every 400 ms and
/// talks to a card it finds (GET ATR) on that poll; several polls without a word mean vpcd
/// never accepted the connection because its slot is taken.
pub const CLAIM_WITHIN: Duration = Duration::from_secs(3);

/// How long a connection may take: vpcd listens with backlog 0, so when its slot is taken
/// and one connection already waits, the next one is never completed.
const CONNECT_WITHIN: Duration = Duration::from_secs(3);

/// How long to keep trying to reconnect after vpcd went away before giving up.
const RECONNECT_FOR: Duration = Duration::from_secs(3);

/// How long a slot stays empty between two connections. pcscd polls vpcd every 400 ms and
/// only sees a card leave if one poll finds the slot empty: when vpcd has already dropped
/// the old connection itself (a failed exchange), a new one accepted within the same poll
/// would look like the old card still there, and pcscd's view of the slot goes stale.
const EMPTY_SLOT: Duration = Duration::from_millis(600);

/// Presents cards to vpcd until the count is done or `stop` is raised.
pub fn serve(
    config: &Config,
    handler: &mut dyn Handler,
    stop: &AtomicBool,
) -> Result<Finish, Error> {
    let removal = match config.count {
        Some(_) => Removal::Dwell(config.dwell),
        None => Removal::Never,
    };
    let occupied = |what| Error::Occupied {
        address: config.address.clone(),
        what,
        seconds: config.claim_within.as_secs_f64().ceil() as u64,
    };
    let mut stream = connect(&config.address).map_err(|source| {
        if source.kind() == io::ErrorKind::TimedOut {
            Error::Occupied {
                address: config.address.clone(),
                what: "did not accept the connection",
                seconds: CONNECT_WITHIN.as_secs(),
            }
        } else {
            Error::Unreachable {
                address: config.address.clone(),
                source,
            }
        }
    })?;
    let mut position = 1;
    loop {
        let mut card = handler.card(position);
        let mut commands = 0;
        loop {
            let insertion = Insertion {
                uid: handler.uid(&mut *card),
                claim_within: config.claim_within,
            };
            let mut session = Session::new(
                stream,
                &mut *card,
                position,
                removal,
                config.quickack,
                insertion,
            );
            let end = session.run(handler, stop);
            commands += session.commands();
            // Dropping the session closes the socket: for vpcd, the card is gone.
            drop(session);
            match end {
                End::Removed => {
                    handler.event(Event::Removed {
                        card: position,
                        commands,
                    });
                    break;
                }
                End::Stopped => return Ok(Finish::Stopped),
                End::Unclaimed => return Err(occupied("has not talked to the card")),
                End::Closed => handler.event(Event::Closed {
                    card: position,
                    commands,
                    error: None,
                }),
                End::Failed(error) => handler.event(Event::Closed {
                    card: position,
                    commands,
                    error: Some(&error),
                }),
                End::Malformed(error) => handler.event(Event::Dropped {
                    card: position,
                    error: &error,
                }),
            }
            stream = match reconnect(&config.address, stop)? {
                Some(stream) => stream,
                None => return Ok(Finish::Stopped),
            };
        }
        if config.count.is_some_and(|count| position >= count) {
            return Ok(Finish::Done);
        }
        position += 1;
        stream = match reconnect(&config.address, stop)? {
            Some(stream) => stream,
            None => return Ok(Finish::Stopped),
        };
    }
}

/// Connects to the first address `address` resolves to that accepts.
fn connect(address: &str) -> io::Result<TcpStream> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, "the name resolves to no address");
    for candidate in address.to_socket_addrs()? {
        match TcpStream::connect_timeout(&candidate, CONNECT_WITHIN) {
            Ok(stream) => return Ok(stream),
            Err(err) => last = err,
        }
    }
    Err(last)
}

/// Connects again after the slot stayed empty for [`EMPTY_SLOT`], retrying for
/// [`RECONNECT_FOR`] (pcscd may be restarting); `None` if `stop` was raised meanwhile.
fn reconnect(address: &str, stop: &AtomicBool) -> Result<Option<TcpStream>, Error> {
    let empty_until = Instant::now() + EMPTY_SLOT;
    let deadline = empty_until + RECONNECT_FOR;
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        if Instant::now() < empty_until {
            thread::sleep(Duration::from_millis(50));
            continue;
        }
        match connect(address) {
            Ok(stream) => return Ok(Some(stream)),
            Err(source) if Instant::now() >= deadline => {
                return Err(Error::Lost {
                    address: address.to_owned(),
                    source,
                });
            }
            Err(_) => thread::sleep(Duration::from_millis(100)),
        }
    }
}

#[cfg(test)]
mod tests;
