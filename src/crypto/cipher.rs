//! Raw block encryption: AES in ECB mode (FIPS 197, NIST SP 800-38A) and two- or three-key
//! 3DES in CBC mode (NIST SP 800-67, SP 800-38A).
//!
//! No padding: data must already be whole blocks, because card protocols each pad their own
//! way (ISO/IEC 9797-1 method 1 or 2, zeros, none) and guessing would corrupt cryptograms.
//! Keys are used as given: DES parity bits are ignored and weak keys are not refused, since
//! cards commonly ship with all-zero or single-DES (K1 = K2) keys.

use aes::cipher::{
    Array, BlockCipherDecrypt, BlockCipherEncrypt, BlockModeDecrypt, BlockModeEncrypt,
    BlockSizeUser, InnerIvInit, KeyInit, consts::U8,
};
use aes::{Aes128, Aes192, Aes256};
use des::{TdesEde2, TdesEde3};

use super::Error;

const AES_BLOCK: usize = 16;
const DES_BLOCK: usize = 8;

/// Which way a cipher runs.
#[derive(Clone, Copy)]
enum Direction {
    Encrypt,
    Decrypt,
}

/// Encrypts `data` block by block with AES (ECB), the key size chosen by `key`'s length.
///
/// Fails if `key` is not 16, 24 or 32 bytes or `data` is not a multiple of 16 bytes.
pub fn aes_ecb_encrypt(key: &[u8], data: &[u8]) -> Result<Vec<u8>, Error> {
    aes_ecb(key, data, Direction::Encrypt)
}

/// Decrypts `data` block by block with AES (ECB), the key size chosen by `key`'s length.
///
/// Fails if `key` is not 16, 24 or 32 bytes or `data` is not a multiple of 16 bytes.
pub fn aes_ecb_decrypt(key: &[u8], data: &[u8]) -> Result<Vec<u8>, Error> {
    aes_ecb(key, data, Direction::Decrypt)
}

/// Encrypts `data` with 3DES (EDE) in CBC mode.
///
/// `key` is K1 K2 (16 bytes, K3 = K1) or K1 K2 K3 (24 bytes); `iv` is 8 bytes. Fails on
/// other lengths or if `data` is not a multiple of 8 bytes.
pub fn des3_cbc_encrypt(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, Error> {
    des3_cbc(key, iv, data, Direction::Encrypt)
}

/// Decrypts `data` with 3DES (EDE) in CBC mode.
///
/// `key` is K1 K2 (16 bytes, K3 = K1) or K1 K2 K3 (24 bytes); `iv` is 8 bytes. Fails on
/// other lengths or if `data` is not a multiple of 8 bytes.
pub fn des3_cbc_decrypt(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, Error> {
    des3_cbc(key, iv, data, Direction::Decrypt)
}

/// Encrypts `data` with AES in CBC mode (the key size chosen by `key`'s length), `iv` 16
/// bytes. Used by AN10922 and the encrypted data columns.
///
/// Fails on other key or IV lengths or if `data` is not a multiple of 16 bytes.
pub fn aes_cbc_encrypt(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, Error> {
    aes_cbc(key, iv, data, Direction::Encrypt)
}

/// Decrypts `data` with AES in CBC mode; see [`aes_cbc_encrypt`].
pub fn aes_cbc_decrypt(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Vec<u8>, Error> {
    aes_cbc(key, iv, data, Direction::Decrypt)
}

fn aes_cbc(key: &[u8], iv: &[u8], data: &[u8], direction: Direction) -> Result<Vec<u8>, Error> {
    if iv.len() != AES_BLOCK {
        return Err(Error::AesIvLength(iv.len()));
    }
    // CBC is ECB over each block XORed with the previous cipher block: written out here so
    // that one ECB routine serves every key size.
    check_blocks("AES", AES_BLOCK, data)?;
    let mut out = Vec::with_capacity(data.len());
    let mut previous = iv.to_vec();
    for block in data.chunks(AES_BLOCK) {
        match direction {
            Direction::Encrypt => {
                let mixed: Vec<u8> = block.iter().zip(&previous).map(|(a, b)| a ^ b).collect();
                let enc = aes_ecb(key, &mixed, Direction::Encrypt)?;
                previous.copy_from_slice(&enc);
                out.extend_from_slice(&enc);
            }
            Direction::Decrypt => {
                let dec = aes_ecb(key, block, Direction::Decrypt)?;
                out.extend(dec.iter().zip(&previous).map(|(a, b)| a ^ b));
                previous.copy_from_slice(block);
            }
        }
    }
    Ok(out)
}

fn aes_ecb(key: &[u8], data: &[u8], direction: Direction) -> Result<Vec<u8>, Error> {
    match key.len() {
        16 => ecb::<Aes128>(key, data, direction),
        24 => ecb::<Aes192>(key, data, direction),
        32 => ecb::<Aes256>(key, data, direction),
        len => Err(Error::AesKeyLength(len)),
    }
}

fn ecb<C>(key: &[u8], data: &[u8], direction: Direction) -> Result<Vec<u8>, Error>
where
    C: KeyInit + BlockCipherEncrypt + BlockCipherDecrypt,
{
    let cipher = C::new_from_slice(key).map_err(|_| Error::AesKeyLength(key.len()))?;
    check_blocks("AES", AES_BLOCK, data)?;
    let mut out = data.to_vec();
    let (blocks, _) = Array::<u8, C::BlockSize>::slice_as_chunks_mut(&mut out);
    match direction {
        Direction::Encrypt => cipher.encrypt_blocks(blocks),
        Direction::Decrypt => cipher.decrypt_blocks(blocks),
    }
    Ok(out)
}

fn des3_cbc(key: &[u8], iv: &[u8], data: &[u8], direction: Direction) -> Result<Vec<u8>, Error> {
    match key.len() {
        16 => cbc::<TdesEde2>(key, iv, data, direction),
        24 => cbc::<TdesEde3>(key, iv, data, direction),
        len => Err(Error::DesKeyLength(len)),
    }
}

fn cbc<C>(key: &[u8], iv: &[u8], data: &[u8], direction: Direction) -> Result<Vec<u8>, Error>
where
    C: KeyInit + BlockCipherEncrypt + BlockCipherDecrypt + BlockSizeUser<BlockSize = U8>,
{
    let cipher = C::new_from_slice(key).map_err(|_| Error::DesKeyLength(key.len()))?;
    if iv.len() != DES_BLOCK {
        return Err(Error::DesIvLength(iv.len()));
    }
    check_blocks("3DES", DES_BLOCK, data)?;
    let mut out = data.to_vec();
    let (blocks, _) = Array::<u8, U8>::slice_as_chunks_mut(&mut out);
    let iv_error = |_| Error::DesIvLength(iv.len());
    match direction {
        Direction::Encrypt => cbc::Encryptor::inner_iv_slice_init(cipher, iv)
            .map_err(iv_error)?
            .encrypt_blocks(blocks),
        Direction::Decrypt => cbc::Decryptor::inner_iv_slice_init(cipher, iv)
            .map_err(iv_error)?
            .decrypt_blocks(blocks),
    }
    Ok(out)
}

fn check_blocks(cipher: &'static str, block: usize, data: &[u8]) -> Result<(), Error> {
    if data.len() % block != 0 {
        return Err(Error::DataLength {
            cipher,
            block,
            len: data.len(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::{Error, aes_ecb_decrypt, aes_ecb_encrypt, des3_cbc_decrypt, des3_cbc_encrypt};

    fn hex(text: &str) -> Vec<u8> {
        let digits: String = text.split_whitespace().collect();
        hex::decode(digits).expect("test vector is hex")
    }

    #[track_caller]
    fn check_aes(key: &str, plain: &str, cipher: &str) {
        let (key, plain, cipher) = (hex(key), hex(plain), hex(cipher));
        assert_eq!(aes_ecb_encrypt(&key, &plain), Ok(cipher.clone()), "encrypt");
        assert_eq!(aes_ecb_decrypt(&key, &cipher), Ok(plain), "decrypt");
    }

    #[test]
    fn fips197_appendix_c() {
        let plain = "00112233445566778899aabbccddeeff";
        check_aes(
            "000102030405060708090a0b0c0d0e0f",
            plain,
            "69c4e0d86a7b0430d8cdb78070b4c55a",
        );
        check_aes(
            "000102030405060708090a0b0c0d0e0f1011121314151617",
            plain,
            "dda97ca4864cdfe06eaf70a0ec0d7191",
        );
        check_aes(
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
            plain,
            "8ea2b7ca516745bfeafc49904b496089",
        );
    }

    #[test]
    fn sp800_38a_f_1_1_ecb_aes128() {
        check_aes(
            "2b7e151628aed2a6abf7158809cf4f3c",
            "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
             30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710",
            "3ad77bb40d7a3660a89ecaf32466ef97 f5d3d58503b9699de785895a96fdbaaf
             43b1cd7f598ece23881b00e3ed030688 7b0c785e27e8ad3f8223207104725dd4",
        );
    }

    #[test]
    fn aes_rejects_bad_lengths_naming_the_argument() {
        let key = [0; 16];
        assert_eq!(
            aes_ecb_encrypt(&[0; 15], &[0; 16]),
            Err(Error::AesKeyLength(15))
        );
        assert_eq!(aes_ecb_decrypt(&[0; 64], &[]), Err(Error::AesKeyLength(64)));
        let short = aes_ecb_encrypt(&key, &[0; 17]);
        assert_eq!(
            short.map_err(|e| e.to_string()),
            Err("AES data must be a multiple of 16 bytes, got 17".to_owned())
        );
        assert_eq!(aes_ecb_encrypt(&key, &[]), Ok(vec![]));
    }

    #[track_caller]
    fn check_des3(key: &str, iv: &str, plain: &str, cipher: &str) {
        let (key, iv, plain, cipher) = (hex(key), hex(iv), hex(plain), hex(cipher));
        assert_eq!(des3_cbc_encrypt(&key, &iv, &plain), Ok(cipher.clone()));
        assert_eq!(des3_cbc_decrypt(&key, &iv, &cipher), Ok(plain));
    }

    /// NIST SP 800-67 Rev. 1 appendix B: three distinct keys, "The qufck brown fox jump".
    /// The standard gives ECB output; with a zero IV the first CBC block is the same, and the
    /// whole CBC output was cross-checked with `openssl enc -des-ede3-cbc -nopad` and Python
    /// `cryptography`.
    #[test]
    fn sp800_67_three_key() {
        check_des3(
            "0123456789ABCDEF 23456789ABCDEF01 456789ABCDEF0123",
            "0000000000000000",
            "5468652071756663 6B2062726F776E20 666F78206A756D70",
            "A826FD8CE53B855F 854B649A0A3903C9 70D563820AFE8B35",
        );
    }

    /// NIST SP 800-20 TCBC variable plaintext known answer test, first round: all keys
    /// `01…01` (odd-parity zero), IV zero, one bit set.
    #[test]
    fn sp800_20_variable_plaintext_kat() {
        for key in ["0101010101010101".repeat(2), "0101010101010101".repeat(3)] {
            check_des3(
                &key,
                "0000000000000000",
                "8000000000000000",
                "95F8A5E5DD31D900",
            );
        }
    }

    /// Two-key 3DES equals three-key with K3 = K1. Expected value from
    /// `openssl enc -des-ede-cbc -nopad` and Python `cryptography`, which agree.
    #[test]
    fn two_key_equals_three_key_with_k3_k1() {
        let (iv, plain) = ("1234567890ABCDEF", "00112233445566778899AABBCCDDEEFF");
        let cipher = "C47BC6E91A9D566F 649D750BCE1CE988";
        check_des3("0123456789ABCDEF FEDCBA9876543210", iv, plain, cipher);
        check_des3(
            "0123456789ABCDEF FEDCBA9876543210 0123456789ABCDEF",
            iv,
            plain,
            cipher,
        );
    }

    #[test]
    fn des3_rejects_bad_lengths_naming_the_argument() {
        let (key, iv) = ([0; 16], [0; 8]);
        let message = |result: Result<Vec<u8>, Error>| result.map_err(|e| e.to_string());
        assert_eq!(
            message(des3_cbc_encrypt(&[0; 8], &iv, &[])),
            Err("3DES key must be 16 or 24 bytes, got 8".to_owned())
        );
        assert_eq!(
            message(des3_cbc_decrypt(&key, &[0; 16], &[])),
            Err("3DES IV must be 8 bytes, got 16".to_owned())
        );
        assert_eq!(
            message(des3_cbc_encrypt(&key, &iv, &[0; 12])),
            Err("3DES data must be a multiple of 8 bytes, got 12".to_owned())
        );
    }
}
