//! NXP AN10922 key diversification (AES-128, 2TDEA, 3TDEA) and the MIFARE Classic
//! truncation of the AES-128 form.
//!
//! AN10922 is a CMAC over `DivConst || M` with one twist: an input shorter than two cipher
//! blocks is padded (`80 00…`) to *exactly two* blocks and its last block XORed with K2,
//! where RFC 4493 would pad to one block. The algorithm is written once, over a
//! [`BlockOracle`] that encrypts for it: the host implementation holds the master key in
//! memory ([`HostKey`]); a PKCS#11 token (`crate::keys::pkcs11`) implements the same trait
//! so that the master key never leaves the token (only `E_K(0)`, from which the CMAC
//! subkeys come, and the CBC chain of the padded input do).
//!
//! Choices made here, documented in the README:
//! - **DES key-version bits are not applied.** The 2TDEA and 3TDEA outputs are the raw
//!   AN10922 result (the published vectors and the Proxmark3 client agree); DESFire keeps
//!   a key version in the low bit of each DES key byte, and a flow that wants one sets
//!   those bits itself. libfreefare's vectors differ from ours exactly in those bits.
//! - **Input lengths**: `M` is 1..=31 bytes for AES-128 and 1..=15 bytes for 2TDEA and
//!   3TDEA, so that `DivConst || M` fits the two blocks the application note defines.
//! - **MIFARE Classic**: the 6-byte key is bytes `offset..offset + 6` of the AES-128
//!   result, offset 0 by default (0..=10 accepted).
//!
//! This module does no I/O and does not know where keys come from.

use super::Error;

/// Largest diversification input `M` per method, in bytes.
pub const MAX_INPUT_AES128: usize = 31;
/// Largest `M` for 2TDEA and 3TDEA.
pub const MAX_INPUT_DES: usize = 15;
/// Length of a MIFARE Classic key.
pub const CLASSIC_KEY_LEN: usize = 6;

/// A block cipher under a fixed key, as AN10922 needs it: ECB of one zero block and CBC
/// with a zero IV. The key may live anywhere (memory, a token).
pub trait BlockOracle {
    /// What can go wrong (a token error, a bad key length).
    type Error;
    /// The cipher's block size: 16 (AES) or 8 (3DES).
    fn block_size(&self) -> usize;
    /// `E_K(data)` in CBC mode with a zero IV; `data` is whole blocks.
    fn cbc_encrypt(&self, data: &[u8]) -> Result<Vec<u8>, Self::Error>;
    /// `E_K(0^block)`, the value the CMAC subkeys come from.
    fn encrypt_zero_block(&self) -> Result<Vec<u8>, Self::Error> {
        self.cbc_encrypt(&vec![0; self.block_size()])
    }
}

/// Which AN10922 method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// AES-128: one CMAC with DivConst `01`; 16-byte result.
    Aes128,
    /// Two-key 3DES: CMACs with `21` and `22`; 16-byte result.
    Tdea2,
    /// Three-key 3DES: CMACs with `31`, `32`, `33`; 24-byte result.
    Tdea3,
}

impl Method {
    /// Largest `M` in bytes.
    pub fn max_input(self) -> usize {
        match self {
            Method::Aes128 => MAX_INPUT_AES128,
            Method::Tdea2 | Method::Tdea3 => MAX_INPUT_DES,
        }
    }

    /// The master key length the method takes.
    pub fn key_len(self) -> usize {
        match self {
            Method::Aes128 | Method::Tdea2 => 16,
            Method::Tdea3 => 24,
        }
    }

    fn constants(self) -> &'static [u8] {
        match self {
            Method::Aes128 => &[0x01],
            Method::Tdea2 => &[0x21, 0x22],
            Method::Tdea3 => &[0x31, 0x32, 0x33],
        }
    }

    fn block_size(self) -> usize {
        match self {
            Method::Aes128 => 16,
            Method::Tdea2 | Method::Tdea3 => 8,
        }
    }

    /// The name used in messages and profiles' `method:` (`an10922-aes128`, …).
    pub fn name(self) -> &'static str {
        match self {
            Method::Aes128 => "an10922-aes128",
            Method::Tdea2 => "an10922-2tdea",
            Method::Tdea3 => "an10922-3tdea",
        }
    }
}

/// Why a diversification did not run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiversifyError<E> {
    /// The input `M` is empty or too long for the method.
    #[error("diversification input must be 1 to {max} bytes for {method}, got {len}")]
    InputLength {
        /// The method's name.
        method: &'static str,
        /// The largest allowed.
        max: usize,
        /// The length given.
        len: usize,
    },
    /// The oracle's block size does not fit the method (an AES key for a DES method).
    #[error("{method} needs a {expected}-byte block cipher, the key is for {found}-byte blocks")]
    Cipher {
        /// The method's name.
        method: &'static str,
        /// The block size the method needs.
        expected: usize,
        /// The oracle's.
        found: usize,
    },
    /// The Classic offset is past 10.
    #[error("MIFARE Classic key offset must be 0 to 10, got {0}")]
    Offset(usize),
    /// The cipher failed.
    #[error("{0}")]
    Oracle(E),
}

/// Checks `M`'s length for `method` (the same check `check` runs on profiles).
pub fn check_input<E>(method: Method, len: usize) -> Result<(), DiversifyError<E>> {
    if len == 0 || len > method.max_input() {
        return Err(DiversifyError::InputLength {
            method: method.name(),
            max: method.max_input(),
            len,
        });
    }
    Ok(())
}

/// Diversifies the oracle's key with `m` by `method`: 16 bytes (AES-128, 2TDEA) or 24
/// (3TDEA).
pub fn diversify<O: BlockOracle>(
    oracle: &O,
    method: Method,
    m: &[u8],
) -> Result<Vec<u8>, DiversifyError<O::Error>> {
    check_input(method, m.len())?;
    if oracle.block_size() != method.block_size() {
        return Err(DiversifyError::Cipher {
            method: method.name(),
            expected: method.block_size(),
            found: oracle.block_size(),
        });
    }
    let subkeys = Subkeys::of(oracle).map_err(DiversifyError::Oracle)?;
    let mut key = Vec::with_capacity(method.key_len());
    for &constant in method.constants() {
        let block =
            cmac_two_blocks(oracle, &subkeys, constant, m).map_err(DiversifyError::Oracle)?;
        key.extend_from_slice(&block);
    }
    Ok(key)
}

/// The MIFARE Classic template: AN10922 AES-128, then 6 bytes from `offset`.
pub fn diversify_classic<O: BlockOracle>(
    oracle: &O,
    m: &[u8],
    offset: usize,
) -> Result<Vec<u8>, DiversifyError<O::Error>> {
    if offset > 16 - CLASSIC_KEY_LEN {
        return Err(DiversifyError::Offset(offset));
    }
    let full = diversify(oracle, Method::Aes128, m)?;
    Ok(full[offset..offset + CLASSIC_KEY_LEN].to_vec())
}

/// The CMAC subkeys K1, K2 (NIST SP 800-38B) of the oracle's key.
struct Subkeys {
    k1: Vec<u8>,
    k2: Vec<u8>,
}

impl Subkeys {
    fn of<O: BlockOracle>(oracle: &O) -> Result<Subkeys, O::Error> {
        let l = oracle.encrypt_zero_block()?;
        let k1 = double(&l);
        let k2 = double(&k1);
        Ok(Subkeys { k1, k2 })
    }
}

impl Drop for Subkeys {
    fn drop(&mut self) {
        self.k1
            .iter_mut()
            .chain(self.k2.iter_mut())
            .for_each(|b| *b = 0);
    }
}

/// Doubling in GF(2^128) or GF(2^64): shift left one bit, XOR Rb if the top bit fell out.
fn double(block: &[u8]) -> Vec<u8> {
    let rb = if block.len() == 16 { 0x87 } else { 0x1B };
    let mut out = vec![0; block.len()];
    let mut carry = 0;
    for i in (0..block.len()).rev() {
        out[i] = (block[i] << 1) | carry;
        carry = block[i] >> 7;
    }
    if carry == 1 {
        let last = out.len() - 1;
        out[last] ^= rb;
    }
    out
}

/// One AN10922 CMAC of `constant || m`: padded to at least two blocks.
fn cmac_two_blocks<O: BlockOracle>(
    oracle: &O,
    subkeys: &Subkeys,
    constant: u8,
    m: &[u8],
) -> Result<Vec<u8>, O::Error> {
    let mut d = Vec::with_capacity(1 + m.len());
    d.push(constant);
    d.extend_from_slice(m);
    cmac_padded(oracle, subkeys, d, 2)
}

/// The standard CMAC (NIST SP 800-38B) of `data` through an oracle: how a token key that
/// may only encrypt still computes a CMAC.
pub fn cmac<O: BlockOracle>(oracle: &O, data: &[u8]) -> Result<Vec<u8>, O::Error> {
    let subkeys = Subkeys::of(oracle)?;
    cmac_padded(oracle, &subkeys, data.to_vec(), 1)
}

/// CMAC of `d` where an input shorter than `min_blocks` blocks counts as incomplete (1:
/// SP 800-38B, 2: AN10922).
fn cmac_padded<O: BlockOracle>(
    oracle: &O,
    subkeys: &Subkeys,
    mut d: Vec<u8>,
    min_blocks: usize,
) -> Result<Vec<u8>, O::Error> {
    let b = oracle.block_size();
    let complete = !d.is_empty() && d.len() >= min_blocks * b && d.len() % b == 0;
    if !complete {
        d.push(0x80);
        let target = (d.len().div_ceil(b) * b).max(min_blocks * b);
        d.resize(target, 0);
    }
    let subkey = if complete { &subkeys.k1 } else { &subkeys.k2 };
    let last = d.len() - b;
    for (byte, k) in d[last..].iter_mut().zip(subkey) {
        *byte ^= k;
    }
    let chain = oracle.cbc_encrypt(&d);
    d.iter_mut().for_each(|x| *x = 0);
    let mut chain = chain?;
    let out = chain[chain.len() - b..].to_vec();
    chain.iter_mut().for_each(|x| *x = 0);
    Ok(out)
}

/// A master key held in memory (a `secret("env:…")` or a file): AES-128 or 3DES by method.
pub struct HostKey<'a> {
    key: &'a [u8],
    aes: bool,
}

impl<'a> HostKey<'a> {
    /// The key for `method`; fails if its length does not fit.
    pub fn new(key: &'a [u8], method: Method) -> Result<HostKey<'a>, Error> {
        match method {
            Method::Aes128 if key.len() != 16 => Err(Error::AesKeyLength(key.len())),
            Method::Tdea2 if key.len() != 16 => Err(Error::DesKeyLength(key.len())),
            Method::Tdea3 if key.len() != 24 => Err(Error::DesKeyLength(key.len())),
            _ => Ok(HostKey {
                key,
                aes: method == Method::Aes128,
            }),
        }
    }
}

impl BlockOracle for HostKey<'_> {
    type Error = Error;

    fn block_size(&self) -> usize {
        if self.aes { 16 } else { 8 }
    }

    fn cbc_encrypt(&self, data: &[u8]) -> Result<Vec<u8>, Error> {
        if self.aes {
            super::aes_cbc_encrypt(self.key, &[0; 16], data)
        } else {
            super::des3_cbc_encrypt(self.key, &[0; 8], data)
        }
    }
}

/// AN10922 with a key in memory: [`diversify`] over a [`HostKey`].
pub fn diversify_host(key: &[u8], method: Method, m: &[u8]) -> Result<Vec<u8>, Error> {
    let oracle = HostKey::new(key, method)?;
    diversify(&oracle, method, m).map_err(host_error)
}

/// The Classic template with a key in memory.
pub fn diversify_classic_host(key: &[u8], m: &[u8], offset: usize) -> Result<Vec<u8>, Error> {
    let oracle = HostKey::new(key, Method::Aes128)?;
    diversify_classic(&oracle, m, offset).map_err(host_error)
}

fn host_error(e: DiversifyError<Error>) -> Error {
    match e {
        DiversifyError::Oracle(e) => e,
        other => Error::Diversify(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        let digits: String = text.split_whitespace().collect();
        hex::decode(digits).expect("test vector is hex")
    }

    const K: &str = "00112233445566778899AABBCCDDEEFF";

    /// AN10922 §2.2.1 (AES-128): UID 04782E21801D80, AID 3042F5, system id "NXP Abu".
    #[test]
    fn an10922_aes128_vector() {
        let m = hex("04782E21801D80 3042F5 4E585020416275");
        assert_eq!(
            diversify_host(&hex(K), Method::Aes128, &m),
            Ok(hex("A8DD63A3B89D54B37CA802473FDA9175"))
        );
    }

    /// AN10922 2TDEA: system id "NXP A". Raw output, no key-version bits.
    #[test]
    fn an10922_2tdea_vector() {
        let m = hex("04782E21801D80 3042F5 4E58502041");
        assert_eq!(
            diversify_host(&hex(K), Method::Tdea2, &m),
            Ok(hex("16F8597C9E8910C86B9648D006107DD7"))
        );
    }

    /// AN10922 3TDEA: system id "NXP".
    #[test]
    fn an10922_3tdea_vector() {
        let key = hex("00112233445566778899AABBCCDDEEFF0102030405060708");
        let m = hex("04782E21801D80 3042F5 4E5850");
        assert_eq!(
            diversify_host(&key, Method::Tdea3, &m),
            Ok(hex("2F0DD03675D3FB9A5705AB0BDA91CA0B55B8E07FCDBF10EC"))
        );
    }

    /// The short-M case (AN10957 example, libfreefare's test): padded to two blocks.
    #[test]
    fn an10922_aes128_short_input() {
        let key = hex("F3F9377698707B688EAF84ABE39E3791");
        assert_eq!(
            diversify_host(&key, Method::Aes128, &hex("04DEADBEEFFEED")),
            Ok(hex("0BB408BAFF98B6EE9F2E1585777F6A51"))
        );
    }

    /// From 16 bytes of M on (D ≥ 17 bytes), AN10922 equals AES-CMAC(K, 01 || M); below,
    /// it does not. This is what lets a token use its CMAC mechanism for long inputs.
    #[test]
    fn long_inputs_are_plain_cmac_short_ones_are_not() {
        let key = hex(K);
        for len in 1..=31 {
            let m: Vec<u8> = (0..len as u8).collect();
            let mut d = vec![0x01];
            d.extend_from_slice(&m);
            let cmac = crate::crypto::aes_cmac(&key, &d).unwrap();
            let div = diversify_host(&key, Method::Aes128, &m).unwrap();
            assert_eq!(div == cmac, len >= 16, "|M| = {len}");
        }
    }

    #[test]
    fn classic_takes_six_bytes_at_the_offset() {
        let m = hex("04782E21801D80 3042F5 4E585020416275");
        assert_eq!(
            diversify_classic_host(&hex(K), &m, 0),
            Ok(hex("A8DD63A3B89D"))
        );
        assert_eq!(
            diversify_classic_host(&hex(K), &m, 10),
            Ok(hex("02473FDA9175"))
        );
        assert!(diversify_classic_host(&hex(K), &m, 11).is_err());
    }

    #[test]
    fn lengths_are_checked_and_messages_carry_no_bytes() {
        let key = hex(K);
        for (method, bad) in [
            (Method::Aes128, 32),
            (Method::Aes128, 0),
            (Method::Tdea2, 16),
            (Method::Tdea3, 16),
        ] {
            let err = diversify_host(&key, method, &vec![0xAB; bad]).unwrap_err();
            assert!(err.to_string().contains(&format!("got {bad}")), "{err}");
        }
        let err = diversify_host(&key[..15], Method::Aes128, b"x").unwrap_err();
        assert_eq!(err, Error::AesKeyLength(15));
        assert!(diversify_host(&key, Method::Tdea3, b"x").is_err());
    }

    /// The oracle CMAC is the SP 800-38B CMAC (what a token without CKM_AES_CMAC uses).
    #[test]
    fn oracle_cmac_matches_the_standard() {
        let key = hex("2b7e151628aed2a6abf7158809cf4f3c");
        let oracle = HostKey::new(&key, Method::Aes128).unwrap();
        for len in [0, 1, 15, 16, 17, 40, 64] {
            let data: Vec<u8> = (0..len as u8).collect();
            assert_eq!(
                cmac(&oracle, &data),
                crate::crypto::aes_cmac(&key, &data),
                "{len}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn any_input_diversifies_or_is_refused(
            m in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..40),
        ) {
            for method in [Method::Aes128, Method::Tdea2] {
                let r = diversify_host(&hex(K), method, &m);
                proptest::prop_assert_eq!(r.is_ok(), !m.is_empty() && m.len() <= method.max_input());
            }
        }
    }
}
