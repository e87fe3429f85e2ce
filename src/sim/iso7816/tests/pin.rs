//! VERIFY, CHANGE REFERENCE DATA and RESET RETRY COUNTER, with their counters.

use super::{SELECT_0010, VERIFY_PIN, VERIFY_WRONG, run, t1};

/// VERIFY PUK `02` with `12345678`.
const VERIFY_PUK: &str = "00 20 00 02 08 31 32 33 34 35 36 37 38";
/// RESET RETRY COUNTER of PIN `01` with the PUK only.
const UNBLOCK: &str = "00 2C 01 01 08 31 32 33 34 35 36 37 38";

#[test]
fn verify_counts_down_to_blocked() {
    run(
        &mut t1(),
        &[
            ("00 20 00 01", "63 C3"),
            (VERIFY_WRONG, "63 C2"),
            (VERIFY_WRONG, "63 C1"),
            ("00 20 00 01", "63 C1"),
            (VERIFY_WRONG, "63 C0"),
            (VERIFY_WRONG, "69 83"),
            (VERIFY_PIN, "69 83"),
            ("00 20 00 01", "69 83"),
        ],
    );
}

#[test]
fn correct_verify_refills_the_counter_and_is_reported_by_empty_verify() {
    run(
        &mut t1(),
        &[
            (VERIFY_WRONG, "63 C2"),
            (VERIFY_PIN, "90 00"),
            ("00 20 00 01", "90 00"),
            (VERIFY_WRONG, "63 C2"),
            ("00 20 00 01", "63 C2"),
            (VERIFY_PIN, "90 00"),
            ("00 20 FF 01", "90 00"),
            ("00 20 00 01", "63 C3"),
        ],
    );
}

#[test]
fn a_wrong_verify_withdraws_the_access_it_gave() {
    run(
        &mut t1(),
        &[
            (SELECT_0010, "90 00"),
            (VERIFY_PIN, "90 00"),
            ("00 D6 00 00 01 01", "90 00"),
            ("00 20 00 01 03 31 32 33", "63 C2"),
            ("00 D6 00 00 01 01", "69 82"),
        ],
    );
}

#[test]
fn verify_rejects_unknown_references_and_parameters() {
    run(
        &mut t1(),
        &[
            ("00 20 00 03 04 31 32 33 34", "6A 88"),
            ("00 20 00 00", "6A 88"),
            ("00 20 01 01 04 31 32 33 34", "6A 86"),
            ("00 20 FF 01 04 31 32 33 34", "6A 86"),
            (&format!("00 20 00 01 11 {}", "31 ".repeat(17)), "67 00"),
            ("00 20 00 02", "63 CA"),
            (VERIFY_PUK, "90 00"),
        ],
    );
}

#[test]
fn change_reference_data_takes_old_then_new() {
    run(
        &mut t1(),
        &[
            ("00 24 00 01 09 31 32 33 34 39 38 37 36 35", "90 00"),
            (VERIFY_PIN, "63 C2"),
            ("00 20 00 01 05 39 38 37 36 35", "90 00"),
            // The old value is as long as the stored one: five bytes now.
            ("00 24 00 01 09 39 38 37 36 35 31 32 33 34", "90 00"),
            (VERIFY_PIN, "90 00"),
        ],
    );
}

#[test]
fn change_reference_data_errors() {
    run(
        &mut t1(),
        &[
            ("00 24 00 01 08 30 30 30 30 35 35 35 35", "63 C2"),
            ("00 24 00 01 04 31 32 33 34", "67 00"),
            ("00 24 00 01", "67 00"),
            ("00 24 01 01 04 35 35 35 35", "69 82"),
            ("00 24 02 01 04 35 35 35 35", "6A 86"),
            ("00 24 00 05 08 31 32 33 34 35 35 35 35", "6A 88"),
            (VERIFY_PIN, "90 00"),
            ("00 24 01 01 04 35 35 35 35", "90 00"),
            ("00 20 00 01 04 35 35 35 35", "90 00"),
            (VERIFY_WRONG, "63 C2"),
            (VERIFY_WRONG, "63 C1"),
            (VERIFY_WRONG, "63 C0"),
            ("00 24 00 01 08 35 35 35 35 31 31 31 31", "69 83"),
        ],
    );
}

#[test]
fn reset_retry_counter_with_the_puk_unblocks_the_pin() {
    run(
        &mut t1(),
        &[
            (VERIFY_WRONG, "63 C2"),
            (VERIFY_WRONG, "63 C1"),
            (VERIFY_WRONG, "63 C0"),
            (VERIFY_PIN, "69 83"),
            (UNBLOCK, "90 00"),
            ("00 20 00 01", "63 C3"),
            (VERIFY_PIN, "90 00"),
        ],
    );
}

#[test]
fn reset_retry_counter_can_set_a_new_pin() {
    run(
        &mut t1(),
        &[
            (VERIFY_PIN, "90 00"),
            (
                "00 2C 00 01 0C 31 32 33 34 35 36 37 38 34 33 32 31",
                "90 00",
            ),
            // The PIN changed, so it is no longer verified.
            ("00 20 00 01", "63 C3"),
            (VERIFY_PIN, "63 C2"),
            ("00 20 00 01 04 34 33 32 31", "90 00"),
        ],
    );
}

#[test]
fn wrong_puks_count_down_and_block_the_puk() {
    let wrong = "00 2C 01 01 08 30 30 30 30 30 30 30 30";
    let mut steps = vec![];
    let answers: Vec<String> = (0..10).rev().map(|left| format!("63 C{left:X}")).collect();
    for answer in &answers {
        steps.push((wrong, answer.as_str()));
    }
    steps.extend([
        (UNBLOCK, "69 83"),
        ("00 20 00 02", "69 83"),
        (VERIFY_PUK, "69 83"),
    ]);
    run(&mut t1(), &steps);
}

#[test]
fn reset_retry_counter_errors() {
    run(
        &mut t1(),
        &[
            ("00 2C 02 01", "6A 86"),
            ("00 2C 03 01", "6A 86"),
            ("00 2C 01 02 08 31 32 33 34 35 36 37 38", "6A 88"),
            ("00 2C 00 01 08 31 32 33 34 35 36 37 38", "67 00"),
            ("00 2C 01 01", "67 00"),
            ("00 20 00 02", "63 CA"),
        ],
    );
}

#[test]
fn reset_forgets_verification_but_keeps_counters() {
    let mut card = t1();
    run(
        &mut card,
        &[
            (SELECT_0010, "90 00"),
            (VERIFY_PIN, "90 00"),
            (VERIFY_WRONG, "63 C2"),
        ],
    );
    run(&mut card, &[(VERIFY_PIN, "90 00")]);
    card.reset();
    run(
        &mut card,
        &[
            ("00 D6 00 00 01 01", "69 86"),
            (SELECT_0010, "90 00"),
            ("00 D6 00 00 01 01", "69 82"),
            (VERIFY_WRONG, "63 C2"),
        ],
    );
    card.reset();
    run(&mut card, &[("00 20 00 01", "63 C2")]);
}
