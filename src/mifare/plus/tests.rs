//! Tests of the MIFARE Plus SL0 address map and status table (protocols.md §3.2–§3.4).

use super::*;

#[test]
fn addresses_classify_as_in_the_map() {
    let cases = [
        (0x0000, Address::Block(0)),
        (0x007F, Address::Block(127)),
        (0x00FF, Address::Block(255)),
        (
            0x4000,
            Address::SectorKey {
                sector: 0,
                key: KeyType::A,
            },
        ),
        (
            0x4001,
            Address::SectorKey {
                sector: 0,
                key: KeyType::B,
            },
        ),
        (
            0x404F,
            Address::SectorKey {
                sector: 39,
                key: KeyType::B,
            },
        ),
        (0x9000, Address::CardMasterKey),
        (0x9001, Address::CardConfigurationKey),
        (0x9002, Address::Level2SwitchKey),
        (0x9003, Address::Level3SwitchKey),
        (0x9004, Address::Sl1CardAuthenticationKey),
        (0x9006, Address::L3SectorSwitchKey),
        (0x9007, Address::L1L3MixSectorSwitchKey),
        (0xA000, Address::VirtualCardKey),
        (0xA001, Address::VcProximityKey),
        (0xA080, Address::VcSelectEncKey),
        (0xA081, Address::VcSelectMacKey),
        (0xB000, Address::ConfigurationBlock),
        (0xB001, Address::InstallationIdentifier),
        (0xB002, Address::AtsInformation),
        (0xB003, Address::FieldConfiguration),
        (0xC000, Address::TransactionMacKey),
        (0xC001, Address::TransactionMacConfigurationKey),
    ];
    for (addr, expected) in cases {
        assert_eq!(Address::from_u16(addr), Some(expected), "{addr:04X}");
        assert_eq!(expected.to_u16(), addr);
    }
}

#[test]
fn unlisted_addresses_are_not_in_the_map() {
    for addr in [
        0x0100, 0x4050, 0x9005, 0x9008, 0x9090, 0xA002, 0xB004, 0xC002, 0xFFFF,
    ] {
        assert_eq!(Address::from_u16(addr), None, "{addr:04X}");
    }
}

#[test]
fn every_listed_address_round_trips() {
    for addr in 0..=u16::MAX {
        if let Some(a) = Address::from_u16(addr) {
            assert_eq!(a.to_u16(), addr, "{a}");
        }
    }
}

#[test]
fn validity_depends_on_the_card_size() {
    // (address, valid on 2K, valid on 4K)
    let cases = [
        (0x0001, true, true),
        (0x007F, true, true),
        (0x0080, false, true),
        (0x403F, true, true),
        (0x4040, false, true),
        (0x404F, false, true),
        (0x9000, true, true),
        (0xB003, true, true),
    ];
    for (addr, on_2k, on_4k) in cases {
        let a = Address::from_u16(addr).unwrap();
        assert_eq!(a.valid_for(Layout::TwoK), on_2k, "{a}");
        assert_eq!(a.valid_for(Layout::FourK), on_4k, "{a}");
    }
    assert!(!Address::Block(0).is_perso_writable(Layout::FourK));
    assert!(Address::Block(1).is_perso_writable(Layout::TwoK));
    assert!(!Address::Block(128).is_perso_writable(Layout::TwoK));
}

#[test]
fn key_addresses_are_masked_by_range() {
    for addr in [
        0x4000, 0x4FFF, 0x9000, 0x9FFF, 0xA000, 0xAFFF, 0xC000, 0xCFFF,
    ] {
        assert!(is_key_address(addr), "{addr:04X}");
    }
    for addr in [
        0x0000, 0x00FF, 0x3FFF, 0x5000, 0x8FFF, 0xB000, 0xB003, 0xD000,
    ] {
        assert!(!is_key_address(addr), "{addr:04X}");
    }
    assert!(Address::CardMasterKey.is_key());
    assert!(Address::VcSelectMacKey.is_key());
    assert!(!Address::ConfigurationBlock.is_key());
    assert!(!Address::Block(3).is_key());
}

#[test]
fn commit_needs_master_configuration_and_level3_keys() {
    let required: Vec<u16> = COMMIT_REQUIRED.iter().map(|a| a.to_u16()).collect();
    assert_eq!(required, [0x9000, 0x9001, 0x9003]);
}

#[test]
fn write_perso_frames_carry_the_address_lsb_first() {
    assert_eq!(write_perso_address(&[0xA8, 0x00, 0x90, 0xFF]), Some(0x9000));
    assert_eq!(write_perso_address(&[0xA8, 0x01, 0x40]), Some(0x4001));
    assert_eq!(write_perso_address(&[0xA8, 0x03]), None);
    assert_eq!(write_perso_address(&[COMMIT_PERSO]), None);
}

#[test]
fn addresses_display_with_their_names() {
    assert_eq!(Address::CardMasterKey.to_string(), "9000 Card Master Key");
    assert_eq!(
        Address::from_u16(0x4003).unwrap().to_string(),
        "4003 AES sector 1 key B"
    );
    assert_eq!(Address::Block(5).to_string(), "0005 block 5");
    assert!(Address::FieldConfiguration.danger().is_some());
    assert!(Address::CardMasterKey.danger().is_none());
}

#[test]
fn status_bytes_have_meanings() {
    assert_eq!(status_meaning(STATUS_OK), Some("OK"));
    assert_eq!(
        describe_status(0x09),
        "09 (block number not valid (also block 0, or beyond 2K on a 2K card))"
    );
    assert_eq!(
        status_meaning(0x0B),
        Some("command not available in the current state")
    );
    assert_eq!(describe_status(0x42), "42 (unknown MIFARE Plus status)");
    let mut codes: Vec<u8> = STATUSES.iter().map(|(s, _)| *s).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), STATUSES.len());
}
