//! T=0 delivery: `61xx` and GET RESPONSE for case-4 data, `6Cxx` for a wrong Le; and GET
//! CHALLENGE on both protocols.

use super::{SELECT_2F00, SELECT_APP, counting, repeat, run, t0, t1};

const FCP_MF: &str = "62 0E 82 01 38 83 02 3F 00 86 02 00 00 8A 01 05";

#[test]
fn t0_case_4_select_answers_61xx_and_get_response_returns_the_fcp() {
    run(
        &mut t0(),
        &[
            ("00 A4 00 00 02 3F 00 00", "61 10"),
            ("00 C0 00 00 10", &format!("{FCP_MF} 90 00")),
            ("00 C0 00 00 10", "69 85"),
            // Without Le (case 3) too: a T=0 card cannot tell the two apart.
            ("00 A4 00 00 02 3F 00", "61 10"),
            ("00 C0 00 00 10", &format!("{FCP_MF} 90 00")),
            ("00 A4 00 0C 02 3F 00", "90 00"),
        ],
    );
}

#[test]
fn t0_get_response_in_parts_and_with_a_wrong_le() {
    run(
        &mut t0(),
        &[
            ("00 A4 00 00 02 3F 00 00", "61 10"),
            ("00 C0 00 00 20", "6C 10"),
            ("00 C0 00 00 04", "62 0E 82 01 61 0C"),
            (
                "00 C0 00 00 0C",
                "38 83 02 3F 00 86 02 00 00 8A 01 05 90 00",
            ),
            ("00 C0 00 00 01", "69 85"),
        ],
    );
}

#[test]
fn t0_get_response_errors_and_discarded_data() {
    run(
        &mut t0(),
        &[
            ("00 A4 00 00 02 3F 00 00", "61 10"),
            ("00 C0 01 00 10", "6A 86"),
            ("00 C0 00 00 10", &format!("{FCP_MF} 90 00")),
            ("00 A4 00 00 02 3F 00 00", "61 10"),
            ("00 20 00 01", "63 C3"),
            ("00 C0 00 00 10", "69 85"),
        ],
    );
}

#[test]
fn t0_case_2_commands_with_a_wrong_le_answer_6cxx() {
    run(
        &mut t0(),
        &[
            ("00 A4 00 00 00", "6C 10"),
            ("00 A4 00 00 10", &format!("{FCP_MF} 90 00")),
            (SELECT_2F00, "90 00"),
            ("00 B0 00 00 20", "6C 10"),
            ("00 B0 00 00 00", "6C 10"),
            // Case 1 asks for no data: nothing to read (as on T=1).
            ("00 B0 00 00", "67 00"),
            ("00 B0 00 08 10", "6C 08"),
            ("00 B0 00 00 10", &format!("{} 90 00", counting(0, 16))),
            ("00 B0 00 00 08", &format!("{} 90 00", counting(0, 8))),
        ],
    );
}

#[test]
fn t0_read_binary_of_256_bytes_or_more() {
    run(
        &mut t0(),
        &[
            (SELECT_APP, "90 00"),
            ("00 B0 81 00 00", &format!("{} 90 00", counting(0, 256))),
            ("00 B0 01 00 00", "6C 2C"),
            ("00 B0 01 00 2C", &format!("{} 90 00", counting(256, 44))),
            ("00 B0 00 00 00 01 2C", "67 00"),
        ],
    );
}

#[test]
fn t0_read_record_needs_the_exact_record_length() {
    run(
        &mut t0(),
        &[
            (SELECT_APP, "90 00"),
            ("00 B2 01 14 08", "6C 10"),
            ("00 B2 01 14 00", "6C 10"),
            ("00 B2 01 14 20", "6C 10"),
            ("00 B2 01 14 10", &format!("{} 90 00", repeat(1, 16))),
        ],
    );
}

#[test]
fn get_challenge_returns_le_bytes_on_both_protocols() {
    let eight = "XX XX XX XX XX XX XX XX 90 00";
    let all = format!("{} 90 00", "XX ".repeat(256));
    run(
        &mut t1(),
        &[
            ("00 84 00 00 08", eight),
            ("00 84 00 00 00", &all),
            ("00 84 00 00 01", "XX 90 00"),
            ("00 84 00 00", "67 00"),
            ("00 84 00 00 00 01 01", "67 00"),
            ("00 84 01 00 08", "6A 86"),
            ("00 84 00 00 01 00 08", "67 00"),
        ],
    );
    run(
        &mut t0(),
        &[
            ("00 84 00 00 08", eight),
            ("00 84 00 00 00", &all),
            ("00 84 00 00", &all),
        ],
    );
}

#[test]
fn challenges_differ_between_calls_but_not_between_fresh_cards() {
    let get = [0x00, 0x84, 0x00, 0x00, 0x08];
    let (mut a, mut b) = (t1(), t1());
    let first = a.transmit(&get);
    assert_eq!(first, b.transmit(&get));
    assert_ne!(first, a.transmit(&get));
    assert_eq!(t0().transmit(&get), first);
}
