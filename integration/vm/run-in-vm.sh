#!/usr/bin/env bash
# Run a command inside a throw-away qemu VM with a cgroup-v2-only kernel.
#
#   integration/vm/run-in-vm.sh CMD [ARGS...]
#
# Boots the kernel prepared by integration/vm/prepare.sh (TCG, no KVM), runs
# CMD as root inside it and exits with CMD's exit status. CMD's stdout and
# stderr are streamed to this script's stdout and stderr; its stdin is
# /dev/null. Also usable as a cargo runner:
#
#   CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER=$PWD/integration/vm/run-in-vm.sh \
#       cargo test --test vm_selftest
#
# Shared with the guest at the same absolute paths (read-write, 9p): the
# project root, $CARGO_TARGET_DIR, CMD's directory (when CMD is an absolute
# path outside them), and the colon-separated $SCUTUM_VM_SHARES. The host's
# /usr is shared read-only. The working directory is kept when it lies in a
# share, else the job starts in /.
#
# Passed through to the job: RUST_*, SCUTUM_*, CARGO_MANIFEST_*, CARGO_PKG_*,
# CARGO_CRATE_NAME, CARGO_BIN_*, CARGO_TARGET_TMPDIR and the names listed in
# $SCUTUM_VM_PASS_ENV (space- or comma-separated).
#
# Settings (environment):
#   SCUTUM_VM_TIMEOUT       seconds before qemu is killed (default 600)
#   SCUTUM_VM_BOOT_TIMEOUT  seconds from qemu's start to the job's start
#                           after which the boot counts as hung (default 60)
#   SCUTUM_VM_BOOT_RETRIES  boots tried again after a hung boot (default 1)
#   SCUTUM_VM_CPUS          guest CPUs (default 2)
#   SCUTUM_VM_MEM           guest memory (default 1G)
#   SCUTUM_VM_SCRATCH_SIZE  ext4 scratch disk at /scratch (sparse; default 4G)
#   SCUTUM_VM_IODISK_SIZE   raw, unformatted disk for io.max (default 256M)
#   SCUTUM_VM_APPEND        extra kernel command-line arguments
#   SCUTUM_VM_QEMU_ARGS     extra qemu arguments (split at blanks)
#   SCUTUM_VM_VERBOSE=1     also stream the guest console to stderr
#   SCUTUM_VM_KEEP=1        keep the run directory (console log, ...)
#   SCUTUM_VM_CACHE         cache directory (default integration/vm/cache)
#
# Exit status: CMD's; 124 if the timeout killed the VM; 125 if the VM failed
# before CMD's status was known; 128+N if stopped by signal N (HUP,
# INT, TERM).
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
PROJECT_DIR=$(cd "$VM_DIR/../.." && pwd -P)
CACHE=${SCUTUM_VM_CACHE:-$VM_DIR/cache}
TIMEOUT=${SCUTUM_VM_TIMEOUT:-600}
CPUS=${SCUTUM_VM_CPUS:-2}
MEM=${SCUTUM_VM_MEM:-1G}
SCRATCH_SIZE=${SCUTUM_VM_SCRATCH_SIZE:-4G}
IODISK_SIZE=${SCUTUM_VM_IODISK_SIZE:-256M}

log() { printf 'run-in-vm: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 125
}

if (($# == 0)) || [[ $1 == -h || $1 == --help ]]; then
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
	exit 125
fi
BOOT_TIMEOUT=${SCUTUM_VM_BOOT_TIMEOUT:-60}
BOOT_RETRIES=${SCUTUM_VM_BOOT_RETRIES:-1}
for v in TIMEOUT BOOT_TIMEOUT BOOT_RETRIES; do
	[[ ${!v} =~ ^[0-9]+$ ]] || die "SCUTUM_VM_$v must be a whole number"
done

# ------------------------------------------------------------ boot artefacts
[[ -r $CACHE/vm.env ]] || die "the VM is not prepared: run integration/vm/prepare.sh"
declare -A vm=()
while IFS='=' read -r k v; do
	vm[$k]=$v
done <"$CACHE/vm.env"
KERNEL=$CACHE/${vm[kernel]:-}
INITRD=$CACHE/${vm[initrd]:-}
[[ -f $KERNEL && -f $INITRD ]] || die "missing kernel or initramfs: run integration/vm/prepare.sh"
if [[ $(sha256sum "$VM_DIR/guest/init" | cut -d' ' -f1) != "${vm[init_sha256]:-}" ]]; then
	die "guest/init changed since the initramfs was built: run integration/vm/prepare.sh"
fi
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing: run integration/vm/prepare.sh"

# ------------------------------------------------------------- run directory
RUN=$(mktemp -d "${TMPDIR:-/tmp}/scutum-vm.XXXXXX")
CTL=$RUN/ctl # shared with the guest as /.vm/ctl
mkdir "$CTL"
qpid='' readers=() interrupted=0
# shellcheck disable=SC2317 # called from traps
cleanup() {
	local p
	if [[ -n $qpid ]]; then
		kill -TERM "$qpid" 2>/dev/null || true
	fi
	for p in "${readers[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	if [[ ${SCUTUM_VM_KEEP:-0} == 1 ]]; then
		log "run directory kept: $RUN"
	else
		rm -rf "$RUN"
	fi
}
trap cleanup EXIT
# shellcheck disable=SC2317 # called from traps
on_signal() { # exit status to use
	interrupted=$1
	if [[ -n $qpid ]]; then
		kill -TERM "$qpid" 2>/dev/null || true
	fi
}
trap 'on_signal 129' HUP
trap 'on_signal 130' INT
trap 'on_signal 143' TERM

# ------------------------------------------------------------------- shares
is_under() { [[ $1 == "$2" || $1 == "$2"/* ]]; }
candidates=("$PROJECT_DIR")
if [[ -n ${CARGO_TARGET_DIR:-} ]]; then
	mkdir -p "$CARGO_TARGET_DIR"
	candidates+=("$(cd "$CARGO_TARGET_DIR" && pwd -P)")
fi
if [[ $1 == /* && -e $1 ]]; then
	candidates+=("$(cd "$(dirname "$1")" && pwd -P)")
fi
if [[ -n ${SCUTUM_VM_SHARES:-} ]]; then
	IFS=: read -r -a extra <<<"$SCUTUM_VM_SHARES"
	for p in "${extra[@]}"; do
		[[ -n $p ]] || continue
		[[ -d $p ]] || die "SCUTUM_VM_SHARES: not a directory: $p"
		candidates+=("$(cd "$p" && pwd -P)")
	done
fi
shares=()
while IFS= read -r p; do
	p=${p#* } # drop the length prefix used for sorting
	case $p in
	/usr | /usr/* | /bin | /bin/* | /sbin | /sbin/* | /lib | /lib/* | /lib64 | /lib64/*)
		continue # in the guest anyway, through the /usr share
		;;
	/ | /tmp | /run | /var | /etc | /scratch | /proc | /proc/* | /sys | /sys/* | /dev | /dev/* | /.vm | /.vm/*)
		log "warning: not sharing $p (the guest has its own); CMD and data must live in a subdirectory"
		continue
		;;
	*$'\n'*) die "cannot share a path containing a newline: $p" ;;
	esac
	nested=0
	for s in "${shares[@]}"; do
		is_under "$p" "$s" && nested=1
	done
	((nested)) || shares+=("$p")
done < <(for p in "${candidates[@]}"; do echo "${#p} $p"; done | sort -n -k1,1)

# shellcheck disable=SC2054 # commas belong to qemu options
qemu_shares=(
	-fsdev "local,id=fsusr,path=/usr,security_model=none,readonly=on"
	-device virtio-9p-pci,fsdev=fsusr,mount_tag=usr
	-fsdev "local,id=fsctl,path=${CTL//,/,,},security_model=none"
	-device virtio-9p-pci,fsdev=fsctl,mount_tag=ctl
)
: >"$CTL/shares.list"
for i in "${!shares[@]}"; do
	qemu_shares+=(
		-fsdev "local,id=fs$i,path=${shares[$i]//,/,,},security_model=none"
		-device "virtio-9p-pci,fsdev=fs$i,mount_tag=s$i"
	)
	printf 's%d rw %s\n' "$i" "${shares[$i]}" >>"$CTL/shares.list"
done

# ---------------------------------------------------------------------- job
quote() { # POSIX-sh single quoting
	local s=${1//\'/\'\\\'\'}
	printf "'%s'" "$s"
}
cwd=/
here=$(pwd -P)
for s in "${shares[@]}"; do
	is_under "$here" "$s" && cwd=$here
done
pass_extra=${SCUTUM_VM_PASS_ENV:-}
pass_extra=" ${pass_extra//,/ } "
{
	echo '# generated by run-in-vm.sh'
	while IFS= read -r name; do
		if [[ $name =~ ^(RUST_|SCUTUM_|CARGO_MANIFEST_|CARGO_PKG_|CARGO_BIN_) ||
			$name == CARGO_CRATE_NAME || $name == CARGO_TARGET_TMPDIR ||
			$pass_extra == *" $name "* ]]; then
			printf 'export %s=%s\n' "$name" "$(quote "${!name}")"
		fi
	done < <(compgen -e)
	echo '. /.vm/guest.env'
	printf 'cd %s || exit 125\n' "$(quote "$cwd")"
	printf 'exec'
	for a in "$@"; do
		printf ' %s' "$(quote "$a")"
	done
	echo
} >"$CTL/job.sh"
cp "$VM_DIR/guest/stage2" "$CTL/stage2"

# ------------------------------------------------------------------- qemu
append="console=ttyS0 quiet cgroup_no_v1=all panic=-1 ${SCUTUM_VM_APPEND:-}"
# shellcheck disable=SC2054 # commas belong to qemu options
qemu=(
	qemu-system-x86_64
	-machine q35 -accel tcg,thread=multi -cpu max -smp "$CPUS" -m "$MEM"
	-nodefaults -no-user-config -display none -monitor none -no-reboot -nic none
	-kernel "$KERNEL" -initrd "$INITRD" -append "$append"
	-chardev "file,id=con,path=$RUN/console" -serial chardev:con
	-device virtio-serial-pci,id=vser
	-chardev "file,id=gout,path=$RUN/stdout"
	-device virtserialport,bus=vser.0,chardev=gout,name=stdout
	-chardev "file,id=gerr,path=$RUN/stderr"
	-device virtserialport,bus=vser.0,chardev=gerr,name=stderr
	-drive "file=$RUN/scratch.img,if=none,id=dscratch,format=raw,cache=unsafe"
	-device virtio-blk-pci,drive=dscratch,serial=scutum-scratch
	-drive "file=$RUN/io.img,if=none,id=dio,format=raw,cache=unsafe"
	-device virtio-blk-pci,drive=dio,serial=scutum-io
	"${qemu_shares[@]}"
)
if [[ -n ${SCUTUM_VM_QEMU_ARGS:-} ]]; then
	read -r -a more <<<"$SCUTUM_VM_QEMU_ARGS"
	qemu+=("${more[@]}")
fi

# One boot: fresh disks, output FIFOs drained by readers, qemu under
# timeout. Sets qrc (qemu's or timeout's exit status) and hung=1 when the
# job had not started BOOT_TIMEOUT seconds after qemu did.
boot() {
	local f p deadline
	rm -f "$CTL/started" "$CTL/status" "$CTL/setup-error" "$RUN"/*.img
	truncate -s "$SCRATCH_SIZE" "$RUN/scratch.img"
	truncate -s "$IODISK_SIZE" "$RUN/io.img"

	mkfifo "$RUN/stdout" "$RUN/stderr" "$RUN/console"
	cat "$RUN/stdout" &
	readers+=($!)
	cat "$RUN/stderr" >&2 &
	readers+=($!)
	if [[ ${SCUTUM_VM_VERBOSE:-0} == 1 ]]; then
		tee "$RUN/console.log" <"$RUN/console" >&2 &
	else
		cat "$RUN/console" >"$RUN/console.log" &
	fi
	readers+=($!)

	timeout -k 10 "$TIMEOUT" "${qemu[@]}" </dev/null &
	qpid=$!
	hung=0
	deadline=$((SECONDS + BOOT_TIMEOUT))
	while [[ ! -e $CTL/started ]] && ((!interrupted)) && kill -0 "$qpid" 2>/dev/null; do
		if ((SECONDS >= deadline)); then
			hung=1
			kill -TERM "$qpid" 2>/dev/null || true
			break
		fi
		sleep 0.1
	done
	while :; do
		qrc=0
		wait "$qpid" || qrc=$?
		kill -0 "$qpid" 2>/dev/null || break
	done
	qpid=''

	# Unblock readers whose FIFO qemu never opened (qemu failed early), then
	# let them drain: opening and closing read-write never blocks.
	for f in stdout stderr console; do
		exec {fd}<>"$RUN/$f"
		exec {fd}>&-
	done
	for p in "${readers[@]}"; do
		wait "$p" || true
	done
	readers=()
	rm -f "$RUN/stdout" "$RUN/stderr" "$RUN/console"
}

console_tail() {
	if [[ ${SCUTUM_VM_VERBOSE:-0} != 1 && -s $RUN/console.log ]]; then
		log "last lines of the guest console:"
		tail -n 40 "$RUN/console.log" >&2
	fi
}

start=$(date +%s%N)
attempt=0
while :; do
	boot
	((hung && !interrupted && attempt < BOOT_RETRIES)) || break
	attempt=$((attempt + 1))
	log "warning: the VM did not start the job within ${BOOT_TIMEOUT} s (SCUTUM_VM_BOOT_TIMEOUT); booting again ($attempt/$BOOT_RETRIES)"
	console_tail
done
elapsed_ms=$((($(date +%s%N) - start) / 1000000))

if ((interrupted)); then
	log "interrupted; VM stopped"
	exit "$interrupted"
fi
if [[ -r $CTL/status ]]; then
	rc=$(<"$CTL/status")
	[[ ${SCUTUM_VM_VERBOSE:-0} == 1 ]] && log "VM done in ${elapsed_ms} ms, status $rc"
	exit "$rc"
fi
if ((hung)); then
	log "the VM did not start the job within ${BOOT_TIMEOUT} s (SCUTUM_VM_BOOT_TIMEOUT), $((BOOT_RETRIES + 1)) times"
	rc=125
elif ((qrc == 124)); then
	log "timeout: the VM was killed after ${TIMEOUT} s (SCUTUM_VM_TIMEOUT)"
	rc=124
else
	log "the VM stopped without a job status (qemu exit status $qrc)"
	rc=125
fi
[[ -r $CTL/setup-error ]] && log "$(<"$CTL/setup-error")"
console_tail
exit "$rc"
