//! `smartborder ncts check`: NCTS Phase 5 messages checked offline, as the single window would
//! check them (schema, then business rules), each problem named by file, line, column and XPath.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::Args;
use smartborder_ncts::events::unloading_against_declaration;
use smartborder_ncts::messages::read_bytes;
use smartborder_ncts::{Message, Refusal};

#[derive(Args)]
pub struct CheckArgs {
    /// NCTS XML files (CC015C, CC013C, CC014C, CC007C, CC044C).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The declaration (CC015C, or the CC013C that last amended it) that CC044C unloading
    /// remarks answer: they are then judged against it too (C0440, R0054), as the single window
    /// does.
    #[arg(long)]
    declaration: Option<PathBuf>,
}

/// Checks every file; exits 2 when any is refused, after reporting all of them.
pub fn check(a: CheckArgs) -> Result<ExitCode> {
    let declaration = match &a.declaration {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("reading declaration {}", path.display()))?,
        ),
        None => None,
    };
    let mut refused = 0;
    for path in &a.files {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let name = path.display();
        // Bytes that are not UTF-8 are refused with their position, never replaced.
        let read = read_bytes(&bytes);
        let judged = match (&read, &declaration) {
            (Ok(Message::UnloadingRemarks(_)), Some(declaration)) => {
                let text = String::from_utf8_lossy(&bytes);
                unloading_against_declaration(&text, declaration)
            }
            _ => Vec::new(),
        };
        if !judged.is_empty() {
            refused += 1;
            for e in &judged {
                println!(
                    "{name}: {} [{} {}]: {}",
                    e.pointer,
                    e.reason,
                    e.code.code(),
                    e.description
                );
            }
            continue;
        }
        match read {
            Ok(m) => println!(
                "{name}: {} accepted{}",
                m.message_type().name(),
                summary(&m)
            ),
            Err(r) => {
                refused += 1;
                report(&name.to_string(), &r);
            }
        }
    }
    println!(
        "{} file(s): {} accepted, {refused} refused",
        a.files.len(),
        a.files.len() - refused
    );
    Ok(if refused > 0 {
        ExitCode::from(2)
    } else {
        ExitCode::SUCCESS
    })
}

fn summary(m: &Message) -> String {
    match m {
        Message::Declaration(d) => {
            let route: Vec<&str> = d.route.offices().map(|o| o.as_str()).collect();
            format!(" (LRN {}, route {})", d.lrn, route.join(" > "))
        }
        Message::Amendment(a) => format!(" (amended destination {})", a.route.destination),
        Message::InvalidationRequest(i) => format!(" (office of departure {})", i.departure),
        Message::ArrivalNotification(a) => {
            format!(
                " (MRN {}, arrival at {} {}, {} local time {})",
                a.mrn,
                a.office,
                a.arrived_at.format("%Y-%m-%d %H:%M:%S UTC"),
                a.zone,
                a.arrived_at
                    .with_timezone(&a.zone)
                    .format("%Y-%m-%d %H:%M:%S")
            )
        }
        Message::UnloadingRemarks(u) => format!(
            " (MRN {}, {})",
            u.mrn,
            if u.conform { "conform" } else { "not conform" }
        ),
    }
}

fn report(name: &str, refusal: &Refusal) {
    match refusal {
        Refusal::Rules { errors, .. } => {
            for e in errors {
                println!(
                    "{name}: {} [{} {}]: {}{}",
                    e.pointer,
                    e.reason,
                    e.code.code(),
                    e.description,
                    e.value
                        .as_deref()
                        .map(|v| format!(" (found \"{v}\")"))
                        .unwrap_or_default()
                );
            }
        }
        Refusal::Unsupported { root, expected } => {
            println!("{name}: {root} is not taken here; expected {expected}");
        }
        other => {
            for v in other.xml_errors() {
                println!(
                    "{name}:{}:{}: {} [XML {}]: {}",
                    v.position.line,
                    v.position.column,
                    v.pointer,
                    v.code.code(),
                    v.message
                );
            }
        }
    }
}
