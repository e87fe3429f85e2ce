//! Every kind of invalid profile, with the exact `file:line:column: message` it produces.

use super::load_in;

/// A case: what it shows, extra files, the profile text, the exact error.
type Case = (
    &'static str,
    &'static [(&'static str, &'static str)],
    &'static str,
    &'static str,
);

#[track_caller]
fn check(cases: &[Case]) {
    let mut failures = Vec::new();
    for (what, files, text, expected) in cases {
        match load_in(files, text) {
            Ok(_) => failures.push(format!("{what}: loaded, expected `{expected}`")),
            Err(actual) if actual != *expected => failures.push(format!(
                "{what}:\n  expected `{expected}`\n  actual   `{actual}`"
            )),
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn structure_errors_are_located() {
    check(&[
        (
            "unknown top-level field",
            &[],
            "name: x\nstepz: []\n",
            "p.yaml:2:1: unknown field `stepz`, expected one of name, description, card, vars, secrets, encrypted-columns, irreversible, on-error, identify, include, steps",
        ),
        (
            "unknown field in a step",
            &[],
            "name: x\nsteps:\n  - apdu: 00 A4 04 00\n    expct: 6A82\n",
            "p.yaml:4:5: unknown field `expct`, expected one of name, apdu, script, run, expect, response, capture",
        ),
        (
            "missing name",
            &[],
            "steps: []\n",
            "p.yaml:1:1: missing field `name`",
        ),
        ("empty file", &[], "", "p.yaml:1:1: unexpected end of file"),
        (
            "duplicate key",
            &[],
            "name: x\nname: y\n",
            "p.yaml:2:1: duplicate mapping key `name` is not allowed here",
        ),
        (
            "wrong type",
            &[],
            "name: x\nsteps:\n  - apdu: [00]\n",
            "p.yaml:3:11: expected string scalar",
        ),
        (
            "no steps",
            &[],
            "name: x\n",
            "p.yaml:1:1: profile has no steps",
        ),
        (
            "step with no action",
            &[],
            "name: x\nsteps:\n  - name: nothing\n",
            "p.yaml:3:5: step has none of `apdu`, `script`, `run`",
        ),
        (
            "step with two actions",
            &[],
            "name: x\nsteps:\n  - apdu: 00 A4 04 00\n    script: foo();\n",
            "p.yaml:4:13: step has both `apdu` and `script`, give exactly one",
        ),
        (
            "expect on a script step",
            &[],
            "name: x\nsteps:\n  - script: foo();\n    expect: 9000\n",
            "p.yaml:4:13: `expect` applies only to `apdu` steps",
        ),
    ]);
}

#[test]
fn closed_vocabularies_are_checked() {
    check(&[
        (
            "bad card kind",
            &[],
            "name: x\ncard: mifare\nsteps: [{apdu: 00 A4 04 00}]\n",
            "p.yaml:2:7: unknown card kind `mifare`, expected one of `iso7816`, `classic-1k`, `classic-4k`, `ultralight`, `plus-2k`, `plus-4k`, `any`",
        ),
        (
            "bad irreversible kind",
            &[],
            "name: x\nirreversible: [ul-lock, ul-brick]\nsteps: [{apdu: 00 A4 04 00}]\n",
            "p.yaml:2:25: unknown irreversible operation kind `ul-brick`, expected one of `classic-trailer-lock`, `classic-frozen`, `ul-lock`, `ul-otp`, `mfp-commit`, `cos-key-lock`, `cos-permanent-file`",
        ),
        (
            "bad on-error",
            &[],
            "name: x\non-error: retry\nsteps: [{apdu: 00 A4 04 00}]\n",
            "p.yaml:2:11: unknown error policy `retry`, expected one of `reject`, `abort`",
        ),
        (
            "bad secret source",
            &[],
            "name: x\nsecrets:\n  key: vault:x\nsteps: [{apdu: 00 A4 04 00}]\n",
            "p.yaml:3:8: secret source `vault:x` is not `env:NAME` or `file:PATH`",
        ),
    ]);
}

#[test]
fn names_are_checked() {
    check(&[
        (
            "variable name not an identifier",
            &[],
            "name: x\nvars: {page-4: \"00\"}\nsteps: [{apdu: 00 A4 04 00}]\n",
            "p.yaml:2:8: variable name `page-4` is not an identifier (letters, digits, `_`)",
        ),
        (
            "control characters in a message are escaped, keeping it on one line",
            &[],
            "name: x\nvars: {\"a\\nb\": \"00\"}\nsteps: [{apdu: 00 A4 04 00}]\n",
            "p.yaml:2:8: variable name `a\\nb` is not an identifier (letters, digits, `_`)",
        ),
        (
            "variable named like a built-in",
            &[],
            "name: x\nvars: {row: \"00\"}\nsteps: [{apdu: 00 A4 04 00}]\n",
            "p.yaml:2:8: variable `row` clashes with the built-in `row`",
        ),
        (
            "secret named like a variable",
            &[],
            "name: x\nvars: {k: \"00\"}\nsecrets: {k: env:K}\nsteps: [{apdu: 00 A4 04 00}]\n",
            "p.yaml:3:11: secret `k` clashes with a variable",
        ),
        (
            "capture not an identifier",
            &[],
            "name: x\nsteps:\n  - apdu: FF CA 00 00 00\n    capture: 1uid\n",
            "p.yaml:4:14: capture name `1uid` is not an identifier (letters, digits, `_`)",
        ),
        (
            "capture of a batch-owned built-in",
            &[],
            "name: x\nsteps:\n  - apdu: FF CA 00 00 00\n    capture: seq\n",
            "p.yaml:4:14: capture `seq` clashes with the built-in `seq`",
        ),
        (
            "capture over a secret",
            &[],
            "name: x\nsecrets: {key: env:KEY}\nsteps:\n  - apdu: FF CA 00 00 00\n    capture: key\n",
            "p.yaml:5:14: capture `key` clashes with a secret",
        ),
    ]);
}

#[test]
fn apdu_errors_point_into_the_hex() {
    check(&[
        (
            "bad hex digit",
            &[],
            "name: x\nsteps:\n  - apdu: 00 A4 0G 00\n",
            "p.yaml:3:18: bad hex in `apdu`: `G` is not a hex digit",
        ),
        (
            "bad hex digit, quoted",
            &[],
            "name: x\nsteps:\n  - apdu: \"00 A4 0G 00\"\n",
            "p.yaml:3:19: bad hex in `apdu`: `G` is not a hex digit",
        ),
        (
            "odd number of digits",
            &[],
            "name: x\nsteps:\n  - apdu: 00 A4 0 00\n",
            "p.yaml:3:17: bad hex in `apdu`: odd number of hex digits",
        ),
        (
            "odd digits before a placeholder",
            &[],
            "name: x\nvars: {p: \"01\"}\nsteps:\n  - apdu: FF D6 00 0${p}\n",
            "p.yaml:4:20: bad hex in `apdu`: odd number of hex digits",
        ),
        (
            "Lc mismatch in a literal APDU",
            &[],
            "name: x\nsteps:\n  - apdu: 00 D6 00 00 04 01 02\n",
            "p.yaml:3:11: `apdu` is not a valid command: Lc says 4 data bytes but 2 follow the header",
        ),
        (
            "unknown variable",
            &[],
            "name: x\nsteps:\n  - apdu: FF D6 00 04 04 ${tiket}\n",
            "p.yaml:3:26: unknown variable `tiket` in `${tiket}`",
        ),
        (
            "capture used before it is defined",
            &[],
            "name: x\nsteps:\n  - apdu: FF D6 00 04 04 ${page}\n  - apdu: FF B0 00 04 04\n    capture: page\n",
            "p.yaml:3:26: `page` is used before it is captured (by the step on line 4)",
        ),
        (
            "unclosed placeholder",
            &[],
            "name: x\nsteps:\n  - apdu: FF D6 00 04 04 ${page\n",
            "p.yaml:3:26: bad placeholder in `apdu`: `${` is not closed by `}`",
        ),
        (
            "placeholder that is not a name",
            &[],
            "name: x\nsteps:\n  - apdu: FF D6 00 04 04 ${4page}\n",
            "p.yaml:3:26: bad placeholder in `apdu`: `${4page}` is not a variable name",
        ),
        (
            "variable default that is not hex",
            &[],
            "name: x\nvars: {station: \"04X2\"}\nsteps:\n  - apdu: FF D6 00 04 02 ${station}\n",
            "p.yaml:4:26: variable `station` used in `apdu` is not hex: `X` is not a hex digit",
        ),
    ]);
}

#[test]
fn pattern_errors_point_into_the_pattern() {
    check(&[
        (
            "bad expect pattern",
            &[],
            "name: x\nsteps:\n  - apdu: 00 A4 04 00\n    expect: 90G0\n",
            "p.yaml:4:15: bad `expect` pattern: `G` is not a hex digit or wildcard (X, ?)",
        ),
        (
            "bad alternative in a list",
            &[],
            "name: x\nsteps:\n  - apdu: 00 A4 04 00\n    expect: [9000, \"6282|62Z3\"]\n",
            "p.yaml:4:28: bad `expect` pattern: `Z` is not a hex digit or wildcard (X, ?)",
        ),
        (
            "empty expect list",
            &[],
            "name: x\nsteps:\n  - apdu: 00 A4 04 00\n    expect: []\n",
            "p.yaml:4:13: bad `expect` pattern: the list is empty",
        ),
        (
            "bad response mask",
            &[],
            "name: x\nsteps:\n  - apdu: FF CA 00 00 00\n    response: XX XX X\n",
            "p.yaml:4:21: bad `response` pattern: odd number of hex digits",
        ),
        (
            "bad hex after a placeholder in a response mask",
            &[],
            "name: x\nsteps:\n  - apdu: FF CA 00 00 00\n    response: ${uid} XG\n",
            "p.yaml:4:23: bad `response` pattern: `G` is not a hex digit or wildcard (XX)",
        ),
        (
            "unknown variable in a response mask",
            &[],
            "name: x\nsteps:\n  - apdu: FF CA 00 00 00\n    response: XX ${nope}\n",
            "p.yaml:4:18: unknown variable `nope` in `${nope}`",
        ),
        (
            "unclosed placeholder in a response mask",
            &[],
            "name: x\nsteps:\n  - apdu: FF CA 00 00 00\n    response: XX ${uid\n",
            "p.yaml:4:18: bad `response` pattern: `${` is not closed by `}`",
        ),
    ]);
}

#[test]
fn script_errors_are_located_in_their_file() {
    check(&[
        (
            "inline script syntax error",
            &[],
            "name: x\nsteps:\n  - script: let x = ;\n",
            "p.yaml:3:21: inline script does not compile: unexpected ';'",
        ),
        (
            "syntax error in a block script",
            &[],
            "name: x\nsteps:\n  - script: |\n      let a = 1;\n      let b = (;\n",
            "p.yaml:5:16: inline script does not compile: unexpected ';'",
        ),
        (
            "run file missing",
            &[],
            "name: x\nsteps:\n  - run: scripts/nope.rhai\n",
            "p.yaml:3:10: cannot read script `scripts/nope.rhai`: No such file or directory (os error 2)",
        ),
        (
            "run file that does not compile",
            &[("scripts/bad.rhai", "let a = 1;\nlet b = (;\n")],
            "name: x\nsteps:\n  - run: scripts/bad.rhai\n",
            "scripts/bad.rhai:2:10: script does not compile: unexpected ';'",
        ),
    ]);
}

#[test]
fn include_errors_are_located() {
    check(&[
        (
            "missing include",
            &[],
            "name: x\ninclude: [common/nope.yaml]\nsteps: [{apdu: 00 A4 04 00}]\n",
            "p.yaml:2:11: cannot read included profile `common/nope.yaml`: No such file or directory (os error 2)",
        ),
        (
            "include cycle a -> b -> a",
            &[
                ("a.yaml", "name: a\ninclude: [b.yaml]\n"),
                ("b.yaml", "name: b\ninclude: [a.yaml]\n"),
            ],
            "name: x\ninclude: [a.yaml]\nsteps: [{apdu: 00 A4 04 00}]\n",
            "b.yaml:2:11: include cycle: `a.yaml` -> `b.yaml` -> `a.yaml`",
        ),
        (
            "error inside an included file names that file",
            &[(
                "common/uid.yaml",
                "name: uid\nsteps:\n  - apdu: FF CA 00 0\n",
            )],
            "name: x\ninclude: [common/uid.yaml]\n",
            "common/uid.yaml:3:20: bad hex in `apdu`: odd number of hex digits",
        ),
        (
            "included profile for another card",
            &[("c.yaml", "name: c\ncard: classic-1k\n")],
            "name: x\ncard: ultralight\ninclude: [c.yaml]\nsteps: [{apdu: 00 A4 04 00}]\n",
            "p.yaml:3:11: included profile is for `classic-1k` cards, this profile for `ultralight` cards",
        ),
        (
            "included profile wants an irreversible kind not allowed here",
            &[("c.yaml", "name: c\nirreversible: [ul-otp]\n")],
            "name: x\nirreversible: [ul-lock]\ninclude: [c.yaml]\nsteps: [{apdu: 00 A4 04 00}]\n",
            "p.yaml:3:11: included profile lists irreversible `ul-otp`, which this profile's `irreversible` does not",
        ),
    ]);
}

#[test]
fn a_self_including_profile_file_is_a_cycle() {
    let dir = tempfile::tempdir().unwrap();
    super::write_files(
        dir.path(),
        &[
            (
                "a.yaml",
                "name: a\ninclude: [b.yaml]\nsteps: [{apdu: 00 A4 04 00}]\n",
            ),
            ("b.yaml", "name: b\ninclude: [./a.yaml]\n"),
        ],
    );
    let error = crate::profile::load(&dir.path().join("a.yaml"), &[], &[]).unwrap_err();
    assert_eq!(
        super::relative(dir.path(), &error),
        "b.yaml:2:11: include cycle: `a.yaml` -> `b.yaml` -> `a.yaml`"
    );
    assert_eq!((error.line, error.column), (2, 11));
    assert!(matches!(
        error.problem,
        crate::profile::Problem::IncludeCycle { .. }
    ));
}

#[test]
fn an_unreadable_profile_points_at_its_start() {
    let error = crate::profile::load("no/such/profile.yaml".as_ref(), &[], &[]).unwrap_err();
    assert_eq!(
        error.to_string(),
        "no/such/profile.yaml:1:1: cannot read the profile: No such file or directory (os error 2)"
    );
}

#[test]
fn identify_errors_are_located() {
    const STEPS: &str = "steps: [{apdu: 00 A4 00 0C 02 3F 00}]\n";
    let cases: Vec<(&str, String, &str)> = vec![
        (
            "bad hex",
            format!("name: x\nidentify:\n  apdu: 80 CA 9F 7G 00\n{STEPS}"),
            "p.yaml:3:19: `identify`: bad hex in `apdu`: `G` is not a hex digit",
        ),
        (
            "bad hex in a flow mapping",
            format!("name: x\nidentify: {{ apdu: 80 CA 9F 7F 0 }}\n{STEPS}"),
            "p.yaml:2:31: `identify`: bad hex in `apdu`: odd number of hex digits (9)",
        ),
        (
            "not a command",
            format!("name: x\nidentify:\n  apdu: 80 CA\n{STEPS}"),
            "p.yaml:3:9: `identify`: `apdu` is not a valid command: APDU too short: 2 bytes, a command has at least 4 (CLA INS P1 P2)",
        ),
        (
            "no Le",
            format!("name: x\nidentify:\n  apdu: 00 B0 00 00\n{STEPS}"),
            "p.yaml:3:9: `identify`: the `apdu` that gives the identity has no Le, so the card answers no data to tell it by (end it with `00`)",
        ),
        (
            "bad hex in a list",
            format!(
                "name: x\nidentify:\n  apdu:\n    - 00 A4 00 0C 02 2F E2\n    - 00 B0 00 00 0X\n{STEPS}"
            ),
            "p.yaml:5:20: `identify`: bad hex in `apdu`: `X` is not a hex digit",
        ),
        (
            "a list whose last command has no Le",
            format!("name: x\nidentify:\n  apdu: [80 CA 9F 7F 00, 00 A4 00 0C 02 2F E2]\n{STEPS}"),
            "p.yaml:3:26: `identify`: the `apdu` that gives the identity has no Le, so the card answers no data to tell it by (end it with `00`)",
        ),
        (
            "an empty list",
            format!("name: x\nidentify:\n  apdu: []\n{STEPS}"),
            "p.yaml:3:9: `identify`: `apdu` lists no command",
        ),
        (
            "bad range",
            format!("name: x\nidentify:\n  apdu: 80 CA 9F 7F 00\n  bytes: 3-x\n{STEPS}"),
            "p.yaml:4:12: `identify`: bad `bytes` `3-x`: `x` is not a decimal digit",
        ),
        (
            "backwards range",
            format!("name: x\nidentify:\n  apdu: 80 CA 9F 7F 00\n  bytes: 20-3\n{STEPS}"),
            "p.yaml:4:10: `identify`: bad `bytes` `20-3`: the range runs backwards (20 > 3); write `3-20`",
        ),
        (
            "range past Le",
            format!("name: x\nidentify:\n  apdu: 80 CA 9F 7F 08\n  bytes: 3-8\n{STEPS}"),
            "p.yaml:4:10: `identify`: `bytes` ends at byte 8, but the command's Le asks for 8 bytes (0 to 7)",
        ),
        (
            "unknown field",
            format!("name: x\nidentify:\n  apdu: 80 CA 9F 7F 00\n  byte: 3\n{STEPS}"),
            "p.yaml:4:3: unknown field `byte`, expected one of apdu, bytes",
        ),
        (
            "missing apdu",
            format!("name: x\nidentify:\n  bytes: 3\n{STEPS}"),
            "p.yaml:3:3: missing field `apdu`",
        ),
    ];
    let mut failures = Vec::new();
    for (what, text, expected) in &cases {
        match load_in(&[], text) {
            Ok(_) => failures.push(format!("{what}: loaded, expected `{expected}`")),
            Err(actual) if actual != *expected => failures.push(format!(
                "{what}:\n  expected `{expected}`\n  actual   `{actual}`"
            )),
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn diversify_errors_are_located() {
    const HEAD: &str = "name: x\ncard: ultralight\nsteps:\n  - apdu: 00 00 00 00\nsecrets:\n  k: ";
    let cases: Vec<(String, &str)> = vec![
        (
            "{ diversify: { master: env:M, method: an10922, input: \"${uid}\" } }",
            "p.yaml:6:44: unknown diversification method `an10922`, expected one of `an10922-aes128`, `an10922-2tdea`, `an10922-3tdea`, `an10922-aes128-classic6`",
        ),
        (
            "{ diversify: { master: env:M, method: an10922-aes128, input: \"${uid}\", x: 1 } }",
            "p.yaml:6:77: unknown field `x`, expected one of master, method, input",
        ),
        (
            "{ diversify: { master: nope, method: an10922-aes128, input: \"${uid}\" } }",
            "p.yaml:6:29: secret `k`: `master`: secret source `nope` is not `env:NAME` or `file:PATH`",
        ),
        (
            "{ diversify: { master: env:M, method: an10922-aes128, input: \"${uid} 0\" } }",
            "p.yaml:6:67: secret `k`: `input`: odd number of hex digits (column 8 of the value)",
        ),
        (
            "{ diversify: { master: env:M, method: an10922-aes128, input: \"3042F5\" } }",
            "p.yaml:6:67: secret `k`: `input` names no card value (`${uid}`): every card would get the same key",
        ),
        (
            "{ diversify: { master: env:M, method: an10922-aes128, input: \"${uid} ${k}\" } }",
            "p.yaml:6:67: secret `k`: `input` uses `${k}`, which is not a variable, a data column or one of `${uid}`, `${atr}`, `${seq}`, `${row}`",
        ),
        (
            "{ diversify: { master: env:M, method: an10922-aes128, input: \"${uid}\" }, y: 1 }",
            "p.yaml:6:6: a derived secret has only `diversify`, found also `y`",
        ),
    ]
    .into_iter()
    .map(|(value, expected)| (format!("{HEAD}{value}\n"), expected))
    .collect();
    let mut failures = Vec::new();
    for (text, expected) in &cases {
        match load_in(&[], text) {
            Ok(_) => failures.push(format!("loaded, expected `{expected}`")),
            Err(actual) if actual != *expected => {
                failures.push(format!("expected `{expected}`\n  actual   `{actual}`"))
            }
            Err(_) => {}
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn identify_belongs_to_the_top_profile() {
    let error = load_in(
        &[(
            "inc.yaml",
            "name: inc\nidentify: { apdu: 80 CA 9F 7F 00 }\nsteps: [{apdu: 00 A4 00 0C 02 3F 00}]\n",
        )],
        "name: x\ninclude: [inc.yaml]\nsteps: [{apdu: 00 A4 00 0C 02 3F 00}]\n",
    )
    .unwrap_err();
    assert!(
        error.starts_with("inc.yaml:2:11: `identify`: an included profile cannot say"),
        "{error}"
    );
}

#[test]
fn identify_is_read() {
    let profile = load_in(
        &[],
        "name: x\nidentify: { apdu: 80 CA 9F 7F 00, bytes: 15-18 }\nsteps: [{apdu: 00 A4 00 0C 02 3F 00}]\n",
    )
    .unwrap();
    let identify = profile.identify.unwrap();
    assert_eq!(identify.command.to_bytes(), [0x80, 0xCA, 0x9F, 0x7F, 0x00]);
    assert_eq!(identify.bytes, Some(15..=18));
    let single = load_in(
        &[],
        "name: x\nidentify: { apdu: 80 CA 9F 7F 00, bytes: 7 }\nsteps: [{apdu: 00 A4 00 0C 02 3F 00}]\n",
    )
    .unwrap();
    assert_eq!(single.identify.unwrap().bytes, Some(7..=7));
    let listed = load_in(
        &[],
        "name: x\nidentify:\n  apdu:\n    - A0 A4 00 00 02 2F E2\n    - A0 B0 00 00 0A\nsteps: [{apdu: 00 A4 00 0C 02 3F 00}]\n",
    )
    .unwrap()
    .identify
    .unwrap();
    assert_eq!(listed.before.len(), 1);
    assert_eq!(
        listed.before[0].to_bytes(),
        [0xA0, 0xA4, 0, 0, 2, 0x2F, 0xE2]
    );
    assert_eq!(listed.command.to_bytes(), [0xA0, 0xB0, 0, 0, 0x0A]);
    assert_eq!(listed.bytes, None);
}
