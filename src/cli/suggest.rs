//! "did you mean `batch`?": a misspelt subcommand caught before the `apdu-run FILE` shorthand
//! takes it for a file name.
//!
//! `apdu-run FILE.rhai` is `apdu-run run FILE.rhai`, so clap sees `apdu-run bach x.yaml` as a
//! run of a file called `bach` and complains about something else. Here the first positional
//! word is found the way clap would (skipping the values of options that take one); when it
//! is not a subcommand, not an existing path and has no extension or slash — so no script or
//! profile is ever mistaken for a typo — and is close to a subcommand's name, the command line
//! is refused (exit 2) with the suggestion. Anything else is left to clap.

use std::ffi::OsString;
use std::path::Path;

use anyhow::anyhow;
use clap::CommandFactory;

use super::exit::invalid;
use super::{Cli, Failure};

/// The refusal for a misspelt subcommand in `args` (program name first), if there is one.
pub(super) fn misspelt_subcommand(args: &[OsString]) -> Option<Failure> {
    let command = Cli::command();
    let word = first_positional(&command, args.get(1..)?)?;
    if word.contains(['.', '/', '\\']) || Path::new(word).exists() {
        return None;
    }
    let names: Vec<&str> = command
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| s.get_name())
        .collect();
    if command.find_subcommand(word).is_some() {
        return None;
    }
    let best = crate::spelling::closest(word, &names)?;
    Some(invalid(anyhow!(
        "unknown subcommand `{word}`; did you mean `{best}`? (a script or profile is named \
         with its extension, e.g. `{word}.rhai`)"
    )))
}

/// The first word of `args` that clap would take as a positional argument (or a
/// subcommand), skipping options and the values of those that take one.
fn first_positional<'a>(command: &clap::Command, args: &'a [OsString]) -> Option<&'a str> {
    let takes_value = |arg: &clap::Arg| arg.get_action().takes_values();
    let mut words = args.iter();
    while let Some(word) = words.next() {
        let word = word.to_str()?;
        if word == "--" {
            return words.next()?.to_str();
        }
        if let Some(long) = word.strip_prefix("--") {
            let value_skipped = !long.contains('=')
                && command
                    .get_arguments()
                    .any(|a| a.get_long() == Some(long) && takes_value(a));
            if value_skipped {
                words.next();
            }
        } else if let Some(shorts) = word.strip_prefix('-').filter(|s| !s.is_empty()) {
            let value_skipped = shorts.chars().count() == 1
                && command.get_arguments().any(|a| {
                    a.get_short().is_some_and(|c| shorts.starts_with(c)) && takes_value(a)
                });
            if value_skipped {
                words.next();
            }
        } else {
            return Some(word);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn refused(words: &[&str]) -> Option<String> {
        let args: Vec<OsString> = std::iter::once("apdu-run")
            .chain(words.iter().copied())
            .map(OsString::from)
            .collect();
        misspelt_subcommand(&args).map(|f| f.error.to_string())
    }

    #[test]
    fn typos_of_subcommands_are_caught_with_the_suggestion() {
        for (words, best) in [
            (&["bach", "x.yaml"][..], "batch"),
            (&["chek", "x.rhai"][..], "check"),
            (&["reader"][..], "readers"),
            (&["acess-bits", "decode", "08778F69"][..], "access-bits"),
            (&["--sim", "iso7816", "rnu", "x.rhai"][..], "run"),
            (&["--var", "A=B", "sw2", "9000"][..], "sw"),
        ] {
            let message = refused(words).unwrap_or_else(|| panic!("{words:?} not refused"));
            assert!(
                message.contains(&format!("did you mean `{best}`?")),
                "{words:?}: {message}"
            );
        }
    }

    #[test]
    fn files_subcommands_and_option_values_are_left_alone() {
        for words in [
            &["scripts/iso7816_demo.rhai"][..],
            &["bach.rhai"],
            &["batch", "x.yaml"],
            &["--sim", "batch.rhai"],
            &["--sim", "iso7816", "x.rhai"],
            &["--var=bach", "x.rhai"],
            &["--", "bach.yaml"],
            &["Makefile"],
            &["completely-unrelated-word"],
            &[],
        ] {
            assert_eq!(refused(words), None, "{words:?}");
        }
    }

    proptest! {
        #[test]
        fn any_command_line_is_judged_without_panicking(words in proptest::collection::vec(".{0,12}", 0..5)) {
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            let _ = refused(&words);
        }
    }
}
