//! Layer-3 frames: ACK/NAK, no answer, compatibility write, and random frames.

use proptest::prelude::*;

use super::{UID, frames, tag};
use crate::mifare::ultralight::is_locked;
use crate::sim::ultralight::{ACK, Nak, Ultralight};

#[test]
fn write_frames_answer_ack_or_a_four_bit_nak() {
    let mut tag = tag();
    frames(
        &mut tag,
        &[
            ("A2 04 01 02 03 04", "0A"),
            ("30 04", "01 02 03 04 00 00 00 00 00 00 00 00 00 00 00 00"),
            ("A2 00 01 02 03 04", "00"),
            ("A2 10 01 02 03 04", "00"),
            ("A2 03 00 00 00 01", "0A"),
            ("A2 02 00 00 08 00", "0A"),
            ("A2 03 00 00 00 02", "00"),
            // Frames of the wrong length for their command.
            ("A2 04 01 02 03", "01"),
            ("A2 04 01 02 03 04 05", "01"),
            ("30", "01"),
            ("30 04 00", "01"),
            ("A0", "01"),
            ("A0 04 00", "01"),
        ],
    );
    assert_eq!(ACK, 0x0A);
    assert_eq!((Nak::InvalidArgument.code(), Nak::Frame.code()), (0, 1));
    assert_eq!(
        Nak::Frame.to_string(),
        "NAK 1 (parity or CRC error: frame of the wrong length)"
    );
    assert_eq!(tag.pages()[3], [0, 0, 0, 1]);
}

#[test]
fn unsupported_frames_get_no_answer() {
    let mut tag = tag();
    // HALT, GET_VERSION, READ_SIG, Ultralight C auth, an empty frame, a lone byte.
    frames(
        &mut tag,
        &[
            ("50 00", "-"),
            ("60", "-"),
            ("3C 00", "-"),
            ("1A 00", "-"),
            ("", "-"),
            ("FF", "-"),
        ],
    );
    assert_eq!(tag, Ultralight::new(UID));
}

#[test]
fn compatibility_write_keeps_only_the_first_four_bytes() {
    let data = "11 22 33 44 55 66 77 88 99 AA BB CC DD EE FF 00";
    let mut tag = tag();
    frames(
        &mut tag,
        &[
            // One frame (this simulator's convenience form).
            (&format!("A0 05 {data}"), "0A"),
            // Two phases, as a real tag takes it: address, ACK, data, ACK.
            ("A0 06", "0A"),
            (data, "0A"),
            ("30 05", "11 22 33 44 11 22 33 44 00 00 00 00 00 00 00 00"),
            // Pages 0-1 and past 15 are refused in the first phase, and the next frame is
            // still its data phase (the one decoder keeps the page whatever the tag
            // answered), refused again.
            ("A0 00", "00"),
            (data, "00"),
            ("A0 01", "00"),
            ("A0 02", "01"),
            ("A0 10", "00"),
            (data, "00"),
            (&format!("A0 01 {data}"), "00"),
            // A data frame of the wrong length ends the write with NAK 1.
            ("A0 07", "0A"),
            ("01 02 03 04", "01"),
            ("30 07", "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"),
            // Locks are checked when the data arrives; pages 2 and 3 OR as with WRITE.
            ("A2 02 00 00 00 01", "0A"),
            ("A0 08", "0A"),
            (data, "00"),
            (&format!("A0 03 {data}"), "0A"),
            ("30 02", "2B 48 00 01 11 22 33 44 00 00 00 00 11 22 33 44"),
        ],
    );
}

#[test]
fn a_pending_compatibility_write_is_forgotten_by_reset() {
    // (Behind the reader, a storage command forgets it too: reader/framing tests.)
    let data = "00 22 33 44 55 66 77 88 99 AA BB CC DD EE FF 00";
    let mut tag = tag();
    frames(&mut tag, &[("A0 05", "0A")]);
    tag.reset();
    frames(&mut tag, &[(data, "-")]);
    assert_eq!(tag.pages()[5], [0; 4]);
}

/// Frames that are mostly well-formed READ, WRITE and COMPATIBILITY WRITE (pages 0–19, so
/// the special pages and past-the-end are hit often), mixed with arbitrary bytes.
fn frame() -> impl Strategy<Value = Vec<u8>> {
    let page = 0u8..20;
    let data = |n: usize| proptest::collection::vec(any::<u8>(), n);
    prop_oneof![
        page.clone().prop_map(|p| vec![0x30, p]),
        (page.clone(), data(4)).prop_map(|(p, d)| [vec![0xA2, p], d].concat()),
        (page.clone(), data(16)).prop_map(|(p, d)| [vec![0xA0, p], d].concat()),
        page.prop_map(|p| vec![0xA0, p]),
        data(16),
        proptest::collection::vec(any::<u8>(), 0..24),
    ]
}

proptest! {
    #[test]
    fn random_frames_never_panic_and_keep_the_irreversible_rules(
        frames in proptest::collection::vec(frame(), 1..60)
    ) {
        let mut tag = Ultralight::new(Ultralight::uid_for(3));
        for frame in &frames {
            let before = tag.clone();
            let (lock0, lock1) = before.lock_bytes();
            if let Some(answer) = tag.frame(frame) {
                prop_assert!(!answer.is_empty());
            }
            let after = tag.pages();
            // Serial pages never change; lock and OTP bits are never cleared.
            prop_assert_eq!(&after[..2], &before.pages()[..2]);
            prop_assert_eq!(&after[2][..2], &before.pages()[2][..2]);
            let or_only = after[2..4].concat();
            let was = before.pages()[2..4].concat();
            for (now, then) in or_only.iter().zip(&was) {
                prop_assert_eq!(now & then, *then);
            }
            // Locked pages never change.
            for n in 3..16u8 {
                if is_locked(lock0, lock1, n) {
                    prop_assert_eq!(after[usize::from(n)], before.pages()[usize::from(n)]);
                }
            }
        }
    }
}
