//! The guard at the command line: the bypass classes of issue 11 through profile `apdu:`
//! steps, scriptor files and `omnikey::transceive`, on a kept simulated card whose image is
//! read afterwards (the card's state, not the guard's word).

use super::{apdu_run, script};

const OPEN: &str = "FF A0 00 07 03 01 00 01";
const ZEROS: &str = "00 00 00 00 00 00 00 00 00 00 00 00";

/// Runs `file` on a kept card of `kind`; returns the exit code, stderr and the card image.
fn on_kept(kind: &str, name: &str, text: &str, extra: &[&str]) -> (i32, String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let file = script(dir.path(), name, text);
    let state = dir.path().join("card.json");
    let mut args = vec!["--sim", kind, "--sim-state", state.to_str().unwrap()];
    args.extend_from_slice(extra);
    args.push(file.to_str().unwrap());
    let r = apdu_run(&args);
    let image = std::fs::read_to_string(&state)
        .map(|t| serde_json::from_str(&t).unwrap())
        .unwrap_or(serde_json::Value::Null);
    (r.code, r.stderr, image)
}

fn lock_and_otp(image: &serde_json::Value) -> (String, String) {
    let pages = &image["card"]["pages"];
    (
        pages[2].as_str().unwrap_or_default().to_string(),
        pages[3].as_str().unwrap_or_default().to_string(),
    )
}

#[test]
fn the_two_frame_compatibility_write_is_refused_in_a_profile() {
    let text = format!(
        "name: t\nsteps:\n  - apdu: {OPEN}\n  - apdu: FF A0 00 05 08 01 00 F3 00 00 00 A0 02 00\n    expect: XXXX\n  - apdu: FF A0 00 05 16 01 00 F3 00 00 00 00 00 FF FF {ZEROS} 00\n    expect: XXXX\n"
    );
    let (code, stderr, image) = on_kept("ultralight", "t.yaml", &text, &[]);
    assert_eq!(code, 4, "{stderr}");
    assert!(stderr.contains("--arm-irreversible"), "{stderr}");
    // The refusal names page and effect, not the data (the step's own name, its command, is
    // the output's business).
    let refusal = stderr.split("refused:").nth(1).unwrap_or_default();
    assert!(!refusal.contains("FF FF"), "the data bytes: {refusal}");
    let (lock, _) = lock_and_otp(&image);
    assert!(lock.ends_with("00 00"), "{lock}");
}

#[test]
fn other_timeout_bytes_are_refused_in_a_scriptor_file() {
    let text = format!("{OPEN}\nFF A0 00 05 0C 01 00 F3 00 12 34 A2 03 00 00 00 01 00\n");
    let (code, stderr, image) = on_kept("ultralight", "t.apdu", &text, &[]);
    assert_eq!(code, 4, "{stderr}");
    let (_, otp) = lock_and_otp(&image);
    assert_eq!(otp, "00 00 00 00");
}

#[test]
fn the_two_frame_write_through_omnikey_transceive_is_refused() {
    let text = format!(
        "omnikey::session(|| {{ omnikey::transceive(\"A0 03\"); omnikey::transceive(\"00 00 00 01 {ZEROS}\"); }});"
    );
    let (code, stderr, image) = on_kept("ultralight", "t.rhai", &text, &[]);
    assert_eq!(code, 4, "{stderr}");
    assert_eq!(lock_and_otp(&image).1, "00 00 00 00");
    // Armed, the same script writes OTP bits: the refusal above was the guard's.
    let (code, stderr, image) = on_kept("ultralight", "t.rhai", &text, &["--arm-irreversible"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(lock_and_otp(&image).1, "00 00 00 01");
}

#[test]
fn commit_perso_with_a_cid_or_nad_is_refused() {
    let keys = (0..3)
        .map(|i| {
            format!(
                "mfp::write_perso(0x90{i:02X}, \"{}\");",
                ["11"; 16].join(" ")
            )
        })
        .collect::<String>()
        .replace("0x9002", "0x9003");
    for frame in ["0A 00 AA", "06 00 AA", "0F 02 00 AA"] {
        let text = format!("{keys} omnikey::session(|| omnikey::transceive(\"{frame}\"));");
        let (code, stderr, image) = on_kept("plus-2k", "t.rhai", &text, &[]);
        assert_eq!(code, 4, "{frame}: {stderr}");
        assert_eq!(image["card"]["committed"], false, "{frame}");
    }
}
