//! Issuer keys through a real PKCS#11 token (SoftHSM2, initialised in a temporary
//! directory): the key ceremony, KCVs, the AN10922 vectors computed in the token (a signing
//! key and an encrypt-only key as `pkcs11-tool --write-object` makes them), and no key in
//! any output or trace.
//!
//! Skipped with a message when the SoftHSM2 module is not installed — except on CI
//! (`CI=true`), where a missing module fails the test (`make unit` installs it).

use std::path::PathBuf;
use std::process::Command;

use crate::{ran, script};

const PIN: &str = "4711";
const MASTER: &str = "00112233445566778899AABBCCDDEEFF";
const MASTER_3TDEA: &str = "00112233445566778899AABBCCDDEEFF0102030405060708";

/// Where Debian puts the module (the first is the `softhsm2` package's link).
const MODULES: [&str; 2] = [
    "/usr/lib/softhsm/libsofthsm2.so",
    "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so",
];

/// A SoftHSM2 token in a temporary directory.
struct Hsm {
    dir: tempfile::TempDir,
    conf: PathBuf,
    module: PathBuf,
    label: &'static str,
}

impl Hsm {
    /// A fresh token labelled `apdu-run-test`, or `None` (with a message) when SoftHSM2 is
    /// not installed and this is not CI.
    fn new() -> Option<Hsm> {
        Hsm::with_label("apdu-run-test")
    }

    /// A fresh token labelled `label` (see [`Hsm::new`]).
    fn with_label(label: &'static str) -> Option<Hsm> {
        let Some(module) = MODULES.iter().map(PathBuf::from).find(|p| p.exists()) else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "SoftHSM2 is not installed (apt-get install softhsm2; `make unit` does)"
            );
            eprintln!("skipped: SoftHSM2 is not installed (apt-get install softhsm2)");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let tokens = dir.path().join("tokens");
        std::fs::create_dir(&tokens).unwrap();
        let conf = dir.path().join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        let out = Command::new("softhsm2-util")
            .env("SOFTHSM2_CONF", &conf)
            .args(["--init-token", "--free", "--label", label])
            .args(["--pin", PIN, "--so-pin", "12345678"])
            .output()
            .expect("softhsm2-util runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Some(Hsm {
            dir,
            conf,
            module,
            label,
        })
    }

    fn uri(&self, object: &str) -> String {
        format!(
            "pkcs11:token={};object={object}?module-path={}&pin-source=env:HSM_PIN",
            self.label,
            self.module.display()
        )
    }

    fn command(&self) -> Command {
        let mut command = crate::bin();
        command
            .env("SOFTHSM2_CONF", &self.conf)
            .env("HSM_PIN", PIN)
            .env("MASTER_HOST", MASTER);
        command
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Imports `key` as two component files: `key ^ c2` and `c2`.
    fn import(&self, object: &str, key: &str, des3: bool) -> crate::Ran {
        let key = hex::decode(key).unwrap();
        let c2: Vec<u8> = (0..key.len() as u8)
            .map(|i| i.wrapping_mul(37) ^ 0x5A)
            .collect();
        let c1: Vec<u8> = key.iter().zip(&c2).map(|(a, b)| a ^ b).collect();
        let f1 = self.path(&format!("{object}.c1"));
        let f2 = self.path(&format!("{object}.c2"));
        std::fs::write(&f1, hex::encode_upper(&c1)).unwrap();
        std::fs::write(&f2, hex::encode_upper(&c2)).unwrap();
        let mut command = self.command();
        command.args(["key", "import", "--to", &self.uri(object)]);
        command
            .arg("--component-file")
            .arg(&f1)
            .arg("--component-file")
            .arg(&f2);
        if des3 {
            command.arg("--des3");
        }
        ran(command.output().unwrap())
    }

    fn run_script(&self, text: &str) -> (crate::Ran, String) {
        let file = script(self.dir.path(), "t.rhai", text);
        let trace = self.path("trace.jsonl");
        let mut command = self.command();
        command
            .args(["--sim", "iso7816", "--trace", "--trace-file"])
            .arg(&trace)
            .arg(&file);
        let r = ran(command.output().unwrap());
        (r, std::fs::read_to_string(&trace).unwrap_or_default())
    }
}

fn assert_no_key(texts: &[&str], keys: &[&str]) {
    for text in texts {
        let upper = text.to_uppercase().replace(' ', "");
        for key in keys {
            assert!(!upper.contains(key), "key {key} leaked in:\n{text}");
        }
    }
}

const DIVERSIFIED: [&str; 4] = [
    "A8DD63A3B89D54B37CA802473FDA9175",
    "16F8597C9E8910C86B9648D006107DD7",
    "2F0DD03675D3FB9A5705AB0BDA91CA0B55B8E07FCDBF10EC",
    "0BB408BAFF98B6EE9F2E1585777F6A51",
];

#[test]
fn ceremony_then_an10922_vectors_in_the_token_and_no_key_shows() {
    let Some(hsm) = Hsm::new() else { return };
    let r = hsm.import("master-aes", MASTER, false);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(
        lines[0].starts_with("component 1 KCV ") && lines[1].starts_with("component 2 KCV "),
        "{}",
        r.stdout
    );
    let kcv_line = lines[2];
    assert!(kcv_line.starts_with("key KCV "), "{}", r.stdout);
    assert!(
        r.stdout
            .contains("stored pkcs11:token=apdu-run-test;object=master-aes"),
        "{}",
        r.stdout
    );
    assert_no_key(&[&r.stdout, &r.stderr], &[MASTER]);

    // The same KCV from the token, and from the key in memory.
    let kcv = |spec: &str| ran(hsm.command().args(["key", "kcv", spec]).output().unwrap());
    let token = kcv(&hsm.uri("master-aes"));
    let host = kcv("env:MASTER_HOST");
    assert_eq!(token.code, 0, "{}", token.stderr);
    assert_eq!(token.stdout, host.stdout);
    assert_eq!(token.stdout.trim(), kcv_line.replace("key ", ""));

    // Importing under a label that exists is refused.
    let again = hsm.import("master-aes", MASTER, false);
    assert_eq!(again.code, 1);
    assert!(
        again.stderr.contains("already in the token"),
        "{}",
        again.stderr
    );

    assert_eq!(hsm.import("master-2tdea", MASTER, true).code, 0);
    assert_eq!(hsm.import("master-3tdea", MASTER_3TDEA, true).code, 0);
    assert_eq!(
        hsm.import("short-m", "F3F9377698707B688EAF84ABE39E3791", false)
            .code,
        0
    );

    let text = format!(
        r#"
let aes = secret("{aes}");
let des2 = secret("{des2}");
let des3 = secret("{des3}");
let short = secret("{short}");
let m = "04782E21801D80" + "3042F5";
let k1 = crypto::diversify_aes128(aes, m + "4E585020416275");
if k1 != unhex("{v0}") {{ throw "AES-128 vector"; }}
if crypto::diversify_2tdea(des2, m + "4E58502041") != unhex("{v1}") {{ throw "2TDEA vector"; }}
if crypto::diversify_3tdea(des3, m + "4E5850") != unhex("{v2}") {{ throw "3TDEA vector"; }}
if crypto::diversify_aes128(short, "04DEADBEEFFEED") != unhex("{v3}") {{ throw "short M vector"; }}
// Long inputs (CMAC in the token) and every length agree with the key in memory.
let host = secret("env:MASTER_HOST");
for n in 1..32 {{
    let input = crypto::random(n);
    if crypto::diversify_aes128(aes, input) != crypto::diversify_aes128(host, input) {{ throw `length ${{n}}`; }}
}}
if crypto::aes_cmac(aes, "6bc1") != crypto::aes_cmac(host, "6bc1") {{ throw "cmac"; }}
print(`key ${{k1}} in ${{aes}}`);
iso::select("3F00/0010");
iso::verify(1, "1234");
iso::update_binary(0, k1);
iso::read_binary(0, 16);
"#,
        aes = hsm.uri("master-aes"),
        des2 = hsm.uri("master-2tdea"),
        des3 = hsm.uri("master-3tdea"),
        short = hsm.uri("short-m"),
        v0 = DIVERSIFIED[0],
        v1 = DIVERSIFIED[1],
        v2 = DIVERSIFIED[2],
        v3 = DIVERSIFIED[3],
    );
    let (r, trace) = hsm.run_script(&text);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(
        r.stdout
            .contains("key (secret) in (token key pkcs11:token=apdu-run-test;object=master-aes)"),
        "{}",
        r.stdout
    );
    assert!(trace.contains("(secret)"), "{trace}");
    assert_no_key(&[&r.stdout, &r.stderr, &trace], &[MASTER, DIVERSIFIED[0]]);
}

#[test]
fn an_encrypt_only_key_from_pkcs11_tool_diversifies_too() {
    let Some(hsm) = Hsm::new() else { return };
    let raw = hsm.path("key.bin");
    std::fs::write(&raw, hex::decode(MASTER).unwrap()).unwrap();
    let out = Command::new("pkcs11-tool")
        .env("SOFTHSM2_CONF", &hsm.conf)
        .arg("--module")
        .arg(&hsm.module)
        .args(["--login", "--pin", PIN, "--write-object"])
        .arg(&raw)
        .args([
            "--type",
            "secrkey",
            "--key-type",
            "AES:16",
            "--label",
            "enc-only",
        ])
        .output();
    let Ok(out) = out else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "pkcs11-tool (opensc) is not installed"
        );
        eprintln!("skipped: pkcs11-tool (opensc) is not installed");
        return;
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = format!(
        r#"
let k = secret("{uri}");
let m = "04782E21801D803042F54E585020416275";
if crypto::diversify_aes128(k, m) != unhex("{v0}") {{ throw "vector"; }}
if crypto::diversify_aes128(k, m + "0102") != crypto::diversify_aes128(secret("env:MASTER_HOST"), m + "0102") {{ throw "long"; }}
if crypto::diversify_classic(k, m, 10) != unhex("02473FDA9175") {{ throw "classic"; }}
if hex(crypto::kcv(k)) != hex(crypto::kcv(secret("env:MASTER_HOST"))) {{ throw "kcv"; }}
"#,
        uri = hsm.uri("enc-only"),
        v0 = DIVERSIFIED[0]
    );
    let (r, trace) = hsm.run_script(&text);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert_no_key(&[&r.stdout, &r.stderr, &trace], &[MASTER, DIVERSIFIED[0]]);
}

#[test]
fn token_errors_are_one_line_and_pins_stay_out_of_uris() {
    let Some(hsm) = Hsm::new() else { return };
    let kcv = |spec: &str| ran(hsm.command().args(["key", "kcv", spec]).output().unwrap());
    let r = kcv(&format!(
        "pkcs11:object=x?module-path={}&pin-value=4711",
        hsm.module.display()
    ));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("pin-value") && !r.stderr.contains("4711"),
        "{}",
        r.stderr
    );
    let r = kcv(&hsm.uri("no-such-key"));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("no such secret key"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    let wrong_pin = ran(hsm
        .command()
        .env("HSM_PIN", "0000")
        .args(["key", "kcv", &hsm.uri("x")])
        .output()
        .unwrap());
    assert_eq!(wrong_pin.code, 1);
    assert!(
        wrong_pin.stderr.contains("login") && !wrong_pin.stderr.contains("0000"),
        "{}",
        wrong_pin.stderr
    );
}

/// Runs a batch of `count` simulated `sim` cards with `profile` (a path) and `data`, with a
/// journal, a report and traces; returns the run and every file it wrote, read.
fn diversified_batch(
    dir: &std::path::Path,
    mut command: Command,
    sim: &str,
    count: &str,
    data: &str,
    profile: &std::path::Path,
) -> (crate::Ran, Vec<String>) {
    let journal = dir.join("journal.jsonl");
    let report = dir.join("report.json");
    let traces = dir.join("traces");
    command
        .args([
            "batch",
            "--sim",
            sim,
            "--count",
            count,
            "--arm-irreversible",
        ])
        .args(["--data", data, "--journal"])
        .arg(&journal)
        .arg("--report")
        .arg(&report)
        .arg("--trace-file")
        .arg(&traces)
        .arg(profile);
    let r = ran(command.output().unwrap());
    let mut files = vec![
        std::fs::read_to_string(&journal).unwrap_or_default(),
        std::fs::read_to_string(&report).unwrap_or_default(),
    ];
    if let Ok(entries) = std::fs::read_dir(&traces) {
        for entry in entries {
            files.push(std::fs::read_to_string(entry.unwrap().path()).unwrap_or_default());
        }
    }
    (r, files)
}

/// The `card UID kcv KCV` lines a proving step prints, as (UID bytes, KCV text).
fn proven_cards(stdout: &str, what: &str) -> Vec<(Vec<u8>, String)> {
    stdout
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix("card ")?;
            let (uid, rest) = rest.split_once(' ')?;
            let kcv = rest.strip_prefix(&format!("{what} kcv "))?;
            Some((hex::decode(uid).unwrap(), kcv.trim().to_string()))
        })
        .collect()
}

/// Checks that each card's key equals the host computation, that keys differ per card and
/// that no output shows the master or a card key.
fn check_cards(
    cards: &[(Vec<u8>, String)],
    count: usize,
    key_of: &dyn Fn(&[u8]) -> Vec<u8>,
    texts: &[&str],
) -> Vec<String> {
    assert_eq!(cards.len(), count, "{texts:?}");
    let mut keys = Vec::new();
    for (uid, kcv) in cards {
        let key = key_of(uid);
        let expected = apdu_run::keys::kcv_of_bytes(&key, false).unwrap();
        assert_eq!(*kcv, hex::encode_upper(expected));
        keys.push(hex::encode_upper(&key));
    }
    let mut distinct = keys.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), keys.len(), "card keys must differ per card");
    let mut secret: Vec<&str> = keys.iter().map(String::as_str).collect();
    secret.push(MASTER);
    assert_no_key(texts, &secret);
    keys
}

#[test]
fn a_diversify_secret_is_per_card_checked_and_never_shown() {
    let dir = tempfile::tempdir().unwrap();
    let profile = |input: &str, card: &str| {
        script(
            dir.path(),
            "p.yaml",
            &format!(
                r#"name: diversified
card: {card}
vars:
  aid: "3042F5"
secrets:
  card_key: {{ diversify: {{ master: env:MASTER_HOST, method: an10922-aes128, input: "{input}" }} }}
steps:
  - apdu: FF CA 00 00 00
  - script: |
      if card_key != crypto::diversify_aes128(secret("env:MASTER_HOST"), uid + aid) {{ throw "differs"; }}
      print(`card ${{uid}} card kcv ${{hex(crypto::kcv(card_key))}}`);
      print(`key ${{card_key}}`);
  - apdu: 00 D6 00 00 10 ${{card_key}}
    expect: "6X XX|9000"
"#
            ),
        )
    };
    let path = profile("${uid} ${aid}", "ultralight");
    let mut command = crate::bin();
    command.env("MASTER_HOST", MASTER);
    let data = dir.path().join("d.csv");
    std::fs::write(&data, "n\n1\n2\n3\n").unwrap();
    let (r, files) = diversified_batch(
        dir.path(),
        command,
        "ultralight",
        "3",
        data.to_str().unwrap(),
        &path,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("key (secret)"), "{}", r.stdout);
    let master = hex::decode(MASTER).unwrap();
    let key_of = |uid: &[u8]| {
        let m = [uid, &[0x30, 0x42, 0xF5]].concat();
        apdu_run::crypto::an10922::diversify_host(
            &master,
            apdu_run::crypto::an10922::Method::Aes128,
            &m,
        )
        .unwrap()
    };
    let mut texts = vec![r.stdout.as_str(), r.stderr.as_str()];
    texts.extend(files.iter().map(String::as_str));
    check_cards(&proven_cards(&r.stdout, "card"), 3, &key_of, &texts);

    // `check`: M too long for AES-128 (7 + 25 bytes) at the input, exit 2.
    let long = "${uid} 00112233445566778899AABBCCDDEEFF001122334455667788";
    let path = profile(long, "ultralight");
    let r = ran(crate::bin().arg("check").arg(&path).output().unwrap());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("p.yaml:6:")
            && r.stderr
                .contains("1 to 31 bytes for an10922-aes128, got 32"),
        "{}",
        r.stderr
    );
    // A name a card does not have before its first step, and an unknown method.
    let path = profile("${uid} ${card_key}", "ultralight");
    let r = ran(crate::bin().arg("check").arg(&path).output().unwrap());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("`input` uses `${card_key}`"),
        "{}",
        r.stderr
    );
    // A 7-byte UID where the card kind has 4-byte UIDs (a Classic with a double-size UID):
    // refused before any command.
    let path = profile("${uid} ${aid}", "classic-1k");
    let r = ran(crate::bin()
        .env("MASTER_HOST", MASTER)
        .args(["run", "--sim", "classic-1k", "--sim-uid", "04010203040506"])
        .arg(&path)
        .output()
        .unwrap());
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("the card's UID is 7 bytes, card kind `classic-1k` has 4-byte UIDs"),
        "{}",
        r.stderr
    );
    assert!(!r.stdout.contains("FF CA"), "{}", r.stdout);
}

#[test]
fn diversified_ticket_and_wallet_batches_from_masters_in_the_token() {
    if !std::path::Path::new(MODULES[0]).exists() && std::env::var("CI").as_deref() != Ok("true") {
        eprintln!(
            "skipped: the profiles name {} (apt-get install softhsm2)",
            MODULES[0]
        );
        return;
    }
    let Some(hsm) = Hsm::with_label("apdu-run-demo") else {
        return;
    };
    assert_eq!(hsm.import("ticket-master", MASTER, false).code, 0);
    const WALLET: &str = "F0E1D2C3B4A5968778695A4B3C2D1E0F";
    assert_eq!(hsm.import("wallet-master", WALLET, false).code, 0);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("profiles");
    let an = |key: &str, m: &[u8]| {
        apdu_run::crypto::an10922::diversify_host(
            &hex::decode(key).unwrap(),
            apdu_run::crypto::an10922::Method::Aes128,
            m,
        )
        .unwrap()
    };

    // The ticket: each card's key is AN10922 AES-128 of the master over UID ‖ F4 8E E1.
    let wrapper = script(
        hsm.dir.path(),
        "ticket.yaml",
        &format!(
            r#"name: prove
card: ultralight
irreversible: [ul-lock]
on-error: reject
include: ["{}"]
steps:
  - script: |
      if ticket_key != crypto::diversify_aes128(secret("{uri}"), uid + ticket_aid) {{ throw "ticket key"; }}
      print(`card ${{uid}} ticket kcv ${{hex(crypto::kcv(ticket_key))}}`);
"#,
            root.join("ultralight_ticket_diversified.yaml").display(),
            uri = hsm.uri("ticket-master"),
        ),
    );
    let (r, files) = diversified_batch(
        hsm.dir.path(),
        hsm.command(),
        "ultralight",
        "3",
        "profiles/tickets.csv",
        &wrapper,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let mut texts = vec![r.stdout.as_str(), r.stderr.as_str()];
    texts.extend(files.iter().map(String::as_str));
    let key_of = |uid: &[u8]| an(MASTER, &[uid, &[0xF4, 0x8E, 0xE1]].concat());
    check_cards(&proven_cards(&r.stdout, "ticket"), 3, &key_of, &texts);

    // The wallet: keys A and B, 6 bytes each, UID ‖ 01 ‖ 0A and UID ‖ 01 ‖ 0B.
    let dir = tempfile::tempdir().unwrap();
    let wrapper = script(
        dir.path(),
        "wallet.yaml",
        &format!(
            r#"name: prove
card: classic-1k
include: ["{}"]
steps:
  - script: |
      let master = secret("{uri}");
      if wallet_key_a != crypto::diversify_classic(master, uid + wallet_sector + "0A") {{ throw "key A"; }}
      if wallet_key_b != crypto::diversify_classic(master, uid + wallet_sector + "0B") {{ throw "key B"; }}
      print(`card ${{uid}} wallet kcv equal`);
"#,
            root.join("classic_wallet_diversified.yaml").display(),
            uri = hsm.uri("wallet-master"),
        ),
    );
    let (r, files) = diversified_batch(
        dir.path(),
        hsm.command(),
        "classic-1k",
        "2",
        "profiles/classic_wallet.csv",
        &wrapper,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let mut texts = vec![r.stdout.as_str(), r.stderr.as_str()];
    texts.extend(files.iter().map(String::as_str));
    let key_of = |uid: &[u8]| {
        let a = &an(WALLET, &[uid, &[0x01, 0x0A]].concat())[..6];
        let b = &an(WALLET, &[uid, &[0x01, 0x0B]].concat())[..6];
        [a, &[0, 0], b, &[0, 0]].concat()
    };
    let cards = proven_cards(&r.stdout, "wallet");
    assert_eq!(cards.len(), 2, "{}", r.stdout);
    // The script proved each card's keys equal the built-in computation (it throws
    // otherwise); here they differ per card and show nowhere.
    for (uid, said) in &cards {
        assert_eq!(said, "equal");
        let a = hex::encode_upper(&key_of(uid)[..6]);
        let b = hex::encode_upper(&key_of(uid)[8..14]);
        assert_no_key(&texts, &[&a, &b, WALLET]);
    }
    assert_ne!(cards[0].0, cards[1].0, "two cards");
    assert_ne!(
        key_of(&cards[0].0),
        key_of(&cards[1].0),
        "wallet keys differ per card"
    );
}

#[test]
fn encrypted_pin_column_decrypts_per_row_and_a_bad_cell_stops_check() {
    const TRANSPORT: &str = "2B7E151628AED2A6ABF7158809CF4F3C";
    let dir = tempfile::tempdir().unwrap();
    let encrypt = |key: &str, values: &str| {
        let mut child = crate::bin()
            .env("TRANSPORT", key)
            .args(["key", "encrypt-column", "--key", "env:TRANSPORT"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(values.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let cells = encrypt(TRANSPORT, "31323334\n31323334\n");
    let cells: Vec<&str> = cells.lines().collect();
    assert_eq!(cells.len(), 2);
    assert_ne!(cells[0], cells[1], "a fresh IV per cell");
    let original = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("profiles/iso7816_perso.yaml"),
    )
    .unwrap();
    let text = original.replace(
        "secrets:\n  # The demo card's PIN `1234`, as hex. Relative paths start at this file.\n  pin: file:iso7816_perso.pin\n",
        "encrypted-columns:\n  pin: env:TRANSPORT\n",
    );
    assert_ne!(text, original);
    let profile = script(dir.path(), "perso.yaml", &text);
    let data = dir.path().join("d.csv");
    std::fs::write(
        &data,
        format!(
            "serial,holder,pin\n00000101,Ada,{}\n00000102,Alan,{}\n",
            cells[0], cells[1]
        ),
    )
    .unwrap();
    let mut command = crate::bin();
    command.env("TRANSPORT", TRANSPORT);
    let (r, files) = diversified_batch(
        dir.path(),
        command,
        "iso7816",
        "2",
        data.to_str().unwrap(),
        &profile,
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    let traces = files[2..].concat();
    assert!(traces.contains("\"0020000104(secret)\""), "{traces}");
    let mut texts = vec![r.stdout.as_str(), r.stderr.as_str()];
    texts.extend(files.iter().map(String::as_str));
    assert_no_key(&texts, &["31323334", TRANSPORT]);

    // A cell under another key: `check --data` names row and column, never the cell.
    let wrong = encrypt("000102030405060708090A0B0C0D0E0F", "31323334\n");
    let bad = wrong.trim();
    std::fs::write(
        &data,
        format!(
            "serial,holder,pin\n00000101,Ada,{}\n00000102,Alan,{bad}\n",
            cells[0]
        ),
    )
    .unwrap();
    let r = ran(crate::bin()
        .env("TRANSPORT", TRANSPORT)
        .arg("check")
        .arg("--data")
        .arg(&data)
        .arg(&profile)
        .output()
        .unwrap());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("data row 2: encrypted column `pin`: the cell does not decrypt"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains(bad), "{}", r.stderr);
    // The batch refuses it before any card, too.
    let mut command = crate::bin();
    command.env("TRANSPORT", TRANSPORT);
    let (r, _) = diversified_batch(
        dir.path(),
        command,
        "iso7816",
        "2",
        data.to_str().unwrap(),
        &profile,
    );
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("encrypted column `pin`"), "{}", r.stderr);
}

#[test]
fn a_development_key_file_is_said_loudly_and_refused_when_changed() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("master.dev");
    let spec = format!("dev:{}?passphrase=env:DEV_PASS", file.display());
    let c1 = dir.path().join("c1");
    let c2 = dir.path().join("c2");
    std::fs::write(&c1, "0123456789ABCDEF0123456789ABCDEF").unwrap();
    std::fs::write(&c2, "0132547698BADCFE8899AABBCCDDEEFF").unwrap();
    let import = || {
        ran(crate::bin()
            .env("DEV_PASS", "a long development passphrase")
            .args(["key", "import", "--to", &spec, "--component-file"])
            .arg(&c1)
            .arg("--component-file")
            .arg(&c2)
            .output()
            .unwrap())
    };
    let r = import();
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("DEVELOPMENT key file, NOT FOR PRODUCTION"),
        "{}",
        r.stderr
    );
    assert!(r.stdout.contains("key KCV 7810BB"), "{}", r.stdout);
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.starts_with("apdu-run development key file v1 (NOT FOR PRODUCTION)\n"));
    // The key (components XORed: 0011…) is not in the file or any output.
    assert_no_key(&[&text, &r.stdout, &r.stderr], &["0033113355773311889"]);
    assert_eq!(import().code, 2, "never overwritten");

    // A changed file is refused before anything is decrypted.
    let changed = text.replacen("type aes", "type des3", 1);
    std::fs::write(&file, changed).unwrap();
    let r = ran(crate::bin()
        .env("DEV_PASS", "a long development passphrase")
        .args(["key", "kcv", &spec])
        .output()
        .unwrap());
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(r.stderr.contains("MAC mismatch"), "{}", r.stderr);
    assert!(!r.stdout.contains("KCV"), "{}", r.stdout);
    // The original opens, and gives the ceremony's KCV.
    std::fs::write(&file, &text).unwrap();
    let r = ran(crate::bin()
        .env("DEV_PASS", "a long development passphrase")
        .args(["key", "kcv", &spec])
        .output()
        .unwrap());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.trim(), "KCV 7810BB");
}

/// A diversified key written to a card and read back is masked both ways in the trace.
#[test]
fn a_diversified_key_read_back_from_a_card_is_masked_in_the_response() {
    let dir = crate::batch::Dir::new();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let text = format!(
        "name: readback\ncard: iso7816\nsecrets:\n  pin: file:{}\n  k:\n    diversify: {{ master: env:M, method: an10922-aes128, input: \"${{seq}} 01\" }}\nsteps:\n  - apdu: 00 A4 00 0C 02 3F 00\n  - apdu: 00 A4 00 0C 02 00 10\n  - apdu: 00 20 00 01 04 ${{pin}}\n  - apdu: 00 D6 00 00 10 ${{k}}\n  - apdu: 00 B0 00 00 10\n",
        root.join("profiles/iso7816_perso.pin").display()
    );
    let file = dir.write("p.yaml", &text);
    let r = crate::ran(
        dir.command(&["--sim", "iso7816", "--trace-file", "t.jsonl", &file])
            .env("M", MASTER)
            .output()
            .unwrap(),
    );
    assert_eq!(r.code, 0, "{}{}", r.stdout, r.stderr);
    let trace = std::fs::read_to_string(dir.path("t.jsonl")).unwrap();
    assert!(trace.contains("\"00D6000010(secret)\""), "{trace}");
    assert!(trace.contains("\"(secret)9000\""), "{trace}");
}
