//! The profile's version fingerprint: what a profile file says, not how it is written.
//!
//! A parsed [`Document`] is fed to the hash field by field, each value as the text it was
//! written with (a scalar `0100` stays `0100`, not the number 100) and with its field's
//! name, so comments, quoting style, indentation, flow or block layout and blank lines do
//! not count, while every value that changes what is sent to a card does. `description:`
//! is left out: it documents, it does not act. Field order within a mapping is the
//! model's, so reordering `name:` and `steps:` does not count either; the order of
//! `vars:`, `secrets:`, `irreversible:`, `include:` and steps does. A `run:` file's text is
//! hashed by the caller, as it is read.

use super::hash::Fnv1a;
use super::identify::Commands;
use super::model::{Document, Entries, Expect, Located, SecretEntries, SecretModel};

/// Feeds the document's meaning to `hash`.
pub(super) fn feed(hash: &mut Fnv1a, document: &Document) {
    hash.write_text("profile/2");
    field(hash, "name", Some(&document.name));
    field(hash, "card", document.card.as_ref());
    entries(hash, "vars", &document.vars);
    secrets(hash, &document.secrets);
    entries(hash, "encrypted-columns", &document.encrypted_columns);
    list(hash, "irreversible", &document.irreversible);
    field(hash, "on-error", document.on_error.as_ref());
    // How cards are told apart is part of what a version does.
    hash.write_text("identify");
    match &document.identify {
        None => hash.write(&[0]),
        Some(identify) => {
            hash.write(&[1]);
            match &identify.value.apdu.value {
                Commands::One(text) => {
                    hash.write_text("one");
                    hash.write_text(text);
                }
                Commands::List(items) => list(hash, "list", items),
            }
            match &identify.value.bytes {
                None => hash.write(&[0]),
                Some(bytes) => {
                    hash.write(&[1]);
                    hash.write_text(&bytes.value.0);
                }
            }
        }
    }
    list(hash, "include", &document.include);
    hash.write_text("steps");
    hash.write(&(document.steps.len() as u64).to_le_bytes());
    for step in &document.steps {
        let s = &step.value;
        field(hash, "name", s.name.as_ref());
        field(hash, "apdu", s.apdu.as_ref());
        field(hash, "script", s.script.as_ref());
        field(hash, "run", s.run.as_ref());
        match s.expect.as_ref().map(|e| &e.value) {
            None => hash.write_text("expect:none"),
            Some(Expect::One(text)) => {
                hash.write_text("expect:one");
                hash.write_text(text);
            }
            Some(Expect::Typed(text)) => {
                // A plain scalar and the same text quoted mean the same pattern.
                hash.write_text("expect:one");
                hash.write_text(text);
            }
            Some(Expect::List(items)) => list(hash, "expect:list", items),
        }
        field(hash, "response", s.response.as_ref());
        field(hash, "capture", s.capture.as_ref());
    }
}

fn field(hash: &mut Fnv1a, name: &str, value: Option<&Located<String>>) {
    hash.write_text(name);
    match value {
        Some(at) => {
            hash.write(&[1]);
            hash.write_text(&at.value);
        }
        None => hash.write(&[0]),
    }
}

fn list(hash: &mut Fnv1a, name: &str, items: &[Located<String>]) {
    hash.write_text(name);
    hash.write(&(items.len() as u64).to_le_bytes());
    for item in items {
        hash.write_text(&item.value);
    }
}

fn secrets(hash: &mut Fnv1a, secrets: &SecretEntries) {
    hash.write_text("secrets");
    hash.write(&(secrets.0.len() as u64).to_le_bytes());
    for (key, value) in &secrets.0 {
        hash.write_text(&key.value);
        match &value.value {
            SecretModel::Spec(spec) => {
                hash.write_text("spec");
                hash.write_text(spec);
            }
            SecretModel::Diversify(d) => {
                hash.write_text("diversify");
                hash.write_text(&d.master.value);
                hash.write_text(&d.method.value);
                hash.write_text(&d.input.value);
            }
        }
    }
}

fn entries(hash: &mut Fnv1a, name: &str, entries: &Entries) {
    hash.write_text(name);
    hash.write(&(entries.0.len() as u64).to_le_bytes());
    for (key, value) in &entries.0 {
        hash.write_text(&key.value);
        hash.write_text(&value.value);
    }
}

#[cfg(test)]
mod tests {
    fn hash(text: &str) -> String {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yaml");
        std::fs::write(&path, text).unwrap();
        crate::profile::load(&path, &[], &[]).unwrap().hash()
    }

    const BASE: &str = "name: t
card: iso7816
vars: { issuer: \"0100\" }
steps:
  - name: select
    apdu: 00 A4 00 0C 02 3F 00
    expect: 9000
";

    #[test]
    fn comments_layout_quoting_and_description_do_not_count() {
        let same = "# a comment
description: fixed a typo
name:   \"t\"
card: iso7816   # the demo card
vars:
  issuer: '0100'

steps:
  - apdu: \"00 A4 00 0C 02 3F 00\"
    name: select
    expect: \"9000\"
";
        assert_eq!(hash(BASE), hash(same));
    }

    #[test]
    fn every_value_counts_as_written() {
        let base = hash(BASE);
        for changed in [
            BASE.replace("\"0100\"", "0100x"),
            BASE.replace("\"0100\"", "\"100\""),
            BASE.replace("3F 00", "3F 01"),
            BASE.replace("9000", "6A82"),
            BASE.replace("name: select", "name: choose"),
            BASE.replace("name: t", "name: u"),
            format!("{BASE}  - apdu: 00 B0 00 00 02\n"),
        ] {
            assert_ne!(hash(&changed), base, "{changed}");
        }
        // A plain scalar keeps its text: `0100` is not the number 100.
        let plain = BASE.replace("\"0100\"", "0100");
        assert_eq!(hash(&plain), base);
        assert_ne!(hash(&BASE.replace("\"0100\"", "100")), base);
    }
}
