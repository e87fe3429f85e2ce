//! The file card of the source documents' COS (cos-and-serial.md §2–4): key files with
//! numbered keys, GET CHALLENGE, EXTERNAL and INTERNAL AUTHENTICATE, VERIFY, CHANGE / UNLOCK /
//! INSTALL PIN (`5E`), UNLOCK / INSTALL / LOCK KEY (`5C`), CREATE FILE (`F2`) with four access
//! conditions, DELETE FILE, the binary commands with each EF's write mode (WRITE BINARY `D0`,
//! ERASE BINARY `0E`), records, and the CPLC for batches, over T=0 or T=1.
//!
//! The encodings the source leaves open are those of [`crate::cos`] (marked UNCONFIRMED
//! there). Keys and PINs belong to DFs: a condition "key n" or "PIN n" on a file means
//! key or PIN n of the file's DF — or, if that DF has no such entry, of the nearest DF above
//! that has (so a fresh application DF is administered with the MF's install key until it
//! holds keys of its own). EXTERNAL AUTHENTICATE and VERIFY find their key or PIN the same
//! way from the current DF. The security state (keys passed, PINs verified) lasts until reset
//! or DELETE FILE.
//!
//! A blank card (`blank.rs`) holds the MF and its key file with the install key, key 0.
//! Reused from the ISO card: status word names, the transport rules (Le, `61xx`, `6Cxx`,
//! GET RESPONSE), the challenge generator and the CPLC. Not here: secure messaging, logical
//! channels, chaining, cyclic files, SELECT answers with FCI (SELECT returns no data).

mod admin;
mod auth;
mod blank;
mod create;
mod data;
mod fs;
mod keys;

use serde::{Deserialize, Serialize};

use super::iso7816::transport::{self, Reply};
use super::iso7816::{Protocol, cplc, sw};
use crate::apdu::{Command, StatusWord};
use crate::cos::Condition;
use fs::{MF, Tree};

/// ATR of the T=0 card: direct convention, no interface bytes, 10 historical bytes `80`
/// (COMPACT-TLV) `68` (pre-issuing data, 8 bytes) `APDU-COS`.
pub(crate) const ATR_T0: [u8; 12] = [
    0x3B, 0x0A, 0x80, 0x68, b'A', b'P', b'D', b'U', b'-', b'C', b'O', b'S',
];

/// ATR of the T=1 card: as the ISO card's T=1 ATR (IFSC 254, BWI 4, CWI 5) with the
/// historical bytes of [`ATR_T0`], and its TCK.
pub(crate) const ATR_T1: [u8; 17] = with_tck([
    0x3B, 0x8A, 0x81, 0x31, 0xFE, 0x45, 0x80, 0x68, b'A', b'P', b'D', b'U', b'-', b'C', b'O', b'S',
    0x00,
]);

/// Sets the last byte to the XOR of every byte after TS.
const fn with_tck(mut atr: [u8; 17]) -> [u8; 17] {
    let mut tck = 0;
    let mut i = 1;
    while i < 16 {
        tck ^= atr[i];
        i += 1;
    }
    atr[16] = tck;
    atr
}

/// The part of the card a card image stores.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Persistent {
    /// The file system, MF first.
    files: Tree,
    /// State of the GET CHALLENGE generator.
    rng: u64,
    /// IC serial number, in the CPLC.
    serial: u32,
}

/// What a reset clears.
#[derive(Debug, Default)]
struct Session {
    /// The current DF.
    df: usize,
    /// The current EF.
    ef: Option<usize>,
    /// The last GET CHALLENGE, padded with `00` to 8 bytes; used up by one authentication.
    challenge: Option<[u8; 8]>,
    /// Keys passed by EXTERNAL AUTHENTICATE: (DF holding the key, key number).
    keys: Vec<(usize, u8)>,
    /// PINs verified: (DF holding the PIN, PIN number).
    pins: Vec<(usize, u8)>,
    /// Data waiting for GET RESPONSE.
    pending: Vec<u8>,
}

/// Which table of a key file a reference names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Table {
    Keys,
    Pins,
}

/// A simulated card of the COS.
#[derive(Debug)]
pub(crate) struct CosCard {
    protocol: Protocol,
    state: Persistent,
    session: Session,
}

impl CosCard {
    /// A blank card (MF and install key) at `position` of a stream, its challenges seeded
    /// with `rng`.
    pub(crate) fn blank(protocol: Protocol, position: u64, rng: u64) -> CosCard {
        CosCard::with_state(
            protocol,
            Persistent {
                files: blank::tree(),
                rng,
                serial: cplc::serial_for(position),
            },
        )
    }

    fn with_state(protocol: Protocol, state: Persistent) -> CosCard {
        CosCard {
            protocol,
            state,
            session: Session::default(),
        }
    }

    /// Rebuilds a card from the `card` part of an image, checking it is consistent.
    pub(crate) fn from_image(
        protocol: Protocol,
        card: serde_json::Value,
    ) -> Result<CosCard, String> {
        let state: Persistent = serde_json::from_value(card).map_err(|e| e.to_string())?;
        state.files.validate()?;
        Ok(CosCard::with_state(protocol, state))
    }

    /// The answer-to-reset.
    pub(crate) fn atr(&self) -> &'static [u8] {
        match self.protocol {
            Protocol::T0 => &ATR_T0,
            Protocol::T1 => &ATR_T1,
        }
    }

    /// Warm reset: the MF current, no security state, nothing pending.
    pub(crate) fn reset(&mut self) {
        self.session = Session::default();
    }

    /// Answers one command APDU: response data followed by SW1 SW2. Never panics.
    pub(crate) fn transmit(&mut self, command: &[u8]) -> Vec<u8> {
        let (mut data, sw) = match self.process(command) {
            Ok(answer) => answer,
            Err(sw) => (Vec::with_capacity(2), sw),
        };
        data.extend_from_slice(&sw.0.to_be_bytes());
        data
    }

    fn process(&mut self, bytes: &[u8]) -> Result<(Vec<u8>, StatusWord), StatusWord> {
        if bytes.get(1) != Some(&0xC0) {
            self.session.pending.clear();
        }
        let &[cla, ..] = bytes else {
            return Err(sw::WRONG_LENGTH);
        };
        // The source's commands use class 00, CREATE FILE also 80 (and GET DATA is 80).
        if cla != 0x00 && cla != 0x80 {
            return Err(sw::CLA_NOT_SUPPORTED);
        }
        let command = Command::parse(bytes).map_err(|_| sw::WRONG_LENGTH)?;
        if command.extended {
            return Err(sw::WRONG_LENGTH);
        }
        let reply = match command.ins {
            0xA4 => self.select(&command),
            0xB0 => self.read_binary(&command),
            0xD6 => self.update_binary(&command),
            0xD0 => self.write_binary(&command),
            0x0E => self.erase_binary(&command),
            0xB2 => self.read_record(&command),
            0xDC => self.update_record(&command),
            0x20 => self.verify(&command),
            0x84 => self.get_challenge(&command),
            0x82 => self.external_authenticate(&command),
            0x88 => self.internal_authenticate(&command),
            0x5E => self.pin_admin(&command),
            0x5C => self.key_admin(&command),
            0xF2 => self.create_file(&command),
            0xE4 => self.delete_file(&command),
            0xCA => self.get_data(&command),
            0xC0 => transport::get_response(self.protocol, &mut self.session.pending, &command),
            _ => Err(sw::INS_NOT_SUPPORTED),
        }?;
        Ok(match reply {
            Reply::Done(data, sw) => (data, sw),
            Reply::Blob(data) => {
                transport::deliver(self.protocol, &mut self.session.pending, &command, data)
            }
        })
    }

    /// The DF, from `df` upwards, whose key file holds entry `n` of `table`.
    fn owner(&self, df: usize, table: Table, n: u8) -> Option<usize> {
        let tree = &self.state.files;
        let mut at = Some(df);
        while let Some(d) = at {
            let holds = tree.keys(d).is_some_and(|k| match table {
                Table::Keys => k.keys.contains_key(&n),
                Table::Pins => k.pins.contains_key(&n),
            });
            if holds {
                return Some(d);
            }
            at = tree.parent(d);
        }
        None
    }

    /// `Ok` when the session satisfies `condition` for a file of DF `df`, else `69 82`.
    fn allowed(&self, df: usize, condition: Condition) -> Result<(), StatusWord> {
        let passed = match condition {
            Condition::Always => true,
            Condition::Never => false,
            Condition::Key(n) => self.owner(df, Table::Keys, n).is_some_and(|d| {
                let locked = self
                    .state
                    .files
                    .keys(d)
                    .and_then(|k| k.keys.get(&n))
                    .is_none_or(|k| k.locked);
                !locked && self.session.keys.contains(&(d, n))
            }),
            Condition::Pin(n) => self
                .owner(df, Table::Pins, n)
                .is_some_and(|d| self.session.pins.contains(&(d, n))),
        };
        if passed {
            Ok(())
        } else {
            Err(sw::SECURITY_NOT_SATISFIED)
        }
    }

    /// The DF a file's conditions are evaluated in: its parent, or itself for the MF.
    fn df_of(&self, index: usize) -> usize {
        self.state.files.parent(index).unwrap_or(MF)
    }

    /// GET DATA (INS CA) of the CPLC, `80 CA 9F 7F 00`, as the ISO card answers it.
    fn get_data(&mut self, command: &Command) -> Result<Reply, StatusWord> {
        if !command.data.is_empty() {
            return Err(sw::WRONG_LENGTH);
        }
        if (command.p1, command.p2) != (0x9F, 0x7F) {
            return Err(sw::REFERENCE_NOT_FOUND);
        }
        let mut data = Vec::with_capacity(47);
        data.extend_from_slice(&[0x9F, 0x7F, 0x2A]);
        data.extend_from_slice(&cplc::value(self.state.serial));
        Ok(Reply::Blob(data))
    }
}

/// A card serializes as its persistent state, the `card` part of its image.
impl Serialize for CosCard {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.state.serialize(serializer)
    }
}

#[cfg(test)]
mod tests;
