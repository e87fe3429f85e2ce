//! SELECT by identifier, name and path; FCP templates; not-found and bad parameters.

use super::{SELECT_APP, run, t1};

const FCP_MF: &str = "62 0E 82 01 38 83 02 3F 00 86 02 00 00 8A 01 05";
const FCP_2F00: &str = "62 12 82 01 01 83 02 2F 00 80 02 00 10 86 02 00 00 8A 01 05";
const FCP_0010: &str = "62 12 82 01 01 83 02 00 10 80 02 00 20 86 02 00 01 8A 01 05";
const FCP_5000: &str = "62 17 82 01 38 83 02 50 00 84 07 A0 00 00 02 47 10 01 86 02 00 00 8A 01 05";
const FCP_0101: &str = "62 15 82 01 01 83 02 01 01 80 02 01 2C 88 01 08 86 02 00 00 8A 01 05";
const FCP_0102: &str = "62 15 82 05 02 21 00 10 03 83 02 01 02 88 01 10 86 02 00 00 8A 01 05";

#[test]
fn select_returns_fcp_templates_with_p2_00_or_04() {
    let mut card = t1();
    run(
        &mut card,
        &[
            ("00 A4 00 00 02 3F 00 00", &format!("{FCP_MF} 90 00")),
            ("00 A4 00 04 02 2F 00 00", &format!("{FCP_2F00} 90 00")),
            ("00 A4 00 00 02 00 10", &format!("{FCP_0010} 90 00")),
            (
                "00 A4 04 00 07 A0 00 00 02 47 10 01 00",
                &format!("{FCP_5000} 90 00"),
            ),
            ("00 A4 02 00 02 01 01 00", &format!("{FCP_0101} 90 00")),
            ("00 A4 02 04 02 01 02 00", &format!("{FCP_0102} 90 00")),
        ],
    );
}

#[test]
fn select_with_p2_0c_returns_no_data() {
    run(
        &mut t1(),
        &[("00 A4 00 0C 02 3F 00", "90 00"), (SELECT_APP, "90 00")],
    );
}

#[test]
fn select_by_fid_finds_children_parent_and_siblings() {
    let mut card = t1();
    run(
        &mut card,
        &[
            // From the MF, EF 0101 is a grandchild: not reachable by FID.
            ("00 A4 00 0C 02 01 01", "6A 82"),
            ("00 A4 00 0C 02 50 00", "90 00"),
            // The current DF itself, its child, its parent, the parent's child.
            ("00 A4 00 0C 02 50 00", "90 00"),
            ("00 A4 00 0C 02 01 02", "90 00"),
            ("00 A4 00 0C 02 2F 00", "90 00"),
            ("00 B0 00 00 01", "00 90 00"),
            ("00 A4 00 0C 00", "90 00"),
            ("00 A4 00 0C 02 01 01", "6A 82"),
        ],
    );
}

#[test]
fn select_child_df_child_ef_and_parent() {
    run(
        &mut t1(),
        &[
            ("00 A4 01 0C 02 2F 00", "6A 82"),
            ("00 A4 02 0C 02 50 00", "6A 82"),
            ("00 A4 02 0C 02 2F 00", "90 00"),
            ("00 A4 01 0C 02 50 00", "90 00"),
            ("00 A4 03 0C", "90 00"),
            ("00 A4 03 0C", "6A 82"),
            ("00 A4 03 0C 02 3F 00", "6A 87"),
        ],
    );
}

#[test]
fn select_by_name_accepts_a_prefix_and_rejects_unknown_names() {
    run(
        &mut t1(),
        &[
            (
                "00 A4 04 00 05 A0 00 00 02 47 00",
                &format!("{FCP_5000} 90 00"),
            ),
            ("00 A4 04 0C 05 A0 00 00 02 48", "6A 82"),
            ("00 A4 04 0C 08 A0 00 00 02 47 10 01 02", "6A 82"),
            ("00 A4 04 00 00", &format!("{FCP_MF} 90 00")),
        ],
    );
}

#[test]
fn select_by_path_from_mf_and_from_current_df() {
    run(
        &mut t1(),
        &[
            (
                "00 A4 08 00 04 50 00 01 01 00",
                &format!("{FCP_0101} 90 00"),
            ),
            ("00 A4 08 0C 04 3F 00 50 00", "6A 82"),
            ("00 A4 08 0C 04 2F 00 01 01", "6A 82"),
            ("00 A4 08 0C 03 50 00 01", "6A 87"),
            ("00 A4 09 0C 02 01 02", "90 00"),
            ("00 A4 08 0C 02 50 00", "90 00"),
            ("00 A4 09 0C 02 01 02", "90 00"),
            ("00 B2 01 04 10", &format!("{} 90 00", super::repeat(1, 16))),
        ],
    );
}

#[test]
fn failed_select_keeps_the_current_files() {
    run(
        &mut t1(),
        &[
            ("00 A4 00 0C 02 2F 00", "90 00"),
            ("00 A4 00 0C 02 FF FF", "6A 82"),
            ("00 A4 04 0C 02 D2 76", "6A 82"),
            ("00 B0 00 00 02", "00 01 90 00"),
        ],
    );
}

#[test]
fn select_rejects_unsupported_p1_p2_and_bad_lengths() {
    run(
        &mut t1(),
        &[
            ("00 A4 05 00 02 3F 00", "6A 86"),
            ("00 A4 00 08 02 3F 00", "6A 86"),
            ("00 A4 00 02 02 3F 00", "6A 86"),
            ("00 A4 00 0C 03 3F 00 00", "6A 87"),
            (
                "00 A4 04 0C 11 A0 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00",
                "6A 87",
            ),
        ],
    );
}

#[test]
fn t1_le_shorter_than_the_fcp_leaves_the_rest_for_get_response() {
    run(
        &mut t1(),
        &[
            ("00 A4 00 00 02 3F 00 04", "62 0E 82 01 61 0C"),
            (
                "00 C0 00 00 0C",
                "38 83 02 3F 00 86 02 00 00 8A 01 05 90 00",
            ),
            ("00 C0 00 00 0C", "69 85"),
        ],
    );
}
