//! Reader families (issue 14): every shipped script and profile passes unchanged on each
//! simulated reader model (`--sim-reader`), the flags are validated before anything is
//! sent, and `picc::kind()` shows what was detected.

use std::path::Path;

use super::{apdu_run, bin, documented_command, ran, run_sim, shipped_scripts, with_copied_state};

const MODELS: [&str; 3] = ["omnikey-5421", "acr122u", "acr1252u"];

/// `args` with `--sim-reader MODEL` after `--sim KIND` (or after `batch`'s `--sim KIND`).
fn in_model(args: &[String], model: &str) -> Vec<String> {
    let mut out = Vec::with_capacity(args.len() + 2);
    let mut after_sim = false;
    for arg in args {
        out.push(arg.clone());
        if after_sim {
            out.extend(["--sim-reader".to_string(), model.to_string()]);
        }
        after_sim = arg == "--sim";
    }
    out
}

#[test]
fn every_shipped_script_passes_on_every_simulated_reader() {
    for model in MODELS {
        for path in shipped_scripts() {
            let dir = tempfile::tempdir().unwrap();
            let args = with_copied_state(documented_command(&path), dir.path());
            let args = in_model(&args, model);
            assert!(
                args.contains(&"--sim-reader".to_string()),
                "{}",
                path.display()
            );
            let r = ran(bin().args(&args).output().unwrap());
            assert_eq!(r.code, 0, "{} on {model}: {}", path.display(), r.stderr);
        }
    }
}

#[test]
fn every_shipped_profile_passes_on_every_simulated_reader() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("profiles");
    let mut profiles: Vec<_> = std::fs::read_dir(&root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("yaml"))
        // Profiles whose keys live in a PKCS#11 token run in `keys.rs`, with a token.
        .filter(|p| !std::fs::read_to_string(p).unwrap().contains("pkcs11:"))
        .collect();
    profiles.sort();
    assert!(profiles.len() >= 3);
    for model in MODELS {
        for profile in &profiles {
            let text = std::fs::read_to_string(profile).unwrap();
            let line = text
                .lines()
                .take_while(|l| l.starts_with('#'))
                .find_map(|l| {
                    l.trim_start_matches('#')
                        .trim()
                        .strip_prefix("apdu-run batch ")
                })
                .expect("shipped profiles document their batch command");
            let dir = tempfile::tempdir().unwrap();
            let journal = dir.path().join("journal.jsonl");
            let mut args = vec!["batch".to_string()];
            args.extend(line.split_whitespace().map(str::to_string));
            args.extend([
                "--journal".to_string(),
                journal.to_string_lossy().into_owned(),
            ]);
            let args = in_model(&args, model);
            let r = ran(bin().args(&args).output().unwrap());
            let name = profile.display();
            assert_eq!(r.code, 0, "{name} on {model}: {}\n{}", r.stdout, r.stderr);
            assert!(
                r.stdout.contains(" ok, 0 failed"),
                "{name} on {model}: {}",
                r.stdout
            );
        }
    }
}

#[test]
fn the_family_is_detected_for_each_simulated_reader() {
    for (model, kind) in [
        ("omnikey-5421", "omnikey"),
        ("acr122u", "acs-pn532"),
        ("acr1252u", "pcsc-part3"),
    ] {
        let (r, trace) = run_sim(
            "ultralight",
            "print(picc::kind());",
            &["--sim-reader", model],
        );
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert_eq!(r.stdout.trim(), kind);
        // Named readers are not probed; the default simulated reader's name says nothing.
        let probed = !trace.is_empty();
        assert_eq!(probed, model == "omnikey-5421", "{model}: {trace:?}");
    }
    let (r, trace) = run_sim(
        "ultralight",
        "print(picc::kind());",
        &["--sim-reader", "acr122u", "--reader-kind", "direct"],
    );
    assert_eq!(r.stdout.trim(), "direct");
    assert!(trace.is_empty());
}

#[test]
fn unknown_models_and_kinds_are_invalid_input() {
    let r = apdu_run(&[
        "--sim",
        "ultralight",
        "--sim-reader",
        "acr999",
        "scripts/iso7816_demo.rhai",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        r.stderr.trim(),
        "error: --sim-reader: unknown simulated reader `acr999` (valid: omnikey-5421, acr122u, acr1252u)"
    );
    let r = apdu_run(&[
        "--sim",
        "ultralight",
        "--reader-kind",
        "spring",
        "scripts/iso7816_demo.rhai",
    ]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("valid: omnikey, acs-pn532, pcsc-part3, direct"),
        "{}",
        r.stderr
    );
}

#[test]
fn reader_feedback_shows_each_verdict_without_a_note_on_every_reader() {
    for model in MODELS {
        let dir = tempfile::tempdir().unwrap();
        let journal = dir.path().join("journal.jsonl");
        let r = apdu_run(&[
            "batch",
            "--sim",
            "classic-1k",
            "--sim-reader",
            model,
            "--reader-feedback",
            "--count",
            "2",
            "--data",
            "profiles/classic_wallet.csv",
            "--journal",
            journal.to_str().unwrap(),
            "profiles/classic_wallet.yaml",
        ]);
        assert_eq!(r.code, 0, "{model}: {}", r.stderr);
        assert!(r.stdout.contains("2 ok, 0 failed"), "{model}: {}", r.stdout);
        assert!(
            !r.stderr.contains("reader feedback"),
            "{model}: {}",
            r.stderr
        );
    }
}

#[test]
fn batch_takes_the_reader_kind_instead_of_probing() {
    let wallet = |model: &str, kind: &str, dir: &std::path::Path| {
        apdu_run(&[
            "batch",
            "--sim",
            "classic-1k",
            "--sim-reader",
            model,
            "--reader-kind",
            kind,
            "--reader-feedback",
            "--count",
            "1",
            "--data",
            "profiles/classic_wallet.csv",
            "--journal",
            dir.join("journal.jsonl").to_str().unwrap(),
            "--trace-file",
            dir.join("traces").to_str().unwrap(),
            "profiles/classic_wallet.yaml",
        ])
    };
    let dir = tempfile::tempdir().unwrap();
    let r = wallet("acr122u", "acs-pn532", dir.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let traces: String = std::fs::read_dir(dir.path().join("traces"))
        .unwrap()
        .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
        .collect();
    // The values went in the family's own command (ACS `FF D7`).
    assert!(traces.contains("\"hex\":\"FFD7"), "{traces}");
    // Told the wrong family, the batch speaks its dialect, which the reader refuses: the
    // card fails (without the option the same batch passes, above).
    let dir = tempfile::tempdir().unwrap();
    let r = wallet("acr122u", "omnikey", dir.path());
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    let dir = tempfile::tempdir().unwrap();
    let r = wallet("acr122u", "spring", dir.path());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("--reader-kind"), "{}", r.stderr);
    assert!(!dir.path().join("journal.jsonl").exists());
}
