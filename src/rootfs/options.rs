//! Mount options of a config's `mounts[].options`, sorted into what each goes to: mount
//! attributes (set with fsmount or mount_setattr, so they really apply to binds), recursive
//! attributes (`rro`, `rnosuid`, ...), propagation, bind-ness, and file system data options.
//! Pure, so every option is unit tested.

use crate::sys::mount::*;

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct MountOpts {
    /// MOUNT_ATTR_* to set / clear on the mount itself.
    pub set: u64,
    pub clear: u64,
    /// MOUNT_ATTR_* to set / clear on the mount and every submount (r-prefixed options).
    pub rec_set: u64,
    pub rec_clear: u64,
    pub bind: Option<BindKind>,
    /// `idmap` / `ridmap`: an idmapped bind through the mount's uid/gid mappings.
    pub idmap: Option<IdmapKind>,
    /// MS_PRIVATE, MS_SLAVE, MS_SHARED or MS_UNBINDABLE, and whether recursive.
    pub propagation: Option<(u64, bool)>,
    /// Options for the file system itself (fsconfig): `mode=755`, `newinstance`, `sync`...
    pub data: Vec<(String, Option<String>)>,
}

impl MountOpts {
    /// Whether the mount ends up read-only. Within each group later options win (`ro,rw` is
    /// writable), and the recursive attributes are applied after the mount's own, so `ro,rrw`
    /// is writable too. What the policy and the bind check judge, so they see what gets mounted.
    pub fn readonly(&self) -> bool {
        if self.rec_set & MOUNT_ATTR_RDONLY != 0 {
            return true;
        }
        if self.rec_clear & MOUNT_ATTR_RDONLY != 0 {
            return false;
        }
        self.set & MOUNT_ATTR_RDONLY != 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdmapKind {
    /// The mount itself only.
    Idmap,
    /// The mount and its submounts.
    Ridmap,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindKind {
    Bind,
    Rbind,
}

/// What one attribute option does.
enum Attr {
    Set(u64),
    Clear(u64),
    /// One value of the MOUNT_ATTR__ATIME field (an enum inside the flags, not a bit).
    Atime(u64),
}

fn attr(name: &str) -> Option<Attr> {
    use Attr::*;
    Some(match name {
        "ro" => Set(MOUNT_ATTR_RDONLY),
        "rw" => Clear(MOUNT_ATTR_RDONLY),
        "nosuid" => Set(MOUNT_ATTR_NOSUID),
        "suid" => Clear(MOUNT_ATTR_NOSUID),
        "nodev" => Set(MOUNT_ATTR_NODEV),
        "dev" => Clear(MOUNT_ATTR_NODEV),
        "noexec" => Set(MOUNT_ATTR_NOEXEC),
        "exec" => Clear(MOUNT_ATTR_NOEXEC),
        "nodiratime" => Set(MOUNT_ATTR_NODIRATIME),
        "diratime" => Clear(MOUNT_ATTR_NODIRATIME),
        "nosymfollow" => Set(MOUNT_ATTR_NOSYMFOLLOW),
        "symfollow" => Clear(MOUNT_ATTR_NOSYMFOLLOW),
        "relatime" | "atime" | "nostrictatime" => Atime(MOUNT_ATTR_RELATIME),
        "norelatime" | "strictatime" => Atime(MOUNT_ATTR_STRICTATIME),
        "noatime" => Atime(MOUNT_ATTR_NOATIME),
        _ => return None,
    })
}

/// Accumulates attribute options; later options override earlier ones.
#[derive(Default)]
struct Attrs {
    set: u64,
    clear: u64,
    atime: Option<u64>,
}

impl Attrs {
    fn apply(&mut self, a: Attr) {
        match a {
            Attr::Set(b) => {
                self.set |= b;
                self.clear &= !b;
            }
            Attr::Clear(b) => {
                self.clear |= b;
                self.set &= !b;
            }
            Attr::Atime(v) => self.atime = Some(v),
        }
    }

    /// (set, clear) as mount_setattr wants them: changing the atime mode means clearing the
    /// whole __ATIME field and setting one value.
    fn finish(self) -> (u64, u64) {
        match self.atime {
            Some(v) => (self.set | v, self.clear | MOUNT_ATTR__ATIME),
            None => (self.set, self.clear),
        }
    }
}

fn propagation(name: &str) -> Option<(u64, bool)> {
    let (flag, rec) = match name {
        "private" => (libc::MS_PRIVATE, false),
        "rprivate" => (libc::MS_PRIVATE, true),
        "slave" => (libc::MS_SLAVE, false),
        "rslave" => (libc::MS_SLAVE, true),
        "shared" => (libc::MS_SHARED, false),
        "rshared" => (libc::MS_SHARED, true),
        "unbindable" => (libc::MS_UNBINDABLE, false),
        "runbindable" => (libc::MS_UNBINDABLE, true),
        _ => return None,
    };
    Some((flag, rec))
}

/// Options that only make sense to the mount(8) command or are no-ops here.
const IGNORED: &[&str] =
    &["defaults", "remount", "async", "loud", "auto", "noauto", "user", "nouser", "_netdev"];

/// Options we know and deliberately do not implement: they fail clearly instead of being
/// silently dropped.
const UNSUPPORTED: &[&str] = &["tmpcopyup", "copy-symlink", "src-nofollow", "dest-nofollow"];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("mount option {0:?} is not supported")]
pub struct UnsupportedOption(pub String);

pub fn parse(options: &[String]) -> Result<MountOpts, UnsupportedOption> {
    let mut o = MountOpts::default();
    let (mut own, mut rec) = (Attrs::default(), Attrs::default());
    for opt in options {
        let name = opt.as_str();
        if let Some(a) = attr(name) {
            own.apply(a);
        } else if let Some(a) = name.strip_prefix('r').and_then(attr) {
            rec.apply(a);
        } else if let Some(p) = propagation(name) {
            o.propagation = Some(p);
        } else if name == "bind" {
            o.bind = Some(BindKind::Bind);
        } else if name == "rbind" {
            o.bind = Some(BindKind::Rbind);
        } else if name == "idmap" {
            o.idmap = Some(IdmapKind::Idmap);
        } else if name == "ridmap" {
            o.idmap = Some(IdmapKind::Ridmap);
        } else if IGNORED.contains(&name) {
            continue;
        } else if UNSUPPORTED.contains(&name) {
            return Err(UnsupportedOption(opt.clone()));
        } else {
            match opt.split_once('=') {
                Some((k, v)) => o.data.push((k.to_string(), Some(v.to_string()))),
                None => o.data.push((opt.clone(), None)),
            }
        }
    }
    (o.set, o.clear) = own.finish();
    (o.rec_set, o.rec_clear) = rec.finish();
    Ok(o)
}

/// Every option name `parse` understands, for `scutum features`.
pub fn known_options() -> Vec<String> {
    let attrs = [
        "ro",
        "rw",
        "nosuid",
        "suid",
        "nodev",
        "dev",
        "noexec",
        "exec",
        "nodiratime",
        "diratime",
        "nosymfollow",
        "symfollow",
        "relatime",
        "atime",
        "nostrictatime",
        "norelatime",
        "strictatime",
        "noatime",
    ];
    let props = ["private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable"];
    let mut v: Vec<String> = attrs.iter().map(|s| s.to_string()).collect();
    v.extend(attrs.iter().map(|s| format!("r{s}")));
    v.extend(props.iter().map(|s| s.to_string()));
    v.extend(["bind", "rbind", "idmap", "ridmap"].iter().map(|s| s.to_string()));
    v.extend(IGNORED.iter().map(|s| s.to_string()));
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(opts: &[&str]) -> MountOpts {
        parse(&opts.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn runc_spec_dev_mount() {
        let o = p(&["nosuid", "strictatime", "mode=755", "size=65536k"]);
        assert_eq!(o.set, MOUNT_ATTR_NOSUID | MOUNT_ATTR_STRICTATIME);
        assert_eq!(o.clear & MOUNT_ATTR__ATIME, MOUNT_ATTR__ATIME);
        assert_eq!(o.data, vec![("mode".into(), Some("755".into())), ("size".into(), Some("65536k".into()))]);
        assert_eq!(o.bind, None);
    }

    #[test]
    fn bind_ro_nosuid_nodev_noexec() {
        let o = p(&["rbind", "ro", "nosuid", "nodev", "noexec", "rprivate"]);
        assert_eq!(o.bind, Some(BindKind::Rbind));
        assert_eq!(o.set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
        assert_eq!(o.propagation, Some((libc::MS_PRIVATE, true)));
    }

    #[test]
    fn later_options_win() {
        let o = p(&["ro", "rw"]);
        assert_eq!(o.set & MOUNT_ATTR_RDONLY, 0);
        assert_eq!(o.clear & MOUNT_ATTR_RDONLY, MOUNT_ATTR_RDONLY);
        let o = p(&["noatime", "relatime"]);
        assert_eq!(o.set & MOUNT_ATTR__ATIME, MOUNT_ATTR_RELATIME);
    }

    #[test]
    fn recursive_read_only() {
        let o = p(&["rbind", "rro", "rnosuid"]);
        assert_eq!(o.rec_set, MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID);
        assert_eq!(o.set, 0);
    }

    /// Found by the fuzz targets' invariant that the policy judges what gets mounted: "any ro
    /// present" let `ro,rw` mount sysfs writable and `ro,rrw` bind the host's /usr writable.
    #[test]
    fn readonly_is_what_the_mount_ends_up_as() {
        for (opts, ro) in [
            (&[][..], false),
            (&["ro"], true),
            (&["rro"], true),
            (&["ro", "rw"], false),
            (&["rw", "ro"], true),
            (&["ro", "rrw"], false),
            (&["rrw", "ro"], false),
            (&["rro", "rw"], true),
            (&["rw", "rro", "rbind"], true),
        ] {
            assert_eq!(p(opts).readonly(), ro, "{opts:?}");
        }
    }

    #[test]
    fn unsupported_options_fail_clearly() {
        let e = parse(&["tmpcopyup".to_string()]).unwrap_err();
        assert_eq!(e.to_string(), "mount option \"tmpcopyup\" is not supported");
    }
}
