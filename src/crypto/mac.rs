//! Message authentication codes: AES-CMAC (NIST SP 800-38B) and HMAC-SHA256 (RFC 2104).
//!
//! Full-length tags only; truncating a CMAC (as MIFARE Plus and DESFire EV1 do) is left to
//! the caller, which knows which bytes its card keeps.

use aes::{Aes128, Aes192, Aes256};
use cmac::block_api::CmacCipher;
use cmac::{Cmac, KeyInit, Mac};
use hmac::Hmac;
use sha2::Sha256;

use super::Error;

/// Computes the 16-byte AES-CMAC of `data` under `key` (AES-128, -192 or -256 by its length).
///
/// Fails if `key` is not 16, 24 or 32 bytes.
pub fn aes_cmac(key: &[u8], data: &[u8]) -> Result<Vec<u8>, Error> {
    match key.len() {
        16 => cmac::<Aes128>(key, data),
        24 => cmac::<Aes192>(key, data),
        32 => cmac::<Aes256>(key, data),
        len => Err(Error::AesKeyLength(len)),
    }
}

fn cmac<C>(key: &[u8], data: &[u8]) -> Result<Vec<u8>, Error>
where
    C: CmacCipher + KeyInit,
{
    let mut mac =
        <Cmac<C> as KeyInit>::new_from_slice(key).map_err(|_| Error::AesKeyLength(key.len()))?;
    mac.update(data);
    Ok(mac.finalize().into_bytes().to_vec())
}

/// Computes the 32-byte HMAC-SHA256 of `data` under `key`, which may have any length.
///
/// Infallible, unlike the other built-ins: RFC 2104 hashes keys longer than a block and pads
/// shorter ones.
pub fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    // The hmac crate keeps the `Result` of the generic `KeyInit` trait but documents, and
    // itself relies on, HMAC accepting keys of any length.
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

#[cfg(test)]
mod tests {
    use super::{Error, aes_cmac, hmac_sha256};

    fn hex(text: &str) -> Vec<u8> {
        let digits: String = text.split_whitespace().collect();
        hex::decode(digits).expect("test vector is hex")
    }

    /// NIST SP 800-38B appendix D examples: the 64-byte message shared by all of them.
    const MESSAGE: &str = "6bc1bee22e409f96e93d7e117393172a ae2d8a571e03ac9c9eb76fac45af8e51
        30c81c46a35ce411e5fbc1191a0a52ef f69f2445df4f9b17ad2b417be66c3710";

    #[track_caller]
    fn check_cmac(key: &str, cases: [(usize, &str); 4]) {
        let message = hex(MESSAGE);
        for (len, tag) in cases {
            assert_eq!(
                aes_cmac(&hex(key), &message[..len]),
                Ok(hex(tag)),
                "{len}-byte message"
            );
        }
    }

    #[test]
    fn sp800_38b_aes128() {
        check_cmac(
            "2b7e151628aed2a6abf7158809cf4f3c",
            [
                (0, "bb1d6929e95937287fa37d129b756746"),
                (16, "070a16b46b4d4144f79bdd9dd04a287c"),
                (40, "dfa66747de9ae63030ca32611497c827"),
                (64, "51f0bebf7e3b9d92fc49741779363cfe"),
            ],
        );
    }

    #[test]
    fn sp800_38b_aes192() {
        check_cmac(
            "8e73b0f7da0e6452c810f32b809079e562f8ead2522c6b7b",
            [
                (0, "d17ddf46adaacde531cac483de7a9367"),
                (16, "9e99a7bf31e710900662f65e617c5184"),
                (40, "8a1de5be2eb31aad089a82e6ee908b0e"),
                (64, "a1d5df0eed790f794d77589659f39a11"),
            ],
        );
    }

    #[test]
    fn sp800_38b_aes256() {
        check_cmac(
            "603deb1015ca71be2b73aef0857d77811f352c073b6108d72d9810a30914dff4",
            [
                (0, "028962f61b7bf89efc6b551f4667d983"),
                (16, "28a7023f452e8f82bd4bf28d8c37c35c"),
                (40, "aaf3d8f1de5640c232f5b169b9c911e6"),
                (64, "e1992190549f6ed5696a2c056c315410"),
            ],
        );
    }

    #[test]
    fn cmac_rejects_other_key_lengths() {
        for len in [0, 8, 15, 17, 33] {
            assert_eq!(aes_cmac(&vec![0; len], b""), Err(Error::AesKeyLength(len)));
        }
        assert_eq!(
            Error::AesKeyLength(15).to_string(),
            "AES key must be 16, 24 or 32 bytes, got 15"
        );
    }

    #[test]
    fn rfc4231_hmac_sha256() {
        let cases: [(Vec<u8>, &[u8], &str); 6] = [
            (
                vec![0x0b; 20],
                b"Hi There",
                "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
            ),
            (
                b"Jefe".to_vec(),
                b"what do ya want for nothing?",
                "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
            ),
            (
                vec![0xaa; 20],
                &[0xdd; 50],
                "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe",
            ),
            (
                (1..=25).collect(),
                &[0xcd; 50],
                "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b",
            ),
            (
                vec![0xaa; 131],
                b"Test Using Larger Than Block-Size Key - Hash Key First",
                "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
            ),
            (
                vec![0xaa; 131],
                b"This is a test using a larger than block-size key and a larger than \
                  block-size data. The key needs to be hashed before being used by the HMAC \
                  algorithm.",
                "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
            ),
        ];
        for (number, (key, data, tag)) in [1, 2, 3, 4, 6, 7].into_iter().zip(cases) {
            assert_eq!(
                hmac_sha256(&key, data),
                hex(tag),
                "RFC 4231 test case {number}"
            );
        }
    }
}
