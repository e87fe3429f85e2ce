//! Robustness and speed: the loader never panics, and a large profile validates quickly.

use std::fmt::Write as _;
use std::path::Path;

use proptest::prelude::*;

use crate::profile::load_str;

/// A profile of `n` steps in the forms a production profile uses: templated writes with
/// expectations, reads with masks and captures, and (if `scripts`) an inline script every
/// 20th step.
fn big_profile(n: usize, scripts: bool) -> String {
    let mut text = String::from(
        "name: big\ncard: ultralight\nvars: { station: \"0042\" }\nsecrets: { key: env:KEY }\nsteps:\n",
    );
    for i in 0..n {
        let page = i % 200;
        let _ = match i % 10 {
            _ if scripts && i % 20 == 0 => writeln!(
                text,
                "  - name: check {i}\n    script: |\n      let page = {page};\n      if page > 300 {{ throw \"page\"; }}"
            ),
            0..=4 => writeln!(
                text,
                "  - name: read {i}\n    apdu: FF B0 00 {page:02X} 04\n    response: XX XX XX XX\n    capture: page_{i}"
            ),
            _ => writeln!(
                text,
                "  - name: write {i}\n    apdu: FF D6 00 {page:02X} 04 ${{station}} ${{page_{}}}\n    expect: [9000, \"63CX|6A8?\"]",
                i - i % 10 + 1
            ),
        };
    }
    text
}

#[test]
fn validates_500_steps() {
    // Correctness only: how long validation takes is measured by `make bench` (BENCHMARKS.md),
    // never asserted here, where a busy machine would make the figure meaningless.
    for with_scripts in [false, true] {
        let profile = load_str(
            "big.yaml",
            &big_profile(500, with_scripts),
            Path::new("."),
            &[],
            &[],
        )
        .expect("a 500-step profile validates");
        assert_eq!(profile.steps.len(), 500);
    }
}

/// A valid profile touching every field, for mutation.
const SEED: &str = "name: x\ncard: any\nvars: { v: \"01\" }\nsecrets: { k: env:K }\nirreversible: [ul-lock]\non-error: abort\nsteps:\n  - name: a\n    apdu: FF D6 00 04 01 ${v}\n    expect: [9000, \"63CX\"]\n    response: XX\n    capture: c\n  - script: |\n      let x = 1;\n  - apdu: 00 A4 04 00 ${c}\n";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC*") {
        let _ = load_str("p.yaml", &text, Path::new("/nonexistent"), &[], &[]);
    }

    #[test]
    fn mutated_profiles_never_panic(at in 0..SEED.len(), cut in 0..8usize, insert in "[ -~\\n\\t]{0,8}") {
        let mut text = SEED.to_string();
        let at = (0..=at).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        let end = (at + cut).min(text.len());
        text.replace_range(at..end, &insert);
        if let Err(e) = load_str("p.yaml", &text, Path::new("/nonexistent"), &[], &[]) {
            let message = e.to_string();
            prop_assert!(message.starts_with("p.yaml:"), "{}", message);
            prop_assert!(!message.contains('\n'), "{}", message);
            prop_assert!(e.line >= 1 && e.column >= 1);
        }
    }
}

#[test]
fn the_seed_profile_is_valid() {
    load_str("p.yaml", SEED, Path::new("/nonexistent"), &[], &[]).unwrap();
}

/// A profile with a `diversify:` secret, for the mutation test below.
const DIVERSIFY_SEED: &str = "name: x\ncard: ultralight\nvars: { aid: \"3042F5\" }\nsecrets:\n  k:\n    diversify: { master: env:M, method: an10922-aes128, input: \"${uid} ${aid} ${col}\" }\nsteps:\n  - apdu: FF D6 00 04 10 ${k}\n";

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn mutated_diversify_secrets_never_panic(at in 0..DIVERSIFY_SEED.len(), cut in 0..8usize, insert in "[ -~\\n\\t]{0,8}") {
        let mut text = DIVERSIFY_SEED.to_string();
        let at = (0..=at).rev().find(|&i| text.is_char_boundary(i)).unwrap_or(0);
        let end = (at + cut).min(text.len());
        text.replace_range(at..end, &insert);
        let columns = ["col".to_string()];
        match load_str("p.yaml", &text, Path::new("/nonexistent"), &[], &columns) {
            Err(e) => {
                let message = e.to_string();
                prop_assert!(message.starts_with("p.yaml:"), "{}", message);
                prop_assert!(!message.contains('\n'), "{}", message);
                prop_assert!(e.line >= 1 && e.column >= 1);
            }
            Ok(profile) => {
                let rows = vec![(1, vec![("col".to_string(), "01".to_string())])];
                let _ = crate::profile::check_lengths(&profile, None, &mut rows.into_iter());
            }
        }
    }
}

#[test]
fn the_diversify_seed_is_valid() {
    let profile = load_str(
        "p.yaml",
        DIVERSIFY_SEED,
        Path::new("/nonexistent"),
        &[],
        &["col".to_string()],
    )
    .unwrap();
    assert_eq!(profile.derived.len(), 1);
    assert_eq!(profile.derived[0].method.output_len(), 16);
}
