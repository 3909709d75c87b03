#!/usr/bin/env bash
# Creates the real test guest's disk: a raw image holding an empty ext4 filesystem that the
# guest (tools/guest/build.sh) mounts on /mnt when booted with guest.disk=/dev/vda and a
# virtio drive, e.g.
#   -drive file=IMG,format=raw,if=virtio,cache=none,auto-read-only=off
# The guest appends "HEARTBEAT n" to /mnt/heartbeat every second and shows the last line it
# finds there at boot (GUEST-DISK-READ).
#
# The image is sparse, owned by the caller and mode 0600. That is enough for
# security_model=pool too: QEMU opens its drives at start-up, before it drops privileges
# (-runas), so a root-owned 0600 image works for a QEMU started by root that then runs as a
# pool user. It also means that such a QEMU cannot open the image again later: keep
# auto-read-only=off (with it on, QEMU reopens the image when the write permission changes,
# as when a migration target activates it; with QEMU 7.2, -runas nobody and a root 0600
# image the incoming migration then fails with "load of migration failed: Input/output
# error"), and expect no drive reopened or hot-added after start-up to be accessible.
# cache=none opens with O_DIRECT: keep the image on a real filesystem, not tmpfs.
#
# Needs no root: mke2fs (e2fsprogs) writes into a plain file. The feature set is pinned
# (an ext4 that Linux >= 3.18 mounts, journal included) so that a newer host mke2fs.conf
# cannot add features the guest kernel does not know. OUT is replaced atomically when it
# exists (a QEMU that still has the old image open keeps the old one).
# Usage: tools/guest/make-disk.sh OUT [SIZE_MIB]   (SIZE_MIB: 8 to 65536, default 16)
set -euo pipefail

fail() { echo "make-disk: $*" >&2; exit 1; }
[ $# -ge 1 ] && [ $# -le 2 ] && [ -n "$1" ] || fail "usage: $0 OUT [SIZE_MIB]"
out=$1
size=${2:-16}
[[ "$size" =~ ^[0-9]+$ ]] && [ "$size" -ge 8 ] && [ "$size" -le 65536 ] \
  || fail "SIZE_MIB must be a whole number from 8 to 65536, not '$size'"
mke2fs=$(PATH=$PATH:/usr/sbin:/sbin command -v mke2fs) || fail "mke2fs not found (install e2fsprogs)"
dir=$(dirname -- "$out")
[ -d "$dir" ] || fail "no directory $dir"
[ ! -d "$out" ] || fail "$out is a directory"

tmp=$(mktemp "$dir/.${out##*/}.XXXXXX")
trap 'rm -f "$tmp"' EXIT
chmod 0600 "$tmp"
truncate -s "${size}M" "$tmp"
# -O none,...: exactly these features, whatever /etc/mke2fs.conf says; 256-byte inodes
# (timestamps past 2038); no reserved blocks; inode tables and journal written now, so the
# guest kernel has no lazy initialisation to do; root directory owned by root (the guest).
"$mke2fs" -q -F -t ext4 -L hvkit-guest -I 256 -m 0 \
  -O none,has_journal,ext_attr,resize_inode,dir_index,filetype,extent,flex_bg,sparse_super,large_file,huge_file,dir_nlink,extra_isize,64bit,metadata_csum \
  -E lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0 \
  "$tmp" >/dev/null || fail "mke2fs failed on $tmp"
mv -f -- "$tmp" "$out"
trap - EXIT
echo "make-disk: $out (${size} MiB raw, ext4)"
