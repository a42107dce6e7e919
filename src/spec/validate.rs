//! Shape validation of a parsed config: what the runtime spec requires and what scutum needs to
//! act on it. Pure: no I/O, so it runs before the first side effect and tests without root.

use super::SpecError;
use oci_spec::runtime::{LinuxNamespaceType, Spec};
use std::collections::HashSet;

type Result = std::result::Result<(), SpecError>;

/// Checks `spec` for everything that would make create fail half-way or act on nonsense.
pub fn validate(spec: &Spec) -> Result {
    root(spec)?;
    process(spec)?;
    mounts(spec)?;
    namespaces(spec)?;
    sysctls(spec)
}

fn root(spec: &Spec) -> Result {
    let Some(root) = spec.root() else {
        return Err(SpecError::invalid(
            "root",
            "missing: the config must name the container's root filesystem",
        ));
    };
    if root.path().as_os_str().is_empty() {
        return Err(SpecError::invalid("root.path", "missing or empty"));
    }
    Ok(())
}

fn process(spec: &Spec) -> Result {
    let Some(p) = spec.process() else {
        return Err(SpecError::invalid("process", "missing: the config must describe the process to run"));
    };
    match p.args() {
        Some(a) if !a.is_empty() && !a[0].is_empty() => {}
        _ => {
            return Err(SpecError::invalid(
                "process.args",
                "missing or empty: it must name the program to run",
            ))
        }
    }
    if !p.cwd().is_absolute() {
        return Err(SpecError::invalid("process.cwd", format!("{:?} is not an absolute path", p.cwd())));
    }
    for (i, e) in p.env().iter().flatten().enumerate() {
        if !e.contains('=') || e.starts_with('=') {
            return Err(SpecError::invalid(format!("process.env[{i}]"), format!("{e:?} is not NAME=value")));
        }
    }
    for (i, r) in p.rlimits().iter().flatten().enumerate() {
        if r.soft() > r.hard() {
            return Err(SpecError::invalid(
                format!("process.rlimits[{i}]"),
                format!("soft limit {} exceeds hard limit {}", r.soft(), r.hard()),
            ));
        }
    }
    Ok(())
}

fn mounts(spec: &Spec) -> Result {
    for (i, m) in spec.mounts().iter().flatten().enumerate() {
        let d = m.destination();
        if d.as_os_str().is_empty() {
            return Err(SpecError::invalid(format!("mounts[{i}].destination"), "missing or empty"));
        }
        if !d.is_absolute() {
            return Err(SpecError::invalid(
                format!("mounts[{i}].destination"),
                format!("{d:?} is not an absolute path"),
            ));
        }
        let opts = m.options().as_deref().unwrap_or_default();
        let is_bind = m.typ().as_deref() == Some("bind") || opts.iter().any(|o| o == "bind" || o == "rbind");
        if is_bind && m.source().as_ref().is_none_or(|s| s.as_os_str().is_empty()) {
            return Err(SpecError::invalid(format!("mounts[{i}].source"), "a bind mount needs a source"));
        }
        if is_bind && m.source().as_ref().is_some_and(|s| !s.is_absolute()) {
            return Err(SpecError::invalid(
                format!("mounts[{i}].source"),
                "a bind mount source must be an absolute host path",
            ));
        }
        if !is_bind && m.typ().as_deref().is_none_or(str::is_empty) {
            return Err(SpecError::invalid(
                format!("mounts[{i}].type"),
                "missing: not a bind mount, so a type is needed",
            ));
        }
    }
    Ok(())
}

fn namespaces(spec: &Spec) -> Result {
    let mut seen = HashSet::new();
    let linux = spec.linux().as_ref();
    for (i, ns) in linux.and_then(|l| l.namespaces().as_ref()).into_iter().flatten().enumerate() {
        if !seen.insert(ns.typ()) {
            return Err(SpecError::invalid(
                format!("linux.namespaces[{i}]"),
                format!("duplicate {} namespace", ns.typ()),
            ));
        }
        if ns.path().as_ref().is_some_and(|p| !p.is_absolute()) {
            return Err(SpecError::invalid(
                format!("linux.namespaces[{i}].path"),
                "must be an absolute path",
            ));
        }
    }
    if !seen.contains(&LinuxNamespaceType::Mount) {
        return Err(SpecError::invalid(
            "linux.namespaces",
            "a mount namespace is required: the container's root is set up inside one",
        ));
    }
    let has_maps = linux.is_some_and(|l| {
        l.uid_mappings().as_ref().is_some_and(|m| !m.is_empty())
            || l.gid_mappings().as_ref().is_some_and(|m| !m.is_empty())
    });
    let new_user = linux
        .and_then(|l| l.namespaces().as_ref())
        .into_iter()
        .flatten()
        .any(|n| n.typ() == LinuxNamespaceType::User && n.path().is_none());
    if new_user {
        let l = linux.expect("a namespace implies linux");
        if l.uid_mappings().as_ref().is_none_or(Vec::is_empty) {
            return Err(SpecError::invalid("linux.uidMappings", "a new user namespace needs uid mappings"));
        }
        if l.gid_mappings().as_ref().is_none_or(Vec::is_empty) {
            return Err(SpecError::invalid("linux.gidMappings", "a new user namespace needs gid mappings"));
        }
    } else if has_maps {
        return Err(SpecError::invalid(
            "linux.uidMappings",
            "mappings are set but no new user namespace is requested",
        ));
    }
    let uts = seen.contains(&LinuxNamespaceType::Uts);
    if spec.hostname().as_ref().is_some_and(|h| !h.is_empty()) && !uts {
        return Err(SpecError::invalid("hostname", "setting a hostname needs a uts namespace"));
    }
    if spec.domainname().as_ref().is_some_and(|h| !h.is_empty()) && !uts {
        return Err(SpecError::invalid("domainname", "setting a domainname needs a uts namespace"));
    }
    Ok(())
}

fn sysctls(spec: &Spec) -> Result {
    let Some(map) = spec.linux().as_ref().and_then(|l| l.sysctl().as_ref()) else { return Ok(()) };
    for key in map.keys() {
        // A key becomes a path under /proc/sys: no traversal, no empty components.
        let bad = key.is_empty() || key.split(['.', '/']).any(|c| c.is_empty() || c == "..");
        if bad {
            return Err(SpecError::invalid(format!("linux.sysctl.{key}"), "not a valid sysctl name"));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn parse(json: &str) -> Spec {
        crate::spec::parse_json(Path::new("config.json"), json.as_bytes()).unwrap()
    }

    const BASE: &str = r#"{"ociVersion":"1.0.2","root":{"path":"rootfs"},
        "process":{"user":{"uid":0,"gid":0},"args":["sh"],"cwd":"/"},
        "linux":{"namespaces":[{"type":"mount"},{"type":"pid"}]}}"#;

    fn field_of(json: &str) -> String {
        match validate(&parse(json)) {
            Err(SpecError::Invalid { field, .. }) => field,
            other => panic!("expected an Invalid error, got {other:?}"),
        }
    }

    #[test]
    fn accepts_a_minimal_config() {
        validate(&parse(BASE)).unwrap();
    }

    #[test]
    fn names_the_missing_root() {
        assert_eq!(field_of(&BASE.replace(r#""root":{"path":"rootfs"},"#, "")), "root");
        assert_eq!(field_of(&BASE.replace(r#""path":"rootfs""#, r#""path":"""#)), "root.path");
    }

    #[test]
    fn names_missing_args_and_relative_cwd() {
        assert_eq!(field_of(&BASE.replace(r#""args":["sh"],"#, "")), "process.args");
        assert_eq!(field_of(&BASE.replace(r#"["sh"]"#, "[]")), "process.args");
        assert_eq!(field_of(&BASE.replace(r#""cwd":"/""#, r#""cwd":"tmp""#)), "process.cwd");
    }

    #[test]
    fn wrong_field_types_name_the_field() {
        let err = crate::spec::parse_json::<Spec>(
            Path::new("config.json"),
            BASE.replace(r#""uid":0"#, r#""uid":"root""#).as_bytes(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("process.user.uid"), "{err}");
    }

    #[test]
    fn requires_a_mount_namespace_and_unique_namespaces() {
        assert_eq!(field_of(&BASE.replace(r#"{"type":"mount"},"#, "")), "linux.namespaces");
        assert_eq!(
            field_of(&BASE.replace(r#"{"type":"pid"}"#, r#"{"type":"mount"}"#)),
            "linux.namespaces[1]"
        );
    }

    #[test]
    fn user_namespace_needs_mappings() {
        let j = BASE.replace(r#"{"type":"pid"}"#, r#"{"type":"user"}"#);
        assert_eq!(field_of(&j), "linux.uidMappings");
    }

    #[test]
    fn hostname_needs_uts() {
        assert_eq!(field_of(&BASE.replace(r#""ociVersion""#, r#""hostname":"x","ociVersion""#)), "hostname");
    }

    #[test]
    fn refuses_relative_mount_destinations_and_bad_sysctls() {
        let m = BASE
            .replace(r#""ociVersion""#, r#""mounts":[{"destination":"tmp","type":"tmpfs"}],"ociVersion""#);
        assert_eq!(field_of(&m), "mounts[0].destination");
        let s = BASE.replace(r#""namespaces""#, r#""sysctl":{"net/../../x":"1"},"namespaces""#);
        assert_eq!(field_of(&s), "linux.sysctl.net/../../x");
    }
}
