//! The plots of the lot page as inline SVG: cards per minute over time (stacked by verdict),
//! the distribution of card durations, and horizontal bars for failure counts.
//!
//! Plain SVG text, no script, no external font or style: the page must render offline and
//! print. Every label goes through [`escape`]. This file knows nothing of journals; it
//! draws numbers it is given.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::stats::Ends;
use super::time::minute_text;

/// Colours of the verdicts (also used by the page's legend).
pub const OK: &str = "#2e7d32";
/// Failed.
pub const FAILED: &str = "#c62828";
/// Interrupted.
pub const INTERRUPTED: &str = "#ef8f00";

const WIDTH: f64 = 880.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 56.0;
const BOTTOM: f64 = 36.0;
const TOP: f64 = 12.0;
/// At most this many bars in the time plot; longer lots get wider buckets.
pub const MAX_BARS: i64 = 120;

/// Text made safe for HTML and SVG.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// The bucket width, in minutes, for a lot spanning `minutes`.
pub fn bucket_minutes(minutes: i64) -> i64 {
    const NICE: [i64; 14] = [
        1, 2, 5, 10, 15, 30, 60, 120, 240, 360, 720, 1440, 2880, 10_080,
    ];
    let needed = (minutes + 1).div_euclid(MAX_BARS).max(1);
    NICE.iter()
        .copied()
        .find(|&b| b * MAX_BARS > minutes)
        .unwrap_or_else(|| needed + 1)
}

/// A round number at least `max` for an axis, and its tick step.
fn axis(max: f64) -> (f64, f64) {
    if max <= 0.0 {
        return (1.0, 1.0);
    }
    let raw = max / 4.0;
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    ((max / step).ceil() * step, step)
}

fn number(v: f64) -> String {
    if v.fract().abs() < 1e-9 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn frame(out: &mut String, label: &str, y_max: f64, step: f64, plot_h: f64) {
    let _ = write!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{}" font-family="sans-serif" font-size="11">"#,
        escape(label)
    );
    let mut v = 0.0;
    while v <= y_max + 1e-9 {
        let y = TOP + plot_h - v / y_max * plot_h;
        let _ = write!(
            out,
            r##"<line x1="{LEFT}" x2="{}" y1="{y:.1}" y2="{y:.1}" stroke="#ddd"/><text x="{}" y="{:.1}" text-anchor="end">{}</text>"##,
            WIDTH - 8.0,
            LEFT - 4.0,
            y + 4.0,
            number(v)
        );
        v += step;
    }
}

/// Cards per minute over time, one bar per bucket, stacked ok / failed / interrupted.
/// Buckets without ends are drawn empty, so a stop on the line shows as a gap.
pub fn throughput(per_minute: &BTreeMap<i64, Ends>) -> String {
    let (Some(&first), Some(&last)) = (per_minute.keys().next(), per_minute.keys().last()) else {
        return String::new();
    };
    let width = bucket_minutes(last - first);
    let start = first - first.rem_euclid(width);
    let count = ((last - start) / width + 1) as usize;
    let mut buckets = vec![Ends::default(); count];
    for (&minute, ends) in per_minute {
        let b = &mut buckets[((minute - start) / width) as usize];
        b.ok += ends.ok;
        b.failed += ends.failed;
        b.interrupted += ends.interrupted;
    }
    let per = |n: u64| n as f64 / width as f64;
    let max = buckets.iter().map(|b| per(b.total())).fold(0.0, f64::max);
    let (y_max, step) = axis(max);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let plot_w = WIDTH - LEFT - 8.0;
    let mut out = String::new();
    frame(&mut out, "cards per minute over time", y_max, step, plot_h);
    let bar = plot_w / count as f64;
    for (i, b) in buckets.iter().enumerate() {
        let x = LEFT + i as f64 * bar;
        let mut y = TOP + plot_h;
        let title = format!(
            "{} (+{width} min): {} ok, {} failed, {} interrupted",
            minute_text((start + i as i64 * width) * 60_000_000),
            b.ok,
            b.failed,
            b.interrupted
        );
        let _ = write!(
            out,
            r#"<g class="bucket"><title>{}</title>"#,
            escape(&title)
        );
        for (n, colour) in [(b.ok, OK), (b.failed, FAILED), (b.interrupted, INTERRUPTED)] {
            if n == 0 {
                continue;
            }
            let h = per(n) / y_max * plot_h;
            y -= h;
            let _ = write!(
                out,
                r#"<rect x="{x:.2}" y="{y:.2}" width="{:.2}" height="{h:.2}" fill="{colour}"/>"#,
                (bar - 1.0).max(0.5)
            );
        }
        out.push_str("</g>");
    }
    // Within one day the labels are times and the caption says the day; else dates too.
    let text_of = |i: usize| minute_text((start + i as i64 * width) * 60_000_000);
    let day = |i: usize| text_of(i)[..10].to_string();
    let one_day = day(0) == day(count - 1);
    let labels = count.min(6);
    for k in 0..labels {
        let i = if labels == 1 {
            0
        } else {
            k * (count - 1) / (labels - 1)
        };
        let x = LEFT + (i as f64 + 0.5) * bar;
        let text = text_of(i);
        let anchor = edge_anchor(k, labels);
        let _ = write!(
            out,
            r#"<text x="{x:.1}" y="{}" text-anchor="{anchor}">{}</text>"#,
            HEIGHT - BOTTOM + 16.0,
            if one_day { &text[11..] } else { &text[5..] }
        );
    }
    let _ = write!(
        out,
        r#"<text x="{LEFT}" y="{}">cards per minute, {width}-minute buckets, UTC{}</text></svg>"#,
        HEIGHT - 4.0,
        if one_day {
            format!(", {}", day(0))
        } else {
            String::new()
        }
    );
    out
}

/// Where the `k`th of `n` axis labels is anchored: the outer ones inward, so none is cut.
fn edge_anchor(k: usize, n: usize) -> &'static str {
    if n > 1 && k == 0 {
        "start"
    } else if n > 1 && k == n - 1 {
        "end"
    } else {
        "middle"
    }
}

/// Milliseconds with enough digits.
pub fn millis(micros: u64) -> String {
    number(micros as f64 / 1000.0)
}

/// A histogram of `sorted` durations (microseconds, ascending): equal bins from the
/// fastest card to the 99th percentile, the last bin also holding everything slower.
pub fn histogram(sorted: &[u64]) -> String {
    const BINS: usize = 24;
    let (Some(&min), Some(&max)) = (sorted.first(), sorted.last()) else {
        return String::new();
    };
    let p99 = sorted[(sorted.len() - 1) * 99 / 100];
    let width = (p99 - min).div_ceil(BINS as u64 - 1).max(1);
    let mut bins = [0u64; BINS];
    for &d in sorted {
        bins[(((d - min) / width) as usize).min(BINS - 1)] += 1;
    }
    let (y_max, step) = axis(bins.iter().copied().max().unwrap_or(0) as f64);
    let plot_h = HEIGHT - TOP - BOTTOM;
    let plot_w = WIDTH - LEFT - 8.0;
    let bar = plot_w / BINS as f64;
    let mut out = String::new();
    frame(&mut out, "card durations", y_max, step, plot_h);
    for (i, &n) in bins.iter().enumerate() {
        let lo = min + i as u64 * width;
        let range = if i == BINS - 1 {
            format!("{} ms and more (max {} ms)", millis(lo), millis(max))
        } else {
            format!("{}–{} ms", millis(lo), millis(lo + width))
        };
        let h = n as f64 / y_max * plot_h;
        let _ = write!(
            out,
            r#"<g class="bin"><title>{}: {n} cards</title><rect x="{:.2}" y="{:.2}" width="{:.2}" height="{h:.2}" fill="{OK}"/></g>"#,
            escape(&range),
            LEFT + i as f64 * bar,
            TOP + plot_h - h,
            (bar - 1.0).max(0.5)
        );
    }
    for (k, i) in (0..=BINS).step_by(4).enumerate() {
        let _ = write!(
            out,
            r#"<text x="{:.1}" y="{}" text-anchor="{}">{}</text>"#,
            LEFT + i as f64 * bar,
            HEIGHT - BOTTOM + 16.0,
            edge_anchor(k, BINS / 4 + 1),
            millis(min + i as u64 * width)
        );
    }
    let _ = write!(
        out,
        r#"<text x="{LEFT}" y="{}">cards per duration bin, milliseconds</text></svg>"#,
        HEIGHT - 4.0
    );
    out
}

/// A small horizontal bar: `failed` and `interrupted` of `max`, as wide as a table cell.
pub fn bar(failed: u64, interrupted: u64, max: u64) -> String {
    let w = 200.0;
    let scale = |n: u64| n as f64 / max.max(1) as f64 * w;
    format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="12" viewBox="0 0 {w} 12"><rect width="{:.1}" height="12" fill="{FAILED}"/><rect x="{:.1}" width="{:.1}" height="12" fill="{INTERRUPTED}"/></svg>"#,
        scale(failed),
        scale(failed),
        scale(interrupted)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_control_characters() {
        assert_eq!(
            escape("<a href=\"x\">&'\u{1b}"),
            "&lt;a href=&quot;x&quot;&gt;&amp;&#39;\\u{1b}"
        );
    }

    #[test]
    fn buckets_keep_the_bars_few() {
        assert_eq!(bucket_minutes(0), 1);
        assert_eq!(bucket_minutes(119), 1);
        assert_eq!(bucket_minutes(120), 2);
        assert_eq!(bucket_minutes(60 * 24 * 365), 10_080);
        for minutes in [0i64, 1, 500, 100_000, 10_000_000, 1 << 40] {
            assert!(
                (minutes + 1).div_euclid(bucket_minutes(minutes)) <= MAX_BARS,
                "{minutes}"
            );
        }
    }

    #[test]
    fn draws_one_group_per_bucket_with_gaps() {
        let mut m = BTreeMap::new();
        m.insert(
            100,
            Ends {
                ok: 3,
                failed: 1,
                interrupted: 0,
            },
        );
        m.insert(
            104,
            Ends {
                ok: 2,
                failed: 0,
                interrupted: 1,
            },
        );
        let svg = throughput(&m);
        assert_eq!(svg.matches(r#"<g class="bucket">"#).count(), 5);
        assert_eq!(svg.matches("<rect").count(), 4);
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert_eq!(throughput(&BTreeMap::new()), "");
    }

    #[test]
    fn the_histogram_holds_every_card() {
        let sorted: Vec<u64> = (0..1000).map(|i| i * 37).collect();
        let svg = histogram(&sorted);
        let total: u64 = svg
            .match_indices(": ")
            .filter_map(|(i, _)| svg[i + 2..].split(' ').next()?.parse::<u64>().ok())
            .sum();
        assert_eq!(total, 1000);
        assert!(!histogram(&[5]).is_empty());
        assert_eq!(histogram(&[]), "");
    }
}
