//! `check`, `run` and `batch` catch misspellings before any card: undefined variables,
//! unknown functions, names a profile step uses that nothing provides, and `--var`s that
//! nothing uses (exit 2, nothing sent).

use super::{apdu_run, documented_command, script, shipped_scripts};

/// `check FILE` and `run --sim iso7816 --trace-file … FILE` with `extra` arguments: both
/// exit 2 with `expected` on stderr, and nothing reaches the card.
fn refused_everywhere(dir: &std::path::Path, file: &str, extra: &[&str], expected: &str) {
    let trace = dir.join("trace.jsonl");
    let trace = trace.to_str().unwrap();
    let run = [
        &["run", "--sim", "iso7816", "--trace-file", trace][..],
        extra,
        &[file],
    ]
    .concat();
    let check = [&["check"][..], extra, &[file]].concat();
    for args in [check, run] {
        let r = apdu_run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr, format!("error: {expected}\n"), "{args:?}");
        assert_eq!(r.stdout, "", "{args:?}");
    }
    let sent = std::fs::read_to_string(trace).unwrap_or_default();
    assert_eq!(sent, "", "something was sent to the card");
}

#[test]
fn misspelt_variables_and_functions_in_scripts_exit_2_at_their_position() {
    let dir = tempfile::tempdir().unwrap();
    let pn = script(
        dir.path(),
        "pn.rhai",
        "let pin = if is_def_var(\"pin\") { pin } else { \"1234\" };\niso::select(\"3F00\");\niso::verify(1, pn);\n",
    );
    let pn = pn.to_str().unwrap();
    refused_everywhere(
        dir.path(),
        pn,
        &[],
        &format!("{pn}:3:16: undefined variable `pn`; did you mean `pin`? (the run provides: pin)"),
    );
    let sfi = script(
        dir.path(),
        "sfi.rhai",
        "iso::select(\"3F00\");\nlet data = iso::read_bianry_sfi(1, 0, 4);\n",
    );
    let sfi = sfi.to_str().unwrap();
    refused_everywhere(
        dir.path(),
        sfi,
        &[],
        &format!(
            "{sfi}:2:12: unknown function `iso::read_bianry_sfi`; did you mean `iso::read_binary_sfi`?"
        ),
    );
}

#[test]
fn a_var_nothing_uses_is_refused_with_the_names_the_script_reads() {
    let dir = tempfile::tempdir().unwrap();
    let file = script(
        dir.path(),
        "t.rhai",
        "let issuer = if is_def_var(\"issuer\") { issuer } else { \"A5\" };\nsend(\"00 A4 00 0C 02 3F 00\");\nprint(issuer + holder);\n",
    );
    let file = file.to_str().unwrap();
    refused_everywhere(
        dir.path(),
        file,
        &["--var", "holder=x", "--var", "isuer=01"],
        &format!("--var `isuer`: {file} does not use `isuer` (names it reads: holder, issuer)"),
    );
    // Spelt right, the same script runs.
    let r = apdu_run(&[
        "--sim",
        "iso7816",
        "--var",
        "holder=x",
        "--var",
        "issuer=01",
        file,
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout, "01x\n");
}

const PROFILE: &str = "name: t
card: iso7816
vars: { issuer: \"A5 01\" }
steps:
  - apdu: 00 A4 00 0C 02 3F 00
  - apdu: 00 D6 00 00 06 ${serial} ${issuer}
  - script: |
      if holdr == \"\" { throw \"no holder\"; }
";

#[test]
fn a_profile_script_step_using_a_missing_column_and_a_misspelt_var_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let profile = script(dir.path(), "p.yaml", PROFILE);
    let profile = profile.to_str().unwrap();
    let data = script(dir.path(), "d.csv", "serial,holder\n01020304,Ada\n");
    let data = data.to_str().unwrap();
    let journal = dir.path().join("j.jsonl");
    let journal = journal.to_str().unwrap();
    let expected = format!(
        "error: {profile}:8:10: inline script does not compile: undefined variable `holdr`; \
         did you mean `holder`? (the run provides: atr, holder, issuer, row, seq, serial, today, uid)\n"
    );
    for args in [
        vec!["check", "--data", data, profile],
        vec![
            "batch",
            "--sim",
            "iso7816",
            "--journal",
            journal,
            "--data",
            data,
            profile,
        ],
    ] {
        let r = apdu_run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(r.stderr, expected, "{args:?}");
    }
    assert!(!std::path::Path::new(journal).exists(), "a batch began");

    let fixed = script(dir.path(), "q.yaml", &PROFILE.replace("holdr", "holder"));
    let fixed = fixed.to_str().unwrap();
    let r = apdu_run(&["check", "--data", data, fixed]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    for args in [
        vec!["check", "--data", data, "--var", "isuer=0102", fixed],
        vec![
            "batch",
            "--sim",
            "iso7816",
            "--journal",
            journal,
            "--data",
            data,
            "--var",
            "isuer=0102",
            fixed,
        ],
        vec![
            "run",
            "--sim",
            "iso7816",
            "--var",
            "serial=01020304",
            "--var",
            "holder=Ada",
            "--var",
            "isuer=0102",
            fixed,
        ],
    ] {
        let r = apdu_run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        let unused = "--var `isuer`: no step of the profile uses `isuer`; did you mean `issuer`?";
        assert!(
            r.stderr.starts_with(&format!(
                "error: {fixed}:1:1: {unused} (names a --var may set: "
            )),
            "{args:?}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("issuer"), "{}", r.stderr);
    }
    assert!(!std::path::Path::new(journal).exists(), "a batch began");
}

#[test]
fn every_shipped_script_and_profile_passes_check() {
    for path in shipped_scripts() {
        let file = path.to_str().unwrap();
        let r = apdu_run(&["check", file]);
        assert_eq!(r.code, 0, "{file}: {}", r.stderr);
        // With the `--var`s of the command its header documents, too.
        let words = documented_command(&path);
        let mut args = vec!["check".to_string()];
        for pair in words.windows(2).filter(|w| w[0] == "--var") {
            args.extend(["--var".to_string(), pair[1].clone()]);
        }
        args.push(file.to_string());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let r = apdu_run(&args);
        assert_eq!(r.code, 0, "{args:?}: {}", r.stderr);
    }
    for (profile, data) in [
        ("profiles/iso7816_perso.yaml", "profiles/iso7816_perso.csv"),
        (
            "profiles/classic_wallet.yaml",
            "profiles/classic_wallet.csv",
        ),
        ("profiles/ultralight_ticket.yaml", "profiles/tickets.csv"),
    ] {
        let r = apdu_run(&["check", "--data", data, profile]);
        assert_eq!(r.code, 0, "{profile}: {}", r.stderr);
    }
}

#[test]
fn a_misspelt_placeholder_gets_the_name_it_was_meant_to_be() {
    let dir = tempfile::tempdir().unwrap();
    let profile = script(
        dir.path(),
        "p.yaml",
        "name: t\nsteps:\n  - apdu: 00 D6 00 00 04 ${serail}\n",
    );
    let profile = profile.to_str().unwrap();
    let data = script(dir.path(), "d.csv", "serial\n01020304\n");
    let r = apdu_run(&["check", "--data", data.to_str().unwrap(), profile]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        format!(
            "error: {profile}:3:26: unknown variable `serail` in `${{serail}}`; did you mean `serial`?\n"
        )
    );
}

#[test]
fn a_var_for_a_scriptor_file_is_refused() {
    for args in [
        vec!["check", "--var", "pin=1234", "scripts/iso7816_read.apdu"],
        vec![
            "--sim",
            "iso7816",
            "--var",
            "pin=1234",
            "scripts/iso7816_read.apdu",
        ],
    ] {
        let r = apdu_run(&args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert_eq!(
            r.stderr,
            "error: --var `pin`: scripts/iso7816_read.apdu is a scriptor file, which uses no variables\n"
        );
        assert_eq!(r.stdout, "");
    }
}
