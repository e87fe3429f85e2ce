//! The guard's section for the file-card COS of the source documents (`crate::cos`): which of
//! its commands can never be undone.
//!
//! - LOCK KEY (`5C`, P1 `03`): a locked key is never usable, replaceable or unlockable
//!   again; locking a DF's install key freezes what that key guards — `cos-key-lock`.
//! - CREATE FILE (`F2`) of a file other than a key file whose delete condition (P2) is
//!   never (`FF`): nothing can remove it — `cos-permanent-file`. (A key file never goes on its
//!   own, only with its DF, so its condition changes nothing.)
//!
//! Judged on the bytes the chip receives, whatever wrapping carried them (the caller decodes
//! framings), in any class but `FF` (the readers' pseudo-APDUs), since a lenient card may
//! ignore the class. Not classified: wrong cryptograms and PINs, which block a key or PIN by
//! counting — the guard cannot know a value is wrong; blocking the MF's install key by
//! failed EXTERNAL AUTHENTICATEs on a blank card is as final as a lock (README).

use super::Operation;
use crate::cos::{Condition, FileType, INS_CREATE, INS_KEY, KEY_LOCK};

/// The irreversible COS operation `command` performs, with what it does, if any.
pub(super) fn judge(command: &[u8]) -> Option<(String, Operation)> {
    let &[cla, ins, p1, p2, ..] = command else {
        return None;
    };
    if cla == 0xFF {
        return None;
    }
    match ins {
        INS_KEY if p1 == KEY_LOCK => Some((
            format!(
                "COS LOCK KEY (`5C 03`) of key {p2} locks it for good: never usable, replaced or unlocked again"
            ),
            Operation::CosKeyLock,
        )),
        INS_CREATE
            if p2 == Condition::Never.to_byte() && FileType::from_byte(p1) != Some(FileType::Keys) =>
        {
            Some((
                "COS CREATE FILE (`F2`) with delete condition never (`FF`) makes a file nothing can remove"
                    .to_string(),
                Operation::CosPermanentFile,
            ))
        }
        _ => None,
    }
}
