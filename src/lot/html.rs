//! The lot page: one static, self-contained HTML document (inline CSS and SVG, no script,
//! no network) that a supervisor opens in any browser or prints.
//!
//! Sections, each with an `id` so a page can be linked into: `summary` (cards by verdict,
//! period, throughput), `journals` (which files, stations, profiles), `throughput` (cards
//! per minute over time), `durations` (distribution and percentiles of issued cards),
//! `failures` (by step, status word, reader, station), `slowest` (the slowest cards),
//! `steps` and `skipped` (when a report was given). Numbers carry `data-field` attributes
//! named as in the JSON summary so a test or a scraper can read them. Every text that came
//! from a file is escaped. This file renders; it reads nothing.

use std::fmt::Write;

use super::stats::{Lot, Trouble, ranked};
use super::svg::{self, FAILED, INTERRUPTED, OK, escape, millis};
use super::time::{minute_text, second_text};

const STYLE: &str = "body{font-family:sans-serif;margin:24px auto;max-width:960px;color:#222}\
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ccc}h3{font-size:14px;margin:14px 0 2px}\
table{border-collapse:collapse;margin:8px 0}td,th{padding:3px 10px;text-align:left;\
border-bottom:1px solid #eee;font-size:13px}td.n{text-align:right;font-variant-numeric:\
tabular-nums}.k{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}\
.big td{font-size:16px}.none{color:#777}";

/// Renders the page for `lot`, with `title` as its heading.
pub fn page(lot: &mut Lot, title: &str) -> String {
    let totals = lot.totals();
    let percentiles = lot.percentiles();
    let mut out = String::new();
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <title>{}</title><style>{STYLE}</style></head><body>\n<h1>{}</h1>\n",
        escape(title),
        escape(title)
    );

    out.push_str("<section id=\"summary\"><h2>Summary</h2><table class=\"big\">");
    for (label, field, n) in [
        ("Cards", "cards", totals.cards),
        ("Issued", "ok", totals.ok),
        ("Failed", "failed", totals.failed),
        ("Interrupted", "interrupted", totals.interrupted),
        ("Open (begun, not ended)", "open", totals.open),
        ("Resumed after an interruption", "resumed", totals.resumed),
        ("Skipped (from the report)", "skipped", totals.skipped),
    ] {
        let _ = write!(
            out,
            "<tr><th>{label}</th><td class=\"n\" data-field=\"{field}\">{n}</td></tr>"
        );
    }
    if let Some((first, last)) = lot.span {
        let minutes = (last - first) as f64 / 60e6;
        let ended = totals.ok + totals.failed;
        let rate = if minutes > 0.0 {
            format!("{:.1}", ended as f64 / minutes)
        } else {
            "—".to_string()
        };
        let _ = write!(
            out,
            "<tr><th>Period (UTC)</th><td data-field=\"period\">{} – {}</td></tr>\
             <tr><th>Cards ended per minute, on average</th>\
             <td class=\"n\" data-field=\"per_minute\">{rate}</td></tr>",
            second_text(first),
            second_text(last)
        );
    }
    out.push_str("</table></section>\n");

    out.push_str(
        "<section id=\"journals\"><h2>Journals</h2><table><tr><th>Journal</th>\
                  <th>Station</th><th>Profile</th><th>Data</th><th>Started</th></tr>",
    );
    for j in &lot.journals {
        let _ = write!(
            out,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&j.path),
            escape(&j.station),
            escape(&match (&j.profile, &j.profile_file) {
                (Some(name), Some(file)) => format!("{name} ({file})"),
                _ => "(no header)".to_string(),
            }),
            escape(j.data.as_deref().unwrap_or("—")),
            escape(j.started.as_deref().unwrap_or("—"))
        );
    }
    out.push_str("</table>");
    if lot.unknown > 0 {
        let _ = write!(
            out,
            "<p>{} records of kinds this version does not know were left out.</p>",
            lot.unknown
        );
    }
    out.push_str("</section>\n");

    let legend = format!(
        "<p><span class=\"k\" style=\"background:{OK}\"></span>issued\
         <span class=\"k\" style=\"background:{FAILED}\"></span>failed\
         <span class=\"k\" style=\"background:{INTERRUPTED}\"></span>interrupted</p>"
    );
    out.push_str("<section id=\"throughput\"><h2>Cards per minute over time</h2>");
    if lot.per_minute.is_empty() {
        out.push_str("<p class=\"none\">No card has ended yet.</p>");
    } else {
        out.push_str(&legend);
        out.push_str(&svg::throughput(&lot.per_minute));
    }
    out.push_str("</section>\n");

    out.push_str("<section id=\"durations\"><h2>How long issued cards took</h2>");
    match percentiles {
        None => out.push_str("<p class=\"none\">No card was issued.</p>"),
        Some([p50, p90, p99, max]) => {
            out.push_str("<table><tr>");
            for (label, field, v) in [
                ("median", "p50_ms", p50),
                ("90th percentile", "p90_ms", p90),
                ("99th percentile", "p99_ms", p99),
                ("slowest", "max_ms", max),
            ] {
                let _ = write!(
                    out,
                    "<th>{label}</th><td class=\"n\" data-field=\"{field}\">{} ms</td>",
                    millis(v)
                );
            }
            out.push_str("</tr></table>");
            out.push_str(&svg::histogram(&lot.durations));
        }
    }
    out.push_str("</section>\n");

    out.push_str("<section id=\"failures\"><h2>Where cards failed</h2>");
    if totals.failed + totals.interrupted == 0 && lot.by_step.is_empty() {
        out.push_str("<p class=\"none\">No card failed or was interrupted.</p>");
    } else {
        out.push_str(&legend.replace(
            &format!("<span class=\"k\" style=\"background:{OK}\"></span>issued"),
            "",
        ));
        for (title, id, map) in [
            ("By step", "by-step", &lot.by_step),
            ("By status word", "by-sw", &lot.by_sw),
            ("By reader", "by-reader", &lot.by_reader),
            ("By station", "by-station", &lot.by_station),
        ] {
            trouble_table(&mut out, title, id, &ranked(map));
        }
    }
    out.push_str("</section>\n");

    out.push_str("<section id=\"slowest\"><h2>Slowest cards</h2>");
    let slowest = lot.slowest();
    if slowest.is_empty() {
        out.push_str("<p class=\"none\">No card has ended yet.</p>");
    } else {
        out.push_str(
            "<table><tr><th>Card</th><th>Identity</th><th>Reader</th>\
                      <th>Station</th><th>Verdict</th><th>Took</th><th>Ended (UTC)</th><th>Trace</th></tr>",
        );
        for s in &slowest {
            let _ = write!(
                out,
                "<tr><td class=\"n\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
                 <td class=\"n\">{} ms</td><td>{}</td><td>{}</td></tr>",
                s.seq,
                escape(&s.identity),
                escape(&s.reader),
                escape(&s.station),
                escape(&s.verdict),
                millis(s.micros),
                second_text(s.time),
                escape(s.trace.as_deref().unwrap_or("—"))
            );
        }
        out.push_str("</table>");
    }
    out.push_str("</section>\n");

    if lot.reported > 0 {
        out.push_str(
            "<section id=\"steps\"><h2>Steps (from the report)</h2><table><tr>\
                      <th>Step</th><th>Runs</th><th>Mean</th><th>Longest</th></tr>",
        );
        let mut steps: Vec<_> = lot.steps.iter().collect();
        steps.sort_by(|a, b| b.1.micros.cmp(&a.1.micros).then(a.0.cmp(b.0)));
        for (name, s) in steps {
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{} ms</td>\
                 <td class=\"n\">{} ms</td></tr>",
                escape(name),
                s.runs,
                millis(s.micros / s.runs.max(1)),
                millis(s.max_micros)
            );
        }
        out.push_str("</table></section>\n<section id=\"skipped\"><h2>Skipped cards</h2>");
        if lot.skipped.is_empty() {
            out.push_str("<p class=\"none\">No card was skipped.</p>");
        } else {
            let mut skipped: Vec<_> = lot.skipped.iter().collect();
            skipped.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
            out.push_str("<table><tr><th>Why</th><th>Cards</th></tr>");
            for (why, n) in skipped {
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td class=\"n\">{n}</td></tr>",
                    escape(why)
                );
            }
            out.push_str("</table>");
        }
        out.push_str("</section>\n");
    }
    if let Some((_, last)) = lot.span {
        let _ = write!(
            out,
            "<p class=\"none\">Made by apdu-run {} from records up to {} UTC. \
             No data values or secrets are in the journal, so none are here.</p>",
            escape(env!("CARGO_PKG_VERSION")),
            minute_text(last)
        );
    }
    out.push_str("</body></html>\n");
    out
}

fn trouble_table(out: &mut String, title: &str, id: &str, rows: &[(&str, Trouble)]) {
    let _ = write!(
        out,
        "<h3>{title}</h3><table id=\"{id}\"><tr><th></th><th>Failed</th>\
                         <th>Interrupted</th><th></th></tr>"
    );
    let max = rows
        .iter()
        .map(|(_, t)| t.failed + t.interrupted)
        .max()
        .unwrap_or(0);
    for (key, t) in rows {
        let _ = write!(
            out,
            "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
            escape(key),
            t.failed,
            t.interrupted,
            svg::bar(t.failed, t.interrupted, max)
        );
    }
    out.push_str("</table>");
}
