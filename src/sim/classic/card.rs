//! What a MIFARE Classic does with each operation the reader passes on: authentication,
//! READ, WRITE, and value operations with their transfer (protocols.md §4.2–§4.5, §5).
//!
//! Every permission comes from [`crate::mifare::access::explain`], the tables of §4.2 and
//! §4.3 with the key-B-readable rule applied, for the key that authenticated. This file
//! decides; it picks no status words (the front-end maps each [`Refusal`]).

use super::{Auth, Classic};
use crate::mifare::KeyType;
use crate::mifare::access::{Explanation, explain, key_b_readable};
use crate::mifare::classic::{Layout, Trailer, parse_value_block, value_block};
use crate::sim::frontend::{CLASSIC_1K, CLASSIC_4K, Picc, Refusal, ValueOp};

/// A block address resolved against the layout.
#[derive(Debug, Clone, Copy)]
struct Target {
    block: u8,
    sector: u8,
    /// The access-bit group (0–2 data, 3 trailer) governing the block (§4.4).
    group: usize,
    /// The sector's trailer block.
    trailer: u8,
}

impl Target {
    fn is_trailer(&self) -> bool {
        self.block == self.trailer
    }
}

impl Classic {
    fn target(&self, address: u16) -> Result<Target, Refusal> {
        let layout = self.layout;
        let block = u8::try_from(address)
            .ok()
            .filter(|&b| layout.has_block(b))
            .ok_or(Refusal::OutOfRange)?;
        let sector = layout.sector_of(block).ok_or(Refusal::OutOfRange)?;
        Ok(Target {
            block,
            sector,
            group: layout.access_group(block).ok_or(Refusal::OutOfRange)?,
            trailer: layout.trailer_block(sector).ok_or(Refusal::OutOfRange)?,
        })
    }

    fn trailer_of(&self, target: &Target) -> Trailer {
        Trailer::from_bytes(&self.blocks[usize::from(target.trailer)])
    }

    /// The key authenticated for the target's sector and what the sector's conditions allow;
    /// refused when not authenticated there or when the sector is dead.
    fn granted(&self, target: &Target) -> Result<(KeyType, Explanation), Refusal> {
        let auth = self
            .auth
            .filter(|a| a.sector == target.sector)
            .ok_or(Refusal::NotPermitted)?;
        let access = self
            .trailer_of(target)
            .access_bits()
            .map_err(|_| Refusal::NotPermitted)?;
        Ok((auth.key, explain(&access)))
    }

    /// A trailer as a READ returns it: key A always zeros, the access bits and GPB zeros
    /// unless readable, key B zeros unless readable (§4.3).
    fn read_trailer(&self, target: &Target, key: KeyType, e: &Explanation) -> Vec<u8> {
        let mut out = self.blocks[usize::from(target.block)];
        out[..6].fill(0);
        if !e.trailer.read_access_bits.allows(key) {
            out[6..10].fill(0);
        }
        if !e.trailer.read_key_b.allows(key) {
            out[10..].fill(0);
        }
        out.to_vec()
    }

    /// A trailer WRITE stores each part the key may write — key A, the access bits with the
    /// GPB, key B — and leaves the others as they were; refused only if the key may write no
    /// part at all. §4.3 grants the parts separately; storing them separately is how
    /// Flipper Zero's MIFARE Classic listener does it (UNCONFIRMED on real cards).
    fn write_trailer(
        &mut self,
        target: &Target,
        key: KeyType,
        e: &Explanation,
        data: [u8; 16],
    ) -> Result<(), Refusal> {
        let t = e.trailer;
        let parts = [
            (t.write_key_a.allows(key), 0..6),
            (t.write_access_bits.allows(key), 6..10),
            (t.write_key_b.allows(key), 10..16),
        ];
        if parts.iter().all(|(allowed, _)| !allowed) {
            return Err(Refusal::NotPermitted);
        }
        let block = &mut self.blocks[usize::from(target.block)];
        for (allowed, range) in parts {
            if allowed {
                block[range.clone()].copy_from_slice(&data[range]);
            }
        }
        Ok(())
    }
}

impl Picc for Classic {
    fn uid(&self) -> &[u8] {
        &self.uid
    }

    fn card_name(&self) -> u16 {
        match self.layout {
            Layout::FourK => CLASSIC_4K,
            Layout::OneK | Layout::TwoK => CLASSIC_1K,
        }
    }

    fn authenticate(&mut self, address: u16, key: KeyType, bytes: &[u8]) -> Result<(), Refusal> {
        let target = self.target(address)?;
        if bytes.len() != 6 {
            return Err(Refusal::KeyLength);
        }
        // Any authentication attempt ends the previous one, whatever its outcome.
        self.auth = None;
        let trailer = self.trailer_of(&target);
        let access = trailer.access_bits().map_err(|_| Refusal::AuthFailed)?;
        let expected = match key {
            KeyType::A => trailer.key_a,
            // A readable key B is data, not a key (§4.3).
            KeyType::B if key_b_readable(access.trailer()) => return Err(Refusal::AuthFailed),
            KeyType::B => trailer.key_b,
        };
        if expected[..] != *bytes {
            return Err(Refusal::AuthFailed);
        }
        self.auth = Some(Auth {
            sector: target.sector,
            key,
        });
        Ok(())
    }

    fn read(&mut self, address: u16, le: usize) -> Result<Vec<u8>, Refusal> {
        let target = self.target(address)?;
        // One block per READ; Le 00 (256) means "all of it".
        if le != 16 && le != 256 {
            return Err(Refusal::WrongLength);
        }
        let (key, e) = self.granted(&target)?;
        if target.is_trailer() {
            return Ok(self.read_trailer(&target, key, &e));
        }
        if !e.data[target.group].read.allows(key) {
            return Err(Refusal::NotPermitted);
        }
        Ok(self.blocks[usize::from(target.block)].to_vec())
    }

    fn update(&mut self, address: u16, data: &[u8]) -> Result<(), Refusal> {
        let target = self.target(address)?;
        let data = <[u8; 16]>::try_from(data).map_err(|_| Refusal::WrongLength)?;
        let (key, e) = self.granted(&target)?;
        if target.block == 0 {
            return Err(Refusal::NotPermitted);
        }
        if target.is_trailer() {
            return self.write_trailer(&target, key, &e, data);
        }
        if !e.data[target.group].write.allows(key) {
            return Err(Refusal::NotPermitted);
        }
        self.blocks[usize::from(target.block)] = data;
        Ok(())
    }

    /// INCREMENT or DECREMENT, then TRANSFER to the same block: needs the operation's
    /// permission and the transfer permission (the decrement column of §4.2), and a block in
    /// the value format of §5. The arithmetic wraps at 32 bits, as ChameleonMini's does; what
    /// a real card does on overflow is UNCONFIRMED.
    fn value(&mut self, address: u16, op: ValueOp, operand: u32) -> Result<(), Refusal> {
        let target = self.target(address)?;
        let (key, e) = self.granted(&target)?;
        if target.is_trailer() {
            return Err(Refusal::Incompatible);
        }
        let p = e.data[target.group];
        let allowed = match op {
            ValueOp::Increment => p.increment,
            ValueOp::Decrement => p.decrement,
        };
        if target.block == 0 || !allowed.allows(key) || !p.decrement.allows(key) {
            return Err(Refusal::NotPermitted);
        }
        let block = &mut self.blocks[usize::from(target.block)];
        let (value, addr) = parse_value_block(block).map_err(|_| Refusal::Incompatible)?;
        // The operand is the 4 bytes LSB first, read as two's complement like the value.
        let operand = operand as i32;
        let result = match op {
            ValueOp::Increment => value.wrapping_add(operand),
            ValueOp::Decrement => value.wrapping_sub(operand),
        };
        *block = value_block(result, addr);
        Ok(())
    }

    fn reset(&mut self) {
        self.auth = None;
    }
}
