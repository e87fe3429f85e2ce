//! The Omnikey 5x21 generic session (protocols.md §1.1): what the reader does with a frame
//! the framing decoder (`reader/framing/omnikey.rs`) found in a transceive.
//!
//! - `FF A0 00 07 03 01 00 01` opens a session, `… 01 00 02` closes it; both answer `90 00`.
//! - `FF A0 00 05 <6+n> 01 00 F3 00 <timeout 2> <frame n> 00` sends the frame (the reader
//!   adds and checks the CRC, adds no ISO 14443-4 framing) and answers `00 00 <card bytes>
//!   90 00`, or `64 00` when the chip stays silent. Any timeout bytes are taken.
//! - Without the trailing Le the reader answers a bare `90 00` whatever the frame (§1.1,
//!   forum observation). Whether the frame reaches the card then is UNCONFIRMED; here it
//!   does not, so a script that forgets Le learns nothing and changes nothing.
//! - A transceive with no open session gets `69 85`. Real readers may be more lenient
//!   (UNCONFIRMED); being strict means a script that works here also works there.
//!
//! The session state and the parsing live in the decoder; this file only hands the decoded
//! frame to the chip and wraps its answer.

use super::sw;
use super::{Answer, Frontend, Picc};
use crate::apdu::StatusWord;
use crate::reader::framing::Frame;

/// Sends a decoded frame to the chip: `00 00 <answer>` or `64 00`.
pub(super) fn transceive<P: Picc>(
    fe: &mut Frontend<P>,
    frame: &Frame,
) -> Result<Answer, StatusWord> {
    match fe.picc.frame(frame) {
        Some(answer) => {
            let mut out = Vec::with_capacity(answer.len() + 2);
            out.extend_from_slice(&[0x00, 0x00]);
            out.extend_from_slice(&answer);
            Ok((out, sw::OK))
        }
        None => Err(sw::NO_RESPONSE),
    }
}
