//! Medians, ratios and the two outputs: a markdown report and a JSON file.

use crate::scenarios::{Bench, Op, Sample};
use serde_json::{json, Value};
use std::fmt::Write;

pub fn median(v: &[f64]) -> Option<f64> {
    percentile(v, 0.5)
}

/// Linear-interpolated percentile (`p` in 0..=1) of `v`.
pub fn percentile(v: &[f64], p: f64) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    let x = p * (s.len() - 1) as f64;
    let (lo, hi) = (x.floor() as usize, x.ceil() as usize);
    Some(s[lo] + (s[hi] - s[lo]) * (x - lo as f64))
}

/// Theil-Sen estimate of the slope of `v` against its index: the median of all pairwise slopes.
pub fn theil_sen(v: &[f64]) -> Option<f64> {
    let mut slopes = Vec::with_capacity(v.len() * v.len().saturating_sub(1) / 2);
    for i in 0..v.len() {
        for j in i + 1..v.len() {
            slopes.push((v[j] - v[i]) / (j - i) as f64);
        }
    }
    median(&slopes)
}

fn fmt_trend(slope: Option<f64>) -> String {
    slope.map_or("n/a".into(), |x| format!("{:+.2} ms/100", x * 100.0))
}

fn ms(v: &[Sample]) -> Vec<f64> {
    v.iter().map(|s| s.ms).collect()
}

fn rss_mib(v: &[Sample]) -> Vec<f64> {
    v.iter().map(|s| s.rss_kib as f64 / 1024.0).collect()
}

fn spawn_method() -> &'static str {
    if crate::spawn::posix_spawn() {
        "posix_spawn + wait4"
    } else {
        "fork + execve + wait4"
    }
}

fn fmt_ms(x: Option<f64>) -> String {
    match x {
        Some(x) if x < 10.0 => format!("{x:.2} ms"),
        Some(x) => format!("{x:.1} ms"),
        None => "n/a".into(),
    }
}

fn fmt_ratio(a: Option<f64>, b: Option<f64>) -> String {
    match (a, b) {
        (Some(a), Some(b)) if b > 0.0 => format!("{:.2}x", a / b),
        _ => "n/a".into(),
    }
}

fn fmt_mib(x: Option<f64>) -> String {
    x.map_or("n/a".into(), |x| format!("{x:.1} MiB"))
}

impl Bench {
    fn rt_index(&self, name: &str) -> Option<usize> {
        self.rts.iter().position(|r| r.name == name)
    }

    fn med(&self, op: &Op, name: &str) -> Option<f64> {
        self.rt_index(name).and_then(|r| median(&ms(&op.samples[r])))
    }

    fn op(&self, key: &str) -> Option<&Op> {
        self.ops.iter().find(|o| o.key == key)
    }

    /// The markdown report: machine, main table, hardened defaults, peak RSS, churn, floors,
    /// targets, notes.
    pub fn markdown(&self, machine: &Value) -> String {
        let mut s = String::new();
        let st = &self.settings;
        let _ = writeln!(s, "## Machine\n");
        for key in [
            "cpu",
            "cpus",
            "memory",
            "kernel",
            "os",
            "cgroups",
            "runc",
            "crun",
            "scutum",
            "date",
            "load_before",
            "load_after",
            "cpu_used_by_others",
        ] {
            let v = &machine[key];
            let v = v.as_str().map(String::from).unwrap_or_else(|| v.to_string());
            let _ = writeln!(s, "- {key}: {v}");
        }
        let _ = writeln!(
            s,
            "- method: {} measured rounds per operation after {} warm-up rounds{}, runtimes alternated \
             (order rotated every round), each runtime process spawned directly ({}) and timed \
             from spawn to exit; medians\n",
            st.rounds,
            st.warmup,
            if st.quick { " (QUICK MODE: smoke test, numbers are not meaningful)" } else { "" },
            spawn_method()
        );

        let _ = writeln!(s, "## Results (medians; scutum = `--policy unconfined`)\n");
        let _ = writeln!(s, "| operation | runc | crun | scutum | scutum/runc | scutum/crun |");
        let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|");
        for op in &self.ops {
            let (r, c, sc) = (self.med(op, "runc"), self.med(op, "crun"), self.med(op, "scutum"));
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} | {} |",
                op.label,
                fmt_ms(r),
                fmt_ms(c),
                fmt_ms(sc),
                fmt_ratio(sc, r),
                fmt_ratio(sc, c)
            );
        }

        let _ = writeln!(s, "\n## Hardened defaults (scutum without --policy) against crun, plain bundle\n");
        let _ = writeln!(s, "| operation | crun | scutum hardened | hardened/crun | hardened/unconfined |");
        let _ = writeln!(s, "|---|---:|---:|---:|---:|");
        for op in &self.ops {
            let (c, h, u) = (self.med(op, "crun"), self.med(op, "scutum-hardened"), self.med(op, "scutum"));
            let _ = writeln!(
                s,
                "| {} | {} | {} | {} | {} |",
                op.label,
                fmt_ms(c),
                fmt_ms(h),
                fmt_ratio(h, c),
                fmt_ratio(h, u)
            );
        }

        let variants: Vec<&str> = self.variants.iter().map(|&r| self.rts[r].name.as_str()).collect();
        if !variants.is_empty() {
            let _ =
                writeln!(s, "\n## Build variants of scutum (`--policy unconfined`; in parentheses: /crun)\n");
            let _ = writeln!(s, "| operation | crun | scutum | {} |", variants.join(" | "));
            let _ = writeln!(s, "|---|---:|---:|{}", "---:|".repeat(variants.len()));
            for op in &self.ops {
                let c = self.med(op, "crun");
                let cells: Vec<String> = std::iter::once("scutum")
                    .chain(variants.iter().copied())
                    .map(|v| {
                        let x = self.med(op, v);
                        format!("{} ({})", fmt_ms(x), fmt_ratio(x, c))
                    })
                    .collect();
                let _ = writeln!(s, "| {} | {} | {} |", op.label, fmt_ms(c), cells.join(" | "));
            }
        }

        let _ =
            writeln!(s, "\n## Peak RSS per operation (median of wait4 ru_maxrss of the runtime process)\n");
        let names: Vec<&str> = self.rts.iter().map(|r| r.name.as_str()).collect();
        let _ = writeln!(s, "| operation | {} |", names.join(" | "));
        let _ = writeln!(s, "|---|{}", "---:|".repeat(names.len()));
        for op in &self.ops {
            let cells: Vec<String> = op.samples.iter().map(|v| fmt_mib(median(&rss_mib(v)))).collect();
            let _ = writeln!(s, "| {} | {} |", op.label, cells.join(" | "));
        }

        if let Some(ch) = &self.churn {
            let (n, w) = (st.churn, st.window);
            let _ = writeln!(
                s,
                "\n## Churn: {n} containers, per-container cost first {w} vs last {w} (medians)\n"
            );
            let _ = writeln!(
                s,
                "| runtime | create+start first | last | last/first | trend | delete -f first | last | last/first | trend |"
            );
            let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|");
            for (r, rt) in self.rts.iter().enumerate() {
                let cs = ms(&ch.create_start[r]);
                let df = ms(&ch.delete_force[r]);
                let (a, b) = (median(&cs[..w]), median(&cs[n - w..]));
                let (c, d) = (median(&df[..w]), median(&df[n - w..]));
                let _ = writeln!(
                    s,
                    "| {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                    rt.name,
                    fmt_ms(a),
                    fmt_ms(b),
                    fmt_ratio(b, a),
                    fmt_trend(theil_sen(&cs)),
                    fmt_ms(c),
                    fmt_ms(d),
                    fmt_ratio(d, c),
                    fmt_trend(theil_sen(&df))
                );
            }
            let _ = writeln!(
                s,
                "\ntrend: Theil-Sen slope over all {n} containers, in ms per 100 containers (robust to outliers; \
                 the first/last windows are single calls each and move with background kernel work)"
            );
        }

        let _ = writeln!(s, "\n## Floors (same machine, same timing)\n");
        let _ = writeln!(s, "| reference | median | peak RSS |");
        let _ = writeln!(s, "|---|---:|---:|");
        for (label, v) in &self.floors {
            let _ =
                writeln!(s, "| {label} | {} | {} |", fmt_ms(median(&ms(v))), fmt_mib(median(&rss_mib(v))));
        }

        let _ = writeln!(s, "\n## Targets (informational: nothing fails on a time)\n");
        let _ = writeln!(s, "| target | now | met |");
        let _ = writeln!(s, "|---|---:|---|");
        for (target, now, met) in self.targets() {
            let _ = writeln!(s, "| {target} | {now} | {met} |");
        }

        if !self.notes.is_empty() {
            let _ = writeln!(s, "\n## Notes\n");
            for n in &self.notes {
                let _ = writeln!(s, "- {n}");
            }
        }
        s
    }

    /// (target, current value, met?) for the goals in issue 7.
    fn targets(&self) -> Vec<(String, String, &'static str)> {
        let mut out = Vec::new();
        let verdict = |x: Option<f64>, limit: f64| match x {
            Some(x) if x <= limit => "yes",
            Some(_) => "no",
            None => "not measured",
        };
        let ratio = |key: &str, a: &str, b: &str| {
            let op = self.op(key)?;
            Some(self.med(op, a)? / self.med(op, b)?)
        };
        let show = |x: Option<f64>| x.map_or("n/a".into(), |x| format!("{x:.2}x"));
        for (key, limit) in [("run", 0.7), ("exec", 0.7), ("state", 0.5), ("list1", 0.5), ("list_many", 0.5)]
        {
            let label = self.op(key).map_or(key.to_string(), |o| o.label.clone());
            let x = ratio(key, "scutum", "crun");
            out.push((format!("{label} <= {limit}x crun"), show(x), verdict(x, limit)));
        }
        let x = ratio("delete_force", "scutum", "crun");
        out.push(("delete -f (running) <= 1.0x crun".into(), show(x), verdict(x, 1.0)));
        let peak = self
            .rt_index("scutum")
            .and_then(|r| self.ops.iter().filter_map(|o| median(&rss_mib(&o.samples[r]))).reduce(f64::max));
        out.push(("peak RSS <= 2 MiB (largest per-op median)".into(), fmt_mib(peak), verdict(peak, 2.0)));
        if let (Some(ch), Some(r)) = (&self.churn, self.rt_index("scutum")) {
            let (n, w) = (self.settings.churn, self.settings.window);
            let cs = ms(&ch.create_start[r]);
            // Flat: the fitted trend adds at most 10% of the first containers' cost by the last.
            let growth =
                theil_sen(&cs).zip(median(&cs[..w])).map(|(slope, a)| 1.0 + slope * (n - 1) as f64 / a);
            out.push((
                format!("create+start flat from 1st to {n}th (fitted last/first <= 1.1)"),
                show(growth),
                verdict(growth, 1.1),
            ));
        }
        let worst = self
            .ops
            .iter()
            .filter_map(|o| Some(self.med(o, "scutum-hardened")? / self.med(o, "crun")?))
            .reduce(f64::max);
        out.push((
            "hardened defaults <= 1.0x crun (worst operation)".into(),
            show(worst),
            verdict(worst, 1.0),
        ));
        out
    }

    /// Everything, machine-readable: settings, per-operation statistics and raw samples.
    pub fn json(&self, machine: &Value) -> Value {
        let stats = |v: &[Sample]| {
            let t = ms(v);
            let m = rss_mib(v);
            json!({
                "n": v.len(),
                "median_ms": median(&t),
                "p10_ms": percentile(&t, 0.1),
                "p90_ms": percentile(&t, 0.9),
                "min_ms": t.iter().copied().reduce(f64::min),
                "max_ms": t.iter().copied().reduce(f64::max),
                "maxrss_median_mib": median(&m),
                "maxrss_max_mib": m.iter().copied().reduce(f64::max),
                "samples_ms": t,
                "samples_maxrss_kib": v.iter().map(|s| s.rss_kib).collect::<Vec<_>>(),
            })
        };
        let ops: Vec<Value> = self
            .ops
            .iter()
            .map(|op| {
                let mut per = serde_json::Map::new();
                for (r, rt) in self.rts.iter().enumerate() {
                    let v = match &op.skipped[r] {
                        Some(why) => json!({ "skipped": why }),
                        None => stats(&op.samples[r]),
                    };
                    per.insert(rt.name.clone(), v);
                }
                let ratio = |a: &str, b: &str| Some(self.med(op, a)? / self.med(op, b)?);
                json!({
                    "key": op.key,
                    "label": op.label,
                    "runtimes": per,
                    "ratio_scutum_runc": ratio("scutum", "runc"),
                    "ratio_scutum_crun": ratio("scutum", "crun"),
                    "ratio_hardened_crun": ratio("scutum-hardened", "crun"),
                })
            })
            .collect();
        let churn = self.churn.as_ref().map(|ch| {
            let mut m = serde_json::Map::new();
            for (r, rt) in self.rts.iter().enumerate() {
                m.insert(
                    rt.name.clone(),
                    json!({
                        "create_start_ms": ms(&ch.create_start[r]),
                        "delete_force_ms": ms(&ch.delete_force[r]),
                        "create_start_trend_ms_per_container": theil_sen(&ms(&ch.create_start[r])),
                        "delete_force_trend_ms_per_container": theil_sen(&ms(&ch.delete_force[r])),
                    }),
                );
            }
            Value::Object(m)
        });
        let floors: Vec<Value> =
            self.floors.iter().map(|(l, v)| json!({ "label": l, "stats": stats(v) })).collect();
        let targets: Vec<Value> =
            self.targets().into_iter().map(|(t, n, m)| json!({ "target": t, "now": n, "met": m })).collect();
        json!({
            "machine": machine,
            "settings": {
                "quick": self.settings.quick,
                "rounds": self.settings.rounds,
                "warmup": self.settings.warmup,
                "churn_containers": self.settings.churn,
                "churn_window": self.settings.window,
                "spawn": spawn_method(),
            },
            "runtimes": self.rts.iter().map(|r| json!({
                "name": r.name,
                "bin": r.bin,
                "global_flags": r.global,
                "has_exec": r.has_exec,
            })).collect::<Vec<_>>(),
            "operations": ops,
            "churn": churn,
            "floors": floors,
            "targets": targets,
            "notes": self.notes,
        })
    }
}
