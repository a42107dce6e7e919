//! A classic-BPF evaluator for seccomp programs, and the kernel's rule for combining the
//! results of a filter stack. Used to order the stack's installation (a filter must not deny
//! the seccomp(2) call that installs the next one) and, in tests, to prove what the compiled
//! stack answers for a given syscall and arguments.

use seccompiler::sock_filter;

/// `struct seccomp_data` as a filter sees it.
#[derive(Clone, Copy, Debug)]
pub struct SeccompData {
    pub nr: i32,
    pub arch: u32,
    pub instruction_pointer: u64,
    pub args: [u64; 6],
}

impl SeccompData {
    pub fn new(arch: u32, nr: i64, args: [u64; 6]) -> Self {
        SeccompData { nr: nr as i32, arch, instruction_pointer: 0, args }
    }

    /// The 32-bit word at byte offset `off` (little-endian layout, as on x86_64 and aarch64).
    fn word(&self, off: u32) -> Option<u32> {
        match off {
            0 => Some(self.nr as u32),
            4 => Some(self.arch),
            8 => Some(self.instruction_pointer as u32),
            12 => Some((self.instruction_pointer >> 32) as u32),
            16..=60 if off % 4 == 0 => {
                let arg = self.args[((off - 16) / 8) as usize];
                Some(if off % 8 == 0 { arg as u32 } else { (arg >> 32) as u32 })
            }
            _ => None,
        }
    }
}

// Opcodes seccompiler and our own prefix emit (linux/bpf_common.h).
const LD_W_ABS: u16 = 0x20;
const ALU_AND_K: u16 = 0x54;
const JMP_JA: u16 = 0x05;
const JMP_JEQ_K: u16 = 0x15;
const JMP_JGT_K: u16 = 0x25;
const JMP_JGE_K: u16 = 0x35;
const JMP_JSET_K: u16 = 0x45;
const RET_K: u16 = 0x06;

/// Runs `prog` on `data` and returns its SECCOMP_RET_* value; `None` for a program this
/// evaluator does not understand (an unknown opcode, a load outside seccomp_data, a jump out
/// of the program or a fall off its end), which the kernel would have refused to load.
pub fn run(prog: &[sock_filter], data: &SeccompData) -> Option<u32> {
    let (mut a, mut pc) = (0u32, 0usize);
    // Classic BPF jumps only forward, so every step moves pc on: at most len steps.
    while let Some(ins) = prog.get(pc) {
        pc += 1;
        let cond = |taken: bool| if taken { ins.jt as usize } else { ins.jf as usize };
        match ins.code {
            LD_W_ABS => a = data.word(ins.k)?,
            ALU_AND_K => a &= ins.k,
            JMP_JA => pc += ins.k as usize,
            JMP_JEQ_K => pc += cond(a == ins.k),
            JMP_JGT_K => pc += cond(a > ins.k),
            JMP_JGE_K => pc += cond(a >= ins.k),
            JMP_JSET_K => pc += cond(a & ins.k != 0),
            RET_K => return Some(ins.k),
            _ => return None,
        }
    }
    None
}

#[cfg(test)]
/// The action part of a SECCOMP_RET_* value, ordered as the kernel orders it: a smaller value
/// is more restrictive (KILL_PROCESS, the only negative one, is the most restrictive).
fn action_rank(ret: u32) -> i32 {
    (ret & libc::SECCOMP_RET_ACTION_FULL) as i32
}

#[cfg(test)]
/// What the kernel answers for a stack of filters, given each filter's result in install
/// order: the most restrictive action wins; among equal actions, the result of the filter
/// installed last (evaluated first) wins, data included (kernel/seccomp.c, seccomp_run_filters).
pub fn combine(results_in_install_order: &[u32]) -> u32 {
    let mut ret = libc::SECCOMP_RET_ALLOW;
    for &cur in results_in_install_order.iter().rev() {
        if action_rank(cur) < action_rank(ret) {
            ret = cur;
        }
    }
    ret
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stmt(code: u16, k: u32) -> sock_filter {
        sock_filter { code, jt: 0, jf: 0, k }
    }
    fn jump(code: u16, k: u32, jt: u8, jf: u8) -> sock_filter {
        sock_filter { code, jt, jf, k }
    }

    #[test]
    fn evaluates_loads_jumps_and_masks() {
        // if (arg0.lo & 0xf0) == 0x30 return ERRNO(5) else return ALLOW
        let prog = [
            stmt(LD_W_ABS, 16),
            stmt(ALU_AND_K, 0xf0),
            jump(JMP_JEQ_K, 0x30, 0, 1),
            stmt(RET_K, libc::SECCOMP_RET_ERRNO | 5),
            stmt(RET_K, libc::SECCOMP_RET_ALLOW),
        ];
        let d = |a0| SeccompData::new(0, 1, [a0, 0, 0, 0, 0, 0]);
        assert_eq!(run(&prog, &d(0x3f)), Some(libc::SECCOMP_RET_ERRNO | 5));
        assert_eq!(run(&prog, &d(0x4f)), Some(libc::SECCOMP_RET_ALLOW));
        // The high word of arg0 lives at offset 20.
        let hi = [stmt(LD_W_ABS, 20), jump(JMP_JEQ_K, 0x1234, 0, 1), stmt(RET_K, 1), stmt(RET_K, 2)];
        assert_eq!(run(&hi, &d(0x1234_0000_0000)), Some(1));
        assert_eq!(run(&hi, &d(0x1234)), Some(2));
    }

    #[test]
    fn refuses_what_the_kernel_would_refuse() {
        assert_eq!(run(&[stmt(LD_W_ABS, 64), stmt(RET_K, 0)], &SeccompData::new(0, 0, [0; 6])), None);
        assert_eq!(run(&[stmt(JMP_JA, 5)], &SeccompData::new(0, 0, [0; 6])), None);
        assert_eq!(run(&[stmt(LD_W_ABS, 0)], &SeccompData::new(0, 0, [0; 6])), None);
    }

    #[test]
    fn combine_follows_kernel_precedence() {
        use libc::*;
        let errno = |e| SECCOMP_RET_ERRNO | e;
        assert_eq!(combine(&[]), SECCOMP_RET_ALLOW);
        assert_eq!(combine(&[SECCOMP_RET_ALLOW, SECCOMP_RET_LOG]), SECCOMP_RET_LOG);
        assert_eq!(combine(&[SECCOMP_RET_TRACE, SECCOMP_RET_LOG]), SECCOMP_RET_TRACE);
        assert_eq!(combine(&[SECCOMP_RET_USER_NOTIF, SECCOMP_RET_TRACE]), SECCOMP_RET_USER_NOTIF);
        assert_eq!(combine(&[errno(1), SECCOMP_RET_USER_NOTIF]), errno(1));
        assert_eq!(combine(&[errno(1), SECCOMP_RET_TRAP]), SECCOMP_RET_TRAP);
        assert_eq!(combine(&[SECCOMP_RET_KILL_THREAD, SECCOMP_RET_TRAP]), SECCOMP_RET_KILL_THREAD);
        assert_eq!(combine(&[SECCOMP_RET_KILL_THREAD, SECCOMP_RET_KILL_PROCESS]), SECCOMP_RET_KILL_PROCESS);
        // Equal actions: the filter installed last decides the data.
        assert_eq!(combine(&[errno(1), errno(13)]), errno(13));
        assert_eq!(combine(&[errno(13), errno(1)]), errno(1));
    }
}
