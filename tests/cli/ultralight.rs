//! MIFARE Ultralight on the simulator: every chip rule through the PC/SC Part 3 commands and
//! through the Omnikey generic session, the compatibility-write quirk, the guard, and the
//! single-ride ticket flow end to end.

use super::{apdu_run, run_sim};

/// Runs checks written as `check(apdu, expected_response_hex)` lines on a fresh card.
fn checks(body: &str, extra: &[&str]) -> super::Ran {
    let prelude = r#"
        fn sw4(sw) {
            let t = sw.to_hex();
            while t.len() < 4 { t = "0" + t; }
            t.to_upper()
        }
        fn check(apdu, expected) {
            let r = send(apdu);
            let got = hex(r.data) + sw4(r.sw);
            let want = hex(unhex(expected));
            if got != want { throw `${apdu}: got ${got}, expected ${want}`; }
        }
        // The generic session: open, one transceive of `frame`, close; the full answer.
        fn gs(frame) {
            send("FF A0 00 07 03 01 00 01", "9000");
            let f = unhex(frame);
            let lc = 6 + f.len();
            let cmd = unhex("FFA00005");
            cmd.push(lc);
            cmd += unhex("0100F3000064");
            cmd += f;
            cmd.push(0);
            let r = send(cmd);
            send("FF A0 00 07 03 01 00 02", "9000");
            hex(r.data) + sw4(r.sw)
        }
    "#;
    let (r, _) = run_sim("ultralight", &format!("{prelude}\n{body}"), extra);
    r
}

#[test]
fn part3_commands_follow_the_chip_rules() {
    let r = checks(
        r#"
        // ATR card name 0003, UID 7 bytes.
        if hex(atr()) != "3B8F8001804F0CA0000003060300030000000068" { throw hex(atr()); }
        let uid = uid();
        if uid.len() != 7 { throw "uid"; }
        // Pages 0-1 are read-only; page 4 takes one page; Lc other than 4 is a wrong length.
        check("FF D6 00 00 04 00 00 00 00", "6982");
        check("FF D6 00 01 04 00 00 00 00", "6982");
        check("FF D6 00 04 04 DE AD BE EF", "9000");
        check("FF B0 00 04 04", "DEADBEEF 9000");
        check("FF D6 00 05 10 00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F", "6700");
        check("FF D6 00 10 04 00 00 00 00", "6581");
        // READ of 4 pages wraps around after page 15.
        check("FF D6 00 0F 04 0F 0F 0F 0F", "9000");
        let r = send("FF B0 00 0E 10", "9000");
        if hex(r.data.extract(4, 4)) != "0F0F0F0F" || r.data.extract(8, 8) != send("FF B0 00 00 10").data.extract(0, 8) { throw "wrap"; }
        // OTP ORs bits in; lock bits OR in and then protect their pages.
        check("FF D6 00 03 04 01 00 00 00", "9000");
        check("FF D6 00 03 04 02 00 00 00", "9000");
        check("FF B0 00 03 04", "03000000 9000");
        check("FF D6 00 02 04 00 00 20 00", "9000");
        check("FF D6 00 05 04 01 02 03 04", "6982");
        check("FF D6 00 02 04 00 00 00 00", "9000");
        let lock = send("FF B0 00 02 04", "9000").data;
        if lock[2] != 0x20 { throw "lock bits were cleared"; }
        // Block-lock bit BL 9-4 (bit 1) freezes lock bits 4-9: page 6 cannot be locked after it.
        check("FF D6 00 02 04 00 00 02 00", "9000");
        check("FF D6 00 02 04 00 00 40 00", "9000");
        if send("FF B0 00 02 04").data[2] != 0x22 { throw "frozen lock bit changed"; }
        check("FF D6 00 06 04 06 06 06 06", "9000");
        print("ok");
        "#,
        &["--arm-irreversible"],
    );
    assert_eq!((r.code, r.stdout.as_str()), (0, "ok\n"), "{}", r.stderr);
}

#[test]
fn generic_session_frames_reach_the_chip() {
    let r = checks(
        r#"
        // WRITE (A2) answers ACK 0A; READ (30) returns 16 bytes.
        if gs("A2 04 11 22 33 44") != "00000A9000" { throw "A2"; }
        let read = gs("30 04");
        if read.sub_string(0, 12) != "000011223344" || read.len() != 4 + 32 + 4 { throw read; }
        // COMPATIBILITY WRITE (A0) takes 16 bytes and keeps the first 4: the quirk.
        if gs("A0 05 AA BB CC DD 01 02 03 04 05 06 07 08 09 0A 0B 0C") != "00000A9000" { throw "A0"; }
        check("FF B0 00 05 04", "AABBCCDD 9000");
        check("FF B0 00 06 04", "00000000 9000");
        // A NAK for the read-only pages.
        if gs("A2 00 00 00 00 00") != "0000009000" { throw "nak " + gs("A2 00 00 00 00 00"); }
        // Without Le the reader answers a bare 9000 and nothing reaches the chip.
        send("FF A0 00 07 03 01 00 01", "9000");
        let bare = send("FF A0 00 05 0C 01 00 F3 00 00 64 A2 07 01 02 03 04", "9000");
        if bare.data.len() != 0 { throw "bare"; }
        send("FF A0 00 07 03 01 00 02", "9000");
        check("FF B0 00 07 04", "00000000 9000");
        // A frame the chip does not answer: 64 00.
        if gs("50 00") != "6400" { throw "halt " + gs("50 00"); }
        print("ok");
        "#,
        &[],
    );
    assert_eq!((r.code, r.stdout.as_str()), (0, "ok\n"), "{}", r.stderr);
}

#[test]
fn the_guard_refuses_lock_and_otp_writes_unless_armed() {
    let cases = [
        "send(\"FF D6 00 02 04 00 00 F0 00\");",
        "send(\"FF D6 00 03 04 00 00 00 01\");",
        "send(\"FF A0 00 05 0C 01 00 F3 00 00 64 A2 03 00 00 00 01 00\");",
        "ul::lock([4, 5]);",
        "ul::otp(\"00 00 00 01\");",
    ];
    for text in cases {
        let (r, trace) = run_sim("ultralight", text, &[]);
        assert_eq!(r.code, 4, "{text}: {}", r.stderr);
        assert!(
            r.stderr.contains("--arm-irreversible"),
            "{text}: {}",
            r.stderr
        );
        assert!(
            trace
                .iter()
                .all(|l| !l["hex"].as_str().unwrap().starts_with("FFD60002")),
            "{text}"
        );
        let (r, _) = run_sim("ultralight", text, &["--arm-irreversible"]);
        assert_eq!(r.code, 0, "{text}: {}", r.stderr);
    }
}

#[test]
fn ticket_issue_validate_and_refusals_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("card.json");
    let state = state.to_str().unwrap();
    let key = "--var=key_source=file:scripts/ultralight_demo.key";
    // Both scripts date by the clock (UTC): the ticket is ridden on its issue day, or the
    // next should midnight fall in between; valid for 7 days either way.
    let issue = |armed: bool| {
        let mut args = vec![
            "--sim",
            "ultralight",
            "--sim-state",
            state,
            key,
            "--var",
            "ticket=1001",
            "--var",
            "station=42",
        ];
        args.extend(["--var", "fare=250", "--var", "valid_days=7"]);
        if armed {
            args.push("--arm-irreversible");
        }
        args.push("scripts/ultralight_ticket.rhai");
        apdu_run(&args)
    };
    let validate = || {
        apdu_run(&[
            "--sim",
            "ultralight",
            "--sim-state",
            state,
            key,
            "--arm-irreversible",
            "scripts/ultralight_validate.rhai",
        ])
    };
    // Unarmed: exit 4 and the card untouched (still blank).
    let r = issue(false);
    assert_eq!(r.code, 4, "{}", r.stderr);
    let blank = std::fs::read_to_string(state).unwrap();
    assert!(blank.contains("00 00 00 00"));
    let r = issue(true);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let issued = std::fs::read_to_string(state).unwrap();
    let r = validate();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("ride marked"), "{}", r.stdout);
    let r = validate();
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("already used"), "{}", r.stderr);
    // A forged ticket: the fare changed on an issued, unridden card.
    let image: serde_json::Value = serde_json::from_str(&issued).unwrap();
    let mut forged = image.clone();
    let pages = forged
        .pointer_mut("/card/pages")
        .unwrap()
        .as_array_mut()
        .unwrap();
    let page6 = pages[6].as_str().unwrap().to_string();
    let changed = format!(
        "{}{}",
        &page6[..page6.len() - 1],
        if page6.ends_with('0') { '1' } else { '0' }
    );
    pages[6] = serde_json::Value::String(changed);
    std::fs::write(state, serde_json::to_string(&forged).unwrap()).unwrap();
    let r = validate();
    assert_eq!(r.code, 1);
    assert!(r.stderr.to_lowercase().contains("mac"), "{}", r.stderr);
}
