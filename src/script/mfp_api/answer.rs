//! Reading what a MIFARE Plus (or the reader in front of it) answered to WritePerso,
//! CommitPerso and the level probe (protocols.md §3.1, §3.2, §3.6 A).
//!
//! The card's answer is one status byte; Omnikey readers pass it on as it is, ACS readers
//! append `90 00` to answers shorter than two bytes. Two bytes are the reader's own status
//! word: it did not pass the command on (an SL1 card is handled as a MIFARE Classic and takes
//! no ISO 14443-4 commands).

use rhai::INT;

use super::Fallible;
use crate::apdu::{StatusWord, hex};
use crate::mifare::plus::{STATUS_OK, WRITE_PERSO, describe_status};
use crate::reader::atr::{is_iso14443_4, storage_card_name};
use crate::reader::guard::Family;
use crate::script::error::Fault;
use crate::script::session::Shared;

/// `09`: the probe's address is not valid — the card is in SL0 (§3.1).
const INVALID_BLOCK: u8 = 0x09;
/// `0B`: WritePerso is not available — the card is in SL3 (§3.1).
const NOT_IN_STATE: u8 = 0x0B;

/// The card's status byte, from `st` or `st 90 00`; `None` if the answer is neither.
fn status_byte(answer: &[u8]) -> Option<u8> {
    match *answer {
        [status] | [status, 0x90, 0x00] => Some(status),
        _ => None,
    }
}

/// Requires status `90`, else throws with the meaning of what came back.
pub(super) fn check_status(session: &Shared, what: &str, answer: &[u8]) -> Fallible<()> {
    match status_byte(answer) {
        Some(STATUS_OK) => Ok(()),
        Some(status) => Err(Fault::failed(format!(
            "{what}: card answered status {}",
            describe_status(status)
        ))),
        None => Err(Fault::failed(format!(
            "{what}: {}{}",
            unexpected(answer),
            not_sl0_hint(session.borrow().card.atr())
        ))),
    }
}

/// An answer that is not a MIFARE Plus status, described.
fn unexpected(answer: &[u8]) -> String {
    match *answer {
        [0x90, 0x00] => "the reader answered 90 00 without the card's status byte".to_string(),
        [sw1, sw2] => {
            let sw = StatusWord::new(sw1, sw2);
            format!("the reader answered {sw} ({})", sw.describe())
        }
        _ => format!(
            "unexpected answer `{}` (expected a status byte)",
            hex::format(answer)
        ),
    }
}

/// Why a reader may not pass MIFARE Plus commands on, from the ATR.
fn not_sl0_hint(atr: &[u8]) -> &'static str {
    match Family::from_atr(atr) {
        Family::Classic(_) => {
            "; the ATR names a MIFARE Classic or a MIFARE Plus in SL1, which the reader handles \
             as a storage card: WritePerso and CommitPerso exist only in SL0 (protocols.md §3.1)"
        }
        _ if !is_iso14443_4(atr) => {
            "; the ATR does not show an ISO 14443-4 card, as a MIFARE Plus in SL0 is (protocols.md \
             §2.4)"
        }
        _ => "",
    }
}

/// The security level a storage-card ATR names (§2.3): `0036`/`0037` (and the Classic names
/// some readers report for SL1, `0001`/`0002`) give 1, `0038`/`0039` give 2. `None` for an
/// ISO 14443-4 ATR, where only the probe tells.
pub(super) fn level_of_atr(atr: &[u8], what: &str) -> Fallible<Option<INT>> {
    if is_iso14443_4(atr) {
        return Ok(None);
    }
    let name = storage_card_name(atr).unwrap_or(0);
    match name {
        0x0036 | 0x0037 | 0x0001 | 0x0002 => Ok(Some(1)),
        0x0038 | 0x0039 => Ok(Some(2)),
        _ => Err(Fault::failed(format!(
            "{what}: the ATR `{}` is neither an ISO 14443-4 card nor a MIFARE Plus in SL1 or SL2 \
             (protocols.md §2.3, §2.4)",
            hex::format(atr)
        ))),
    }
}

/// The level probe of proxmark3: WritePerso to the invalid address 9090 (§3.1).
pub(super) fn probe() -> Vec<u8> {
    let mut probe = vec![WRITE_PERSO, 0x90, 0x90];
    probe.extend_from_slice(&[0; 16]);
    probe
}

/// The level from the probe's answer: `09` is SL0, `0B` is SL3.
pub(super) fn level_of_probe(answer: &[u8], what: &str) -> Fallible<INT> {
    match status_byte(answer) {
        Some(INVALID_BLOCK) => Ok(0),
        Some(NOT_IN_STATE) => Ok(3),
        _ => Err(Fault::failed(format!(
            "{what}: the card answered `{}` to the probe `A8 90 90 …`: not a MIFARE Plus (a \
             DESFire answers 67 00 or 1C 83 0C, protocols.md §3.1)",
            hex::format(answer)
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_probe_answer_gives_the_level() {
        assert_eq!(hex::format(&probe()[..3]), "A8 90 90");
        assert_eq!(probe().len(), 19);
        // Omnikey (status byte) and ACS (status byte + 90 00) framings.
        for (answer, level) in [(&[0x09][..], 0), (&[0x09, 0x90, 0x00], 0), (&[0x0B], 3)] {
            assert_eq!(
                level_of_probe(answer, "t").ok(),
                Some(level),
                "{answer:02X?}"
            );
        }
        // DESFire answers (§3.1), a write that took, nothing.
        for answer in [&[0x67, 0x00][..], &[0x1C, 0x83, 0x0C], &[0x90], &[]] {
            assert!(level_of_probe(answer, "t").is_err(), "{answer:02X?}");
        }
    }

    #[test]
    fn storage_card_atrs_give_the_level_without_a_probe() {
        let atr = |name: u16| {
            let [hi, lo] = name.to_be_bytes();
            let mut atr = hex::parse("3B 8F 80 01 80 4F 0C A0 00 00 03 06 03").unwrap();
            atr.extend([hi, lo, 0, 0, 0, 0, 0]);
            atr
        };
        for (name, level) in [(0x0036, 1), (0x0037, 1), (0x0001, 1), (0x0038, 2)] {
            assert_eq!(level_of_atr(&atr(name), "t").ok(), Some(Some(level)));
        }
        assert!(level_of_atr(&atr(0x0003), "t").is_err());
        let sl0 = hex::parse("3B 87 80 01 C1 05 2F 2F 01 BC D6 A9").unwrap();
        assert_eq!(level_of_atr(&sl0, "t").ok(), Some(None));
    }
}
