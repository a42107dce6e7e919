use crate::cli::{CreateArgs, GlobalArgs};
use crate::container::create::{self, Console, CreateOpts, Created};
use crate::container::validate_id;
use crate::error::{Error, Result};
use crate::spec;
use std::path::{Path, PathBuf};

pub fn run(g: &GlobalArgs, a: &CreateArgs) -> Result<i32> {
    let console = a.console_socket.as_deref().map_or(Console::None, |p| Console::Socket(absolute(p)));
    create_container(g, a, console)?;
    Ok(0)
}

/// Paths on the command line are relative to the caller's cwd, as with runc.
pub fn absolute(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        std::env::current_dir().map(|d| d.join(p)).unwrap_or_else(|_| p.to_path_buf())
    }
}

/// Checks --preserve-fds: every fd it names must be open, or one of our own fds could land in
/// the range and be handed to the container.
fn check_preserved(n: u32) -> Result<()> {
    for fd in 3..3 + n as i32 {
        if !Path::new(&format!("/proc/self/fd/{fd}")).exists() {
            return Err(Error::Usage(format!("--preserve-fds {n}: fd {fd} is not open")));
        }
    }
    Ok(())
}

/// Everything `create` and `run` share: id check, config load and validation, then create.
pub fn create_container(g: &GlobalArgs, a: &CreateArgs, console: Console) -> Result<Created> {
    validate_id(&a.id)?;
    check_preserved(a.preserve_fds)?;
    let bundle = absolute(&a.bundle);
    let spec = spec::load_bundle(&bundle)?;
    spec::validate(&spec)?;
    let opts = CreateOpts {
        root: &g.root,
        id: &a.id,
        bundle,
        pid_file: a.pid_file.as_deref().map(absolute),
        console,
        no_pivot: a.no_pivot,
        preserve_fds: a.preserve_fds,
        systemd_cgroup: g.systemd_cgroup,
        // Policy hook (DESIGN.md §4): the host policy decides whether limits this host cannot
        // enforce may be dropped; until the policy engine exists, they never are.
        allow_unenforced: false,
    };
    create::create(&opts, &spec)
}
