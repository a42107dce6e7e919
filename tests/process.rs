//! What the container's process gets: hostname, env, cwd, user and groups, rlimits,
//! capabilities, no_new_privs, a read-only root, masked paths, a console, hooks, fds.

mod common;
use common::*;
use serde_json::json;
use std::os::fd::AsFd;

/// Runs `script` in a fresh busybox container (runc semantics) and returns its stdout.
fn output_of(b: &Bundle) -> String {
    let r = Runtime::unconfined().run(&unique("proc"), b);
    assert_eq!(r.code, 0, "stderr: {}\nstdout: {}", r.stderr, r.stdout);
    r.stdout
}

#[test]
fn hostname_and_domainname_are_set() {
    let b = Bundle::sh("hostname; cat /proc/sys/kernel/domainname");
    b.edit(|c| {
        c["hostname"] = json!("box-1");
        c["domainname"] = json!("example.test");
    });
    assert_eq!(output_of(&b), "box-1\nexample.test\n");
}

#[test]
fn env_is_exactly_the_config_plus_home() {
    let b = Bundle::sh("env | sort");
    b.edit(|c| c["process"]["env"] = json!(["PATH=/bin", "FOO=bar baz", "EMPTY="]));
    assert_eq!(output_of(&b), "EMPTY=\nFOO=bar baz\nHOME=/root\nPATH=/bin\nPWD=/\nSHLVL=1\n");
}

#[test]
fn cwd_is_entered_and_created_when_missing() {
    let b = Bundle::sh("pwd");
    b.edit(|c| c["process"]["cwd"] = json!("/var/lib/app"));
    assert_eq!(output_of(&b), "/var/lib/app\n");
    assert!(b.rootfs().join("var/lib/app").is_dir());
}

#[test]
fn user_group_and_additional_groups() {
    let b = Bundle::sh("id -u; id -g; id -G; umask");
    b.edit(|c| {
        c["process"]["user"] = json!({"uid": 1000, "gid": 1000, "additionalGids": [5, 27], "umask": 63})
    });
    assert_eq!(output_of(&b), "1000\n1000\n1000 5 27\n0077\n");
}

#[test]
fn rlimits_are_applied() {
    let b = Bundle::sh("ulimit -n; ulimit -Hn; ulimit -c");
    b.edit(|c| {
        c["process"]["rlimits"] = json!([
            {"type": "RLIMIT_NOFILE", "soft": 123, "hard": 456},
            {"type": "RLIMIT_CORE", "soft": 0, "hard": 0}
        ])
    });
    assert_eq!(output_of(&b), "123\n456\n0\n");
}

fn cap_lines(b: &Bundle) -> String {
    b.edit(|c| {
        c["process"]["args"] = json!([
            "sh",
            "-c",
            "grep -E '^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs)' /proc/self/status"
        ])
    });
    output_of(b)
}

#[test]
fn capabilities_and_no_new_privs_reach_the_process() {
    // CHOWN = bit 0, KILL = bit 5, NET_BIND_SERVICE = bit 10.
    let caps = json!(["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]);
    let sets = json!({"bounding": caps, "effective": ["CAP_KILL"], "permitted": caps,
        "inheritable": ["CAP_KILL"], "ambient": ["CAP_KILL"]});
    // As root, execve gives the whole (bounded) permitted set back as effective: the bounding
    // set is what limits root.
    let b = Bundle::new();
    b.edit(|c| c["process"]["capabilities"] = sets.clone());
    assert_eq!(
        cap_lines(&b),
        "CapInh:\t0000000000000020\nCapPrm:\t0000000000000421\nCapEff:\t0000000000000421\n\
         CapBnd:\t0000000000000421\nCapAmb:\t0000000000000020\nNoNewPrivs:\t1\n"
    );
    // A non-root user keeps exactly its ambient capabilities across execve.
    let b = Bundle::new();
    b.edit(|c| {
        c["process"]["capabilities"] = sets;
        c["process"]["user"] = json!({"uid": 1000, "gid": 1000});
        c["process"]["noNewPrivileges"] = json!(false);
    });
    assert_eq!(
        cap_lines(&b),
        "CapInh:\t0000000000000020\nCapPrm:\t0000000000000020\nCapEff:\t0000000000000020\n\
         CapBnd:\t0000000000000421\nCapAmb:\t0000000000000020\nNoNewPrivs:\t0\n"
    );
}

#[test]
fn a_read_only_root_refuses_writes_with_erofs() {
    let b = Bundle::sh("touch /newfile 2>&1; echo rc=$?; touch /dev/shm/ok && echo shm-writable");
    let out = output_of(&b);
    assert!(out.contains("Read-only file system"), "{out}");
    assert!(out.contains("rc=1") && out.contains("shm-writable"), "{out}");
    assert!(!b.rootfs().join("newfile").exists());
}

#[test]
fn masked_paths_read_empty_and_readonly_paths_refuse_writes() {
    // /proc/kcore does not exist on every kernel; where it does, it must read empty too.
    let b = Bundle::sh(
        "cat /proc/keys | wc -c; [ ! -e /proc/kcore ] || cat /proc/kcore | wc -c; ls /sys/firmware | wc -l; \
         echo 1 > /proc/sysrq-trigger 2>/dev/null; echo rc=$?",
    );
    let out = output_of(&b);
    assert!(out == "0\n0\nrc=1\n" || out == "0\n0\n0\nrc=1\n", "{out}");
    assert!(!std::fs::read_to_string("/proc/keys").unwrap().is_empty(), "the host's /proc/keys is not empty");
}

#[test]
fn the_container_has_only_stdio_and_preserved_fds() {
    // ls itself opens the directory it lists, as the next free fd.
    let b = Bundle::sh("ls /proc/self/fd | sort -n | tr '\\n' ' '");
    assert_eq!(output_of(&b), "0 1 2 3 ");

    // With --preserve-fds 1, the caller's fd 3 reaches the container and nothing else does.
    let b = Bundle::sh("head -c 20 <&3; echo; ls /proc/self/fd | sort -n | tr '\\n' ' '");
    let rt = Runtime::unconfined();
    let script = format!(
        "exec 3<'{}'; exec '{}' --root '{}' --policy unconfined run --preserve-fds 1 --bundle '{}' '{}'",
        b.path().join("config.json").display(),
        scutum(),
        rt.root.path().display(),
        b.path().display(),
        unique("fds")
    );
    let out = std::process::Command::new("/bin/sh").arg("-c").arg(script).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("{"), "fd 3 did not carry the file: {text}");
    assert!(text.ends_with("0 1 2 3 4 "), "{text}");
}

#[test]
fn a_user_namespace_config_maps_root() {
    let b = Bundle::sh("cat /proc/self/uid_map; id -u");
    b.edit(|c| {
        c["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
        c["linux"]["uidMappings"] = json!([{"containerID": 0, "hostID": 200000, "size": 65536}]);
        c["linux"]["gidMappings"] = json!([{"containerID": 0, "hostID": 200000, "size": 65536}]);
    });
    let out = output_of(&b);
    let fields: Vec<&str> = out.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(fields, ["0", "200000", "65536"]);
    assert!(out.ends_with("0\n"));
}

#[test]
fn console_socket_receives_exactly_one_pty_fd() {
    let rt = Runtime::unconfined();
    let b = Bundle::sh("echo on-the-tty; sleep 100");
    b.edit(|c| c["process"]["terminal"] = json!(true));
    let sock_path = b.path().join("console.sock");
    let listener = std::os::unix::net::UnixListener::bind(&sock_path).unwrap();
    let id = unique("tty");
    let receiver = std::thread::spawn(move || {
        let (conn, _) = listener.accept().unwrap();
        let mut buf = [0u8; 64];
        scutum::sys::socket::recv_with_fds(conn.as_fd(), &mut buf, 4).unwrap()
    });
    rt.create(&id, &b, &["--console-socket", sock_path.to_str().unwrap()]).ok();
    let (_, fds) = receiver.join().unwrap();
    assert_eq!(fds.len(), 1, "expected exactly one fd");
    let st = scutum::sys::fs::fstat(fds[0].as_fd()).unwrap();
    assert_eq!(st.st_mode & libc::S_IFMT, libc::S_IFCHR);
    assert!(scutum::sys::tty::is_tty(fds[0].as_fd()), "the fd is not a terminal");
    assert_eq!(libc::major(st.st_rdev), 5, "not a ptmx master");
    rt.cmd(&["start", &id]).ok();
    let mut buf = [0u8; 64];
    let n = scutum::sys::fs::read(fds[0].as_fd(), &mut buf).unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).contains("on-the-tty"));
    rt.cmd(&["delete", "--force", &id]).ok();
}

#[test]
fn terminal_without_console_socket_is_refused_on_create() {
    let rt = Runtime::unconfined();
    let b = Bundle::sh("true");
    b.edit(|c| c["process"]["terminal"] = json!(true));
    rt.create(&unique("notty"), &b, &[]).fails_with("console-socket");
    assert!(rt.ids().is_empty());
}

#[test]
fn hooks_run_in_order_with_the_state_on_stdin() {
    let rt = Runtime::unconfined();
    let b = Bundle::sh("true");
    let log_dir = TempDir::new("hooklog");
    let log = log_dir.path().join("log");
    // Runtime-namespace hooks write to the host path; container-namespace hooks after
    // pivot_root write through a bind mount of the same directory.
    let host_hook = |name: &str| json!({"path": "/bin/sh", "args": ["sh", "-c", format!("read -r s; echo \"{name} $s\" >> {}", log.display())]});
    let start_hook = json!({"path": "/bin/sh", "args": ["sh", "-c", "read -r s; echo \"startContainer $s\" >> /hooklog/log"]});
    b.edit(|c| {
        c["hooks"] = json!({
            "prestart": [host_hook("prestart")],
            "createRuntime": [host_hook("createRuntime")],
            "createContainer": [host_hook("createContainer")],
            "startContainer": [start_hook],
            "poststart": [host_hook("poststart")],
            "poststop": [host_hook("poststop")],
        });
        c["mounts"].as_array_mut().unwrap().push(json!({"destination": "/hooklog", "type": "bind",
            "source": log_dir.path(), "options": ["rbind", "rw"]}));
    });
    let id = unique("hooks");
    rt.create(&id, &b, &[]).ok();
    rt.cmd(&["start", &id]).ok();
    rt.wait_status(&id, "stopped");
    rt.cmd(&["delete", &id]).ok();
    let text = std::fs::read_to_string(&log).unwrap();
    let names: Vec<&str> = text.lines().map(|l| l.split(' ').next().unwrap()).collect();
    assert_eq!(
        names,
        ["prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop"]
    );
    for line in text.lines() {
        let state: serde_json::Value = serde_json::from_str(line.split_once(' ').unwrap().1).unwrap();
        assert_eq!(state["id"], id.as_str(), "{line}");
        assert!(state["pid"].as_i64().unwrap() > 0, "{line}");
    }
}

#[test]
fn a_failing_create_hook_fails_create_and_cleans_up() {
    let rt = Runtime::unconfined();
    let b = Bundle::sh("true");
    b.edit(|c| {
        c["hooks"] =
            json!({"createRuntime": [{"path": "/bin/sh", "args": ["sh", "-c", "echo nope >&2; exit 4"]}]})
    });
    let before = host_snapshot();
    let id = unique("badhook");
    rt.create(&id, &b, &[]).fails_with("createRuntime hook /bin/sh: exit status: 4, output: nope");
    assert!(rt.ids().is_empty());
    assert_eq!(host_snapshot(), before);
    assert!(processes_with(&id).is_empty());
}

#[test]
fn idmapped_bind_mounts_map_file_owners() {
    let vol = TempDir::new("idmap");
    std::fs::write(vol.path().join("rootfile"), "x").unwrap();
    std::os::unix::fs::chown(vol.path().join("rootfile"), Some(0), Some(0)).unwrap();
    // Without a user namespace: host uid 0 on disk shows as 3000.
    let b = Bundle::sh("stat -c '%u:%g' /vol/rootfile");
    b.edit(|c| {
        c["mounts"].as_array_mut().unwrap().push(
            json!({"destination": "/vol", "type": "bind", "source": vol.path(),
            "options": ["rbind", "idmap"],
            "uidMappings": [{"containerID": 0, "hostID": 3000, "size": 1000}],
            "gidMappings": [{"containerID": 0, "hostID": 4000, "size": 1000}]}),
        )
    });
    assert_eq!(output_of(&b), "3000:4000\n");
    // The Kubernetes case: the mount maps through the same range as the container's user
    // namespace, so files the host's root owns are the container root's.
    let b = Bundle::sh("stat -c '%u:%g' /vol/rootfile; touch /vol/made-inside");
    // The rootfs is not idmapped here: its mount point must exist, container root cannot
    // create it in a directory the host's root owns.
    std::fs::create_dir(b.rootfs().join("vol")).unwrap();
    let map = json!([{"containerID": 0, "hostID": 300000, "size": 65536}]);
    b.edit(|c| {
        c["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
        c["linux"]["uidMappings"] = map.clone();
        c["linux"]["gidMappings"] = map.clone();
        c["mounts"]
            .as_array_mut()
            .unwrap()
            .push(json!({"destination": "/vol", "type": "bind", "source": vol.path(),
            "options": ["rbind", "idmap"], "uidMappings": map, "gidMappings": map}))
    });
    assert_eq!(output_of(&b), "0:0\n");
    let meta = std::fs::metadata(vol.path().join("made-inside")).unwrap();
    assert_eq!(std::os::unix::fs::MetadataExt::uid(&meta), 0, "written through the idmap as host root's");
    let f = Runtime::new().cmd(&["features"]).ok().stdout;
    let v: serde_json::Value = serde_json::from_str(&f).unwrap();
    assert_eq!(v["linux"]["mountExtensions"]["idmap"]["enabled"], true);
}

/// Namespaces of a running "sandbox" container, joined by path as a Kubernetes pod's
/// containers join the pause container's.
#[test]
fn namespaces_can_be_joined_by_path() {
    let rt = Runtime::unconfined();
    let sandbox = Bundle::sh("sleep 100");
    sandbox.edit(|c| c["hostname"] = json!("pod-1"));
    let sid = unique("sandbox");
    rt.create(&sid, &sandbox, &[]).ok();
    rt.cmd(&["start", &sid]).ok();
    let spid = rt.state(&sid)["pid"].as_i64().unwrap();
    let ns = |t: &str| format!("/proc/{spid}/ns/{t}");
    // Direct path: no new user namespace, joins done by the init itself.
    let b = Bundle::sh("hostname; for t in net uts ipc; do readlink /proc/self/ns/$t; done");
    b.edit(|c| {
        for n in c["linux"]["namespaces"].as_array_mut().unwrap() {
            let t = n["type"].as_str().unwrap().to_string();
            let file = match t.as_str() {
                "network" => "net",
                "uts" => "uts",
                "ipc" => "ipc",
                _ => continue,
            };
            n["path"] = json!(ns(file));
        }
        c.as_object_mut().unwrap().remove("hostname");
    });
    let out = output_of(&b);
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("pod-1"));
    for t in ["net", "uts", "ipc"] {
        assert_eq!(lines.next().unwrap(), std::fs::read_link(ns(t)).unwrap().to_str().unwrap(), "{t}");
    }
    // Under the default policy the joiner gets a user namespace of its own while joining the
    // sandbox's network, ipc and uts namespaces, which the host's user namespace owns: the
    // init cannot mount sysfs or mqueue for them, so the runtime makes those on the host side.
    let b = Bundle::sh("for t in net ipc; do readlink /proc/self/ns/$t; done; cat /proc/self/uid_map; ls /sys/class/net | sort | tr '\\n' ' '");
    b.edit(|c| {
        for n in c["linux"]["namespaces"].as_array_mut().unwrap() {
            match n["type"].as_str().unwrap() {
                "network" => n["path"] = json!(ns("net")),
                "ipc" => n["path"] = json!(ns("ipc")),
                "uts" => n["path"] = json!(ns("uts")),
                _ => {}
            }
        }
        c.as_object_mut().unwrap().remove("hostname");
    });
    let r = Runtime::new().run(&unique("joined"), &b);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0], std::fs::read_link(ns("net")).unwrap().to_str().unwrap());
    assert_eq!(lines[1], std::fs::read_link(ns("ipc")).unwrap().to_str().unwrap());
    assert_ne!(lines[2].split_whitespace().nth(1), Some("0"), "no user namespace of its own: {}", r.stdout);
    assert_eq!(lines[3].trim(), "lo", "sysfs must show the joined network namespace's devices");
    rt.cmd(&["delete", "--force", &sid]).ok();
}

#[test]
fn a_time_namespace_and_oom_score_adj() {
    let b = Bundle::sh("readlink /proc/self/ns/time; cat /proc/self/oom_score_adj");
    b.edit(|c| {
        c["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "time"}));
        c["process"]["oomScoreAdj"] = json!(500);
    });
    let out = output_of(&b);
    let mut lines = out.lines();
    assert_ne!(lines.next().unwrap(), std::fs::read_link("/proc/self/ns/time").unwrap().to_str().unwrap());
    assert_eq!(lines.next(), Some("500"));
}

#[test]
fn a_pod_user_namespace_is_joined_with_the_rest() {
    // Kubernetes with user namespaces: the sandbox has one, its containers join it by path
    // along with its network namespace (the bootstrap path: the user namespace is joined first).
    let rt = Runtime::unconfined();
    let sandbox = Bundle::sh("sleep 100");
    let map = json!([{"containerID": 0, "hostID": 500000, "size": 65536}]);
    sandbox.edit(|c| {
        c["linux"]["namespaces"].as_array_mut().unwrap().push(json!({"type": "user"}));
        c["linux"]["uidMappings"] = map.clone();
        c["linux"]["gidMappings"] = map.clone();
    });
    let sid = unique("usersandbox");
    rt.create(&sid, &sandbox, &[]).ok();
    rt.cmd(&["start", &sid]).ok();
    let spid = rt.state(&sid)["pid"].as_i64().unwrap();
    let ns = |t: &str| format!("/proc/{spid}/ns/{t}");
    let b = Bundle::sh("cat /proc/self/uid_map; readlink /proc/self/ns/net; ls /sys/class/net");
    b.edit(|c| {
        let list = c["linux"]["namespaces"].as_array_mut().unwrap();
        for n in list.iter_mut() {
            if n["type"] == "network" {
                n["path"] = json!(ns("net"));
            }
        }
        list.push(json!({"type": "user", "path": ns("user")}));
    });
    let r = rt.run(&unique("userjoin"), &b);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines[0].split_whitespace().collect::<Vec<_>>(), ["0", "500000", "65536"]);
    assert_eq!(lines[1], std::fs::read_link(ns("net")).unwrap().to_str().unwrap());
    rt.cmd(&["delete", "--force", &sid]).ok();
}
