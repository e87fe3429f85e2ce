//! The default card every `--sim iso7816` run starts from (unless an image is loaded).
//!
//! Exactly: the MF `3F00`; EF `2F00` (16 bytes `00..0F`); EF `0010` (32 bytes of `00`, update
//! after VERIFY of PIN `01`); DF `5000` named `A0 00 00 02 47 10 01` holding EF `0101` (SFI 1,
//! 300 bytes, byte i = i mod 256) and EF `0102` (SFI 2, linear fixed, 3 records of 16 bytes,
//! record n filled with n); PIN `01` = `1234` (3 tries), PUK `02` = `12345678` (10 tries).
//! Everything not stated is readable and updatable without a PIN, and files may be created
//! in the MF and in DF `5000` without one.

use super::Persistent;
use super::challenge::SEED;
use super::cplc;
use super::fs::{Body, Condition, File, MF, Tree};
use super::pin::Pin;
use crate::cos::WriteMode;

/// A file under `parent` readable and updatable by anyone.
fn file(fid: u16, parent: Option<usize>, body: Body) -> File {
    File {
        fid,
        parent,
        name: None,
        sfi: None,
        read: Condition::Always,
        update: Condition::Always,
        body,
    }
}

/// The demo card's persistent state.
pub(super) fn state() -> Persistent {
    const DF_5000: usize = 3;
    let mf = file(0x3F00, None, Body::Df);
    let dir = file(
        0x2F00,
        Some(MF),
        Body::Transparent {
            data: (0..16).collect(),
            mode: WriteMode::Replace,
        },
    );
    let guarded = File {
        update: Condition::Pin(0x01),
        ..file(
            0x0010,
            Some(MF),
            Body::Transparent {
                data: vec![0; 32],
                mode: WriteMode::Replace,
            },
        )
    };
    let app = File {
        name: Some(vec![0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01]),
        ..file(0x5000, Some(MF), Body::Df)
    };
    let binary = File {
        sfi: Some(1),
        ..file(
            0x0101,
            Some(DF_5000),
            Body::Transparent {
                data: (0..300).map(|i| (i % 256) as u8).collect(),
                mode: WriteMode::Replace,
            },
        )
    };
    let records = File {
        sfi: Some(2),
        ..file(
            0x0102,
            Some(DF_5000),
            Body::LinearFixed {
                record_len: 16,
                max_records: 3,
                records: (1..=3).map(|n| vec![n; 16]).collect(),
            },
        )
    };
    Persistent {
        files: Tree::new(vec![mf, dir, guarded, app, binary, records]),
        pin: Pin::new(b"1234", 3),
        puk: Pin::new(b"12345678", 10),
        rng: SEED,
        serial: cplc::default_serial(),
    }
}
