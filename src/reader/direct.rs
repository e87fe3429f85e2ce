//! The direct "driver": no raw channel at all. The frame is an ISO 14443-4 command, sent as
//! it is; the reader frames it in I-blocks (every PC/SC contactless reader does this for a
//! chip that answered RATS). For MIFARE Plus in SL0/SL3, DESFire…; it has no session, no RF
//! control and no value commands of its own.

use super::Card;
use super::driver::{self, Error, ReaderDriver, ReaderKind};
use crate::apdu::Command;
use crate::reader::framing::ValueOp;

const FAMILY: &str = "direct ISO 14443-4";

/// The direct driver.
pub struct Driver;

impl ReaderDriver for Driver {
    fn kind(&self) -> ReaderKind {
        ReaderKind::Direct
    }

    fn transceive(&self, card: &mut dyn Card, frame: &[u8]) -> Result<Vec<u8>, Error> {
        if frame.is_empty() {
            return Err(Error::Frame {
                family: FAMILY,
                len: 0,
                why: "an empty command",
            });
        }
        driver::send(card, frame)
    }

    fn field(&self, _card: &mut dyn Card, _on: bool) -> Result<(), Error> {
        Err(Error::Unsupported {
            family: FAMILY,
            what: "RF field control",
            hint: ": use `reset()` to activate the card afresh",
        })
    }

    fn value_command(&self, _op: ValueOp, _block: u8, _n: u32) -> Result<Command, Error> {
        Err(Error::Unsupported {
            family: FAMILY,
            what: "MIFARE Classic value command",
            hint: ": pass --reader-kind omnikey, acs-pn532 or pcsc-part3",
        })
    }
}
