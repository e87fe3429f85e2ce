//! Valid profiles: what a loaded [`Profile`] holds.

use std::path::{Path, PathBuf};

use super::load_in;
use crate::apdu::StatusWord;
use crate::profile::{Action, CardKind, Irreversible, OnError, RenderError, load, load_str};
use crate::secret::SecretSource;

fn testdata(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/profile/testdata")
        .join(path)
}

#[test]
fn loads_the_full_example_profile() {
    let profile = load(&testdata("profiles/ultralight.yaml"), &[], &[]).unwrap();
    assert_eq!(profile.name, "ultralight-single-ride");
    assert_eq!(profile.card, CardKind::Ultralight);
    assert_eq!(profile.on_error, OnError::Reject);
    assert_eq!(
        profile.irreversible,
        [Irreversible::UlLock, Irreversible::UlOtp]
    );
    assert!(profile.allows(Irreversible::UlOtp) && !profile.allows(Irreversible::MfpCommit));
    // The profile's own `station` wins over the included default; `reader_slot` is added.
    let vars: Vec<(&str, &str)> = profile
        .vars
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        vars,
        [
            ("station", "0042"),
            ("ticket", "00 00 00 01"),
            ("reader_slot", "01")
        ]
    );
    assert_eq!(
        profile.secrets,
        [(
            "ticket_key".to_string(),
            SecretSource::Env("TICKET_KEY".into())
        )]
    );

    let summary: Vec<(&str, String, &str)> = profile
        .steps
        .iter()
        .map(|s| {
            let file = s.origin.file.file_name().unwrap().to_str().unwrap();
            let kind = match &s.action {
                Action::Apdu(_) => "apdu",
                Action::Script(_) => "script",
                Action::Run(_) => "run",
            };
            (s.name.as_str(), format!("{file}:{}", s.origin.line), kind)
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("FF CA 00 00 00", "uid_check.yaml:5".to_string(), "apdu"),
            ("last uid bytes", "uid_check.yaml:7".to_string(), "apdu"),
            ("read uid", "ultralight.yaml:10".to_string(), "apdu"),
            ("write page 4", "ultralight.yaml:15".to_string(), "apdu"),
            (
                "FF D6 00 05 04 ${station} ${card_uid_tail}",
                "ultralight.yaml:17".to_string(),
                "apdu"
            ),
            ("step 6", "ultralight.yaml:19".to_string(), "script"),
            ("step 7", "ultralight.yaml:20".to_string(), "run"),
        ]
    );
    let read_uid = &profile.steps[2];
    assert_eq!(read_uid.capture.as_deref(), Some("uid"));
    assert!(
        read_uid
            .response
            .as_ref()
            .and_then(|mask| mask.literal())
            .unwrap()
            .matches(&[1, 2, 3, 4, 5, 6, 7])
    );
    let write = &profile.steps[4];
    assert_eq!(write.expect.to_string(), "9000|63CX|6A8X");
    assert!(write.expect.matches(StatusWord(0x63C1)));
    match &profile.steps[6].action {
        Action::Run(script) => assert!(script.file().ends_with("scripts/ultralight_ticket.rhai")),
        other => panic!("expected a run step, got {other:?}"),
    }
}

#[test]
fn templates_render_hex_values_as_bytes() {
    let profile = load_in(
        &[],
        "name: x\nvars: {ticket: \"00 00 00 01\"}\nsteps:\n  - apdu: FF D6 00 04 04 ${ticket}\n",
    )
    .unwrap();
    let Action::Apdu(template) = &profile.steps[0].action else {
        panic!("not an apdu step");
    };
    let vars = profile.vars.clone();
    let lookup = move |name: &str| {
        let (_, value) = vars.iter().find(|(n, _)| n == name)?;
        crate::apdu::hex::parse(value).ok()
    };
    assert_eq!(
        template.render(&lookup).unwrap(),
        [0xFF, 0xD6, 0x00, 0x04, 0x04, 0x00, 0x00, 0x00, 0x01]
    );
    assert_eq!(
        template.render(&|_| None),
        Err(RenderError {
            name: "ticket".to_string()
        })
    );
    assert_eq!(template.to_string(), "FF D6 00 04 04 ${ticket}");
}

#[test]
fn cli_vars_override_and_data_columns_and_builtins_are_known() {
    let text = "name: x\nvars: {station: \"0042\"}\nsteps:\n  - apdu: FF D6 00 04 08 ${station} ${cli_var} ${col} ${uid}\n";
    let profile = load_in(&[], text).unwrap();
    let vars: Vec<(&str, &str)> = profile
        .vars
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    assert_eq!(vars, [("station", "0042"), ("cli_var", "01")]);
    let dir = tempfile::tempdir().unwrap();
    let cli = [("station".to_string(), "0043".to_string())];
    let profile = load_str(
        "p.yaml",
        "name: x\nvars: {station: \"0042\"}\nsteps: [{apdu: 00 A4 04 00}]\n",
        dir.path(),
        &cli,
        &[],
    )
    .unwrap();
    assert_eq!(profile.vars, [("station".to_string(), "0043".to_string())]);
}

#[test]
fn expect_accepts_numbers_yaml_would_retype() {
    // `6E00` is a float and `9000` an integer to YAML; the pattern is the text as written.
    let text = "name: x\nsteps:\n  - apdu: 00 A4 04 00\n    expect: 6E00\n  - apdu: 00 A4 04 00\n    expect: 9000\n  - apdu: 00 A4 04 00\n    expect: [6E00, 0042]\n";
    let profile = load_in(&[], text).unwrap();
    let expects: Vec<String> = profile.steps.iter().map(|s| s.expect.to_string()).collect();
    assert_eq!(expects, ["6E00", "9000", "6E00|0042"]);
}

#[test]
fn relative_secret_files_are_found_next_to_the_profile() {
    let dir = tempfile::tempdir().unwrap();
    let text = "name: x\nsecrets: {key: file:keys/a.hex, pin: file:/etc/pin}\nsteps: [{apdu: 00 A4 04 00}]\n";
    let profile = load_str("p.yaml", text, dir.path(), &[], &[]).unwrap();
    assert_eq!(
        profile.secrets[0].1,
        SecretSource::File(dir.path().join("keys/a.hex"))
    );
    assert_eq!(profile.secrets[1].1, SecretSource::File("/etc/pin".into()));
}

#[test]
fn the_same_include_twice_is_not_a_cycle() {
    let files = [("c.yaml", "name: c\nsteps: [{apdu: 00 A4 04 00}]\n")];
    let profile = load_in(&files, "name: x\ninclude: [c.yaml, ./c.yaml]\n").unwrap();
    assert_eq!(profile.steps.len(), 2);
}

#[test]
fn hash_is_stable_and_covers_includes_and_scripts() {
    // Pinned: FNV-1a 64 over the parsed profile (`fingerprint.rs`). A change here makes
    // every existing ledger ask for --profile-changed.
    let text = "name: x\nsteps: [{apdu: 00 A4 04 00}]\n";
    let profile = load_in(&[], text).unwrap();
    assert_eq!(profile.hash(), "09cdcd338c0a8969");

    let dir = tempfile::tempdir().unwrap();
    let main = "name: x\ninclude: [c.yaml]\nsteps: [{run: s.rhai}]\n";
    super::write_files(
        dir.path(),
        &[("p.yaml", main), ("c.yaml", "name: c\n"), ("s.rhai", "1;")],
    );
    let hash = || load(&dir.path().join("p.yaml"), &[], &[]).unwrap().hash();
    let first = hash();
    assert_eq!(
        first,
        load(&dir.path().join("./p.yaml"), &[], &[]).unwrap().hash()
    );
    super::write_files(dir.path(), &[("c.yaml", "name: c2\n")]);
    let second = hash();
    assert_ne!(first, second);
    super::write_files(dir.path(), &[("s.rhai", "2;")]);
    assert_ne!(second, hash());
}

#[test]
fn the_hash_covers_the_modules_scripts_import() {
    // An edited module is a new version of the profile, for a `run:` file and for an
    // inline script (whose imports start at the profile's directory).
    let dir = tempfile::tempdir().unwrap();
    let main = "name: x\nsteps:\n  - run: s.rhai\n  - script: |\n      import \"lib/i\" as i;\n";
    super::write_files(
        dir.path(),
        &[
            ("p.yaml", main),
            ("s.rhai", "import \"lib/r\" as r;\n"),
            ("lib/r.rhai", "import \"deep\" as d;\n"),
            ("lib/deep.rhai", "export const D = 1;\n"),
            ("lib/i.rhai", "export const I = 1;\n"),
        ],
    );
    let hash = || load(&dir.path().join("p.yaml"), &[], &[]).unwrap().hash();
    let mut seen = vec![hash()];
    for (file, text) in [
        ("lib/deep.rhai", "export const D = 2;\n"),
        ("lib/r.rhai", "import \"deep\" as d;\n// edited\n"),
        ("lib/i.rhai", "export const I = 2;\n"),
    ] {
        super::write_files(dir.path(), &[(file, text)]);
        let now = hash();
        assert!(!seen.contains(&now), "editing {file} left the hash {now}");
        seen.push(now);
    }
    // Loading again without an edit gives the same hash.
    assert_eq!(hash(), *seen.last().unwrap());
}

#[test]
fn the_hash_covers_identify_and_diversified_secrets() {
    let base = "name: x\ncard: iso7816\nsteps: [{apdu: 00 A4 04 00}]\n";
    let hash = |extra: &str| load_in(&[], &format!("{base}{extra}")).unwrap().hash();
    let variants = [
        "",
        "identify: { apdu: 80 CA 9F 7F 00 }\n",
        "identify: { apdu: 80 CA 9F 7F 00, bytes: 3-20 }\n",
        "identify: { apdu: [00 A4 00 0C 02 2F E2, 00 B0 00 00 0A] }\n",
        "secrets: { k: env:K }\n",
        "secrets: { k: { diversify: { master: env:M, method: an10922-aes128, input: \"01 ${seq}\" } } }\n",
        "secrets: { k: { diversify: { master: env:M, method: an10922-aes128, input: \"02 ${seq}\" } } }\n",
    ];
    let hashes: Vec<String> = variants.iter().map(|v| hash(v)).collect();
    for (i, a) in hashes.iter().enumerate() {
        for (j, b) in hashes.iter().enumerate().skip(i + 1) {
            assert_ne!(a, b, "`{}` and `{}` hash alike", variants[i], variants[j]);
        }
    }
    // Layout does not count.
    assert_eq!(
        hash("identify:\n  apdu: 80 CA 9F 7F 00   # CPLC\n"),
        hashes[1]
    );
}
