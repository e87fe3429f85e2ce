//! The simulated reader firmware: an Omnikey 5421-like PC/SC reader with a contactless chip
//! in its field (design.md "The simulator: reader front-ends over chips", protocols.md §0).
//!
//! A PC/SC application never talks to a contactless chip directly: the reader answers
//! pseudo-APDUs (class `FF`) and speaks RF to the chip. [`Frontend`] is that reader. It does
//! what is common to every chip — the ATR (§2.3), `FF CA` GET DATA (UID), `FF 82` LOAD KEYS
//! into volatile slots `00`–`1F`, the Omnikey generic session `FF A0` (§1.1) and the parsing
//! and length checks of the storage-card commands — and hands the rest to the chip through
//! the [`Picc`] trait:
//!
//! | APDU | goes to |
//! |------|---------|
//! | `FF 86 00 00 05 01 <addr> 60\|61 <slot>`, `FF 88 00 <blk> 60\|61 <slot>` | [`Picc::authenticate`] with the slot's key |
//! | `FF B0 <addr> <Le>` | [`Picc::read`] |
//! | `FF D6 <addr> <Lc> <data>` | [`Picc::update`] |
//! | `FF D4`/`FF D8 00 <blk> 04 <value LE>`, `FF C2 00 03 0B A0\|A1 09 80 01 <blk> 81 04 <value LE>` | [`Picc::value`] |
//! | `FF A0 00 05 <6+n> 01 00 F3 00 00 64 <frame> 00` | [`Picc::frame`]: `00 00 <answer> 90 00`, or `64 00` when it stays silent |
//! | anything whose class is not `FF` | [`Picc::apdu`] (ISO 14443-4 pass-through), else `6E 00` |
//!
//! The reader model (`--sim-reader`, [`ReaderModel`], `model.rs`) adds its own dialect: the
//! Omnikey 5421 (`omnikey5421.rs`, generic session `session.rs`), the ACS ACR122U
//! (`acr122u.rs`: PN532 direct transmit, `63 00`) and ACR1252U (`acr1252u.rs`: PC/SC Part 3
//! transparent session), each refusing the others' commands as the real one does.
//!
//! Status words follow the one table in `sw.rs`. The front-end never panics, whatever the
//! bytes; short APDUs only (storage-card pseudo-APDUs have no extended form). It keeps no
//! card data: a card image holds the chip alone.

mod acr122u;
mod acr1252u;
mod atr;
mod keys;
mod model;
mod omnikey5421;
mod session;
mod storage;
mod sw;

use serde::{Serialize, Serializer};

pub(crate) use atr::{CLASSIC_1K, CLASSIC_4K, storage_atr};
pub use model::ReaderModel;
pub(crate) use sw::Refusal;

use crate::apdu::StatusWord;
use crate::mifare::KeyType;
use crate::reader::framing::{Decoder, Frame, Native, ReaderCommand, Reject};
use keys::KeySlots;

pub(crate) use crate::reader::framing::ValueOp;

/// A contactless chip as the reader sees it: what it needs from the chip to answer the
/// storage-card commands, the generic session and ISO 14443-4 pass-through.
///
/// A chip implements the operations it has; the others keep their default, which the reader
/// answers with `6A 81` (function not supported), `64 00` (no answer to a frame) or `6E 00`.
/// Chips never choose status words: they return a [`Refusal`].
pub(crate) trait Picc {
    /// The UID as anticollision found it (4, 7 or 10 bytes); `FF CA 00 00` returns it.
    fn uid(&self) -> &[u8];

    /// The PC/SC Part 3 card name for the storage-card ATR (§2.3), e.g. [`CLASSIC_1K`].
    fn card_name(&self) -> u16;

    /// The ATR the reader reports. The default is the storage-card ATR; an ISO 14443-4 chip
    /// (MIFARE Plus in SL0) builds its own from its ATS (§2.4).
    fn atr(&self) -> Vec<u8> {
        storage_atr(self.card_name()).to_vec()
    }

    /// Authenticates for the block or page at `address` with `key` (the bytes loaded in the
    /// slot the command names). The reader runs the cipher; only the outcome matters here.
    fn authenticate(&mut self, address: u16, key: KeyType, bytes: &[u8]) -> Result<(), Refusal> {
        let _ = (address, key, bytes);
        Err(Refusal::Unsupported)
    }

    /// READ BINARY: `le` bytes (1–256; 256 for `Le = 00`) from the block or page at `address`.
    fn read(&mut self, address: u16, le: usize) -> Result<Vec<u8>, Refusal>;

    /// UPDATE BINARY: writes `data` at `address`.
    fn update(&mut self, address: u16, data: &[u8]) -> Result<(), Refusal>;

    /// A value operation with its transfer; `operand` is the 4 bytes of the APDU read LSB first.
    fn value(&mut self, address: u16, op: ValueOp, operand: u32) -> Result<(), Refusal> {
        let _ = (address, op, operand);
        Err(Refusal::Unsupported)
    }

    /// A raw ISO 14443-3 frame from the generic session, CRC already stripped, as the one
    /// framing decoder read it (so the chip takes exactly what the guard judged); `None` when
    /// the chip does not answer it.
    fn frame(&mut self, frame: &Frame) -> Option<Vec<u8>> {
        let _ = frame;
        None
    }

    /// A command that is not a pseudo-APDU, for a chip that speaks ISO 14443-4 (the reader
    /// frames it in I-blocks, §3.5). The answer goes back as it is; `None` means the chip
    /// takes no such commands and the reader answers `6E 00`.
    fn apdu(&mut self, command: &[u8]) -> Option<Vec<u8>> {
        let _ = command;
        None
    }

    /// The field was reset: forget authentication and any other volatile state.
    fn reset(&mut self);
}

/// What the reader answers: data and a status word.
type Answer = (Vec<u8>, StatusWord);

/// The simulated reader with one chip in its field.
#[derive(Debug)]
pub(crate) struct Frontend<P> {
    picc: P,
    keys: KeySlots,
    /// The one framing decoder: generic session open or not, a COMPATIBILITY WRITE announced,
    /// a chained ISO 14443-4 command. The guard keeps the same state with the same code.
    decoder: Decoder,
    atr: Vec<u8>,
    /// The reader model, whose dialect this reader speaks.
    model: ReaderModel,
}

impl<P: Picc> Frontend<P> {
    /// A reader with `picc` in its field, no keys loaded, no session open.
    pub(crate) fn new(picc: P) -> Frontend<P> {
        let atr = picc.atr();
        Frontend {
            picc,
            keys: KeySlots::default(),
            decoder: Decoder::for_atr(&atr),
            atr,
            model: ReaderModel::default(),
        }
    }

    /// The same reader as another model.
    pub(crate) fn with_model(mut self, model: ReaderModel) -> Frontend<P> {
        self.model = model;
        self
    }

    /// The RF field was switched off and on, or the chip activated afresh: the chip forgets
    /// its volatile state (a MIFARE Plus comes back in its new level); a session stays open.
    fn cycle_field(&mut self) {
        self.picc.reset();
        self.atr = self.picc.atr();
        self.decoder = self.decoder.reactivated(&self.atr);
    }

    /// The ATR the reader reports for the chip.
    pub(crate) fn atr(&self) -> &[u8] {
        &self.atr
    }

    /// The chip.
    #[cfg(test)]
    pub(crate) fn picc(&self) -> &P {
        &self.picc
    }

    /// Field reset: the chip forgets its volatile state and the generic session closes. The
    /// key slots are reader memory and stay loaded.
    pub(crate) fn reset(&mut self) {
        self.picc.reset();
        self.atr = self.picc.atr();
        self.decoder = Decoder::for_atr(&self.atr);
    }

    /// Answers one APDU: response data followed by SW1 SW2 (or, for ISO 14443-4 pass-through,
    /// whatever the chip answered). The APDU goes through the framing decoder; the reader
    /// and the chip act on what it decoded, nothing else.
    pub(crate) fn transmit(&mut self, command: &[u8]) -> Vec<u8> {
        let model = self.model;
        if let Some(answer) = model.refuse(command) {
            return answer;
        }
        let decoded = self.decoder.feed(command);
        match command {
            // The ACS and PC/SC Part 3 wrappings: each model answers in its own.
            [0xFF, 0x00, ..] | [0xFF, 0xC2, 0x00, 0x00..=0x02, ..] => {
                model.wrapped(self, command, decoded.outcome)
            }
            _ => self.plain(decoded.outcome),
        }
    }

    /// Answers a decoded command with data and a status word (or a pass-through answer).
    fn plain(&mut self, outcome: Result<Native, Reject>) -> Vec<u8> {
        let answer = match outcome {
            Err(reject) => Err(refusal_status(reject)),
            Ok(Native::Apdu(apdu)) => match self.picc.apdu(&apdu) {
                Some(answer) => return self.model.pass_through(answer),
                None => Err(sw::CLA_NOT_SUPPORTED),
            },
            Ok(native) => self.process(native),
        };
        let (mut data, sw) = answer.unwrap_or_else(|sw| (Vec::new(), sw));
        data.extend_from_slice(&self.model.status(sw).0.to_be_bytes());
        data
    }

    fn process(&mut self, native: Native) -> Result<Answer, StatusWord> {
        match native {
            Native::Reader(ReaderCommand::GetData { p1p2, le }) => self.get_data(p1p2, le),
            Native::Reader(ReaderCommand::LoadKeys {
                structure,
                slot,
                key,
            }) => Ok(done(self.keys.load(structure, slot, &key))),
            Native::Reader(ReaderCommand::Session(_) | ReaderCommand::BareAnswer) => {
                Ok(done(sw::OK))
            }
            Native::Authenticate { address, key, slot } => {
                storage::authenticate(self, address, key, slot).map(done)
            }
            Native::Read { address, le } => storage::read(self, address, le),
            Native::Update { address, data } => storage::update(self, address, &data).map(done),
            Native::Value {
                address,
                op,
                operand,
            } => storage::value(self, address, op, operand).map(done),
            Native::Frame(frame) => session::transceive(self, &frame),
            // Other models' wrappings, answered by them; the LED is an ACS command.
            Native::Reader(
                ReaderCommand::Manage(_)
                | ReaderCommand::Switch { .. }
                | ReaderCommand::Pn532 { .. }
                | ReaderCommand::Feedback { .. }
                | ReaderCommand::Firmware,
            ) => Err(sw::NOT_SUPPORTED),
            Native::Apdu(_) => Err(sw::CLA_NOT_SUPPORTED),
        }
    }

    /// GET DATA `FF CA 00 00 Le`: the UID. Le `00` means all of it; a shorter Le gets `6C`
    /// with the length, a longer one the UID and `62 82` (protocols.md §2.2, wsrf2009 driver).
    /// `FF CA 01 00` asks for the ATS, which a storage card does not have.
    fn get_data(&self, p1p2: (u8, u8), le: usize) -> Result<Answer, StatusWord> {
        let uid = match p1p2 {
            (0x00, 0x00) => self.picc.uid().to_vec(),
            // PC/SC Part 3: the ATS historical bytes, which an ISO 14443-4 card's ATR carries;
            // a storage card (the reader's own ATR) has no ATS.
            (0x01, 0x00) if self.picc.atr() != storage_atr(self.picc.card_name()) => {
                crate::iso7816::capabilities::historical_bytes(&self.picc.atr())
                    .unwrap_or_default()
                    .to_vec()
            }
            (0x01, 0x00) => return Err(sw::NOT_SUPPORTED),
            _ => return Err(sw::WRONG_P1P2),
        };
        let len = uid.len();
        match le {
            256 => Ok((uid, sw::OK)),
            le if le == len => Ok((uid, sw::OK)),
            le if le < len => Err(sw::exact_length(len)),
            _ => Ok((uid, sw::END_OF_DATA)),
        }
    }
}

/// The status word for a command the decoder refused.
fn refusal_status(reject: Reject) -> StatusWord {
    match reject {
        Reject::WrongLength => sw::WRONG_LENGTH,
        Reject::WrongP1P2 => sw::WRONG_P1P2,
        Reject::NotSupported => sw::NOT_SUPPORTED,
        Reject::ClaNotSupported => sw::CLA_NOT_SUPPORTED,
        Reject::NoSession => sw::NO_SESSION,
        Reject::KeyType => sw::KEY_TYPE,
    }
}

/// An answer with no data.
fn done(sw: StatusWord) -> Answer {
    (Vec::new(), sw)
}

/// A front-end serializes as its chip: the card image holds no reader state.
impl<P: Serialize> Serialize for Frontend<P> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.picc.serialize(serializer)
    }
}

#[cfg(test)]
mod tests;
