#!/usr/bin/env bash
# Prepare the qemu test VM used by integration/vm/run-in-vm.sh.
#
# Idempotent: everything downloaded or built lands in integration/vm/cache/
# (git-ignored; override with SCUTUM_VM_CACHE) and is reused on the next run.
#
#   1. installs the Debian packages the harness needs, if missing
#      (qemu-system-x86, busybox-static, xz-utils, e2fsprogs);
#   2. downloads the kernel package that linux-image-amd64 depends on
#      (linux-image-6.1.0-NN-amd64; override with SCUTUM_VM_KERNEL_PKG) and
#      extracts the uncompressed ELF vmlinux (booted via PVH) and the few
#      modules the guest needs (dependencies resolved from the .ko files);
#   3. builds the initramfs: static busybox, the modules, guest/init;
#   4. boots the VM once as a smoke test (skip with --no-check).
#
# Nothing here touches the host's cgroups, mounts or block devices.
set -euo pipefail

VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
CACHE=${SCUTUM_VM_CACHE:-$VM_DIR/cache}

# Top-level modules to load in the guest, in this order; their dependencies
# (the depends= field of each .ko) are inserted before them automatically.
MODULES=(
	virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci
	virtio_blk virtio_console bfq overlay netfs fscache 9pnet 9pnet_virtio 9p
	crc16 mbcache jbd2 crc32c_generic ext4 loop
)
HOST_PACKAGES=(qemu-system-x86 busybox-static xz-utils e2fsprogs)

log() { printf 'prepare: %s\n' "$*" >&2; }
die() {
	log "error: $*"
	exit 1
}

check=1
for arg in "$@"; do
	case $arg in
	--no-check) check=0 ;;
	-h | --help)
		sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
		exit 0
		;;
	*) die "unknown argument: $arg (try --help)" ;;
	esac
done

[[ $(id -u) == 0 ]] || die "must run as root (apt-get, device nodes in the initramfs)"
[[ $(uname -m) == x86_64 ]] || die "only x86_64 hosts are supported"
# The guest gets the host's /usr over 9p and symlinks /bin, /lib, ... into it,
# which only works on a merged-/usr host (every Debian 12 installation).
for d in bin sbin lib lib64; do
	[[ -L /$d ]] || die "host is not merged-/usr (/$d is not a symlink)"
done

apt_updated=0
apt_update() {
	if ((apt_updated == 0)); then
		log "apt-get update"
		apt-get update -qq >&2
		apt_updated=1
	fi
}

# ---------------------------------------------------------------- 1. packages
have_pkg() { [[ $(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) == "install ok installed" ]]; }
missing=()
for p in "${HOST_PACKAGES[@]}"; do
	have_pkg "$p" || missing+=("$p")
done
if ((${#missing[@]})); then
	apt_update
	log "apt-get install ${missing[*]}"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi
BUSYBOX=$(dpkg-query -L busybox-static | grep -m1 '/bin/busybox$') ||
	die "busybox-static ships no /bin/busybox?"

mkdir -p "$CACHE/debs" "$CACHE/kernel"

# ------------------------------------------------------------------ 2. kernel
kernel_pkg_from_apt() {
	apt-cache depends linux-image-amd64 2>/dev/null |
		awk '$1 == "Depends:" && $2 ~ /^linux-image-[0-9]/ { print $2; exit }'
}
PKG=${SCUTUM_VM_KERNEL_PKG:-}
if [[ -z $PKG ]]; then
	PKG=$(kernel_pkg_from_apt)
	if [[ -z $PKG ]]; then
		apt_update
		PKG=$(kernel_pkg_from_apt)
	fi
fi
if [[ -z $PKG && -r $CACHE/vm.env ]]; then
	PKG=$(sed -n 's/^pkg=//p' "$CACHE/vm.env")
	log "warning: apt knows no linux-image-amd64; reusing cached $PKG"
fi
[[ $PKG =~ ^linux-image-([0-9][A-Za-z0-9.+-]*)$ ]] || die "bad kernel package name: '$PKG'"
KVER=${BASH_REMATCH[1]}
KDIR=$CACHE/kernel/$KVER

find_deb() { compgen -G "$CACHE/debs/${PKG}_*_amd64.deb" | head -n1 || true; }
DEB=$(find_deb)
if [[ -z $DEB ]]; then
	log "downloading $PKG"
	dl=$(mktemp -d "$CACHE/debs/.dl.XXXXXX")
	if ! (cd "$dl" && apt-get download -q -o APT::Sandbox::User=root "$PKG" >&2); then
		apt_update
		(cd "$dl" && apt-get download -q -o APT::Sandbox::User=root "$PKG" >&2) ||
			die "apt-get download $PKG failed"
	fi
	mv "$dl"/*.deb "$CACHE/debs/"
	rmdir "$dl"
	DEB=$(find_deb)
	[[ -n $DEB ]] || die "downloaded package not found in $CACHE/debs"
fi

# Decompress a (possibly compressed) module file to stdout.
cat_module() {
	case $1 in
	*.ko) cat "$1" ;;
	*.ko.xz) xz -dc "$1" ;;
	*.ko.gz) gzip -dc "$1" ;;
	*.ko.zst)
		command -v zstd >/dev/null || {
			apt_update
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends zstd >&2
		}
		zstd -qdc "$1"
		;;
	*) die "unknown module format: $1" ;;
	esac
}

# Extract an uncompressed ELF kernel from a bzImage whose payload is xz.
extract_elf() { # vmlinuz out
	local off
	# Offsets of the xz stream magic FD 37 7A 58 5A 00.
	while IFS=: read -r off _; do
		# (xz stops reading at the end of the stream: no pipe, or pipefail
		# would report tail's SIGPIPE)
		if xz -dc --single-stream < <(tail -c +"$((off + 1))" "$1") >"$2" 2>/dev/null &&
			[[ $(head -c4 "$2" | od -An -tx1 | tr -d ' \n') == 7f454c46 ]]; then
			return 0
		fi
	done < <(LC_ALL=C grep -obUaP '\xFD7zXZ\x00' "$1")
	return 1
}

# .complete records the module list it was extracted for.
if [[ $(cat "$KDIR/.complete" 2>/dev/null) != "${MODULES[*]}" ]]; then
	log "extracting $(basename "$DEB")"
	rm -rf "$KDIR"
	mkdir -p "$KDIR/modules"
	x=$(mktemp -d "$CACHE/kernel/.x.XXXXXX")
	dpkg-deb -x "$DEB" "$x"
	vmlinuz=$x/boot/vmlinuz-$KVER
	[[ -f $vmlinuz ]] || die "no /boot/vmlinuz-$KVER in $DEB"
	cp "$x/boot/config-$KVER" "$KDIR/config"
	if extract_elf "$vmlinuz" "$KDIR/vmlinux"; then
		echo vmlinux >"$KDIR/boot-image"
	else
		log "warning: no xz-compressed ELF found in vmlinuz; booting the bzImage (slower)"
		rm -f "$KDIR/vmlinux"
		cp "$vmlinuz" "$KDIR/vmlinuz"
		echo vmlinuz >"$KDIR/boot-image"
	fi

	# Index all module files by normalized name (dashes -> underscores).
	declare -A modpath=()
	while IFS= read -r -d '' f; do
		n=${f##*/}
		n=${n%%.ko*}
		modpath[${n//-/_}]=$f
	done < <(find "$x/lib/modules/$KVER/kernel" -name '*.ko*' -print0)

	declare -A added=()
	order=()
	add_module() {
		local m=${1//-/_} f deps d
		[[ -n ${added[$m]:-} ]] && return 0
		added[$m]=1
		f=${modpath[$m]:-}
		[[ -n $f ]] || die "module $m not found in $PKG (built in? then drop it from MODULES)"
		deps=$(cat_module "$f" | tr '\0' '\n' | sed -n 's/^depends=//p' | head -n1)
		for d in ${deps//,/ }; do
			add_module "$d"
		done
		cat_module "$f" >"$KDIR/modules/$m.ko"
		order+=("$m")
	}
	for m in "${MODULES[@]}"; do
		add_module "$m"
	done
	printf '%s\n' "${order[@]}" >"$KDIR/modules/order"
	rm -rf "$x"
	echo "${MODULES[*]}" >"$KDIR/.complete"
fi
BOOT_IMAGE=kernel/$KVER/$(cat "$KDIR/boot-image")

# --------------------------------------------------------------- 3. initramfs
INITRD=$CACHE/initramfs-$KVER.cpio
stamp=$(cat "$VM_DIR/prepare.sh" "$VM_DIR/guest/init" "$BUSYBOX" "$KDIR/modules/order" | sha256sum | cut -d' ' -f1)
if [[ ! -e $INITRD || $(cat "$INITRD.stamp" 2>/dev/null) != "$stamp" ]]; then
	log "building $(basename "$INITRD")"
	st=$(mktemp -d "$CACHE/.initramfs.XXXXXX")
	mkdir -p "$st"/{bin,dev,proc,sys,newroot,modules}
	cp "$BUSYBOX" "$st/bin/busybox"
	for a in $("$BUSYBOX" --list); do
		[[ $a == busybox ]] || ln -s busybox "$st/bin/$a"
	done
	cp "$VM_DIR/guest/init" "$st/init"
	chmod 0755 "$st/init"
	cp "$KDIR"/modules/*.ko "$KDIR/modules/order" "$st/modules/"
	# Device nodes inside the staging directory only (a plain file-system
	# entry, no device is touched): the kernel opens /dev/console for init.
	mknod -m 0600 "$st/dev/console" c 5 1
	mknod -m 0666 "$st/dev/null" c 1 3
	(cd "$st" && find . -mindepth 1 | LC_ALL=C sort | "$BUSYBOX" cpio -o -H newc 2>/dev/null) >"$INITRD.tmp"
	mv "$INITRD.tmp" "$INITRD"
	echo "$stamp" >"$INITRD.stamp"
	rm -rf "$st"
fi

# Tell run-in-vm.sh what to boot (paths relative to the cache directory).
cat >"$CACHE/vm.env.tmp" <<EOF
pkg=$PKG
kver=$KVER
kernel=$BOOT_IMAGE
initrd=$(basename "$INITRD")
init_sha256=$(sha256sum "$VM_DIR/guest/init" | cut -d' ' -f1)
EOF
mv "$CACHE/vm.env.tmp" "$CACHE/vm.env"
log "kernel $KVER ($(basename "$DEB")), boot image $BOOT_IMAGE, initramfs $(du -k "$INITRD" | cut -f1) KiB"

# ---------------------------------------------------------------- 4. check
if ((check)); then
	log "smoke test: booting the VM"
	start=$(date +%s%N)
	# shellcheck disable=SC2016 # expanded in the guest
	out=$(SCUTUM_VM_TIMEOUT=${SCUTUM_VM_TIMEOUT:-300} "$VM_DIR/run-in-vm.sh" sh -c \
		'echo "$(uname -r) $(cat /sys/fs/cgroup/cgroup.subtree_control)"') ||
		die "smoke test failed (see above)"
	log "VM ok in $((($(date +%s%N) - start) / 1000000)) ms: $out"
fi
