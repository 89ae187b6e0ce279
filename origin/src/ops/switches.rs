//! `origin switch set NAME PERCENT` and `origin switch list`.

use std::fmt::Write;

use crate::switches::{self, service::SwitchState, Switches};

/// Sets a switch and says what it means, warning about names no code reads (a typo would otherwise
/// look like a rollout that does nothing).
pub async fn set(switches: &Switches, name: &str, percent: u8) -> anyhow::Result<String> {
    switches.set(name, percent).await?;
    let bound = switches::service::CACHE_TTL.as_secs();
    let mut said = format!("{name} set to {percent} %; every origin process applies it within {bound} s");
    if switches::known(name).is_none() {
        let known: Vec<&str> = switches::KNOWN.iter().map(|k| k.name).collect();
        let _ = write!(said, "\nwarning: no code reads a switch called {name:?} (known: {})", known.join(", "));
    }
    Ok(said)
}

/// The switches as a table: name, percent, whether it is stored or the default, when it was set, and
/// what it does.
pub fn table(states: &[SwitchState]) -> String {
    let rows: Vec<[String; 4]> = states
        .iter()
        .map(|state| {
            let set = match state.updated_at {
                Some(micros) => rookery_shared::timestamp::Timestamp(micros).to_iso(),
                None => "default".to_owned(),
            };
            let about = state.known.map_or("(not read by this version)", |known| known.about);
            [state.name.clone(), format!("{} %", state.percent), set, about.to_owned()]
        })
        .collect();
    let header = ["NAME", "PERCENT", "SET", "WHAT IT DOES"].map(str::to_owned);
    let mut widths = header.clone().map(|h| h.len());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in std::iter::once(&header).chain(&rows) {
        let line = format!(
            "{:<w0$}  {:>w1$}  {:<w2$}  {}",
            row[0],
            row[1],
            row[2],
            row[3],
            w0 = widths[0],
            w1 = widths[1],
            w2 = widths[2]
        );
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
