//! MIFARE Plus WritePerso of a sector trailer (protocols.md §3.3, §3.4): the MIFARE Classic
//! image written in SL0 is what the card holds in SL1, so a trailer whose access bits are
//! malformed makes a dead sector once the card is committed. Such a write is refused always,
//! as LibLogicalAccess refuses it (§3.4), sent directly or inside an Omnikey transceive.
//!
//! Access bits that can never be changed again are allowed here: in SL0 the block can still be
//! rewritten, and the commit that fixes them is itself irreversible and guarded.

use super::{Verdict, trailer_verdict};
use crate::mifare::classic::Layout;
use crate::mifare::plus::write_perso_address;
use crate::reader::omnikey::command_in;

/// The verdict on a WritePerso to a sector trailer; `None` for any other command.
pub(super) fn write_perso_trailer(command: &[u8]) -> Option<Verdict> {
    let perso = match write_perso_address(command) {
        Some(_) => command,
        None => command_in(command)?.1,
    };
    let block = u8::try_from(write_perso_address(perso)?).ok()?;
    // Trailers sit at the same blocks on 2K and 4K cards; 4K only adds blocks 128-255, and
    // the SL0 ATR does not say which size the card is.
    let layout = Layout::FourK;
    if !layout.is_trailer(block) || perso.len() < 3 + 9 {
        return None;
    }
    match trailer_verdict(layout, block, [perso[9], perso[10], perso[11]]) {
        forbidden @ Verdict::Forbidden(_) => Some(forbidden),
        _ => None,
    }
}
