//! Shell manners: completions, the manual, colour, JSON output and JSON errors, `sim kinds`,
//! `--version`, misspelt subcommands, `make demo`, and `sim serve` against a vpcd slot that
//! is taken or a card nobody uses (a fake vpcd: a listener in the test).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{apdu_run, bin, ran, script};

fn exe() -> &'static str {
    env!("CARGO_BIN_EXE_apdu-run")
}

fn has(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn json(text: &str) -> Value {
    serde_json::from_str(text.trim_end()).unwrap_or_else(|e| panic!("{e}: {text:?}"))
}

/// The one JSON error object on stderr, checked to be alone and to carry `code`.
fn json_error(stderr: &str, code: i32) -> String {
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let v = json(stderr);
    assert_eq!(v["exit"], code, "{stderr}");
    assert_eq!(v.as_object().unwrap().len(), 2, "{stderr}");
    v["error"].as_str().unwrap().to_owned()
}

#[test]
fn bash_loads_the_completions_and_completes_subcommands() {
    let run = |script: &str| {
        ran(Command::new("bash")
            .args(["-c", script])
            .env("APDU", exe())
            .output()
            .unwrap())
    };
    let r = run("source <(\"$APDU\" completions bash) && complete -p apdu-run");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("apdu-run"), "{}", r.stdout);
    // The function the completion names, called as bash would for `apdu-run ba<TAB>`.
    let r = run("source <(\"$APDU\" completions bash) && \
         f=$(complete -p apdu-run | sed -E 's/.*-F ([^ ]+).*/\\1/') && \
         COMP_WORDS=(apdu-run ba) COMP_CWORD=1 COMP_LINE='apdu-run ba' COMP_POINT=11 && \
         $f apdu-run ba apdu-run && echo \"${COMPREPLY[@]}\"");
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("batch"), "{}", r.stdout);
    for (shell, marker) in [
        ("zsh", "#compdef apdu-run"),
        ("fish", "complete -c apdu-run"),
    ] {
        let r = apdu_run(&["completions", shell]);
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(r.stdout.contains(marker), "{shell}: {}", r.stdout);
        assert!(r.stdout.contains("batch"), "{shell}");
    }
    let r = apdu_run(&["completions", "tcsh"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
}

#[test]
fn the_manual_is_roff_with_its_sections_and_renders() {
    let dir = tempfile::tempdir().unwrap();
    let r = apdu_run(&["man", "--dir", dir.path().to_str().unwrap()]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let page = std::fs::read_to_string(dir.path().join("apdu-run.1")).unwrap();
    assert!(page.starts_with(".ie") || page.starts_with(".TH"), "{page}");
    assert!(page.contains(".TH apdu-run 1"), "{page}");
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH DESCRIPTION",
        ".SH OPTIONS",
        ".SH SUBCOMMANDS",
        ".SH \"EXIT STATUS\"",
        ".SH ENVIRONMENT",
    ] {
        assert!(page.contains(section), "{section} missing");
    }
    for sub in [
        "run",
        "check",
        "batch",
        "readers",
        "sw",
        "sim",
        "completions",
    ] {
        assert!(
            dir.path().join(format!("apdu-run-{sub}.1")).exists(),
            "no page for {sub}"
        );
    }
    assert!(!dir.path().join("apdu-run-man.1").exists(), "man is hidden");
    // Without --dir the top page goes to stdout.
    assert_eq!(apdu_run(&["man"]).stdout, page);
    if has("man") {
        let r = ran(Command::new("man")
            .arg("-l")
            .arg(dir.path().join("apdu-run.1"))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .unwrap());
        assert_eq!(r.code, 0, "{}", r.stderr);
        for text in ["NAME", "SYNOPSIS", "EXIT STATUS", "NO_COLOR", "completions"] {
            assert!(
                r.stdout.contains(text),
                "{text} not rendered:\n{}",
                r.stdout
            );
        }
    }
}

/// `args` run under `script`, which gives the command a terminal.
fn on_terminal(args: &str, no_color: Option<&str>) -> Option<String> {
    if !has("script") {
        eprintln!("skipped: no `script` to give the command a terminal");
        return None;
    }
    let mut command = Command::new("script");
    command
        .args(["-qec", &format!("'{}' {args}", exe()), "/dev/null"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("TERM", "xterm")
        .env_remove("NO_COLOR")
        .stdin(Stdio::null());
    if let Some(value) = no_color {
        command.env("NO_COLOR", value);
    }
    Some(ran(command.output().unwrap()).stdout)
}

#[test]
fn colour_on_a_terminal_only_and_never_with_no_color() {
    let Some(coloured) = on_terminal("sw 9000 6A82", None) else {
        return;
    };
    assert!(coloured.contains("\x1b[32m9000\x1b[0m"), "{coloured:?}");
    assert!(coloured.contains("\x1b[1;31m6A82\x1b[0m"), "{coloured:?}");
    let error = on_terminal("sw 6Z82", None).unwrap();
    assert!(error.contains("\x1b[1;31merror:\x1b[0m"), "{error:?}");
    for args in ["sw 9000 6A82", "sw 6Z82", "check scripts/iso7816_demo.rhai"] {
        let plain = on_terminal(args, Some("1")).unwrap();
        assert!(!plain.contains('\x1b'), "{args}: {plain:?}");
    }
    // In pipes (as here), never.
    for args in [
        &["sw", "9000", "6A82"][..],
        &["sw", "6Z82"],
        &["check", "scripts/iso7816_demo.rhai"],
        &["access-bits", "decode", "08778F69"],
    ] {
        let r = apdu_run(args);
        assert!(
            !r.stdout.contains('\x1b') && !r.stderr.contains('\x1b'),
            "{args:?}"
        );
    }
}

#[test]
fn sw_takes_several_words_and_json() {
    let r = apdu_run(&["sw", "--context", "iso7816", "9000", "6A82"]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "9000  OK\n6A82  file or application not found\n"),
        "{}",
        r.stderr
    );
    let r = apdu_run(&["sw", "--json", "9000", "63", "C2"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stdout.lines().count(), 1, "one document");
    assert_eq!(
        json(&r.stdout),
        serde_json::json!([
            {"sw": "9000", "ok": true, "meaning": "OK", "context": "iso7816", "contexts": {
                "iso7816": "OK", "pcsc": "OK", "omnikey": "OK",
                "gsm": "normal ending of the command"}},
            {"sw": "63C2", "ok": false, "meaning": "verification failed, 2 tries left (counter 2)",
             "context": "iso7816", "contexts": {
                "iso7816": "verification failed, 2 tries left (counter 2)",
                "pcsc": "verification failed, 2 tries left (counter 2)",
                "omnikey": "verification failed, 2 tries left (counter 2)",
                "gsm": "verification failed, 2 tries left (counter 2)"}},
        ])
    );
    // A bad word anywhere: nothing printed, one JSON error.
    let r = apdu_run(&["sw", "--json", "9000", "6Z82"]);
    assert_eq!(r.stdout, "");
    let message = json_error(&r.stderr, 2);
    assert!(message.starts_with("status word `6Z82`"), "{message}");
}

#[test]
fn check_json_is_one_object_and_its_errors_too() {
    let r = apdu_run(&["check", "--json", "scripts/iso7816_demo.rhai"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        json(&r.stdout),
        serde_json::json!({"file": "scripts/iso7816_demo.rhai", "kind": "script", "ok": true,
                           "steps": null, "hash": null})
    );
    let r = apdu_run(&["check", "--json", "scripts/iso7816_read.apdu"]);
    assert_eq!(json(&r.stdout)["kind"], "scriptor");
    let r = apdu_run(&[
        "check",
        "--json",
        "--data",
        "profiles/iso7816_perso.csv",
        "profiles/iso7816_perso.yaml",
    ]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v = json(&r.stdout);
    assert_eq!(
        (&v["kind"], &v["ok"]),
        (&Value::from("profile"), &Value::from(true))
    );
    assert!(v["steps"].as_u64().unwrap() > 0);
    assert_eq!(v["hash"].as_str().unwrap().len(), 16);

    let dir = tempfile::tempdir().unwrap();
    let bad = script(dir.path(), "bad.rhai", "let x = ;\n");
    let r = apdu_run(&["check", "--json", bad.to_str().unwrap()]);
    assert_eq!((r.code, r.stdout.as_str()), (2, ""));
    let message = json_error(&r.stderr, 2);
    assert!(message.contains("bad.rhai:1:"), "{message}");
    // Without --json the same error is the usual line.
    let r = apdu_run(&["check", bad.to_str().unwrap()]);
    assert!(r.stderr.starts_with("error: "), "{}", r.stderr);
}

#[test]
fn usage_errors_and_access_bits_errors_are_json_with_json() {
    let r = apdu_run(&["sw", "--json"]);
    let message = json_error(&r.stderr, 2);
    assert!(message.contains("required"), "{message}");
    let r = apdu_run(&["access-bits", "decode", "--json", "0877"]);
    assert_eq!(r.code, 2);
    let message = json_error(&r.stderr, 2);
    assert!(message.starts_with("access bits `0877`"), "{message}");
    let r = apdu_run(&["access-bits", "decode", "--json", "08778F69"]);
    assert_eq!(json(&r.stdout)["name"], "wallet");
}

#[test]
fn readers_json_is_one_array_or_one_json_error() {
    let r = apdu_run(&["readers", "--json"]);
    if r.code == 0 {
        assert_eq!(r.stdout.lines().count(), 1, "{}", r.stdout);
        for reader in json(&r.stdout).as_array().unwrap() {
            assert!(reader["name"].is_string() && reader["state"].is_string());
        }
    } else {
        // No pcscd here: the transport failure, as JSON.
        assert_eq!((r.code, r.stdout.as_str()), (3, ""));
        json_error(&r.stderr, 3);
    }
}

#[test]
fn sim_kinds_lists_every_kind_one_line_each() {
    let kinds = [
        "iso7816",
        "iso7816-t0",
        "classic-1k",
        "classic-4k",
        "ultralight",
        "plus-2k",
        "plus-4k",
        "cos",
        "cos-t1",
    ];
    let r = apdu_run(&["sim", "kinds"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), kinds.len(), "{}", r.stdout);
    for (line, kind) in lines.iter().zip(kinds) {
        assert_eq!(line.split_whitespace().next(), Some(kind), "{line}");
        assert!(line.contains("ATR "), "{line}");
        // Every listed kind is one `--sim` takes.
        let check = apdu_run(&["--sim", kind, "--sim-uid", "zz", "x.rhai"]);
        assert!(
            !check.stderr.contains("unknown"),
            "{kind}: {}",
            check.stderr
        );
    }
    assert!(lines[2].contains("MIFARE Classic 1K") && lines[2].contains("Omnikey"));
    let r = apdu_run(&["sim", "kinds", "--json"]);
    assert_eq!(r.stdout.lines().count(), 1);
    let list = json(&r.stdout);
    let names: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kind"].as_str().unwrap())
        .collect();
    assert_eq!(names, kinds);
    assert_eq!(list[0]["protocol"], "T=1");
    assert_eq!(list[1]["protocol"], "T=0");
    assert_eq!(list[0]["uid"], Value::Null);
    assert_eq!(list[2]["uid"], "CF9E3779");
    assert_eq!(list[0]["reader_name"], "Simulated reader (iso7816)");
}

#[test]
fn version_names_the_commit() {
    let r = apdu_run(&["--version"]);
    assert_eq!(r.code, 0);
    let line = r.stdout.trim_end();
    let rest = line
        .strip_prefix(concat!("apdu-run ", env!("CARGO_PKG_VERSION"), " ("))
        .and_then(|rest| rest.strip_suffix(')'))
        .unwrap_or_else(|| panic!("{line}"));
    let head = Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned());
    match head {
        // The binary may be a commit behind a checkout that moved since it was built only
        // if cargo did not rebuild, which build.rs's watch on HEAD prevents.
        Some(head) => assert!(
            rest == head || rest == format!("{head}-dirty"),
            "{rest} vs {head}"
        ),
        None => assert!(!rest.is_empty()),
    }
}

/// build.rs itself, compiled alone and run as cargo would, outside any git checkout and in
/// a dirty one.
#[test]
fn the_build_script_falls_back_to_unknown_and_marks_dirty_trees() {
    if !has("rustc") || !has("git") {
        eprintln!("skipped: needs rustc and git");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let build = dir.path().join("build-script");
    let status = Command::new("rustc")
        .args(["--edition", "2024", "-o"])
        .arg(&build)
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("build.rs"))
        .status()
        .unwrap();
    assert!(status.success());
    let commit_in = |manifest_dir: &Path| {
        let out = Command::new(&build)
            .env("CARGO_MANIFEST_DIR", manifest_dir)
            .env_remove("APDU_RUN_COMMIT")
            .env("GIT_CEILING_DIRECTORIES", dir.path())
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .find_map(|l| l.strip_prefix("cargo:rustc-env=APDU_RUN_COMMIT="))
            .unwrap()
            .to_owned()
    };
    let plain = dir.path().join("plain");
    std::fs::create_dir(&plain).unwrap();
    assert_eq!(commit_in(&plain), "unknown");

    let repo = dir.path().join("repo");
    std::fs::create_dir(&repo).unwrap();
    let git = |args: &[&str]| {
        let ok = Command::new("git")
            .args([
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "-c",
                "commit.gpgsign=false",
            ])
            .args(args)
            .current_dir(&repo)
            .output()
            .unwrap();
        assert!(
            ok.status.success(),
            "{}",
            String::from_utf8_lossy(&ok.stderr)
        );
        String::from_utf8_lossy(&ok.stdout).trim().to_owned()
    };
    git(&["init", "-q"]);
    std::fs::write(repo.join("f"), "1").unwrap();
    git(&["add", "f"]);
    git(&["commit", "-qm", "one"]);
    let head = git(&["rev-parse", "--short", "HEAD"]);
    assert_eq!(commit_in(&repo), head);
    std::fs::write(repo.join("f"), "2").unwrap();
    assert_eq!(commit_in(&repo), format!("{head}-dirty"));
}

#[test]
fn a_misspelt_subcommand_gets_a_suggestion_and_files_still_run() {
    let r = apdu_run(&["bach", "x.yaml"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("did you mean `batch`?"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    let r = apdu_run(&["chek", "--json", "x.rhai"]);
    assert!(json_error(&r.stderr, 2).contains("did you mean `check`?"));
    // The FILE shorthand is untouched, for scripts and profiles.
    let r = apdu_run(&["--sim", "iso7816", "scripts/iso7816_demo.rhai"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let dir = tempfile::tempdir().unwrap();
    let r = ran(bin()
        .current_dir(dir.path())
        .args(["--sim", "iso7816", "bach.yaml"])
        .output()
        .unwrap());
    assert!(!r.stderr.contains("did you mean"), "{}", r.stderr);
}

#[test]
fn make_demo_shows_the_build_before_running() {
    let makefile = std::fs::read_to_string("Makefile").unwrap();
    let recipe: Vec<&str> = makefile
        .split("\ndemo:")
        .nth(1)
        .unwrap()
        .lines()
        .skip(1)
        .take_while(|l| l.starts_with('\t'))
        .collect();
    let build = recipe
        .iter()
        .position(|l| l.contains("$(CARGO) build"))
        .unwrap_or_else(|| panic!("no build step: {recipe:?}"));
    assert!(!recipe[build].contains("--quiet") && !recipe[build].contains(" -q"));
    let run = recipe
        .iter()
        .position(|l| l.contains("iso7816_demo"))
        .unwrap();
    assert!(build < run, "{recipe:?}");
    assert!(makefile.contains("\nman:"), "make man");
}

/// `sim serve` on a fake vpcd at `address`, its stderr read as it comes.
fn serve(args: &[&str]) -> std::process::Child {
    bin()
        .args(["sim", "serve", "--card", "iso7816"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

#[test]
fn serve_on_a_slot_already_served_says_so_instead_of_inserted() {
    // Listening but never accepting: what vpcd does while another card holds its slot.
    let vpcd = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = vpcd.local_addr().unwrap().to_string();
    let start = Instant::now();
    let r = ran(serve(&["--vpcd", &address]).wait_with_output().unwrap());
    assert_eq!(r.code, 3, "{}", r.stderr);
    assert!(start.elapsed() < Duration::from_secs(20));
    assert!(!r.stderr.contains("inserted"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.stderr);
    assert!(
        r.stderr.starts_with(&format!(
            "error: vpcd at `{address}` has not talked to the card"
        )),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("served already"), "{}", r.stderr);
}

#[test]
fn serve_removes_a_card_nobody_used_after_dwell_ms() {
    let vpcd = TcpListener::bind("127.0.0.1:0").unwrap();
    let address = vpcd.local_addr().unwrap().to_string();
    let mut child = serve(&["--vpcd", &address, "--count", "1", "--dwell-ms", "300"]);
    let (mut peer, _) = vpcd.accept().unwrap();
    peer.set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    // pcscd's poll: GET ATR, answered; then nothing uses the card.
    peer.write_all(&[0x00, 0x01, 0x04]).unwrap();
    let mut len = [0; 2];
    peer.read_exact(&mut len).unwrap();
    let mut atr = vec![0; usize::from(u16::from_be_bytes(len))];
    peer.read_exact(&mut atr).unwrap();
    let start = Instant::now();
    assert_eq!(peer.read(&mut [0; 1]).unwrap(), 0, "the card was removed");
    assert!(start.elapsed() < Duration::from_secs(5));
    let status = child.wait().unwrap();
    assert!(status.success(), "{status}");
    let lines: Vec<String> = BufReader::new(child.stderr.take().unwrap())
        .lines()
        .map(Result::unwrap)
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].starts_with("card 1: inserted"), "{lines:?}");
    assert_eq!(
        lines[1],
        "card 1: removed unused, no command within --dwell-ms 300"
    );
}
