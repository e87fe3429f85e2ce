//! Tests of the Ultralight page map, UID check bytes and lock arithmetic (protocols.md §6).

use proptest::prelude::*;

use super::*;

const UID: [u8; 7] = [0x04, 0xE1, 0x5C, 0x32, 0xA6, 0x3F, 0x80];

#[test]
fn check_bytes_fold_in_the_cascade_tag() {
    // 88 ^ 04 ^ E1 ^ 5C = 31; 32 ^ A6 ^ 3F ^ 80 = 2B.
    assert_eq!(bcc0(0x04, 0xE1, 0x5C), 0x31);
    assert_eq!(bcc1(0x32, 0xA6, 0x3F, 0x80), 0x2B);
    assert_eq!(bcc0(0x00, 0x00, 0x00), CASCADE_TAG);
}

#[test]
fn uid_pages_lay_out_serial_and_check_bytes() {
    assert_eq!(
        uid_pages(UID, DEFAULT_INT, (0x00, 0x00)),
        [
            [0x04, 0xE1, 0x5C, 0x31],
            [0x32, 0xA6, 0x3F, 0x80],
            [0x2B, 0x48, 0x00, 0x00],
        ]
    );
}

#[test]
fn uid_is_read_back_and_checked() {
    let pages = uid_pages(UID, DEFAULT_INT, (0xF0, 0x01));
    let mut read: Vec<u8> = pages.concat();
    read.extend([0xFF; 4]);
    assert_eq!(uid_from_pages(&read), Ok(UID));
    assert_eq!(uid_from_pages(&read[..9]), Ok(UID));
    assert_eq!(uid_from_pages(&read[..8]), Err(UidError::Short(8)));

    read[3] ^= 1;
    assert_eq!(
        uid_from_pages(&read).unwrap_err().to_string(),
        "BCC0 is 30, expected 31"
    );
    read[3] ^= 1;
    read[8] = 0x00;
    assert_eq!(
        uid_from_pages(&read),
        Err(UidError::Bcc1 {
            found: 0x00,
            expected: 0x2B
        })
    );
}

#[test]
fn pages_have_kinds() {
    let kinds: Vec<_> = [0, 1, 2, 3, 4, 15, 16].map(page_kind).into();
    assert_eq!(
        kinds,
        [
            Some(PageKind::Serial),
            Some(PageKind::Serial),
            Some(PageKind::Lock),
            Some(PageKind::Otp),
            Some(PageKind::User),
            Some(PageKind::User),
            None,
        ]
    );
}

#[test]
fn lock_bytes_make_pages_read_only() {
    // (LOCK0, LOCK1, read-only pages)
    let cases: &[(u8, u8, &[u8])] = &[
        (0x00, 0x00, &[]),
        (0x07, 0x00, &[]),
        (0x08, 0x00, &[3]),
        (0xF0, 0x00, &[4, 5, 6, 7]),
        (0x00, 0xFF, &[8, 9, 10, 11, 12, 13, 14, 15]),
        (0x10, 0x80, &[4, 15]),
        (0xFF, 0xFF, &[3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]),
    ];
    for &(lock0, lock1, pages) in cases {
        assert_eq!(locked_pages(lock0, lock1), pages, "{lock0:02X} {lock1:02X}");
        for page in 0..PAGE_COUNT {
            assert_eq!(is_locked(lock0, lock1, page), pages.contains(&page));
        }
    }
}

#[test]
fn lock_bytes_for_pages() {
    // (pages, LOCK0, LOCK1)
    let cases: &[(&[u8], u8, u8)] = &[
        (&[], 0x00, 0x00),
        (&[3], 0x08, 0x00),
        (&[4], 0x10, 0x00),
        (&[15], 0x00, 0x80),
        (&[4, 5, 6, 7, 8], 0xF0, 0x01),
        (&[3, 3, 9], 0x08, 0x02),
    ];
    for &(pages, lock0, lock1) in cases {
        assert_eq!(lock_bytes_for(pages), Ok((lock0, lock1)), "{pages:?}");
        assert_eq!(locked_pages(lock0, lock1), dedup(pages));
    }
    assert_eq!(
        lock_bytes_for(&[4, 2]).unwrap_err().to_string(),
        "page 2 has no lock bit (only pages 3-15 can be locked)"
    );
    assert_eq!(
        lock_bytes_for(&[0]),
        Err(LockError::NotLockable { page: 0 })
    );
    assert_eq!(
        lock_bytes_for(&[16]),
        Err(LockError::NoSuchPage { page: 16 })
    );
}

fn dedup(pages: &[u8]) -> Vec<u8> {
    let mut v = pages.to_vec();
    v.sort_unstable();
    v.dedup();
    v
}

#[test]
fn block_lock_bytes_cover_ranges() {
    let cases: &[(&[u8], u8)] = &[
        (&[3], 0x01),
        (&[4], 0x02),
        (&[9], 0x02),
        (&[10], 0x04),
        (&[15], 0x04),
        (&[3, 4, 15], 0x07),
    ];
    for &(pages, lock0) in cases {
        assert_eq!(block_lock_bytes_for(pages), Ok((lock0, 0x00)), "{pages:?}");
    }
    assert_eq!(
        block_lock_bytes_for(&[1]),
        Err(LockError::NotLockable { page: 1 })
    );
}

#[test]
fn lock_writes_or_and_respect_block_locks() {
    // (current, written, result)
    type Lock = (u8, u8);
    let cases: &[(Lock, Lock, Lock)] = &[
        ((0x00, 0x00), (0x10, 0x00), (0x10, 0x00)),
        // Bits are never cleared.
        ((0x10, 0x00), (0x00, 0x00), (0x10, 0x00)),
        // BL 9-4 already set: the bits of pages 4 and 8 are dropped.
        ((0x02, 0x00), (0x10, 0x01), (0x02, 0x00)),
        // ... but page 10 is governed by BL 15-10.
        ((0x02, 0x00), (0x00, 0x04), (0x02, 0x04)),
        // BL-OTP freezes L-OTP.
        ((0x01, 0x00), (0x08, 0x00), (0x01, 0x00)),
        // BL 15-10 freezes pages 10-15 but not 8-9.
        ((0x04, 0x00), (0x00, 0xFF), (0x04, 0x03)),
        // A block-lock bit set by this write does not freeze this write.
        ((0x00, 0x00), (0x12, 0x00), (0x12, 0x00)),
        // A bit already set stays set even when frozen.
        ((0x12, 0x00), (0x00, 0x00), (0x12, 0x00)),
    ];
    for &(current, new, expected) in cases {
        assert_eq!(
            apply_lock_write(current, new),
            expected,
            "{current:02X?} + {new:02X?}"
        );
    }
    assert_eq!(
        apply_lock_page_write([0x2B, 0x48, 0x02, 0x00], [0x00, 0x00, 0x10, 0x04]),
        [0x2B, 0x48, 0x02, 0x04]
    );
    assert_eq!(frozen_lock_bits(0x07, 0x00), 0xFFF8);
    assert_eq!(frozen_lock_bits(0x00, 0xFF), 0x0000);
}

proptest! {
    #[test]
    fn lock_writes_only_ever_add_requested_bits(current in any::<(u8, u8)>(), new in any::<(u8, u8)>()) {
        let (r0, r1) = apply_lock_write(current, new);
        prop_assert_eq!((r0 & current.0, r1 & current.1), current);
        prop_assert_eq!((r0 & !(current.0 | new.0), r1 & !(current.1 | new.1)), (0, 0));
        prop_assert_eq!(apply_lock_write((r0, r1), new), (r0, r1));
    }
}

#[test]
fn otp_writes_or_into_the_page() {
    assert_eq!(
        apply_otp_write([0x01, 0x00, 0xF0, 0x00], [0x02, 0x00, 0x0F, 0xFF]),
        [0x03, 0x00, 0xFF, 0xFF]
    );
    assert_eq!(apply_otp_write([0xFF; 4], [0x00; 4]), [0xFF; 4]);
}

#[test]
fn lock_bytes_are_described_in_words() {
    assert!(describe_lock(0x00, 0x00).is_empty());
    assert_eq!(describe_lock(0xF8, 0x10), ["pages 3-7, 12 are read-only"]);
    assert_eq!(
        describe_lock(0x0B, 0x00),
        [
            "page 3 is read-only",
            "the lock bit of page 3 (OTP) is frozen",
            "the lock bits of pages 4-9 are frozen",
        ]
    );
    assert_eq!(
        describe_lock(0x04, 0xC0),
        [
            "pages 14-15 are read-only",
            "the lock bits of pages 10-15 are frozen"
        ]
    );
}
