//! The policy's data tables, compiled into the binary from profiles/policy/*.json so a reviewer
//! can read them without Rust and the runtime needs nothing on disk.

use serde::Deserialize;
use std::collections::BTreeMap;
use std::sync::OnceLock;

#[derive(Debug, Deserialize)]
pub struct RuleInfo {
    pub id: String,
    pub severity: String,
    pub title: String,
    pub reason: String,
    pub reference: String,
    pub remedy: String,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Store {
    pub path: String,
    pub allow_under: String,
    pub per_container_depth: usize,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EtcRule {
    pub tree: String,
    pub read_only_allowlist: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostPaths {
    pub exact: Vec<String>,
    pub tree: Vec<String>,
    pub etc: EtcRule,
    pub writable_refused: Vec<String>,
    pub stores: Vec<Store>,
    pub sockets: Vec<String>,
    pub device_nodes_allowlist: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct SysctlGroup {
    pub exact: Vec<String>,
    pub prefixes: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct Sysctls {
    pub ipc: SysctlGroup,
    pub network: SysctlGroup,
    pub uts: SysctlGroup,
}

#[derive(Debug, Deserialize)]
pub struct Capabilities {
    pub forbidden: Vec<String>,
}

pub const HARDENED: &str = include_str!("../../profiles/policy/hardened.json");
pub const BASELINE: &str = include_str!("../../profiles/policy/baseline.json");
pub const UNCONFINED: &str = include_str!("../../profiles/policy/unconfined.json");

fn parse<T: for<'de> Deserialize<'de>>(name: &str, text: &str) -> T {
    // These are compiled in and covered by unit tests: a parse failure is a build defect.
    serde_json::from_str(text).unwrap_or_else(|e| panic!("profiles/policy/{name} is invalid: {e}"))
}

pub fn rules() -> &'static [RuleInfo] {
    static R: OnceLock<Vec<RuleInfo>> = OnceLock::new();
    R.get_or_init(|| parse("rules.json", include_str!("../../profiles/policy/rules.json")))
}

/// The table row of rule `id`.
pub fn rule(id: &str) -> &'static RuleInfo {
    rules()
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("rule {id} is not in profiles/policy/rules.json"))
}

pub fn host_paths() -> &'static HostPaths {
    static H: OnceLock<HostPaths> = OnceLock::new();
    H.get_or_init(|| parse("host-paths.json", include_str!("../../profiles/policy/host-paths.json")))
}

pub fn sysctls() -> &'static Sysctls {
    static S: OnceLock<Sysctls> = OnceLock::new();
    S.get_or_init(|| parse("sysctls.json", include_str!("../../profiles/policy/sysctls.json")))
}

pub fn capabilities() -> &'static Capabilities {
    static C: OnceLock<Capabilities> = OnceLock::new();
    C.get_or_init(|| parse("capabilities.json", include_str!("../../profiles/policy/capabilities.json")))
}

/// Default tmpfs sizes, keyed by destination.
pub type TmpfsSizes = BTreeMap<String, String>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_parses_and_rule_ids_are_unique() {
        let ids: std::collections::HashSet<&str> = rules().iter().map(|r| r.id.as_str()).collect();
        assert_eq!(ids.len(), rules().len());
        for r in rules() {
            assert!(["refuse", "adjust", "warn"].contains(&r.severity.as_str()), "{}", r.id);
        }
        assert!(!host_paths().stores.is_empty());
        assert!(sysctls().network.prefixes.contains(&"net.".to_string()));
        assert!(capabilities().forbidden.contains(&"CAP_SYS_ADMIN".to_string()));
    }
}
