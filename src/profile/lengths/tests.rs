//! Lengths checked before a card: Lc mismatches, values that would become Le, over 255
//! bytes behind a short Lc; what cannot be known is left to the run.

use std::path::Path;

use super::*;
use crate::profile::load_str;

fn profile(text: &str, vars: &[(&str, &str)], columns: &[&str]) -> Profile {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(n, v)| (n.to_string(), v.to_string()))
        .collect();
    let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    load_str("p.yaml", text, Path::new("."), &vars, &columns).unwrap()
}

fn rows(values: &[&str]) -> Vec<(u64, Vec<(String, String)>)> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| (i as u64 + 1, vec![("serial".to_string(), v.to_string())]))
        .collect()
}

fn check(
    profile: &Profile,
    secrets: Option<&[(String, usize)]>,
    data: &[&str],
) -> Result<(), String> {
    check_lengths(profile, secrets, &mut rows(data).into_iter()).map_err(|e| e.to_string())
}

const WRITE: &str = "name: t\nsteps:\n  - name: write\n    apdu: 00 D6 00 00 04 ${serial}\n";

#[test]
fn a_data_value_of_the_wrong_length_is_refused_with_its_row_and_place() {
    let p = profile(WRITE, &[], &["serial"]);
    assert_eq!(check(&p, None, &["01020304", "0A0B0C0D"]), Ok(()));
    assert_eq!(
        check(&p, None, &["01020304", "010203"]),
        Err("p.yaml:4:26: data row 2: step 1: the APDU with its values is not a valid command: Lc says 4 data bytes but 3 follow the header (`${serial}` gives 3 byte(s))".to_string())
    );
    assert_eq!(
        check(&p, None, &["01020304", "0A0B0C0D", "0102030405"]),
        Err("p.yaml:4:26: data row 3: step 1: Lc says 4 data bytes, but with its values the APDU carries 5 after Lc, so the last byte of `${serial}` would be sent as Le (`${serial}` gives 5 byte(s))".to_string())
    );
}

#[test]
fn a_var_of_the_wrong_length_is_refused_without_a_row() {
    let text =
        "name: t\nvars: { serial: \"01020304\" }\nsteps:\n  - apdu: 00 D6 00 00 04 ${serial} 00\n";
    assert_eq!(check(&profile(text, &[], &[]), None, &[]), Ok(()));
    let err = check(&profile(text, &[("serial", "0102")], &[]), None, &[]).unwrap_err();
    assert!(
        err.starts_with("p.yaml:4:26: step 1: the APDU with its values is not a valid command: Lc says 4 data bytes but 3 follow"),
        "{err}"
    );
    // Data rows do not matter to a step that uses none.
    assert!(check(&profile(text, &[("serial", "0102")], &[]), None, &["01"]).is_err());
}

#[test]
fn more_than_255_bytes_need_an_extended_lc() {
    let text = "name: t\nsteps:\n  - apdu: 00 D6 00 00 FF ${serial}\n";
    let p = profile(text, &[], &["serial"]);
    let big = "AB".repeat(300);
    let err = check(&p, None, &[&big]).unwrap_err();
    assert!(
        err.contains("data row 1: step 1: the APDU with its values is not a valid command: Lc says 255 data bytes but 300 follow the header; more than 255 data bytes need an extended Lc (`00 HH LL`)"),
        "{err}"
    );
    let text = "name: t\nsteps:\n  - apdu: 00 D6 00 00 00 01 2C ${serial}\n";
    let p = profile(text, &[], &["serial"]);
    assert_eq!(check(&p, None, &[&big]), Ok(()));
}

#[test]
fn secrets_count_by_their_length_when_loaded_and_unknowns_are_left_to_the_run() {
    let text = "name: t\nsecrets: { pin: env:PIN }\nsteps:\n  - apdu: 00 20 00 01 04 ${pin}\n    capture: back\n  - apdu: 00 D6 00 00 04 ${back}\n  - apdu: 00 D6 00 00 04 ${uid}\n";
    let p = profile(text, &[], &[]);
    // `check` loads no secret: the step is left to the run.
    assert_eq!(check(&p, None, &[]), Ok(()));
    assert_eq!(check(&p, Some(&[("pin".to_string(), 4)]), &[]), Ok(()));
    let err = check(&p, Some(&[("pin".to_string(), 6)]), &[]).unwrap_err();
    assert!(
        err.starts_with("p.yaml:4:26: step 1: the APDU with its values is not a valid command: Lc says 4 data bytes but 6 follow"),
        "{err}"
    );
    // A secret in a length field is not known, whatever its length.
    let text = "name: t\nsecrets: { apdu: env:APDU }\nsteps:\n  - apdu: 00 D6 00 00 ${apdu}\n";
    let p = profile(text, &[], &[]);
    assert_eq!(check(&p, Some(&[("apdu".to_string(), 3)]), &[]), Ok(()));
}

#[test]
fn built_ins_have_their_lengths() {
    let text = "name: t\nsteps:\n  - apdu: 00 D6 00 00 08 ${seq} ${row}\n  - apdu: 00 D6 00 00 04 ${row} ${serial}\n";
    let p = profile(text, &[], &["serial"]);
    assert_eq!(check(&p, None, &["", ""]), Ok(()));
    let err = check(&p, None, &["", "01"]).unwrap_err();
    assert!(err.contains("data row 2: step 2: Lc says 4"), "{err}");
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Whatever the lengths, the check returns; what it accepts behind a literal Lc is a
    /// command whose data is exactly what Lc says, with Le only where the profile wrote it.
    #[test]
    fn accepted_lengths_make_the_command_the_profile_wrote(
        lc in 1usize..=255,
        len in 0usize..300,
        le in proptest::prelude::any::<bool>(),
    ) {
        let suffix = if le { " 00" } else { "" };
        let text = format!(
            "name: t\nsteps:\n  - apdu: 00 D6 00 00 {lc:02X} ${{serial}}{suffix}\n"
        );
        let p = profile(&text, &[], &["serial"]);
        let value = "AB".repeat(len);
        let accepted = check(&p, None, &[&value]).is_ok();
        proptest::prop_assert_eq!(accepted, len == lc || (le && len + 1 == lc));
    }
}

#[test]
fn an_empty_value_behind_a_literal_lc_is_refused_but_a_value_as_le_is_not() {
    let p = profile(
        "name: t\nsteps:\n  - apdu: 00 D6 00 00 01 ${serial}\n",
        &[],
        &["serial"],
    );
    let err = check(&p, None, &[""]).unwrap_err();
    assert!(err.contains("would be sent as Le"), "{err}");
    let p = profile(
        "name: t\nsteps:\n  - apdu: 00 B0 00 00 ${serial}\n",
        &[],
        &["serial"],
    );
    assert_eq!(check(&p, None, &["10"]), Ok(()));
}
