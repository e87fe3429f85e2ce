//! What `${name}` means at one step of one card: the bytes an APDU or mask gets, and the
//! values a script sees.
//!
//! Names are looked up in the order they win: captures of earlier steps, the card's data
//! row, secrets, `today` (the date), the profile's variables (with `--var`), then the
//! built-ins `uid`, `atr`, `seq`, `row`. `${today}` is the date as four BCD bytes
//! (`20 26 03 14`); scripts see it as `YYYY-MM-DD` text. Text values sent in APDUs are hex (validation and the batch's data check
//! made sure of that; a value that is not is a step failure, not a panic). This file does
//! not send anything.

use super::Profile;
use super::run::Inputs;
use crate::apdu::hex;
use crate::clock::{self, Date};
use crate::script::Value;

/// The names a step can see, in the order they win: captures, data, secrets, variables,
/// built-ins (validation has made sure the same name is not two of these where it matters).
pub(super) struct Names<'a> {
    pub profile: &'a Profile,
    pub inputs: &'a Inputs<'a>,
    pub captures: &'a [(String, Vec<u8>)],
}

impl Names<'_> {
    /// The bytes `${name}` stands for in an APDU.
    pub fn bytes(&self, name: &str) -> Result<Vec<u8>, String> {
        if let Some((_, data)) = self.captures.iter().rev().find(|(n, _)| n == name) {
            return Ok(data.clone());
        }
        let text = |what: &str, value: &str| {
            hex::parse(value).map_err(|e| format!("{what} `{name}` is not hex: {e}"))
        };
        if let Some((_, value)) = self.inputs.data.iter().find(|(n, _)| n == name) {
            return text("data column", value);
        }
        if let Some((_, secret)) = self.inputs.secrets.iter().find(|(n, _)| n == name) {
            return Ok(secret.expose().to_vec());
        }
        if name == "today" {
            return self.today().map(|date| date.bcd().to_vec());
        }
        if let Some((_, value)) = self.profile.vars.iter().find(|(n, _)| n == name) {
            return text("variable", value);
        }
        match name {
            "uid" => Ok(self.inputs.uid.clone().unwrap_or_default()),
            "atr" => Ok(self.inputs.atr.clone()),
            // Four bytes big-endian: a number has no natural width in an APDU.
            "seq" => Ok(u32_bytes(self.inputs.seq)),
            "row" => match self.inputs.row {
                Some(row) => Ok(u32_bytes(row)),
                None => Err("`${row}` has no value: the batch has no data file".to_string()),
            },
            _ => Err(format!("`${{{name}}}` has no value")),
        }
    }

    /// The date `${today}` stands for: `--var today` when given, else the UTC date now.
    fn today(&self) -> Result<Date, String> {
        match self.profile.vars.iter().find(|(n, _)| n == "today") {
            Some((_, text)) => Date::parse(text).map_err(|e| format!("--var today: {e}")),
            None => Ok(clock::today()),
        }
    }

    /// Whether `${name}` stands for a secret here (a capture or data column of the same
    /// name would win; validation refuses such clashes anyway).
    pub fn is_secret(&self, name: &str) -> bool {
        !self.captures.iter().any(|(n, _)| n == name)
            && !self.inputs.data.iter().any(|(n, _)| n == name)
            && self.inputs.secrets.iter().any(|(n, _)| n == name)
    }

    /// The bytes of every placeholder, looked up once; the first that has none is an error.
    pub fn resolve<'p>(
        &self,
        placeholders: impl Iterator<Item = (&'p str, usize)>,
    ) -> Result<Resolved<'p>, String> {
        let mut values = Vec::new();
        for (name, _) in placeholders {
            values.push((name, self.bytes(name)?, self.is_secret(name)));
        }
        Ok(Resolved(values))
    }

    /// Every name as a script sees it.
    pub fn values(&self) -> Vec<(String, Value)> {
        let inputs = self.inputs;
        let mut values: Vec<(String, Value)> = Vec::new();
        let text = |name: &str, value: String| (name.to_string(), Value::Text(value));
        values.push(text("uid", hex_of(inputs.uid.as_deref().unwrap_or(&[]))));
        values.push(text("atr", hex_of(&inputs.atr)));
        values.push(("seq".to_string(), int_of(inputs.seq)));
        // An unparsable `--var today` is pushed as given below; `today()` reports it.
        if let Ok(date) = self.today() {
            values.push(text("today", date.to_string()));
        }
        let row = inputs.row.map_or(Value::Nothing, int_of);
        values.push(("row".to_string(), row));
        for (name, value) in &self.profile.vars {
            values.push(text(name, value.clone()));
        }
        for (name, secret) in inputs.secrets {
            values.push((name.clone(), Value::Secret(secret.clone())));
        }
        for (name, value) in inputs.data {
            values.push(text(name, value.clone()));
        }
        for (name, data) in self.captures {
            values.push(text(name, hex_of(data)));
        }
        values
    }
}

/// Placeholder values of one template.
pub(super) struct Resolved<'p>(Vec<(&'p str, Vec<u8>, bool)>);

impl Resolved<'_> {
    /// The bytes of `${name}`.
    pub fn get(&self, name: &str) -> Option<Vec<u8>> {
        self.marked(name).map(|(bytes, _)| bytes)
    }

    /// The bytes of `${name}` and whether they are a secret's.
    pub fn marked(&self, name: &str) -> Option<(Vec<u8>, bool)> {
        self.0
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, b, secret)| (b.clone(), *secret))
    }
}

fn u32_bytes(n: u64) -> Vec<u8> {
    u32::try_from(n).unwrap_or(u32::MAX).to_be_bytes().to_vec()
}

fn int_of(n: u64) -> Value {
    Value::Int(i64::try_from(n).unwrap_or(i64::MAX))
}

fn hex_of(bytes: &[u8]) -> String {
    hex::format_compact(bytes)
}
