use crate::cli::{GlobalArgs, ListArgs, ListFormat};
use crate::container::{list_ids, Container};
use crate::error::Result;
use std::io::Write;

pub fn run(g: &GlobalArgs, a: &ListArgs) -> Result<i32> {
    let containers: Vec<Container> =
        list_ids(&g.root)?.iter().filter_map(|id| Container::load(&g.root, id).ok()).collect();
    let mut out = std::io::stdout().lock();
    if a.quiet {
        for c in &containers {
            let _ = writeln!(out, "{}", c.state.id);
        }
        return Ok(0);
    }
    match a.format {
        ListFormat::Json => {
            let v: Vec<serde_json::Value> = containers.iter().map(Container::state_json).collect();
            // runc prints null for an empty list; callers parse either.
            let text =
                if v.is_empty() { "null".to_string() } else { serde_json::to_string(&v).expect("json") };
            let _ = writeln!(out, "{text}");
        }
        ListFormat::Table => {
            let rows: Vec<[String; 6]> = containers
                .iter()
                .map(|c| {
                    // One status derivation per container, no JSON on this path.
                    let status = c.status();
                    [
                        c.state.id.clone(),
                        c.pid_when(status).to_string(),
                        status.to_string(),
                        c.state.bundle.display().to_string(),
                        c.state.created.clone(),
                        c.state.owner.clone(),
                    ]
                })
                .collect();
            let header = ["ID", "PID", "STATUS", "BUNDLE", "CREATED", "OWNER"].map(String::from);
            let _ = write!(out, "{}", table(std::iter::once(&header).chain(rows.iter())));
        }
    }
    Ok(0)
}

/// Left-aligned columns separated by at least three spaces (like runc's tabwriter output).
fn table<'a>(rows: impl Iterator<Item = &'a [String; 6]> + Clone) -> String {
    let mut width = [0usize; 6];
    for r in rows.clone() {
        for (w, c) in width.iter_mut().zip(r) {
            *w = (*w).max(c.len());
        }
    }
    let mut s = String::new();
    for r in rows {
        let line: Vec<String> = r.iter().zip(width).map(|(c, w)| format!("{c:<w$}")).collect();
        s.push_str(line.join("   ").trim_end());
        s.push('\n');
    }
    s
}
