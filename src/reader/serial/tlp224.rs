//! The TLP224 backend (Gemplus GCR400 and compatibles): framed commands to the reader, which
//! powers the card and moves T=0 transfers as ISO INPUT (`DA`) and ISO OUTPUT (`DB`).
//!
//! Each command is one frame (`frame.rs`); the reader is given at least 100 µs before its
//! answer is read. A response that arrives corrupt (bad hex, length, checksum) is answered
//! with a NACK, which asks the reader to repeat it; a NACK from the reader makes the host
//! send its command again (the reader did not take it). After three attempts the exchange
//! fails: a corrupt frame is never used. Card presence is read from POWER ON's status (`FB`
//! card absent): insertion and removal are found by polling POWER ON. Every non-zero status
//! but `E7`/`E5` (which carry the card's status word) becomes an error, see [`status`].
//!
//! The ATR after POWER ON may carry `11 00` or `11` inserted after TS: `atr.rs` finds them by
//! the ATR's own structure and removes them. Commands used: POWER ON `6E 01 00 00` (as the
//! source writes it), POWER OFF `4D`, ISO INPUT, ISO OUTPUT (UNCONFIRMED on a GCR400 in TLP
//! mode: cos-and-serial.md §5.2, readers-and-keys.md §6).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::super::{Card, Error, Reader};
use super::atr;
use super::frame::{self, Collector, Message};
use super::line::Line;
use super::poll::{self, lock};
use super::tpdu::{self, Direction, Link, Tpdu};

/// POWER ON CARD as the source gives it.
pub const POWER_ON: [u8; 4] = [0x6E, 0x01, 0x00, 0x00];
/// POWER OFF CARD.
pub const POWER_OFF: u8 = 0x4D;
/// ISO INPUT: data to the card.
pub const ISO_INPUT: u8 = 0xDA;
/// ISO OUTPUT: data from the card.
pub const ISO_OUTPUT: u8 = 0xDB;

/// Status `E7`: the card answered a status word other than `90 00` (carried in the data).
pub const STATUS_CARD_SW: u8 = 0xE7;
/// Status `E5`: the card interrupted the exchange with a status word (carried in the data).
pub const STATUS_INTERRUPTED: u8 = 0xE5;
/// Status `FB`: no card.
pub const STATUS_ABSENT: u8 = 0xFB;
/// Status `F7`: the card was removed during the command.
pub const STATUS_REMOVED: u8 = 0xF7;

/// The reader needs at least 100 µs between a command and reading its answer.
const TURNAROUND: Duration = Duration::from_micros(200);
/// How long a reader may take to answer (a card writing EEPROM included).
const ANSWER: Duration = Duration::from_secs(5);
/// Attempts per command before a corrupt line is reported.
const ATTEMPTS: usize = 3;

/// What a non-zero status means, and the error it becomes (exit code 3 for all).
pub fn status(reader: &str, code: u8) -> Error {
    let reader = reader.to_string();
    let unusable = |reason: &str| Error::Unusable {
        reader: reader.clone(),
        reason: format!("{reason} (TLP224 status {code:02X})"),
    };
    let transport = |message: &str| Error::Transport {
        reader: reader.clone(),
        message: format!("{message} (TLP224 status {code:02X})"),
    };
    match code {
        STATUS_ABSENT => Error::NoCard { reader },
        STATUS_REMOVED => Error::CardRemoved { reader },
        0xA0 => unusable("error in the card's answer to reset"),
        0xA2 => unusable("dead card: it does not answer the reader"),
        0xA3 => transport("parity error between the reader and the card"),
        0xA7 => unusable("the card refused the protocol and parameter selection"),
        0xE4 => transport("the card sent an invalid procedure byte"),
        0x04 | 0x01 => transport("the reader does not know the command"),
        0x02 => transport("the reader cannot do the command now"),
        0x03 => transport("wrong number of arguments for the reader"),
        0x09 => transport("communication error between host and reader (bad header)"),
        0x10 => unusable("the card's TS byte is invalid"),
        0x12 => transport("message too long for the reader"),
        0x1D => unusable("wrong TCK in the card's answer to reset"),
        _ => transport("the reader reported an unknown error"),
    }
}

/// The line and the reader's name, shared by the reader and its card.
struct Device {
    line: Box<dyn Line>,
    name: String,
}

impl Device {
    fn error(&self, message: String) -> Error {
        Error::Transport {
            reader: self.name.clone(),
            message,
        }
    }

    /// Reads one message, or why it could not.
    fn read_message(&mut self) -> Result<Result<Message, String>, Error> {
        let mut collector = Collector::default();
        let started = Instant::now();
        loop {
            let left = ANSWER.saturating_sub(started.elapsed());
            let byte = self
                .line
                .recv(left)
                .map_err(|e| self.error(format!("serial line: {e}")))?;
            let Some(byte) = byte else {
                return Err(self.error(format!(
                    "no answer from the reader within {} s (is it a TLP224 reader, at the right line settings?)",
                    ANSWER.as_secs()
                )));
            };
            if let Some(result) = collector.push(byte) {
                return Ok(result.map_err(|e| e.to_string()));
            }
        }
    }

    /// Sends one command (command byte and data) and returns the status byte and data.
    fn command(&mut self, body: &[u8]) -> Result<(u8, Vec<u8>), Error> {
        let encoded = frame::encode(body);
        let mut last_problem = String::new();
        let mut send = true;
        for _ in 0..ATTEMPTS {
            if send {
                self.line
                    .discard_input()
                    .map_err(|e| self.error(format!("serial line: {e}")))?;
                self.line
                    .send(&encoded)
                    .map_err(|e| self.error(format!("serial line: {e}")))?;
            }
            std::thread::sleep(TURNAROUND);
            match self.read_message()? {
                Ok(Message::Ack(answer)) => match answer.split_first() {
                    Some((&status, data)) => return Ok((status, data.to_vec())),
                    None => {
                        last_problem = "empty response".to_string();
                        send = false;
                        self.nack()?;
                    }
                },
                Ok(Message::Nack) => {
                    // The reader did not take the command: sending it again is safe.
                    last_problem = "the reader answered NACK".to_string();
                    send = true;
                }
                Err(problem) => {
                    // Ask for the same response again: the command is not executed twice.
                    last_problem = format!("corrupt response ({problem})");
                    send = false;
                    self.nack()?;
                }
            }
        }
        Err(self.error(format!(
            "TLP224 command {:02X} failed {ATTEMPTS} times: {last_problem}",
            body.first().copied().unwrap_or_default()
        )))
    }

    fn nack(&mut self) -> Result<(), Error> {
        std::thread::sleep(TURNAROUND);
        self.line
            .send(&frame::encode_nack())
            .map_err(|e| self.error(format!("serial line: {e}")))
    }

    /// POWER ON: the ATR, or `None` when there is no card.
    fn power_on(&mut self) -> Result<Option<Vec<u8>>, Error> {
        let (code, data) = self.command(&POWER_ON)?;
        match code {
            0x00 => {}
            STATUS_ABSENT => return Ok(None),
            other => return Err(status(&self.name, other)),
        }
        // COUPLER-TYPE CARD-TYPE LEN ATR (the source); LEN counts the bytes as sent.
        let &[_coupler, _card_type, len, ref raw @ ..] = data.as_slice() else {
            return Err(self.error(format!(
                "POWER ON answered {} byte(s), fewer than coupler, card type and length",
                data.len()
            )));
        };
        let atr = atr::strip_inserted(raw)
            .filter(|atr| usize::from(len) == raw.len() || usize::from(len) == atr.len());
        atr.map(Some).ok_or_else(|| Error::Unusable {
            reader: self.name.clone(),
            reason: format!(
                "invalid answer to reset {} (length byte {len})",
                crate::apdu::hex::format_compact(raw)
            ),
        })
    }

    fn power_off(&mut self) -> Result<(), Error> {
        let (code, _) = self.command(&[POWER_OFF])?;
        match code {
            0x00 | STATUS_ABSENT => Ok(()),
            other => Err(status(&self.name, other)),
        }
    }
}

impl Link for Device {
    fn transfer(&mut self, tpdu: &Tpdu) -> Result<Vec<u8>, Error> {
        let code = match tpdu.direction {
            Direction::In => ISO_INPUT,
            Direction::Out => ISO_OUTPUT,
        };
        let mut body = vec![code];
        body.extend_from_slice(&tpdu.header5());
        body.extend_from_slice(&tpdu.data);
        let (status_code, data) = self.command(&body)?;
        match status_code {
            0x00 | STATUS_CARD_SW | STATUS_INTERRUPTED if data.len() >= 2 => {
                let most = match tpdu.direction {
                    Direction::In => 2,
                    Direction::Out => tpdu.expected() + 2,
                };
                if data.len() > most {
                    return Err(self.error(format!(
                        "the reader returned {} byte(s) for a transfer of at most {most}",
                        data.len()
                    )));
                }
                Ok(data)
            }
            0x00 | STATUS_CARD_SW | STATUS_INTERRUPTED => {
                Err(Error::ShortResponse { len: data.len() })
            }
            other => Err(status(&self.name, other)),
        }
    }
}

/// A TLP224 reader (`--reader tlp224:PATH`).
pub struct Tlp224Reader {
    device: Arc<Mutex<Device>>,
    name: String,
}

impl std::fmt::Debug for Tlp224Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tlp224Reader")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Tlp224Reader {
    /// A reader on `line`, named `name` in messages.
    pub fn new(line: Box<dyn Line>, name: String) -> Self {
        Tlp224Reader {
            device: Arc::new(Mutex::new(Device {
                line,
                name: name.clone(),
            })),
            name,
        }
    }

    /// The card in the reader now, powered; `NoCard` when there is none.
    pub fn connect(&mut self) -> Result<Box<dyn Card + Send>, Error> {
        let atr = lock(&self.device)
            .power_on()?
            .ok_or_else(|| Error::NoCard {
                reader: self.name.clone(),
            })?;
        Ok(Box::new(Tlp224Card {
            device: Arc::clone(&self.device),
            name: self.name.clone(),
            atr,
        }))
    }
}

impl Reader for Tlp224Reader {
    fn name(&self) -> &str {
        &self.name
    }

    fn next_card(&mut self, timeout: Option<Duration>) -> Result<Option<Box<dyn Card>>, Error> {
        poll::next_card(timeout, || self.connect().map(|card| card as Box<dyn Card>))
    }

    fn wait_removed(&mut self, timeout: Option<Duration>) -> Result<(), Error> {
        let device = &self.device;
        poll::wait_removed(timeout, &self.name, || {
            Ok(lock(device).power_on()?.is_some())
        })
    }
}

/// A card in a TLP224 reader.
pub struct Tlp224Card {
    device: Arc<Mutex<Device>>,
    name: String,
    atr: Vec<u8>,
}

impl Card for Tlp224Card {
    fn atr(&self) -> &[u8] {
        &self.atr
    }

    fn reader_name(&self) -> &str {
        &self.name
    }

    fn transmit(&mut self, command: &[u8]) -> Result<Vec<u8>, Error> {
        let mut device = lock(&self.device);
        tpdu::transmit(&mut *device, command, &self.name)
    }

    fn reset(&mut self) -> Result<Vec<u8>, Error> {
        let mut device = lock(&self.device);
        device.power_off()?;
        self.atr = device.power_on()?.ok_or_else(|| Error::CardRemoved {
            reader: self.name.clone(),
        })?;
        Ok(self.atr.clone())
    }
}
