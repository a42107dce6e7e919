//! `check`: the policy's findings and the effective config for a bundle, without running it.
//! Exit 0 if it would run, 1 if it would be refused.

use super::create::{absolute, evaluate_bundle};
use crate::cli::{CheckArgs, CheckFormat, GlobalArgs};
use crate::error::Result;
use crate::policy::Severity;

pub fn run(g: &GlobalArgs, a: &CheckArgs) -> Result<i32> {
    let bundle = absolute(&a.bundle);
    let flag = a.policy.as_deref().or(g.policy.as_deref());
    let (_, eval) = evaluate_bundle(g, flag, &bundle)?;
    let refused = eval.refused();
    match a.format {
        CheckFormat::Json => {
            let v = serde_json::json!({
                "policy": eval.policy,
                "verdict": if refused { "refused" } else { "accepted" },
                "findings": eval.findings,
                "effectiveConfig": eval.spec,
            });
            println!("{}", serde_json::to_string_pretty(&v).expect("json"));
        }
        CheckFormat::Text => {
            println!("policy: {}", eval.policy);
            for f in &eval.findings {
                let sev = match f.severity {
                    Severity::Refuse => "REFUSE",
                    Severity::Adjust => "ADJUST",
                    Severity::Warn => "WARN  ",
                };
                println!("{sev} {}", f.line());
                println!("       reference: {}", f.reference);
            }
            let n = eval.findings.iter().filter(|f| f.severity == Severity::Refuse).count();
            if refused {
                println!("verdict: refused ({n} finding{} to fix)", if n == 1 { "" } else { "s" });
            } else {
                println!("verdict: accepted");
            }
            println!("effective config:");
            println!("{}", serde_json::to_string_pretty(&eval.spec).expect("json"));
        }
    }
    Ok(if refused { 1 } else { 0 })
}
