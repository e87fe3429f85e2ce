//! READ BINARY and UPDATE BINARY: offsets, SFI addressing, Le on T=1, access, errors.

use super::{SELECT_2F00, SELECT_0010, SELECT_APP, VERIFY_PIN, counting, repeat, run, t1};

#[test]
fn read_binary_reads_the_current_ef() {
    run(
        &mut t1(),
        &[
            (SELECT_2F00, "90 00"),
            ("00 B0 00 00 10", &format!("{} 90 00", counting(0, 16))),
            ("00 B0 00 04 02", "04 05 90 00"),
            ("00 B0 00 0F 01", "0F 90 00"),
        ],
    );
}

#[test]
fn t1_read_binary_le_beyond_the_end_answers_6282_and_00_reads_what_is_there() {
    run(
        &mut t1(),
        &[
            (SELECT_2F00, "90 00"),
            ("00 B0 00 00 14", &format!("{} 62 82", counting(0, 16))),
            ("00 B0 00 08 10", &format!("{} 62 82", counting(8, 8))),
            ("00 B0 00 00 00", &format!("{} 90 00", counting(0, 16))),
            // Case 1 (no Le) asks for no data: wrong length, nothing returned.
            ("00 B0 00 0C", "67 00"),
        ],
    );
}

#[test]
fn read_binary_offset_outside_the_ef_answers_6b00() {
    run(
        &mut t1(),
        &[
            (SELECT_2F00, "90 00"),
            ("00 B0 00 10 01", "6B 00"),
            ("00 B0 7F FF 01", "6B 00"),
        ],
    );
}

#[test]
fn read_binary_without_a_current_ef_answers_6986() {
    run(
        &mut t1(),
        &[
            ("00 B0 00 00 01", "69 86"),
            (SELECT_APP, "90 00"),
            ("00 B0 00 00 01", "69 86"),
        ],
    );
}

#[test]
fn read_binary_by_sfi_selects_the_ef() {
    run(
        &mut t1(),
        &[
            (SELECT_APP, "90 00"),
            ("00 B0 81 00 10", &format!("{} 90 00", counting(0, 16))),
            ("00 B0 81 FF 02", "FF 00 90 00"),
            // EF 0101 is now current, so a plain offset reads it too.
            ("00 B0 01 00 00", &format!("{} 90 00", counting(256, 44))),
            ("00 B0 00 00 00", &format!("{} 90 00", counting(0, 256))),
            (
                "00 B0 81 00 00 01 2C",
                &format!("{} 90 00", counting(0, 300)),
            ),
        ],
    );
}

#[test]
fn read_binary_rejects_bad_sfi_addressing_and_record_files() {
    run(
        &mut t1(),
        &[
            (SELECT_APP, "90 00"),
            ("00 B0 83 00 01", "6A 82"),
            ("00 B0 A1 00 01", "6A 86"),
            ("00 B0 80 00 01", "6A 86"),
            ("00 B0 82 00 01", "69 81"),
            ("00 B0 00 00 01 00 01", "67 00"),
        ],
    );
}

#[test]
fn update_binary_writes_in_place() {
    run(
        &mut t1(),
        &[
            (SELECT_2F00, "90 00"),
            ("00 D6 00 02 02 AA BB", "90 00"),
            ("00 B0 00 00 05", "00 01 AA BB 04 90 00"),
            ("00 D6 00 0F 01 EE", "90 00"),
            ("00 B0 00 0E 02", "0E EE 90 00"),
        ],
    );
}

#[test]
fn update_binary_by_sfi_selects_the_ef() {
    run(
        &mut t1(),
        &[
            (SELECT_APP, "90 00"),
            ("00 D6 81 FE 02 11 22", "90 00"),
            ("00 B0 00 FD 04", "FD 11 22 00 90 00"),
        ],
    );
}

#[test]
fn update_binary_errors() {
    run(
        &mut t1(),
        &[
            ("00 D6 00 00 01 00", "69 86"),
            (SELECT_2F00, "90 00"),
            ("00 D6 00 10 01 00", "6B 00"),
            ("00 D6 00 0F 02 00 00", "6A 84"),
            ("00 D6 00 00", "67 00"),
            (SELECT_APP, "90 00"),
            ("00 D6 82 00 01 00", "69 81"),
        ],
    );
}

#[test]
fn ef_0010_is_readable_but_updatable_only_after_verify() {
    run(
        &mut t1(),
        &[
            (SELECT_0010, "90 00"),
            ("00 B0 00 00 20", &format!("{} 90 00", repeat(0, 32))),
            ("00 D6 00 00 02 12 34", "69 82"),
            (VERIFY_PIN, "90 00"),
            ("00 D6 00 00 02 12 34", "90 00"),
            ("00 B0 00 00 03", "12 34 00 90 00"),
        ],
    );
}
