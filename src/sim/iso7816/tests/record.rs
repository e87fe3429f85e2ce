//! READ, UPDATE and APPEND RECORD on the linear fixed EF `0102` (SFI 2).

use super::{SELECT_2F00, SELECT_APP, repeat, run, t1};

#[test]
fn read_record_by_sfi_and_from_the_current_ef() {
    run(
        &mut t1(),
        &[
            (SELECT_APP, "90 00"),
            ("00 B2 01 14 10", &format!("{} 90 00", repeat(1, 16))),
            ("00 B2 03 14 00", &format!("{} 90 00", repeat(3, 16))),
            ("00 B2 02 04 10", &format!("{} 90 00", repeat(2, 16))),
            ("00 B2 02 04 08", &format!("{} 90 00", repeat(2, 8))),
            ("00 B2 02 04 20", &format!("{} 62 82", repeat(2, 16))),
        ],
    );
}

#[test]
fn read_record_errors() {
    run(
        &mut t1(),
        &[
            ("00 B2 01 04 10", "69 86"),
            (SELECT_APP, "90 00"),
            ("00 B2 04 14 10", "6A 83"),
            // The current record, and no READ RECORD has set the pointer yet.
            ("00 B2 00 14 10", "6A 83"),
            // Record identifiers and several records: not supported.
            ("00 B2 01 15 10", "6A 81"),
            ("00 B2 01 10 10", "6A 81"),
            ("00 B2 01 17 10", "6A 86"),
            ("00 B2 01 14", "67 00"),
            ("00 B2 01 FC 10", "6A 86"),
            ("00 B2 01 1C 10", "6A 82"),
            ("00 B2 01 0C 10", "69 81"),
            ("00 B2 01 14 01 00 10", "67 00"),
        ],
    );
}

#[test]
fn update_record_replaces_a_record_of_the_same_length() {
    let new = repeat(0xAA, 16);
    run(
        &mut t1(),
        &[
            (SELECT_APP, "90 00"),
            (&format!("00 DC 02 14 10 {new}"), "90 00"),
            ("00 B2 02 14 10", &format!("{new} 90 00")),
            ("00 B2 03 04 10", &format!("{} 90 00", repeat(3, 16))),
            ("00 DC 02 04 02 AA AA", "67 00"),
            (&format!("00 DC 04 04 10 {new}"), "6A 83"),
            (&format!("00 DC 02 03 10 {new}"), "6A 86"),
        ],
    );
}

#[test]
fn append_record_to_a_full_file_answers_6a84() {
    let record = repeat(0x44, 16);
    run(
        &mut t1(),
        &[
            (SELECT_APP, "90 00"),
            (&format!("00 E2 00 10 10 {record}"), "6A 84"),
            ("00 E2 00 10 02 44 44", "67 00"),
            (&format!("00 E2 01 10 10 {record}"), "6A 86"),
            (&format!("00 E2 00 14 10 {record}"), "6A 86"),
            (&format!("00 E2 00 08 10 {record}"), "69 81"),
            (SELECT_2F00, "90 00"),
            (&format!("00 E2 00 00 10 {record}"), "69 81"),
        ],
    );
}

#[test]
fn read_record_modes_move_the_record_pointer() {
    run(
        &mut t1(),
        &[
            (SELECT_APP, "90 00"),
            ("00 B2 00 12 10", &format!("{} 90 00", repeat(1, 16))),
            ("00 B2 00 12 10", &format!("{} 90 00", repeat(2, 16))),
            ("00 B2 00 14 10", &format!("{} 90 00", repeat(2, 16))),
            ("00 B2 00 12 10", &format!("{} 90 00", repeat(3, 16))),
            ("00 B2 00 12 10", "6A 83"),
            ("00 B2 00 13 10", &format!("{} 90 00", repeat(2, 16))),
            ("00 B2 00 10 10", &format!("{} 90 00", repeat(1, 16))),
            ("00 B2 00 13 10", "6A 83"),
            ("00 B2 00 11 10", &format!("{} 90 00", repeat(3, 16))),
            // Another EF becomes current: the pointer is forgotten, next is the first.
            (SELECT_2F00, "90 00"),
            (SELECT_APP, "90 00"),
            ("00 B2 00 12 10", &format!("{} 90 00", repeat(1, 16))),
        ],
    );
}
