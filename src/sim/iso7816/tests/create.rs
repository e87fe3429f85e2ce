//! CREATE FILE: every file type, then select and use it; access conditions; refusals.

use super::{SELECT_APP, VERIFY_PIN, repeat, run, t1};
use crate::apdu::hex;

/// CREATE FILE with `fields` wrapped in an FCP template (`62 L fields`).
fn create(fields: &str) -> String {
    let fields = hex::parse(fields).unwrap();
    let mut data = vec![0x62, fields.len() as u8];
    data.extend(fields);
    format!("00 E0 00 00 {:02X} {}", data.len(), hex::format(&data))
}

#[test]
fn create_transparent_ef_then_select_read_and_update_it() {
    let ef = create("82 01 01 83 02 12 34 80 02 00 08 8A 01 05");
    run(
        &mut t1(),
        &[
            (&ef, "90 00"),
            // The new EF is current.
            ("00 B0 00 00 08", &format!("{} 90 00", repeat(0, 8))),
            ("00 D6 00 06 02 AB CD", "90 00"),
            ("00 A4 00 0C 02 3F 00", "90 00"),
            (
                "00 A4 00 00 02 12 34 00",
                "62 12 82 01 01 83 02 12 34 80 02 00 08 86 02 00 00 8A 01 05 90 00",
            ),
            ("00 B0 00 05 03", "00 AB CD 90 00"),
        ],
    );
}

#[test]
fn create_df_with_a_name_and_an_ef_with_sfi_and_access_conditions_inside() {
    let df = create("82 01 38 83 02 60 00 84 04 D2 76 00 01");
    // SFI 3, read always, update after PIN 01.
    let ef = create("82 01 01 83 02 60 01 80 01 04 88 01 18 86 02 00 01");
    run(
        &mut t1(),
        &[
            (&df, "90 00"),
            // The new DF is current, so the EF goes into it.
            (&ef, "90 00"),
            ("00 A4 00 0C 00", "90 00"),
            ("00 A4 04 0C 04 D2 76 00 01", "90 00"),
            ("00 B0 83 00 04", "00 00 00 00 90 00"),
            ("00 D6 83 00 01 77", "69 82"),
            (VERIFY_PIN, "90 00"),
            ("00 D6 83 00 01 77", "90 00"),
            ("00 B0 83 00 02", "77 00 90 00"),
            (
                "00 A4 08 00 04 60 00 60 01 00",
                "62 15 82 01 01 83 02 60 01 80 02 00 04 88 01 18 86 02 00 01 8A 01 05 90 00",
            ),
        ],
    );
}

#[test]
fn create_linear_fixed_ef_then_append_until_full() {
    // Records of 4 bytes, at most 2 of them, SFI 3.
    let ef = create("82 04 02 21 04 02 83 02 01 03 88 01 18");
    run(
        &mut t1(),
        &[
            (SELECT_APP, "90 00"),
            (&ef, "90 00"),
            ("00 B2 01 04 04", "6A 83"),
            ("00 E2 00 00 04 01 02 03 04", "90 00"),
            ("00 E2 00 18 04 05 06 07 08", "90 00"),
            ("00 E2 00 18 04 09 0A 0B 0C", "6A 84"),
            ("00 B2 02 1C 04", "05 06 07 08 90 00"),
            ("00 B2 01 04 00", "01 02 03 04 90 00"),
            (
                "00 A4 00 00 02 01 03 00",
                "62 15 82 05 02 21 00 04 02 83 02 01 03 88 01 18 86 02 00 00 8A 01 05 90 00",
            ),
        ],
    );
}

#[test]
fn record_sizes_may_be_given_in_one_or_two_bytes() {
    let short = create("82 04 02 21 04 02 83 02 01 03");
    let long = create("82 06 02 21 00 04 00 02 83 02 01 04");
    run(
        &mut t1(),
        &[
            (&short, "90 00"),
            ("00 A4 00 0C 00", "90 00"),
            (&long, "90 00"),
        ],
    );
}

#[test]
fn create_needs_the_update_condition_of_the_current_df() {
    let guarded_df = create("82 01 38 83 02 70 00 86 02 00 01");
    let inner = create("82 01 38 83 02 70 01");
    run(
        &mut t1(),
        &[
            (&guarded_df, "90 00"),
            (&inner, "69 82"),
            (VERIFY_PIN, "90 00"),
            (&inner, "90 00"),
        ],
    );
}

#[test]
fn create_refuses_existing_identifiers_and_names() {
    run(
        &mut t1(),
        &[
            (&create("82 01 01 83 02 2F 00 80 01 04"), "6A 89"),
            (&create("82 01 38 83 02 3F 00"), "6A 89"),
            (&create("82 01 01 83 02 FF FF 80 01 04"), "6A 80"),
            (
                &create("82 01 38 83 02 60 00 84 07 A0 00 00 02 47 10 01"),
                "6A 8A",
            ),
            (SELECT_APP, "90 00"),
            (&create("82 01 38 83 02 50 00"), "6A 89"),
            (&create("82 01 01 83 02 01 05 80 01 04 88 01 08"), "6A 80"),
        ],
    );
}

#[test]
fn create_rejects_malformed_templates() {
    run(
        &mut t1(),
        &[
            ("00 E0 00 00 09 63 07 82 01 38 83 02 60 00", "6A 80"),
            ("00 E0 00 00 09 62 08 82 01 38 83 02 60 00", "6A 85"),
            ("00 E0 00 00 0A 62 07 82 01 38 83 02 60 00 00", "6A 85"),
            ("00 E0 00 00 05 62 03 82 81 38", "6A 85"),
            (&create("82 01 38 83 01 60"), "6A 80"),
            (&create("82 01 38"), "6A 80"),
            (&create("83 02 60 00"), "6A 80"),
            (&create("82 01 01 83 02 60 00"), "6A 80"),
            (&create("82 01 01 83 02 60 00 80 02 80 00"), "6A 84"),
            (&create("82 01 01 83 02 60 00 80 02 00 00"), "6A 80"),
            (&create("82 01 07 83 02 60 00 80 01 04"), "6A 80"),
            (&create("82 04 02 21 00 01 83 02 60 00"), "6A 80"),
            (&create("82 04 02 21 04 FF 83 02 60 00"), "6A 80"),
            (&create("82 01 38 83 02 60 00 86 02 00 03"), "6A 80"),
            (&create("82 01 38 83 02 60 00 88 01 08"), "6A 80"),
            (&create("82 01 01 83 02 60 00 80 01 04 84 01 AA"), "6A 80"),
            (&create("82 01 01 83 02 60 00 80 01 04 88 01 09"), "6A 80"),
            ("00 E0 01 00 09 62 07 82 01 38 83 02 60 00", "6A 86"),
            ("00 E0 00 00", "67 00"),
        ],
    );
}

#[test]
fn create_ignores_life_cycle_and_unknown_tags() {
    let df = create("82 01 38 83 02 60 00 8A 01 05 C5 02 01 02 9F 65 01 FF");
    run(&mut t1(), &[(&df, "90 00"), ("00 A4 03 0C", "90 00")]);
}

#[test]
fn create_stops_when_the_card_is_full() {
    run(
        &mut t1(),
        &[
            (&create("82 01 01 83 02 A0 01 80 02 7F FF"), "90 00"),
            ("00 A4 00 0C 00", "90 00"),
            (&create("82 01 01 83 02 A0 02 80 02 7F FF"), "6A 84"),
        ],
    );
}

#[test]
fn create_takes_the_fci_template_opensc_sends() {
    // OpenSC's iso7816 driver: `6F`, size in `81`, a one-byte descriptor (here with the
    // shareable bit), the identifier.
    let ef = "00 E0 00 00 0D 6F 0B 81 02 00 04 82 01 41 83 02 43 21";
    let df = "00 E0 00 00 0D 6F 0B 81 02 00 00 82 01 38 83 02 43 22";
    run(
        &mut t1(),
        &[
            (ef, "90 00"),
            ("00 B0 00 00 04", "00 00 00 00 90 00"),
            ("00 A4 00 0C 02 3F 00", "90 00"),
            (df, "90 00"),
            ("00 A4 00 0C 02 3F 00", "90 00"),
            ("00 A4 00 0C 02 43 22", "90 00"),
        ],
    );
}

#[test]
fn delete_file_removes_a_file_and_everything_under_it() {
    let df = create("82 01 38 83 02 60 00");
    let ef = create("82 01 01 83 02 60 01 80 01 04");
    run(
        &mut t1(),
        &[
            (&df, "90 00"),
            (&ef, "90 00"),
            // Delete the current EF (no data): the DF stays current.
            ("00 E4 00 00", "90 00"),
            ("00 A4 00 0C 02 60 01", "6A 82"),
            (&ef, "90 00"),
            ("00 A4 00 0C 02 3F 00", "90 00"),
            // Delete the DF by identifier from the MF: its EF goes with it.
            ("00 E4 00 00 02 60 00", "90 00"),
            ("00 A4 00 0C 02 60 00", "6A 82"),
            ("00 A4 08 0C 04 60 00 60 01", "6A 82"),
            ("00 E4 00 00 02 60 00", "6A 82"),
            // The files created before are still there, and a new one fits.
            ("00 A4 08 0C 04 50 00 01 02", "90 00"),
            ("00 B2 01 04 10", &format!("{} 90 00", repeat(1, 16))),
            ("00 A4 00 0C 02 3F 00", "90 00"),
            (&df, "90 00"),
        ],
    );
}

#[test]
fn delete_file_refusals() {
    run(
        &mut t1(),
        &[
            ("00 E4 00 00", "69 85"),
            ("00 E4 01 00 02 2F 00", "6A 86"),
            ("00 E4 00 00 01 2F", "6A 87"),
            ("00 E4 00 00 02 99 99", "6A 82"),
        ],
    );
}

#[test]
fn write_binary_combines_per_the_data_coding_and_erase_prepares_the_ef() {
    // Write-AND (data coding 61): created erased (all ones); WRITE ANDs, ERASE restores.
    let and = create("82 02 01 61 83 02 12 35 80 02 00 04");
    let or = create("82 02 01 41 83 02 12 36 80 02 00 02");
    run(
        &mut t1(),
        &[
            (&and, "90 00"),
            ("00 B0 00 00 04", "FF FF FF FF 90 00"),
            ("00 D0 00 00 02 F0 3C", "90 00"),
            ("00 D0 00 00 02 3C 3C", "90 00"),
            ("00 B0 00 00 02", "30 3C 90 00"),
            // A script's way to store its bytes on an AND file: erase, then write.
            ("00 0E 00 00", "90 00"),
            ("00 D0 00 00 02 5A A5", "90 00"),
            ("00 B0 00 00 04", "5A A5 FF FF 90 00"),
            // UPDATE replaces whatever the coding; ERASE up to an end offset.
            ("00 D6 00 00 01 00", "90 00"),
            ("00 0E 00 01 02 00 02", "90 00"),
            ("00 B0 00 00 04", "00 FF FF FF 90 00"),
            ("00 0E 00 02 02 00 01", "6A 80"),
            ("00 0E 00 04", "6B 00"),
            ("00 D0 00 03 02 00 00", "6A 84"),
            (
                "00 A4 00 00 02 12 35 00",
                "62 13 82 02 01 61 83 02 12 35 80 02 00 04 86 02 00 00 8A 01 05 90 00",
            ),
            (&or, "90 00"),
            ("00 D0 00 00 02 F0 01", "90 00"),
            ("00 D0 00 00 02 0F 02", "90 00"),
            ("00 B0 00 00 02", "FF 03 90 00"),
            ("00 0E 00 00", "90 00"),
            ("00 B0 00 00 02", "00 00 90 00"),
        ],
    );
}

#[test]
fn write_and_erase_binary_need_the_update_condition() {
    run(
        &mut t1(),
        &[
            // EF 0010 updates after VERIFY only; a replace EF's WRITE replaces.
            ("00 A4 00 0C 02 00 10", "90 00"),
            ("00 D0 00 00 01 AA", "69 82"),
            ("00 0E 00 00", "69 82"),
            (VERIFY_PIN, "90 00"),
            ("00 D0 00 00 01 AA", "90 00"),
            ("00 D0 00 00 01 55", "90 00"),
            ("00 B0 00 00 01", "55 90 00"),
            ("00 0E 00 00", "90 00"),
            ("00 B0 00 00 01", "00 90 00"),
        ],
    );
}
