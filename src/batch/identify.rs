//! Telling a presented card apart before anything is written to it: its kind (from the
//! ATR) and its identity: the profile's `identify:` command (a contact card's CPLC, ICCID or
//! serial number), or else its UID (`FF CA 00 00 00`, PC/SC Part 3 GET DATA).
//!
//! A card of another kind than the profile's `card:` is rejected on its ATR alone, before
//! any command. The kind is read from the PC/SC Part 3 storage-card ATR (protocols.md
//! §2.3): its card name says MIFARE Classic 1K/4K, Ultralight, Plus SL1. Any other ATR is
//! taken as an ISO 7816-4 card (contact, or ISO 14443-4 contactless), which is also what a
//! MIFARE Plus in SL0 or SL3 looks like. This file sends nothing but GET DATA and the
//! `identify:` command.

use crate::apdu::{Command, hex};
use crate::profile::{CardKind, Identify, Unidentified};
use crate::reader::atr::{card_name, storage_card_name};
use crate::reader::{Card, Error};

/// What the ATR says the card is, in words.
fn describe(atr: &[u8]) -> String {
    match storage_card_name(atr) {
        Some(card_name::CLASSIC_1K) => "a MIFARE Classic 1K".to_string(),
        Some(card_name::CLASSIC_4K) => "a MIFARE Classic 4K".to_string(),
        Some(card_name::ULTRALIGHT) => "a MIFARE Ultralight".to_string(),
        Some(card_name::PLUS_SL1_2K) => "a MIFARE Plus 2K in SL1".to_string(),
        Some(card_name::PLUS_SL1_4K) => "a MIFARE Plus 4K in SL1".to_string(),
        Some(name) => format!("a storage card with PC/SC card name {name:04X}"),
        None => "an ISO 7816 card".to_string(),
    }
}

/// Checks that a card with `atr` is of the profile's `kind`; the error says what it is.
pub fn check_kind(kind: CardKind, atr: &[u8]) -> Result<(), String> {
    let name = storage_card_name(atr);
    let fits = match kind {
        CardKind::Any => true,
        CardKind::Iso7816 => name.is_none(),
        CardKind::Classic1k => name == Some(card_name::CLASSIC_1K),
        CardKind::Classic4k => name == Some(card_name::CLASSIC_4K),
        CardKind::Ultralight => name == Some(card_name::ULTRALIGHT),
        CardKind::Plus2k => matches!(name, None | Some(card_name::PLUS_SL1_2K)),
        CardKind::Plus4k => matches!(name, None | Some(card_name::PLUS_SL1_4K)),
    };
    if fits {
        Ok(())
    } else {
        Err(format!(
            "not a `{kind}` card: its ATR {} is {}",
            hex::format_compact(atr),
            describe(atr)
        ))
    }
}

/// The card's identity by the profile's `identify:` commands: the chosen response bytes of
/// the last, or why the card gives none (a command refused, too short an answer); after a
/// refusal nothing more is sent. Only a transport failure is an error.
pub fn read_identity(
    card: &mut dyn Card,
    identify: &Identify,
) -> Result<Result<Vec<u8>, Unidentified>, Error> {
    for command in &identify.before {
        let response = card.exchange(command)?;
        if !Identify::before_done(response.sw) {
            return Ok(Err(Unidentified::refused(command, response.sw)));
        }
    }
    let response = card.exchange(&identify.command)?;
    Ok(identify.identity(&response))
}

/// The card's UID by GET DATA, or `None` when the card or reader gives none (a contact
/// card answers `6Exx`/`6Dxx` or `6A81`). Only a transport failure is an error.
pub fn read_uid(card: &mut dyn Card) -> Result<Option<Vec<u8>>, Error> {
    let command = Command::new(0xFF, 0xCA, 0x00, 0x00).with_le(256);
    let response = card.exchange(&command)?;
    Ok((response.sw.is_ok() && !response.data.is_empty()).then_some(response.data))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::atr::STORAGE_PREFIX;

    fn storage_atr(name: u16) -> Vec<u8> {
        let mut atr = STORAGE_PREFIX.to_vec();
        atr.extend([0x03, (name >> 8) as u8, name as u8, 0, 0, 0, 0, 0x6A]);
        atr
    }

    #[test]
    fn kinds_are_read_from_the_atr() {
        let iso = [
            0x3B, 0x0A, 0x80, 0x68, b'A', b'P', b'D', b'U', b'-', b'R', b'U', b'N',
        ];
        assert!(check_kind(CardKind::Iso7816, &iso).is_ok());
        assert!(check_kind(CardKind::Any, &iso).is_ok());
        assert!(check_kind(CardKind::Plus2k, &iso).is_ok());
        assert_eq!(
            check_kind(CardKind::Ultralight, &iso).unwrap_err(),
            "not a `ultralight` card: its ATR 3B0A8068415044552D52554E is an ISO 7816 card"
        );
        assert!(check_kind(CardKind::Classic1k, &storage_atr(1)).is_ok());
        assert!(check_kind(CardKind::Classic4k, &storage_atr(1)).is_err());
        assert!(check_kind(CardKind::Ultralight, &storage_atr(3)).is_ok());
        assert!(check_kind(CardKind::Plus4k, &storage_atr(0x37)).is_ok());
        let err = check_kind(CardKind::Iso7816, &storage_atr(2)).unwrap_err();
        assert!(err.ends_with("is a MIFARE Classic 4K"), "{err}");
    }

    #[test]
    fn a_refusal_names_what_the_card_is() {
        let cases = [
            (1, CardKind::Ultralight, "a MIFARE Classic 1K"),
            (3, CardKind::Classic1k, "a MIFARE Ultralight"),
            (0x36, CardKind::Plus4k, "a MIFARE Plus 2K in SL1"),
            (0x37, CardKind::Plus2k, "a MIFARE Plus 4K in SL1"),
            (
                0x38,
                CardKind::Classic1k,
                "a storage card with PC/SC card name 0038",
            ),
        ];
        for (name, kind, described) in cases {
            let err = check_kind(kind, &storage_atr(name)).unwrap_err();
            assert!(err.ends_with(&format!("is {described}")), "{err}");
        }
        assert!(check_kind(CardKind::Plus2k, &storage_atr(0x36)).is_ok());
    }
}
