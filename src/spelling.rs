//! "did you mean …?": which known name a misspelt word most likely is.
//!
//! One rule for every suggestion the tool makes (subcommands, script functions and
//! variables, profile names): the known name at the smallest edit distance, a swap of two
//! neighbouring characters counting as one edit (optimal string alignment: `rnu` is one
//! typo from `run`), if that distance is at most one edit per three letters of the longer
//! of the two (one for short names). Of names equally close, the first in alphabetical
//! order. This module knows nothing of where the names come from.

/// The name in `names` closest to `word`, if it is close enough to be what was meant.
pub fn closest<'a>(word: &str, names: &[&'a str]) -> Option<&'a str> {
    let letters = word.chars().count();
    names
        .iter()
        .map(|name| (distance(word, name), *name))
        .filter(|(d, name)| *d <= (name.chars().count().max(letters) / 3).max(1))
        .min()
        .map(|(_, name)| name)
}

/// The edit distance between `a` and `b` by characters, a swap of two neighbours counting
/// as one edit.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    // rows[i][j]: the distance between the first i characters of a and the first j of b.
    let mut rows = vec![vec![0; b.len() + 1]; a.len() + 1];
    for (i, row) in rows.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in rows[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (rows[i - 1][j] + 1)
                .min(rows[i][j - 1] + 1)
                .min(rows[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(rows[i - 2][j - 2] + 1);
            }
            rows[i][j] = best;
        }
    }
    rows[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn distance_counts_edits() {
        assert_eq!(distance("bach", "batch"), 1);
        assert_eq!(distance("", "sw"), 2);
        assert_eq!(distance("readers", "readers"), 0);
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("rnu", "run"), 1);
    }

    #[test]
    fn close_names_are_found_and_far_ones_are_not() {
        let names = ["batch", "run", "read_binary", "send"];
        assert_eq!(closest("bach", &names), Some("batch"));
        assert_eq!(closest("rnu", &names), Some("run"));
        assert_eq!(closest("read_binay", &names), Some("read_binary"));
        assert_eq!(closest("completely", &names), None);
        assert_eq!(closest("xy", &names), None);
        // Of names equally close, the first in alphabetical order.
        assert_eq!(closest("sand", &["send", "sane"]), Some("sane"));
    }

    proptest! {
        #[test]
        fn distance_is_symmetric_and_bounded(a in ".{0,10}", b in ".{0,10}") {
            let d = distance(&a, &b);
            prop_assert_eq!(d, distance(&b, &a));
            prop_assert!(d <= a.chars().count().max(b.chars().count()));
            prop_assert_eq!(distance(&a, &a), 0);
        }

        #[test]
        fn a_suggestion_is_one_of_the_names(word in ".{0,12}") {
            let names = ["send", "hex", "read_binary"];
            if let Some(name) = closest(&word, &names) {
                prop_assert!(names.contains(&name));
            }
        }
    }
}
