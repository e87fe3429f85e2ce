//! MIFARE Plus personalisation data (protocols.md §3.2–§3.4): the security-level-0 address map,
//! which addresses hold keys, and the status byte table.
//!
//! - this file: [`Address`] and the address rules.
//! - `status.rs`: the status byte meanings of §3.2.
//!
//! It builds no frames and tracks no card state: the simulator does that, and the trace uses
//! [`is_key_address`] to mask WritePerso data sent to key addresses.

mod status;

use std::fmt;

use crate::mifare::KeyType;
use crate::mifare::classic::Layout;

pub use status::{STATUS_OK, STATUSES, describe_status, status_meaning};

/// The WritePerso command byte (`A8 <addr LSB> <addr MSB> <data>`, §3.2).
pub const WRITE_PERSO: u8 = 0xA8;
/// The CommitPerso command byte (`AA`, §3.2).
pub const COMMIT_PERSO: u8 = 0xAA;

/// One address of the SL0 map (protocols.md §3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Address {
    /// `0000`–`00FF`: a block of the MIFARE Classic image used in SL1 (`0080`–`00FF` 4K only).
    Block(u8),
    /// `4000`–`404F`: an AES sector key; key A = `4000 + 2·sector`, key B = key A + 1.
    SectorKey {
        /// The sector (0–31 on 2K, 0–39 on 4K).
        sector: u8,
        /// Key A or key B.
        key: KeyType,
    },
    /// `9000`: Card Master Key.
    CardMasterKey,
    /// `9001`: Card Configuration Key.
    CardConfigurationKey,
    /// `9002`: Level 2 Switch Key (MIFARE Plus X; which variants have it is unconfirmed).
    Level2SwitchKey,
    /// `9003`: Level 3 Switch Key.
    Level3SwitchKey,
    /// `9004`: SL1 Card Authentication Key.
    Sl1CardAuthenticationKey,
    /// `9006`: L3 sector switch key (EV1).
    L3SectorSwitchKey,
    /// `9007`: L1/L3 mix sector switch key (EV1).
    L1L3MixSectorSwitchKey,
    /// `A000`: a virtual-card key whose name the sources do not give.
    VirtualCardKey,
    /// `A001`: VC proximity key.
    VcProximityKey,
    /// `A080`: VC Select ENC key.
    VcSelectEncKey,
    /// `A081`: VC Select MAC key.
    VcSelectMacKey,
    /// `B000`: MFP configuration block (byte 0 = maximum commands without MAC).
    ConfigurationBlock,
    /// `B001`: installation identifier (virtual card).
    InstallationIdentifier,
    /// `B002`: ATS information.
    AtsInformation,
    /// `B003`: field configuration (random ID, proximity check). Never write: risk of bricking.
    FieldConfiguration,
    /// `C000`: Transaction MAC key (EV1).
    TransactionMacKey,
    /// `C001`: Transaction MAC configuration key (EV1).
    TransactionMacConfigurationKey,
}

/// The fixed addresses of §3.3 with their names.
const FIXED: [(u16, Address, &str); 17] = [
    (0x9000, Address::CardMasterKey, "Card Master Key"),
    (
        0x9001,
        Address::CardConfigurationKey,
        "Card Configuration Key",
    ),
    (0x9002, Address::Level2SwitchKey, "Level 2 Switch Key"),
    (0x9003, Address::Level3SwitchKey, "Level 3 Switch Key"),
    (
        0x9004,
        Address::Sl1CardAuthenticationKey,
        "SL1 Card Authentication Key",
    ),
    (0x9006, Address::L3SectorSwitchKey, "L3 sector switch key"),
    (
        0x9007,
        Address::L1L3MixSectorSwitchKey,
        "L1/L3 mix sector switch key",
    ),
    (0xA000, Address::VirtualCardKey, "virtual-card key A000"),
    (0xA001, Address::VcProximityKey, "VC proximity key"),
    (0xA080, Address::VcSelectEncKey, "VC Select ENC key"),
    (0xA081, Address::VcSelectMacKey, "VC Select MAC key"),
    (
        0xB000,
        Address::ConfigurationBlock,
        "MFP configuration block",
    ),
    (
        0xB001,
        Address::InstallationIdentifier,
        "installation identifier",
    ),
    (0xB002, Address::AtsInformation, "ATS information"),
    (0xB003, Address::FieldConfiguration, "field configuration"),
    (0xC000, Address::TransactionMacKey, "Transaction MAC key"),
    (
        0xC001,
        Address::TransactionMacConfigurationKey,
        "Transaction MAC configuration key",
    ),
];

/// First AES sector key address.
const SECTOR_KEYS: u16 = 0x4000;
/// Sectors of the largest card (4K), which bound the sector key range `4000`–`404F`.
const MAX_SECTORS: u16 = 40;

/// The keys CommitPerso requires to have been written: Card Master Key, Card Configuration Key
/// and Level 3 Switch Key (§3.4, proxmark3 and the NXP TapLinx example).
pub const COMMIT_REQUIRED: [Address; 3] = [
    Address::CardMasterKey,
    Address::CardConfigurationKey,
    Address::Level3SwitchKey,
];

impl Address {
    /// The entry of the SL0 map at `addr`, whatever the card size; `None` if §3.3 lists
    /// nothing there. Use [`Address::valid_for`] to check it against a card.
    pub fn from_u16(addr: u16) -> Option<Address> {
        if let Ok(block) = u8::try_from(addr) {
            return Some(Address::Block(block));
        }
        if (SECTOR_KEYS..SECTOR_KEYS + 2 * MAX_SECTORS).contains(&addr) {
            let offset = addr - SECTOR_KEYS;
            let sector = u8::try_from(offset / 2).ok()?;
            let key = if offset % 2 == 0 {
                KeyType::A
            } else {
                KeyType::B
            };
            return Some(Address::SectorKey { sector, key });
        }
        FIXED
            .iter()
            .find(|(a, _, _)| *a == addr)
            .map(|(_, a, _)| *a)
    }

    /// The 16-bit address (sent LSB first on the wire: `9000` is `A8 00 90 …`, §3.2).
    pub fn to_u16(self) -> u16 {
        match self {
            Address::Block(block) => u16::from(block),
            Address::SectorKey { sector, key } => {
                SECTOR_KEYS + 2 * u16::from(sector) + u16::from(key == KeyType::B)
            }
            // Every other variant has an entry in FIXED (`addresses_classify_as_in_the_map`
            // lists them all), so the fallback is never used.
            fixed => fixed.entry().map_or(0, |(addr, _, _)| *addr),
        }
    }

    /// The entry of the fixed-address table; `None` for blocks and sector keys.
    fn entry(self) -> Option<&'static (u16, Address, &'static str)> {
        FIXED.iter().find(|(_, a, _)| *a == self)
    }

    /// Whether the card has this address: blocks and sector keys depend on the size
    /// (2K: blocks `0000`–`007F`, keys `4000`–`403F`; 4K: `0000`–`00FF`, `4000`–`404F`), the
    /// other entries exist on both. §3.3 covers 2K and 4K only; for [`Layout::OneK`]
    /// (MIFARE Plus SE 1K) the same rule is applied, which is an extrapolation.
    pub fn valid_for(self, layout: Layout) -> bool {
        match self {
            Address::Block(block) => layout.has_block(block),
            Address::SectorKey { sector, .. } => layout.has_sector(sector),
            _ => true,
        }
    }

    /// Whether a WritePerso to this address is accepted in SL0: it exists on the card and is
    /// not block 0 (the manufacturer block answers `09`, §3.7).
    pub fn is_perso_writable(self, layout: Layout) -> bool {
        self.valid_for(layout) && self != Address::Block(0)
    }

    /// Whether the address holds a key (AES sector keys and the `9xxx`, `Axxx`, `Cxxx` keys).
    pub fn is_key(self) -> bool {
        is_key_address(self.to_u16())
    }

    /// A warning for addresses whose writing is known to be dangerous (§3.3, §4.5).
    pub fn danger(self) -> Option<&'static str> {
        match self {
            Address::FieldConfiguration => {
                Some("B003 field configuration: proxmark3 says never write it, risk of bricking")
            }
            _ => None,
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let addr = self.to_u16();
        match self {
            Address::Block(block) => write!(f, "{addr:04X} block {block}"),
            Address::SectorKey { sector, key } => {
                write!(f, "{addr:04X} AES sector {sector} {key}")
            }
            fixed => {
                let name = fixed.entry().map_or("", |(_, _, name)| *name);
                write!(f, "{addr:04X} {name}")
            }
        }
    }
}

/// Whether data written to `addr` is a secret to mask in traces: `4000`–`4FFF`, `9000`–`9FFF`,
/// `A000`–`AFFF` and `C000`–`CFFF`, listed or not, so that an address this map does not know
/// is masked too.
pub fn is_key_address(addr: u16) -> bool {
    matches!(addr >> 12, 0x4 | 0x9 | 0xA | 0xC)
}

/// The address a WritePerso frame (`A8 <LSB> <MSB> …`) writes to, or `None` if the frame is
/// not a WritePerso.
pub fn write_perso_address(frame: &[u8]) -> Option<u16> {
    match *frame {
        [WRITE_PERSO, lsb, msb, ..] => Some(u16::from_le_bytes([lsb, msb])),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
