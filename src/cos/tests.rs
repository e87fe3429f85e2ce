use proptest::prelude::*;

use super::*;

const KEY: [u8; 16] = *b"APDU-RUN INSTALL";

#[test]
fn conditions_round_trip_and_reject_other_bytes() {
    for byte in 0..=255u8 {
        match Condition::from_byte(byte) {
            Some(c) => assert_eq!(c.to_byte(), byte),
            None => assert!(!matches!(byte, 0x00 | 0x10..=0x17 | 0x20..=0x27 | 0xFF)),
        }
    }
    assert_eq!(Condition::Key(3).to_string(), "key 3");
}

#[test]
fn create_file_encodes_the_documented_layout() {
    let create = CreateFile {
        file_type: FileType::Df,
        fid: 0x5000,
        size: 0,
        access: Access {
            read: Condition::Always,
            write: Condition::Key(0),
            create: Condition::Key(0),
            delete: Condition::Never,
        },
        name: vec![0xA0, 0x00, 0x00, 0x02, 0x47, 0x10, 0x01],
    };
    let (p1, p2, data) = create.encode();
    assert_eq!((p1, p2), (0x38, 0xFF));
    assert_eq!(data[..7], [0x50, 0x00, 0x00, 0x00, 0x00, 0x20, 0x20]);
    assert_eq!(CreateFile::decode(p1, p2, &data), Ok(create));
    // An EF takes exactly 7 bytes; a DF needs its name.
    assert_eq!(
        CreateFile::decode(0x01, 0x00, &[0; 8]),
        Err(CreateError::Length)
    );
    assert_eq!(
        CreateFile::decode(0x38, 0x00, &[0; 7]),
        Err(CreateError::Length)
    );
    assert_eq!(
        CreateFile::decode(0x07, 0x00, &[0; 7]),
        Err(CreateError::FileType(7))
    );
    assert_eq!(
        CreateFile::decode(0x01, 0x30, &[0; 7]),
        Err(CreateError::Condition(0x30))
    );
}

#[test]
fn cryptogram_is_3des_ecb_of_the_zero_padded_random() {
    let expected = crate::crypto::des3_cbc_encrypt(&KEY, &[0; 8], &[1, 2, 3, 4, 0, 0, 0, 0]);
    assert_eq!(
        cryptogram(&KEY, &[1, 2, 3, 4]).unwrap().to_vec(),
        expected.unwrap()
    );
    assert_eq!(
        cryptogram(&KEY[..8], &[0; 4]),
        Err(BlockError::KeyLength(8))
    );
}

#[test]
fn key_and_pin_blocks_open_under_their_key_only() {
    let block = key_block(&KEY, 5, &[0x11; 16]).unwrap();
    assert_eq!(block.len(), 24);
    assert_eq!(open_key_block(&KEY, &block), Ok((5, vec![0x11; 16])));
    assert!(open_key_block(&[0x22; 16], &block).is_err());
    let pin = pin_block(&KEY, 3, b"1234").unwrap();
    assert_eq!(pin.len(), 8);
    assert_eq!(open_pin_block(&KEY, &pin), Ok((3, b"1234".to_vec())));
    assert_eq!(pin_block(&KEY, 3, b"1"), Err(BlockError::Pin(1)));
    assert_eq!(pin_block(&KEY, 0, b"1234"), Err(BlockError::Tries(0)));
    assert_eq!(key_block(&KEY, 16, &KEY), Err(BlockError::Tries(16)));
}

#[test]
fn write_modes_combine_as_iso_says() {
    assert_eq!(WriteMode::And.apply(0xF0, 0x3C), 0x30);
    assert_eq!(WriteMode::Or.apply(0xF0, 0x0F), 0xFF);
    assert_eq!(WriteMode::Replace.apply(0xF0, 0x0F), 0x0F);
    // Erased, then written: the written bytes, whatever the mode.
    for mode in [WriteMode::Replace, WriteMode::Or, WriteMode::And] {
        assert_eq!(mode.apply(mode.erased(), 0x5A), 0x5A, "{}", mode.name());
    }
}

#[test]
fn every_used_status_word_has_a_meaning() {
    assert_eq!(
        meaning(0x63C2),
        Some("wrong key or PIN (the low digit: tries left)")
    );
    assert_eq!(meaning(0x6A88), Some("key or PIN not found"));
    assert_eq!(meaning(0x6F00), None);
}

proptest! {
    #[test]
    fn decoders_never_panic(p1: u8, p2: u8, data in proptest::collection::vec(any::<u8>(), 0..40)) {
        let _ = CreateFile::decode(p1, p2, &data);
        let _ = open_key_block(&KEY, &data);
        let _ = open_pin_block(&KEY, &data);
    }

    #[test]
    fn create_file_round_trips(p1 in prop::sample::select(vec![0x38u8, 0x01, 0x41, 0x61, 0x02, 0x3F]),
                               fid: u16, size: u16,
                               conditions in proptest::collection::vec(prop::sample::select(vec![0x00u8, 0x11, 0x27, 0xFF]), 4),
                               name in proptest::collection::vec(any::<u8>(), 1..=16)) {
        let mut data = fid.to_be_bytes().to_vec();
        data.extend_from_slice(&size.to_be_bytes());
        data.extend_from_slice(&conditions[..3]);
        if p1 == 0x38 {
            data.extend_from_slice(&name);
        }
        let create = CreateFile::decode(p1, conditions[3], &data).unwrap();
        prop_assert_eq!(create.encode(), (p1, conditions[3], data));
    }
}
