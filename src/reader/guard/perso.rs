//! MIFARE Plus WritePerso of sector trailers (protocols.md §3.3, §3.4): the MIFARE Classic
//! image written in SL0 is what the card holds in SL1, so a trailer whose access bits are
//! malformed makes a dead sector once the card is committed. Such a write is refused always,
//! as LibLogicalAccess refuses it (§3.4), in whatever wrapping it arrives (the decoder has
//! already unwrapped it): one block, or the EV1 multi-block form with 16·k data bytes.
//!
//! Access bits that can never be changed again are allowed here: in SL0 the block can still be
//! rewritten, and the commit that fixes them is itself irreversible and guarded.

use super::{Verdict, trailer};
use crate::mifare::classic::Layout;
use crate::mifare::plus::write_perso_address;

/// Why a WritePerso `command` must never be sent: it writes a sector trailer with malformed
/// access bits. `None` for any other command.
pub(super) fn write_perso_trailers(command: &[u8]) -> Option<String> {
    let first = write_perso_address(command)?;
    // Trailers sit at the same blocks on 2K and 4K cards; 4K only adds blocks 128-255, and
    // the SL0 ATR does not say which size the card is.
    let layout = Layout::FourK;
    // A block shorter than 16 bytes is still judged on its access bytes, if it has them.
    for (i, chunk) in command[3..].chunks(16).enumerate() {
        let Some(block) = usize::from(first)
            .checked_add(i)
            .filter(|&b| b < 0x100)
            .and_then(|b| u8::try_from(b).ok())
        else {
            break;
        };
        if !layout.is_trailer(block) || chunk.len() < 9 {
            continue;
        }
        if let Verdict::Forbidden(why) =
            trailer(layout, block, [chunk[6], chunk[7], chunk[8]]).verdict
        {
            return Some(why);
        }
    }
    None
}
