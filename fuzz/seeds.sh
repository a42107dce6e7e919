#!/usr/bin/env bash
# Writes the seed inputs of every fuzz target into fuzz/corpus/<target>/seed-*: configs from
# `scutum spec` and `runc spec`, the test fixtures, the default seccomp profile, a real
# state.json from a container scutum created, policy files, and hand-written hostile inputs.
# Run as root from anywhere, after `cargo build`; rerunning overwrites the seeds and leaves
# every other corpus entry (what the fuzzers found) alone.
set -euo pipefail
cd "$(dirname "$0")/.."
scutum=${SCUTUM:-target/debug/scutum}
c=fuzz/corpus
mkdir -p $c/config $c/seccomp $c/state $c/policy_file
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# --- config
$scutum spec --bundle "$tmp" && mv "$tmp/config.json" $c/config/seed-scutum-spec.json
$scutum spec --rootless --bundle "$tmp" && mv "$tmp/config.json" $c/config/seed-scutum-spec-rootless.json
if command -v runc >/dev/null; then
    (cd "$tmp" && runc spec && mv config.json runc-spec.json && runc spec --rootless)
    mv "$tmp/runc-spec.json" $c/config/seed-runc-spec.json
    mv "$tmp/config.json" $c/config/seed-runc-spec-rootless.json
fi
for f in tests/fixtures/*.json; do cp "$f" "$c/config/seed-fixture-$(basename "$f")"; done
python3 - "$c" <<'EOF'
import json, sys
c = sys.argv[1]
base = json.load(open(f"{c}/config/seed-scutum-spec.json"))
def w(name, data):
    if isinstance(data, (dict, list)):
        data = json.dumps(data, indent=1).encode()
    elif isinstance(data, str):
        data = data.encode()
    open(f"{c}/config/seed-{name}", "wb").write(data)
def variant(name, f):
    v = json.loads(json.dumps(base)); f(v); w(name, v)
# Everything the refusal rules look for, in one config.
def privileged(v):
    caps = v["process"]["capabilities"]
    for s in ("bounding", "effective", "permitted", "inheritable", "ambient"):
        caps[s] = caps.get("bounding", []) + ["CAP_SYS_ADMIN", "CAP_SYS_MODULE", "CAP_BPF"]
    v["linux"]["namespaces"] = [{"type": "mount"}, {"type": "pid", "path": "/proc/1/ns/pid"},
                                {"type": "network", "path": "/proc/self/ns/net"}, {"type": "user", "path": "/proc/1/ns/user"}]
    v["mounts"] += [{"destination": "/host", "type": "bind", "source": "/", "options": ["rbind", "rw"]},
                    {"destination": "/sys", "type": "sysfs", "source": "sysfs", "options": ["rw"]},
                    {"destination": "/var/run/docker.sock", "type": "bind", "source": "/var/run/docker.sock", "options": ["bind"]},
                    {"destination": "/p2", "type": "proc", "source": "proc"}]
    v["linux"]["sysctl"] = {"kernel.core_pattern": "|/evil", "net.ipv4.ip_forward": "1"}
    v["linux"]["maskedPaths"] = []
    v["linux"]["readonlyPaths"] = []
    v["linux"]["rootfsPropagation"] = "shared"
    v["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ALLOW"}
    v["linux"]["resources"] = {"devices": [{"allow": True, "access": "rwm"}]}
    v["linux"]["devices"] = [{"path": "/dev/mem", "type": "c", "major": 1, "minor": 1}]
    v["process"]["cwd"] = "/proc/self/cwd"
    v["hooks"] = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "id"]}]}
    v["annotations"] = {"io.scutum.policy": "unconfined"}
variant("privileged.json", privileged)
variant("annotation-hardened.json", lambda v: v.update(annotations={"io.scutum.policy": "hardened"}))
variant("annotation-baseline.json", lambda v: v.update(annotations={"io.scutum.policy": "baseline"}))
def userns(v):
    v["linux"]["namespaces"].append({"type": "user"})
    v["linux"]["uidMappings"] = [{"containerID": 0, "hostID": 0, "size": 4294967295}]
    v["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000, "size": 65536}]
variant("userns-hostid0.json", userns)
def resources(v):
    v["linux"]["resources"] = {"memory": {"limit": 18446744073709551615, "swap": -1},
        "cpu": {"shares": 0, "quota": -9223372036854775808, "period": 18446744073709551615, "cpus": "0-1000000"},
        "pids": {"limit": -1}, "unified": {"memory.max": "max", "../../x": "1"},
        "blockIO": {"weight": 65535}, "hugepageLimits": [{"pageSize": "2MB", "limit": 1}]}
    v["process"]["rlimits"] = [{"type": "RLIMIT_NOFILE", "hard": 18446744073709551615, "soft": 18446744073709551615}]
    v["process"]["oomScoreAdj"] = -2147483648
variant("resources-extremes.json", resources)
def seccomp(v):
    v["linux"]["seccomp"] = {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 38, "flags": ["SECCOMP_FILTER_FLAG_LOG"],
        "syscalls": [{"names": ["read", "write", "exit_group"], "action": "SCMP_ACT_ALLOW"},
                     {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}]},
                     {"names": ["mkdir"], "action": "SCMP_ACT_KILL_PROCESS"}]}
variant("custom-seccomp.json", seccomp)
def paths(v):
    v["mounts"].append({"destination": "/a/../../../etc", "type": "bind", "source": "/tmp/../etc", "options": ["bind", "ro"]})
    v["mounts"].append({"destination": "/dev/shm\nSCU-FAKE", "type": "tmpfs", "source": "shm"})
    v["root"]["path"] = "../../../"
    v["process"]["env"].append("LD_PRELOAD=/proc/self/fd/3")
    v["hostname"] = "x\u0000y"
variant("path-tricks.json", paths)
deep = '{"ociVersion":"1.2.0","annotations":{"a":"' + "x" * 100 + '","b":' + "[" * 200 + "]" * 200 + "}}"
w("deep-annotation.json", deep)
w("invalid-utf8.json", b'{"ociVersion":"1.2.0","hostname":"\xff\xfe\xc3","root":{"path":"rootfs"}}')
w("huge-numbers.json", '{"ociVersion":"1.2.0","process":{"user":{"uid":1e999,"gid":-1},"args":["sh"],"cwd":"/"},'
  '"root":{"path":"rootfs"},"linux":{"namespaces":[{"type":"mount"}]}}')
w("duplicate-keys.json", '{"ociVersion":"1.2.0","root":{"path":"a"},"root":{"path":"b"}}')
w("empty", "")
w("whitespace", " \n\t ")
w("null.json", "null")
w("array.json", "[]")
w("bom.json", b"\xef\xbb\xbf{}")
w("minimal.json", {"ociVersion": "1.2.0", "root": {"path": "rootfs"},
    "process": {"user": {"uid": 0, "gid": 0}, "args": ["sh"], "cwd": "/"},
    "linux": {"namespaces": [{"type": "mount"}]}})

# --- seccomp
w_s = lambda n, d: open(f"{c}/seccomp/seed-{n}", "wb").write(json.dumps(d, indent=1).encode() if not isinstance(d, bytes) else d)
w_s("errno-no-rules.json", {"defaultAction": "SCMP_ACT_ERRNO"})
w_s("allow-denylist.json", {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["seccomp", "mkdir"], "action": "SCMP_ACT_ERRNO", "errnoRet": 13},
    {"names": ["chmod"], "action": "SCMP_ACT_ERRNO"},
    {"names": ["ptrace"], "action": "SCMP_ACT_KILL"},
    {"names": ["bpf"], "action": "SCMP_ACT_TRAP"},
    {"names": ["getpid"], "action": "SCMP_ACT_LOG"},
    {"names": ["kill"], "action": "SCMP_ACT_TRACE", "errnoRet": 7}]})
w_s("args.json", {"defaultAction": "SCMP_ACT_KILL_PROCESS", "defaultErrnoRet": None, "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    "flags": ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_SPEC_ALLOW"], "syscalls": [
    {"names": ["read", "write", "no_such_syscall"], "action": "SCMP_ACT_ALLOW"},
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 0, "op": "SCMP_CMP_EQ"}]},
    {"names": ["clone"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 0, "value": 2114060288, "valueTwo": 0, "op": "SCMP_CMP_MASKED_EQ"}]},
    {"names": ["socket"], "action": "SCMP_ACT_ERRNO", "errnoRet": 97, "args": [{"index": 0, "value": 38, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 5, "op": "SCMP_CMP_GE"}]},
    {"names": ["mmap"], "action": "SCMP_ACT_ALLOW", "args": [{"index": 5, "value": 18446744073709551615, "op": "SCMP_CMP_LE"}, {"index": 2, "value": 4, "op": "SCMP_CMP_NE"}, {"index": 1, "value": 1, "op": "SCMP_CMP_GT"}, {"index": 3, "value": 1, "op": "SCMP_CMP_LT"}]}]})
w_s("two-deny-seccomp.json", {"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [
    {"names": ["seccomp"], "action": "SCMP_ACT_ERRNO"}, {"names": ["seccomp"], "action": "SCMP_ACT_LOG"}]})
w_s("notify.json", {"defaultAction": "SCMP_ACT_ERRNO", "listenerPath": "/run/agent.sock", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]})
w_s("bad-index.json", {"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 5000, "syscalls": [
    {"names": ["write"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1, "args": [{"index": 6, "value": 0, "op": "SCMP_CMP_EQ"}]}]})
w_s("log-default.json", {"defaultAction": "SCMP_ACT_LOG", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 4095}]})
w_s("trace-default.json", {"defaultAction": "SCMP_ACT_TRACE", "defaultErrnoRet": 65535, "syscalls": []})
EOF
cp profiles/seccomp-default.json $c/seccomp/seed-default-profile.json

# --- state: a real one from a container scutum created, and variants of it
mkdir -p "$tmp/b/rootfs/bin" "$tmp/b/rootfs/proc" "$tmp/b/rootfs/dev" "$tmp/b/rootfs/tmp" "$tmp/b/rootfs/run" "$tmp/b/rootfs/var/tmp"
cp "$(command -v busybox)" "$tmp/b/rootfs/bin/"
ln -s busybox "$tmp/b/rootfs/bin/sh"
$scutum spec --bundle "$tmp/b"
python3 -c 'import json,sys; p=sys.argv[1]; v=json.load(open(p)); v["process"]["terminal"]=False; v["process"]["args"]=["sh","-c","true"]; json.dump(v,open(p,"w"))' "$tmp/b/config.json"
$scutum --root "$tmp/root" create --bundle "$tmp/b" fuzz
cp "$tmp/root/fuzz/state.json" $c/state/seed-created.json
$scutum --root "$tmp/root" delete --force fuzz
python3 - "$c" <<'EOF'
import json, sys
c = sys.argv[1]
s = json.load(open(f"{c}/state/seed-created.json"))
def w(name, data):
    open(f"{c}/state/seed-{name}", "wb").write(data if isinstance(data, bytes) else json.dumps(data).encode())
for st in ("creating", "running", "stopped", "paused"):
    w(f"{st}.json", dict(s, status=st))
w("full.json", dict(s, cgroup="/sys/fs/cgroup/scutum/fuzz", uidRange={"start": 2147483648, "size": 65536},
                    annotations={"a": "b", "\n": "\u0000"}, policy="unconfined", owner="root"))
w("minimal.json", {k: s[k] for k in ("ociVersion", "id", "status", "pid", "bundle", "rootfs", "created")})
w("other-id.json", dict(s, id="someone-else"))
w("negative-pid.json", dict(s, pid=-1, pidStart=18446744073709551615))
w("truncated.json", json.dumps(s).encode()[:40])
w("empty", b"")
EOF

# --- policy_file
python3 - "$c" <<'EOF'
import json, sys
c = sys.argv[1]
def w(name, data):
    open(f"{c}/policy_file/seed-{name}", "wb").write(data if isinstance(data, bytes) else json.dumps(data, indent=1).encode())
w("readme.json", {"preset": "hardened", "allowCapabilities": ["CAP_NET_ADMIN"], "allowBindSources": ["/srv/shared"],
    "uidPool": {"start": 2147483648, "size": 2147418112}, "tmpfs": {"/tmp": "256m", "/run": "64m", "/var/tmp": "64m"},
    "defaultPidsLimit": 4096, "hookAllowlist": ["/usr/bin/nvidia-container-runtime-hook"], "allowUnenforcedLimits": False})
for p in ("hardened", "baseline", "unconfined"):
    w(f"{p}.json", {"preset": p})
w("unknown-preset.json", {"preset": "paranoid"})
w("unknown-field.json", {"preset": "hardened", "refuse": False})
w("bad-cap.json", {"preset": "baseline", "allowCapabilities": ["CAP_SYS_ADMIN", "CAP_NOPE"]})
w("relative-bind.json", {"preset": "hardened", "allowBindSources": ["relative/path"]})
w("pool-overflow.json", {"preset": "hardened", "uidPool": {"start": 18446744073709551615, "size": 65536}})
w("pool-small.json", {"preset": "hardened", "uidPool": {"start": 1, "size": 65535}})
w("tmpfs-odd.json", {"preset": "hardened", "tmpfs": {"relative": "1m,exec", "/tmp": "", "/proc": "64m"}, "defaultPidsLimit": -1})
w("sys-admin.json", {"preset": "hardened", "allowCapabilities": ["CAP_SYS_ADMIN"], "allowBindSources": ["/"]})
w("empty", b"")
EOF
echo "seeds written: $(ls $c/*/seed-* | wc -l)"

# --- the libFuzzer dictionary: every key and short string of the seeds, plus JSON tokens
python3 - "$c" fuzz/oci.dict <<'PY'
import json, os, sys
c, out = sys.argv[1], sys.argv[2]
tokens = set()
def walk(v):
    if isinstance(v, dict):
        for k, x in v.items():
            tokens.add(k); walk(x)
    elif isinstance(v, list):
        for x in v: walk(x)
    elif isinstance(v, str) and len(v) <= 40:
        tokens.add(v)
for d in os.listdir(c):
    for f in os.listdir(f"{c}/{d}"):
        if f.startswith("seed-"):
            try: walk(json.load(open(f"{c}/{d}/{f}")))
            except Exception: pass
with open(out, "w") as o:
    o.write("# Generated by fuzz/seeds.sh: JSON keys and values of the seed corpora.\n")
    for t in sorted(tokens):
        if t and all(32 <= ord(ch) < 127 and ch not in '"\\' for ch in t):
            o.write('"\\"%s\\""\n' % t)
    for t in ['{', '}', '[', ']', ':', ',', 'true', 'false', 'null', '-1', '1e999',
              '18446744073709551616', '4294967296', '-9223372036854775809', '\\u0000', '\\ud800']:
        o.write('"%s"\n' % t.replace('\\', '\\\\'))
PY
