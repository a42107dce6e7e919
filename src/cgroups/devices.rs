//! Device access control on cgroup v2: a BPF_CGROUP_DEVICE program built from
//! `linux.resources.devices`. The kernel runs it on every open, mknod and access of a device
//! node by a process in the cgroup; it returns 1 to allow and 0 to deny (EPERM).
//!
//! The rules, in order: everything denied (the default, whatever the config says first); the
//! config's rules; mknod of the config's own `linux.devices` nodes (the init creates them, and
//! must be able to even when the config only allows reading them); the default devices every
//! container gets (null, zero, full, random, urandom, tty, ptmx, the pts slaves), appended last
//! as runc does, so no rule can take them away. Unlike runc, scutum does not allow mknod of
//! every device: with CAP_MKNOD and no user namespace, a container could otherwise create a
//! node for the host's disk and open it wherever another rule allowed that number.
//!
//! As in the cgroup v1 device controller, the last matching rule decides: an allow rule matches
//! when it grants every access asked for, a deny rule when it denies any of them.

use super::CgroupError;
use crate::sys::bpf::Insn;
use oci_spec::runtime::{LinuxDevice, LinuxDeviceCgroup, LinuxDeviceType};

/// Device type as the program sees it (BPF_DEVCG_DEV_*).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DevType {
    All,
    Block,
    Char,
}

impl DevType {
    fn bpf(self) -> Option<i32> {
        match self {
            DevType::All => None,
            DevType::Block => Some(1),
            DevType::Char => Some(2),
        }
    }
}

/// Access bits (BPF_DEVCG_ACC_*).
pub const MKNOD: u8 = 1;
pub const READ: u8 = 2;
pub const WRITE: u8 = 4;
pub const RWM: u8 = MKNOD | READ | WRITE;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub allow: bool,
    pub typ: DevType,
    /// `None`: any.
    pub major: Option<u32>,
    pub minor: Option<u32>,
    pub access: u8,
}

/// The devices every container may use: char major:minor (`None` = any minor).
pub const DEFAULT_ALLOWED: [(u32, Option<u32>); 8] = [
    (1, Some(3)), // null
    (1, Some(5)), // zero
    (1, Some(7)), // full
    (1, Some(8)), // random
    (1, Some(9)), // urandom
    (5, Some(0)), // tty
    (5, Some(2)), // ptmx
    (136, None),  // pts slaves
];

fn config_rule(i: usize, d: &LinuxDeviceCgroup) -> Result<Rule, CgroupError> {
    let field = format!("linux.resources.devices[{i}]");
    let typ = match d.typ().unwrap_or(LinuxDeviceType::A) {
        LinuxDeviceType::A => DevType::All,
        LinuxDeviceType::B => DevType::Block,
        LinuxDeviceType::C | LinuxDeviceType::U => DevType::Char,
        LinuxDeviceType::P => {
            return Err(CgroupError::config(
                format!("{field}.type"),
                "p (fifo) is not a device the cgroup controls",
            ))
        }
    };
    let num = |name: &str, v: Option<i64>| -> Result<Option<u32>, CgroupError> {
        match v {
            None | Some(-1) => Ok(None),
            Some(n) if (0..=u32::MAX as i64).contains(&n) => Ok(Some(n as u32)),
            Some(n) => {
                Err(CgroupError::config(format!("{field}.{name}"), format!("{n} is not a device number")))
            }
        }
    };
    let text = d.access().as_deref().unwrap_or("");
    if text.is_empty() {
        return Err(CgroupError::config(
            format!("{field}.access"),
            "is empty: say which of r, w and m the rule covers",
        ));
    }
    let mut access = 0;
    for c in text.chars() {
        access |= match c {
            'r' => READ,
            'w' => WRITE,
            'm' => MKNOD,
            _ => {
                return Err(CgroupError::config(
                    format!("{field}.access"),
                    format!("{text:?} is not made of r, w and m"),
                ))
            }
        };
    }
    Ok(Rule {
        allow: d.allow(),
        typ,
        major: num("major", d.major())?,
        minor: num("minor", d.minor())?,
        access,
    })
}

/// The full rule list (see the module doc), checked.
pub fn rules(config: &[LinuxDeviceCgroup], nodes: &[LinuxDevice]) -> Result<Vec<Rule>, CgroupError> {
    let mut out = vec![Rule { allow: false, typ: DevType::All, major: None, minor: None, access: RWM }];
    for (i, d) in config.iter().enumerate() {
        out.push(config_rule(i, d)?);
    }
    for d in nodes {
        let typ = match d.typ() {
            LinuxDeviceType::B => DevType::Block,
            LinuxDeviceType::C | LinuxDeviceType::U => DevType::Char,
            _ => continue,
        };
        let (major, minor) = (u32::try_from(d.major()).ok(), u32::try_from(d.minor()).ok());
        if major.is_some() && minor.is_some() {
            out.push(Rule { allow: true, typ, major, minor, access: MKNOD });
        }
    }
    for (major, minor) in DEFAULT_ALLOWED {
        out.push(Rule { allow: true, typ: DevType::Char, major: Some(major), minor, access: RWM });
    }
    Ok(out)
}

// eBPF opcodes used below (linux/bpf_common.h, linux/bpf.h).
const LDX_MEM_W: u8 = 0x61; // dst = *(u32 *)(src + off)
const ALU32_AND_K: u8 = 0x54; // (u32) dst &= imm
const ALU32_RSH_K: u8 = 0x74; // (u32) dst >>= imm
const ALU32_MOV_X: u8 = 0xbc; // (u32) dst = src
const ALU64_MOV_K: u8 = 0xb7; // dst = imm
const JMP32_JNE_K: u8 = 0x56; // if (u32) dst != imm goto pc + off
const JMP32_JEQ_K: u8 = 0x16; // if (u32) dst == imm goto pc + off
const JMP32_JNE_X: u8 = 0x5e; // if (u32) dst != (u32) src goto pc + off
const EXIT: u8 = 0x95;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn { code, regs: (src << 4) | dst, off, imm }
}

/// The program for `rules`: the last matching rule decides, nothing matching is denied.
///
/// Registers: r1 = `struct bpf_cgroup_dev_ctx *` { u32 access_type; u32 major; u32 minor; },
/// access_type = (access << 16) | type. r2 = type, r3 = access, r4 = major, r5 = minor; r1 is
/// reused as scratch once they are loaded.
pub fn program(rules: &[Rule]) -> Vec<Insn> {
    let mut p = vec![
        insn(LDX_MEM_W, 2, 1, 0, 0),
        insn(ALU32_AND_K, 2, 0, 0, 0xffff),
        insn(LDX_MEM_W, 3, 1, 0, 0),
        insn(ALU32_RSH_K, 3, 0, 0, 16),
        insn(LDX_MEM_W, 4, 1, 4, 0),
        insn(LDX_MEM_W, 5, 1, 8, 0),
    ];
    for r in rules.iter().rev() {
        // Jumps are written with a placeholder target, then pointed at the block's end.
        let mut block: Vec<Insn> = Vec::new();
        if let Some(t) = r.typ.bpf() {
            block.push(insn(JMP32_JNE_K, 2, 0, 0, t));
        }
        if r.access != RWM {
            block.push(insn(ALU32_MOV_X, 1, 3, 0, 0));
            block.push(insn(ALU32_AND_K, 1, 0, 0, r.access as i32));
            if r.allow {
                // Every access asked for must be granted: (asked & granted) == asked.
                block.push(insn(JMP32_JNE_X, 1, 3, 0, 0));
            } else {
                // Any access asked for that the rule denies: (asked & denied) != 0.
                block.push(insn(JMP32_JEQ_K, 1, 0, 0, 0));
            }
        }
        if let Some(m) = r.major {
            block.push(insn(JMP32_JNE_K, 4, 0, 0, m as i32));
        }
        if let Some(m) = r.minor {
            block.push(insn(JMP32_JNE_K, 5, 0, 0, m as i32));
        }
        block.push(insn(ALU64_MOV_K, 0, 0, 0, r.allow as i32));
        block.push(insn(EXIT, 0, 0, 0, 0));
        let len = block.len();
        let mut conditional = false;
        for (i, ins) in block.iter_mut().enumerate() {
            if ins.code & 0x07 == 0x06 {
                // Jump past this block: to index `len`, relative to the next instruction.
                ins.off = (len - i - 1) as i16;
                conditional = true;
            }
        }
        p.extend(block);
        if !conditional {
            // A rule that matches everything decides everything: what follows could never
            // run, and the verifier refuses unreachable instructions.
            return p;
        }
    }
    p.push(insn(ALU64_MOV_K, 0, 0, 0, 0));
    p.push(insn(EXIT, 0, 0, 0, 0));
    p
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// Runs the generated program on one access, the way the kernel would (only the opcodes
    /// `program` emits are implemented).
    fn run(p: &[Insn], typ: u32, access: u32, major: u32, minor: u32) -> u64 {
        let ctx = [(access << 16) | typ, major, minor];
        let mut r = [0u64; 11];
        let mut pc = 0usize;
        loop {
            let i = p[pc];
            let (dst, src) = ((i.regs & 0xf) as usize, (i.regs >> 4) as usize);
            pc += 1;
            match i.code {
                LDX_MEM_W => {
                    assert_eq!(src, 1, "loads only from the context");
                    r[dst] = ctx[i.off as usize / 4] as u64;
                }
                ALU32_AND_K => r[dst] = (r[dst] as u32 & i.imm as u32) as u64,
                ALU32_RSH_K => r[dst] = ((r[dst] as u32) >> i.imm) as u64,
                ALU32_MOV_X => r[dst] = r[src] as u32 as u64,
                ALU64_MOV_K => r[dst] = i.imm as i64 as u64,
                JMP32_JNE_K if r[dst] as u32 != i.imm as u32 => pc += i.off as usize,
                JMP32_JEQ_K if r[dst] as u32 == i.imm as u32 => pc += i.off as usize,
                JMP32_JNE_X if r[dst] as u32 != r[src] as u32 => pc += i.off as usize,
                JMP32_JNE_K | JMP32_JEQ_K | JMP32_JNE_X => {}
                EXIT => return r[0],
                c => panic!("unexpected opcode {c:#x}"),
            }
        }
    }

    const C: u32 = 2;
    const B: u32 = 1;

    fn prog(config: serde_json::Value, nodes: serde_json::Value) -> Vec<Insn> {
        let config: Vec<LinuxDeviceCgroup> = serde_json::from_value(config).unwrap();
        let nodes: Vec<LinuxDevice> = serde_json::from_value(nodes).unwrap();
        program(&rules(&config, &nodes).unwrap())
    }

    #[test]
    fn deny_all_still_allows_the_default_devices() {
        let p = prog(json!([{"allow": false, "access": "rwm"}]), json!([]));
        for (ma, mi) in [(1, 3), (1, 5), (1, 7), (1, 8), (1, 9), (5, 0), (5, 2), (136, 0), (136, 7)] {
            assert_eq!(run(&p, C, (READ | WRITE) as u32, ma, mi), 1, "{ma}:{mi}");
            assert_eq!(run(&p, C, MKNOD as u32, ma, mi), 1, "mknod {ma}:{mi}");
        }
        assert_eq!(run(&p, C, READ as u32, 1, 1), 0, "/dev/mem");
        assert_eq!(run(&p, B, READ as u32, 8, 0), 0, "a disk");
        assert_eq!(run(&p, B, MKNOD as u32, 8, 0), 0, "mknod of a disk");
        assert_eq!(run(&p, C, READ as u32, 5, 1), 0, "/dev/console is not a default");
    }

    #[test]
    fn no_config_rules_is_deny_all_plus_defaults() {
        let p = prog(json!([]), json!([]));
        assert_eq!(run(&p, C, READ as u32, 1, 3), 1);
        assert_eq!(run(&p, C, READ as u32, 10, 200), 0);
    }

    #[test]
    fn allows_need_to_cover_the_whole_access_and_later_rules_win() {
        let p = prog(
            json!([
                {"allow": false, "access": "rwm"},
                {"allow": true, "type": "b", "major": 254, "minor": 16, "access": "rw"},
                {"allow": true, "type": "c", "major": 10, "access": "r"},
                {"allow": false, "type": "c", "major": 10, "minor": 229, "access": "w"}
            ]),
            json!([]),
        );
        assert_eq!(run(&p, B, (READ | WRITE) as u32, 254, 16), 1);
        assert_eq!(run(&p, B, MKNOD as u32, 254, 16), 0, "m was not granted");
        assert_eq!(run(&p, B, READ as u32, 254, 17), 0);
        assert_eq!(run(&p, C, READ as u32, 254, 16), 0, "wrong type");
        assert_eq!(run(&p, C, READ as u32, 10, 200), 1, "wildcard minor");
        assert_eq!(run(&p, C, (READ | WRITE) as u32, 10, 200), 0, "r does not cover rw");
        assert_eq!(run(&p, C, READ as u32, 10, 229), 1, "the later deny is for w only");
        assert_eq!(run(&p, C, WRITE as u32, 10, 229), 0);
    }

    #[test]
    fn config_device_nodes_may_be_created_but_not_opened_without_a_rule() {
        let p = prog(
            json!([{"allow": false, "access": "rwm"}]),
            json!([{"path": "/dev/vdb", "type": "b", "major": 254, "minor": 16}]),
        );
        assert_eq!(run(&p, B, MKNOD as u32, 254, 16), 1);
        assert_eq!(run(&p, B, READ as u32, 254, 16), 0);
    }

    #[test]
    fn type_a_and_wildcards_match_everything() {
        let p = prog(json!([{"allow": true, "type": "a", "access": "rwm"}]), json!([]));
        assert_eq!(run(&p, B, (READ | WRITE | MKNOD) as u32, 8, 0), 1);
        let p = prog(
            json!([{"allow": true, "access": "rwm"}, {"allow": false, "type": "b", "access": "w"}]),
            json!([]),
        );
        assert_eq!(run(&p, B, READ as u32, 8, 0), 1);
        assert_eq!(run(&p, B, WRITE as u32, 8, 0), 0);
    }

    #[test]
    fn nothing_follows_a_rule_that_matches_everything() {
        let p = prog(json!([{"allow": true, "access": "rwm"}]), json!([]));
        let last_catch_all = p.iter().rposition(|i| i.code == EXIT).unwrap();
        assert_eq!(last_catch_all, p.len() - 1);
        // Evaluated last: the catch-all deny-all at the head of the list ends the program.
        let p = prog(json!([]), json!([]));
        assert_eq!(p[p.len() - 2], insn(ALU64_MOV_K, 0, 0, 0, 0));
        assert_eq!(p.iter().filter(|i| i.code == ALU64_MOV_K && i.imm == 0).count(), 1);
    }

    #[test]
    fn bad_rules_name_the_field() {
        let bad = |v: serde_json::Value| {
            let c: Vec<LinuxDeviceCgroup> = serde_json::from_value(v).unwrap();
            rules(&c, &[]).unwrap_err().to_string()
        };
        assert!(bad(json!([{"allow": true, "access": ""}])).contains("linux.resources.devices[0].access"));
        assert!(bad(json!([{"allow": true, "access": "rx"}])).contains("r, w and m"));
        assert!(bad(json!([{"access": "r"}, {"allow": true, "type": "p", "access": "r"}]))
            .contains("devices[1].type"));
        assert!(bad(json!([{"allow": true, "major": -7, "access": "r"}])).contains("devices[0].major"));
    }
}
