//! The file-card COS of the project's source documents (cos-and-serial.md §2): the
//! encodings both sides of the wire must agree on — CREATE FILE's header, access condition
//! bytes, the authentication cryptograms, the enciphered key and PIN blocks of INSTALL KEY /
//! INSTALL PIN — and what this COS's status words mean.
//!
//! The source names the commands but not most of their data formats. Every format here marked
//! **UNCONFIRMED** is this project's choice (README "The file-card COS" lists them): the
//! simulated card (`sim::cos`) accepts exactly these, and the `cos::` script API produces
//! them. Keys are two-key 3DES (16 bytes), the cipher the source's family of cards uses;
//! AES is not offered. This module is pure: no I/O, no card, no state.

use crate::crypto;

/// Instruction: CHANGE / UNLOCK / INSTALL PIN (proprietary).
pub const INS_PIN: u8 = 0x5E;
/// Instruction: UNLOCK / INSTALL / LOCK KEY (proprietary).
pub const INS_KEY: u8 = 0x5C;
/// Instruction: CREATE FILE (proprietary; ISO 7816-9 uses `E0`).
pub const INS_CREATE: u8 = 0xF2;

/// P1 of `5E`: change the PIN (old `FF` new).
pub const PIN_CHANGE: u8 = 0x00;
/// P1 of `5E`: unlock the PIN (refill its retry counter).
pub const PIN_UNLOCK: u8 = 0x01;
/// P1 of `5E`: install (or re-install) the PIN from an enciphered block.
pub const PIN_INSTALL: u8 = 0x02;
/// P1 of `5C`: unlock a key (refill its retry counter).
pub const KEY_UNLOCK: u8 = 0x01;
/// P1 of `5C`: install (or replace) a key from an enciphered block.
pub const KEY_INSTALL: u8 = 0x02;
/// P1 of `5C`: lock a key for good — never usable, replaceable or unlockable again.
/// **UNCONFIRMED**: this project's addition (the source has unlock and install only); it is
/// what makes a card's structure final, and the guard's `cos-key-lock`.
pub const KEY_LOCK: u8 = 0x03;

/// Length of a key: two-key 3DES.
pub const KEY_LEN: usize = 16;
/// The shortest PIN (source: Lc `02`).
pub const MIN_PIN_LEN: usize = 2;
/// The longest PIN (source: Lc `10`).
pub const MAX_PIN_LEN: usize = 16;
/// Key and PIN numbers are `00`–`07` (source: P2 of the authentications).
pub const MAX_REFERENCE: u8 = 7;
/// The byte separating old and new PIN in CHANGE PIN (so a PIN never contains it).
pub const PIN_SEPARATOR: u8 = 0xFF;

/// Who may perform an access, as one byte in CREATE FILE (**UNCONFIRMED** encoding):
/// `00` always, `1n` after VERIFY of PIN n, `2n` after EXTERNAL AUTHENTICATE with key n
/// (n = 0..=7), `FF` never.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Condition {
    /// Anyone.
    Always,
    /// After VERIFY of this PIN number.
    Pin(u8),
    /// After EXTERNAL AUTHENTICATE with this key number.
    Key(u8),
    /// Nobody.
    Never,
}

impl Condition {
    /// The byte form.
    pub fn to_byte(self) -> u8 {
        match self {
            Condition::Always => 0x00,
            Condition::Pin(n) => 0x10 | (n & 0x07),
            Condition::Key(n) => 0x20 | (n & 0x07),
            Condition::Never => 0xFF,
        }
    }

    /// Reads the byte form; `None` for a byte that is no condition.
    pub fn from_byte(byte: u8) -> Option<Condition> {
        match byte {
            0x00 => Some(Condition::Always),
            0x10..=0x17 => Some(Condition::Pin(byte & 0x07)),
            0x20..=0x27 => Some(Condition::Key(byte & 0x07)),
            0xFF => Some(Condition::Never),
            _ => None,
        }
    }
}

impl std::fmt::Display for Condition {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Condition::Always => f.write_str("always"),
            Condition::Pin(n) => write!(f, "pin {n}"),
            Condition::Key(n) => write!(f, "key {n}"),
            Condition::Never => f.write_str("never"),
        }
    }
}

/// How WRITE BINARY combines data with what a transparent EF holds (ISO 7816-4 data coding
/// byte, bits 7-6). UPDATE BINARY always replaces. In card images: `replace`, `or`, `and`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum WriteMode {
    /// The new bytes replace the old.
    #[default]
    Replace,
    /// Old OR new: bits can only be set.
    Or,
    /// Old AND new: bits can only be cleared (the Cryptoflex note).
    And,
}

impl WriteMode {
    /// Combines one stored byte with one written byte.
    pub fn apply(self, old: u8, new: u8) -> u8 {
        match self {
            WriteMode::Replace => new,
            WriteMode::Or => old | new,
            WriteMode::And => old & new,
        }
    }

    /// What ERASE BINARY leaves: `FF` on a write-AND file (so the next write stores its
    /// bytes), `00` otherwise. **UNCONFIRMED**: ISO leaves the erased state to the card.
    pub fn erased(self) -> u8 {
        match self {
            WriteMode::And => 0xFF,
            WriteMode::Replace | WriteMode::Or => 0x00,
        }
    }

    /// Whether this is [`WriteMode::Replace`] (card images leave the default out).
    pub fn is_replace(&self) -> bool {
        *self == WriteMode::Replace
    }

    /// The mode an ISO 7816-4 data coding byte declares (bits 7-6: `10` OR, `11` AND; one-time
    /// write `00` and proprietary `01` are read as replace, UNCONFIRMED).
    pub fn from_data_coding(byte: u8) -> WriteMode {
        match byte & 0x60 {
            0x40 => WriteMode::Or,
            0x60 => WriteMode::And,
            _ => WriteMode::Replace,
        }
    }

    /// The data coding byte for this mode (data unit of one byte).
    pub fn data_coding(self) -> u8 {
        match self {
            WriteMode::Replace => 0x21,
            WriteMode::Or => 0x41,
            WriteMode::And => 0x61,
        }
    }

    /// The name scripts use: `replace`, `or`, `and`.
    pub fn name(self) -> &'static str {
        match self {
            WriteMode::Replace => "replace",
            WriteMode::Or => "or",
            WriteMode::And => "and",
        }
    }
}

/// The file types of CREATE FILE's P1 (**UNCONFIRMED** codes: ISO descriptor bytes where
/// one exists, the data coding bits 7-6 for the write mode, `3F` for a key file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileType {
    /// A DF (`38`).
    Df,
    /// A transparent EF (`01` replace, `41` write-OR, `61` write-AND).
    Transparent(WriteMode),
    /// A linear fixed record EF (`02`).
    Records,
    /// The DF's key file (`3F`): its keys and PINs.
    Keys,
}

impl FileType {
    /// The P1 byte.
    pub fn to_byte(self) -> u8 {
        match self {
            FileType::Df => 0x38,
            FileType::Transparent(WriteMode::Replace) => 0x01,
            FileType::Transparent(WriteMode::Or) => 0x41,
            FileType::Transparent(WriteMode::And) => 0x61,
            FileType::Records => 0x02,
            FileType::Keys => 0x3F,
        }
    }

    /// Reads P1; `None` for a byte that is no type.
    pub fn from_byte(byte: u8) -> Option<FileType> {
        Some(match byte {
            0x38 => FileType::Df,
            0x01 => FileType::Transparent(WriteMode::Replace),
            0x41 => FileType::Transparent(WriteMode::Or),
            0x61 => FileType::Transparent(WriteMode::And),
            0x02 => FileType::Records,
            0x3F => FileType::Keys,
            _ => return None,
        })
    }
}

/// The access conditions of a file: read, write (UPDATE/WRITE/ERASE; for a key file,
/// installing and unlocking its keys and PINs), create (files inside a DF), delete.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Access {
    /// READ BINARY / READ RECORD.
    pub read: Condition,
    /// UPDATE / WRITE / ERASE BINARY, UPDATE RECORD; a key file's keys and PINs.
    pub write: Condition,
    /// CREATE FILE inside a DF.
    pub create: Condition,
    /// DELETE FILE of this file.
    pub delete: Condition,
}

/// CREATE FILE (`80 F2 P1 P2 Lc data`), **UNCONFIRMED** layout: P1 the [`FileType`], P2 the
/// delete condition, data (7 bytes, the source's Lc `07`) = FID (2), size (2), read, write,
/// create conditions; a DF's name (AID, 1-16 bytes) follows the 7 bytes. Size: bytes of a
/// transparent EF; record length (high byte) and record count (low byte) of a record EF;
/// `00 00` for a DF or key file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateFile {
    /// What the file is.
    pub file_type: FileType,
    /// File identifier.
    pub fid: u16,
    /// Size field as described above.
    pub size: u16,
    /// The four access conditions.
    pub access: Access,
    /// A DF's name (AID).
    pub name: Vec<u8>,
}

/// Why a CREATE FILE command cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CreateError {
    /// P1 is no file type.
    #[error("P1 `{0:02X}` is no file type")]
    FileType(u8),
    /// A byte that is no access condition.
    #[error("`{0:02X}` is no access condition")]
    Condition(u8),
    /// The data is shorter than 7 bytes, or an EF carries a name, or a name is too long.
    #[error("the data must be 7 bytes (a DF: 7 bytes and a name of 1-16)")]
    Length,
}

impl CreateFile {
    /// P1, P2 and the data of the command.
    pub fn encode(&self) -> (u8, u8, Vec<u8>) {
        let mut data = Vec::with_capacity(7 + self.name.len());
        data.extend_from_slice(&self.fid.to_be_bytes());
        data.extend_from_slice(&self.size.to_be_bytes());
        data.extend_from_slice(&[
            self.access.read.to_byte(),
            self.access.write.to_byte(),
            self.access.create.to_byte(),
        ]);
        data.extend_from_slice(&self.name);
        (self.file_type.to_byte(), self.access.delete.to_byte(), data)
    }

    /// Reads P1, P2 and the data of the command. Checks the shape only; whether the sizes
    /// fit is the card's decision.
    pub fn decode(p1: u8, p2: u8, data: &[u8]) -> Result<CreateFile, CreateError> {
        let file_type = FileType::from_byte(p1).ok_or(CreateError::FileType(p1))?;
        let condition = |b: u8| Condition::from_byte(b).ok_or(CreateError::Condition(b));
        let delete = condition(p2)?;
        if data.len() < 7 {
            return Err(CreateError::Length);
        }
        let (head, name) = data.split_at(7);
        let is_df = file_type == FileType::Df;
        if name.len() > 16 || (!is_df && !name.is_empty()) || (is_df && name.is_empty()) {
            return Err(CreateError::Length);
        }
        Ok(CreateFile {
            file_type,
            fid: u16::from_be_bytes([head[0], head[1]]),
            size: u16::from_be_bytes([head[2], head[3]]),
            access: Access {
                read: condition(head[4])?,
                write: condition(head[5])?,
                create: condition(head[6])?,
                delete,
            },
            name: name.to_vec(),
        })
    }
}

/// Why a cryptographic block could not be made or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BlockError {
    /// A key that is not 16 bytes.
    #[error("a key of this COS is 16 bytes (two-key 3DES), got {0}")]
    KeyLength(usize),
    /// A PIN of the wrong length or holding the separator byte.
    #[error("a PIN is {MIN_PIN_LEN} to {MAX_PIN_LEN} bytes without `FF`, got {0} bytes")]
    Pin(usize),
    /// A retry limit outside 1..=15.
    #[error("the retry limit must be 1 to 15, got {0}")]
    Tries(u8),
    /// A block that does not decipher to the layout.
    #[error("the block does not decipher to a valid layout")]
    Layout,
}

/// 3DES-ECB of whole 8-byte blocks under a 16-byte key.
fn ecb(key: &[u8], data: &[u8], encrypt: bool) -> Result<Vec<u8>, BlockError> {
    if key.len() != KEY_LEN {
        return Err(BlockError::KeyLength(key.len()));
    }
    let mut out = Vec::with_capacity(data.len());
    for block in data.chunks(8) {
        let one = if encrypt {
            crypto::des3_cbc_encrypt(key, &[0; 8], block)
        } else {
            crypto::des3_cbc_decrypt(key, &[0; 8], block)
        };
        out.extend(one.map_err(|_| BlockError::Layout)?);
    }
    Ok(out)
}

/// The cryptogram of EXTERNAL and INTERNAL AUTHENTICATE (**UNCONFIRMED**, the usual form of
/// this family): 3DES-ECB under the key of the random (4 or 8 bytes) padded with `00` to 8.
pub fn cryptogram(key: &[u8], random: &[u8]) -> Result<[u8; 8], BlockError> {
    let mut block = [0u8; 8];
    let n = random.len().min(8);
    block[..n].copy_from_slice(&random[..n]);
    let out = ecb(key, &block, true)?;
    let mut cryptogram = [0u8; 8];
    cryptogram.copy_from_slice(&out);
    Ok(cryptogram)
}

/// Pads with `80 00…` to a multiple of 8 (ISO/IEC 9797-1 method 2) and enciphers.
fn seal(key: &[u8], mut plain: Vec<u8>) -> Result<Vec<u8>, BlockError> {
    plain.push(0x80);
    while plain.len() % 8 != 0 {
        plain.push(0);
    }
    ecb(key, &plain, true)
}

/// Deciphers and removes `80 00…` padding.
fn open(key: &[u8], block: &[u8]) -> Result<Vec<u8>, BlockError> {
    if block.is_empty() || block.len() % 8 != 0 || block.len() > 64 {
        return Err(BlockError::Layout);
    }
    let mut plain = ecb(key, block, false)?;
    while plain.last() == Some(&0) {
        plain.pop();
    }
    if plain.pop() != Some(0x80) {
        return Err(BlockError::Layout);
    }
    Ok(plain)
}

fn check_tries(tries: u8) -> Result<(), BlockError> {
    if (1..=15).contains(&tries) {
        Ok(())
    } else {
        Err(BlockError::Tries(tries))
    }
}

/// Whether `pin` is a PIN this COS can hold.
pub fn check_pin(pin: &[u8]) -> Result<(), BlockError> {
    if (MIN_PIN_LEN..=MAX_PIN_LEN).contains(&pin.len()) && !pin.contains(&PIN_SEPARATOR) {
        Ok(())
    } else {
        Err(BlockError::Pin(pin.len()))
    }
}

/// INSTALL KEY's data (**UNCONFIRMED**): `tries || key(16)`, padded `80 00…` to 24 bytes,
/// 3DES-ECB under `protecting` (the key the key file's write condition names).
pub fn key_block(protecting: &[u8], tries: u8, key: &[u8]) -> Result<Vec<u8>, BlockError> {
    check_tries(tries)?;
    if key.len() != KEY_LEN {
        return Err(BlockError::KeyLength(key.len()));
    }
    let mut plain = Vec::with_capacity(24);
    plain.push(tries);
    plain.extend_from_slice(key);
    seal(protecting, plain)
}

/// Opens a [`key_block`]: (tries, key).
pub fn open_key_block(protecting: &[u8], block: &[u8]) -> Result<(u8, Vec<u8>), BlockError> {
    let plain = open(protecting, block)?;
    match plain.split_first() {
        Some((&tries, key)) if key.len() == KEY_LEN => {
            check_tries(tries)?;
            Ok((tries, key.to_vec()))
        }
        _ => Err(BlockError::Layout),
    }
}

/// INSTALL PIN's data (**UNCONFIRMED**): `tries || length || PIN`, padded `80 00…` to a
/// multiple of 8, 3DES-ECB under `protecting`.
pub fn pin_block(protecting: &[u8], tries: u8, pin: &[u8]) -> Result<Vec<u8>, BlockError> {
    check_tries(tries)?;
    check_pin(pin)?;
    let mut plain = Vec::with_capacity(24);
    plain.push(tries);
    plain.push(pin.len() as u8);
    plain.extend_from_slice(pin);
    seal(protecting, plain)
}

/// Opens a [`pin_block`]: (tries, PIN).
pub fn open_pin_block(protecting: &[u8], block: &[u8]) -> Result<(u8, Vec<u8>), BlockError> {
    let plain = open(protecting, block)?;
    match plain.as_slice() {
        [tries, len, pin @ ..] if pin.len() == usize::from(*len) => {
            check_tries(*tries)?;
            check_pin(pin)?;
            Ok((*tries, pin.to_vec()))
        }
        _ => Err(BlockError::Layout),
    }
}

/// CHANGE PIN's data: old `FF` new (the separator keeps two PINs of any length apart).
pub fn change_pin_data(old: &[u8], new: &[u8]) -> Vec<u8> {
    let mut data = Vec::with_capacity(old.len() + 1 + new.len());
    data.extend_from_slice(old);
    data.push(PIN_SEPARATOR);
    data.extend_from_slice(new);
    data
}

/// What a status word means in this COS, for error messages; `None` for one it does not use.
pub fn meaning(sw: u16) -> Option<&'static str> {
    Some(match sw {
        0x9000 => "success",
        0x6700 => "wrong length",
        0x6981 => "the command does not fit the file's type",
        0x6982 => "access condition not satisfied (authenticate or verify first)",
        0x6983 => "key or PIN blocked (or locked for good)",
        0x6984 => "no challenge: send GET CHALLENGE first",
        0x6985 => "conditions of use not satisfied",
        0x6986 => "no current EF: select one first",
        0x6A80 => "incorrect data (a block that does not decipher, a bad PIN)",
        0x6A82 => "file not found",
        0x6A84 => "not enough memory",
        0x6A86 => "incorrect P1-P2",
        0x6A88 => "key or PIN not found",
        0x6A89 => "a file with that identifier already exists",
        0x6B00 => "offset outside the file",
        0x6D00 => "instruction not supported",
        0x6E00 => "class not supported",
        sw if sw & 0xFFF0 == 0x63C0 => "wrong key or PIN (the low digit: tries left)",
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
