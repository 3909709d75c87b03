#!/usr/bin/env bash
# Checks the real test guest's disk with real QEMU (TCG), the way hvkit uses it: a fresh
# image from make-disk.sh on -drive ...,if=virtio,cache=none,auto-read-only=off and
# guest.disk=/dev/vda.
#   1. boot A: GUEST-DISK-READ empty, GUEST-DISK-OK, heartbeats reach the disk
#   2. live migration A -> B (same host, same image): B goes on writing heartbeats
#   3. ACPI power-down of B (system_powerdown over QMP): the filesystem is left clean
#   4. boot C on the same image: GUEST-DISK-READ shows B's last synced heartbeat, and the
#      heartbeat file holds every line from 1 to there (written by A, then B)
# As root, every QEMU runs with -runas nobody on the root-owned 0600 image, as under
# security_model=pool. Temporary files live in one mktemp -d directory (TMPDIR; not tmpfs:
# cache=none needs O_DIRECT), removed on exit together with any QEMU still running.
# Needs qemu-system-x86_64 (or $QEMU), socat, e2fsprogs (mke2fs, dumpe2fs, debugfs).
# Usage: tools/guest/check-disk.sh [GUESTDIR]   (default: target/guest, built when needed;
#        CHECK_DISK_TRACE=1 traces the script)
set -euo pipefail
[ -z "${CHECK_DISK_TRACE:-}" ] || set -x

here=$(cd "$(dirname "$0")/../.." && pwd)
guest=${1:-$here/target/guest}
qemu=${QEMU:-qemu-system-x86_64}
PATH=$PATH:/usr/sbin:/sbin
fail() { echo "check-disk: FAIL: $*" >&2; exit 1; }
for t in "$qemu" socat dumpe2fs debugfs; do command -v "$t" >/dev/null || fail "$t not found"; done
bash "$here/tools/guest/build.sh" "$guest" >/dev/null
[ -s "$guest/vmlinuz" ] && [ -s "$guest/initramfs.gz" ] || fail "no guest in $guest"

tmp=$(mktemp -d)
cleanup() {
  local f p
  for f in "$tmp"/*.pid; do
    [ -e "$f" ] || continue
    p=$(cat "$f" 2>/dev/null) || continue
    # only a QEMU of ours (a pid file left behind by a QEMU that ran as nobody may be stale)
    if [ -n "$p" ] && grep -qa -- "$tmp/" "/proc/$p/cmdline" 2>/dev/null; then kill "$p" 2>/dev/null || true; fi
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
[ "$(stat -f -c %T "$tmp")" != tmpfs ] || fail "$tmp is on tmpfs (no O_DIRECT for cache=none); set TMPDIR"
img=$tmp/disk.img
bash "$here/tools/guest/make-disk.sh" "$img" >/dev/null
runas=()
if [ "$(id -u)" = 0 ]; then runas=(-runas nobody); fi

ms() { echo $(( $(date +%s%N) / 1000000 )); }
# qmp SOCKET JSON: the command's answer (the line after the greeting and qmp_capabilities)
qmp() {
  printf '{"execute":"qmp_capabilities"}\n%s\n' "$2" | socat -t 2 - "UNIX-CONNECT:$1" \
    | awk 'NR > 2 && /"(return|error)"/ && !done { print; done = 1 }'
}
# boot NAME [qemu args]: a guest with the disk, serial log NAME.log, QMP NAME.sock, NAME.pid
boot() {
  local name=$1; shift
  "$qemu" -accel tcg -m 128 -nodefaults -display none \
    -kernel "$guest/vmlinuz" -initrd "$guest/initramfs.gz" \
    -append "console=ttyS0,38400 panic=-1 guest.disk=/dev/vda" \
    -drive "file=$img,format=raw,if=virtio,cache=none,auto-read-only=off" \
    -serial "file:$tmp/$name.log" -qmp "unix:$tmp/$name.sock,server=on,wait=off" \
    -pidfile "$tmp/$name.pid" -daemonize "${runas[@]}" "$@" || fail "QEMU $name did not start"
}
# the serial log of NAME without the console's carriage returns
log() { tr -d '\r' < "$tmp/$1.log" 2>/dev/null || true; }
# await NAME REGEX SECONDS: the first line of NAME's serial log that matches
await() {
  local deadline=$(( $(ms) + $3 * 1000 )) line
  while [ "$(ms)" -lt "$deadline" ]; do
    # no grep -m1: an early exit would break the pipe and, with pipefail, the match
    line=$(log "$1" | grep -a -E "$2" || true)
    [ -z "$line" ] || { echo "${line%%$'\n'*}"; return 0; }
    sleep 0.05
  done
  fail "no '$2' from $1 within $3 s:$(echo; log "$1" | grep -a -v '^\[' | tail -20)"
}
# the last DISK-HEARTBEAT n of NAME (0 before the first)
synced() { { log "$1" | grep -a -o '^DISK-HEARTBEAT [0-9]*' || echo 'x 0'; } | tail -1 | cut -d' ' -f2; }
gone() { local p; p=$(cat "$tmp/$1.pid" 2>/dev/null) || return 0; ! grep -qa -- "$tmp/" "/proc/$p/cmdline" 2>/dev/null; }
await_gone() {
  local deadline=$(( $(ms) + $2 * 1000 ))
  until gone "$1"; do [ "$(ms)" -lt "$deadline" ] || fail "$1 still running after $2 s"; sleep 0.05; done
}
# boot_timed NAME [qemu args]: boots and prints how long GUEST-UP and GUEST-DISK-OK took
boot_timed() {
  local name=$1 t0 up ok line; shift
  t0=$(ms); boot "$name" "$@"
  await "$name" '^GUEST-UP ' 60 >/dev/null; up=$(( $(ms) - t0 ))
  line=$(await "$name" '^GUEST-DISK-(OK|FAIL)' 30)
  [ "$line" = "GUEST-DISK-OK /dev/vda" ] || fail "$name: $line"
  ok=$(( $(ms) - t0 ))
  echo "check-disk: $name: QEMU start -> GUEST-UP ${up} ms, -> GUEST-DISK-OK ${ok} ms ($(await "$name" '^GUEST-DISK-READ' 1))"
}

echo "check-disk: $("$qemu" --version | sed -n 1p), image $img${runas:+, QEMU ${runas[*]}}"
# 1. a fresh image
boot_timed a
await a '^GUEST-DISK-READ empty$' 1 >/dev/null
await a '^DISK-HEARTBEAT 2$' 30 >/dev/null

# 2. live migration to B on the same image
boot b -incoming tcp:127.0.0.1:0
port=$(qmp "$tmp/b.sock" '{"execute":"query-migrate"}' | sed -n 's/.*"port": "\([0-9]*\)".*/\1/p')
[ -n "$port" ] || fail "no incoming migration port from b"
t0=$(ms)
qmp "$tmp/a.sock" "{\"execute\":\"migrate\",\"arguments\":{\"uri\":\"tcp:127.0.0.1:$port\"}}" | grep -q return \
  || fail "migrate refused"
status=
for _ in $(seq 600); do
  status=$(qmp "$tmp/a.sock" '{"execute":"query-migrate"}' | grep -o '"status": "[a-z-]*"' | cut -d'"' -f4)
  case "$status" in completed | failed | cancelled) break ;; esac
  sleep 0.1
done
[ "$status" = completed ] || fail "migration $status"
mig=$(( $(ms) - t0 ))
onA=$(synced a)
qmp "$tmp/a.sock" '{"execute":"quit"}' >/dev/null || true
await_gone a 10
await b "^DISK-HEARTBEAT $((onA + 2))\$" 30 >/dev/null
echo "check-disk: migrated a -> b in ${mig} ms; a synced up to HEARTBEAT $onA, b goes on from there"

# 3. ACPI power-down of B
qmp "$tmp/b.sock" '{"execute":"system_powerdown"}' | grep -q return || fail "system_powerdown refused"
await b '^GUEST-POWERDOWN' 10 >/dev/null
await_gone b 20
onB=$(synced b)
state=$(dumpe2fs -h "$img" 2>/dev/null | grep -E '^(Filesystem state|Filesystem features):')
grep -q 'state: *clean$' <<<"$state" && ! grep -q needs_recovery <<<"$state" \
  || fail "the filesystem is not clean after the power-down: $state"
# every heartbeat of A and B is on the image, in order, each once: 1..m, where m is B's last
# synced one (or the next, when B wrote it but had no time to say so before power-off)
got=$(debugfs -R 'cat /heartbeat' "$img" 2>/dev/null)
m=$(tail -n 1 <<<"$got" | sed -n 's/^HEARTBEAT \([0-9]*\)$/\1/p')
[ -n "$m" ] && [ "$m" -ge "$onB" ] && [ "$m" -le $((onB + 1)) ] && [ "$got" = "$(seq -f 'HEARTBEAT %.0f' 1 "$m")" ] \
  || fail "the heartbeat file does not hold HEARTBEAT 1..$onB:$(echo; tail -n 5 <<<"$got")"
echo "check-disk: b powered down at HEARTBEAT $onB synced; the filesystem is clean and holds HEARTBEAT 1..$m"

# 4. boot C on the same image: it reads back what A and B wrote
boot_timed c
read=$(await c '^GUEST-DISK-READ ' 1)
[ "$read" = "GUEST-DISK-READ HEARTBEAT $m" ] || fail "c: '$read', expected 'GUEST-DISK-READ HEARTBEAT $m'"
await c '^DISK-HEARTBEAT 1$' 30 >/dev/null
qmp "$tmp/c.sock" '{"execute":"quit"}' >/dev/null || true
await_gone c 10
echo "check-disk: OK: c read back 'HEARTBEAT $m' (HEARTBEAT 1..$onA written by a, $((onA + 1))..$m by b after the migration)"
