#!/usr/bin/env bash
# hvkit demo (README command 1): installs what it needs, builds hvkit and the real test guest,
# starts the Karaf distribution headless inside a private network and mount namespace, and
# walks through the hv:* story with a real KVM guest (TCG), a NIC bridged to br0, a disk
# (a raw image it mounts and writes its heartbeat to, cache=none) and a uid from the pool:
# start, live migration, a reboot that reads back on node-b what the guest wrote on node-a,
# stop, printing every step. Then the two-host story (issue #16, distribution/twohost/proof.sh):
# two hvkit Karafs in the network namespaces host-a and host-b joined by a veth, ZooKeeper
# discovery; from host-a's console hv:types lists kvm@host-a (local) and kvm@host-b (remote),
# hv:start -n host-b boots the real guest there, hv:list, hv:migrate guest host-a (live over the
# veth, the heartbeat going on), hv:stop. Exits 0 only if every step of both did what it shows;
# leaves nothing running (each namespace, with its bridges, veth and taps, vanishes with the
# last process in it).
# Usage, as root from the repository root:  bash distribution/demo.sh
# DEMO_MVN_ARGS adds Maven arguments to the build, e.g. DEMO_MVN_ARGS=-o (offline).
set -euo pipefail
PATH=$PATH:/usr/sbin:/sbin     # mke2fs, dumpe2fs, debugfs (e2fsprogs)

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
demo_dir="$here/distribution/target/demo"
guest_dir="$here/target/guest"
disk_img="$demo_dir/disks/demo.img"     # the guest's disk (tools/guest/make-disk.sh)
bridge_ip=10.99.0.1
pool_first=2000000 pool_last=2000019   # etc/org.hvkit.uidpool.cfg of the distribution

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nDEMO FAILED: %s\n' "$*" >&2; exit 1; }

if [ "${1:-}" != --in-namespace ]; then
# --- prerequisites: a JDK 17 and Maven (installed on Debian when missing and we are root)
find_jdk17() {
  for d in /usr/lib/jvm/java-17-openjdk-amd64 /usr/lib/jvm/java-17-openjdk /usr/lib/jvm/temurin-17-jdk-amd64; do
    [ -x "$d/bin/javac" ] && { echo "$d"; return 0; }
  done
  return 1
}
need=()
find_jdk17 >/dev/null || need+=(openjdk-17-jdk-headless)
command -v mvn >/dev/null || need+=(maven)
command -v qemu-system-x86_64 >/dev/null || need+=(qemu-system-x86)
command -v socat >/dev/null || need+=(socat)
command -v cpio >/dev/null || need+=(cpio)
command -v ip >/dev/null || need+=(iproute2)
command -v unshare >/dev/null || need+=(util-linux)
command -v mke2fs >/dev/null && command -v debugfs >/dev/null || need+=(e2fsprogs)
if [ ${#need[@]} -gt 0 ]; then
  step "Installing ${need[*]} (Debian packages)"
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || fail "need root and apt-get to install ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
jdk=$(find_jdk17) || fail "no JDK 17 after installing openjdk-17-jdk-headless"
export JAVA_HOME="$jdk"          # Karaf 4.4 does not run on newer JDKs (TOOLCHAIN pitfall 6)
export PATH="$JAVA_HOME/bin:$PATH"

step "Building hvkit (bundles, features, Karaf distribution; tests are README command 2)"
# package, not install: the assembly takes the bundles from the reactor, ~/.m2 stays as it was
read -r -a mvn_args <<<"${DEMO_MVN_ARGS:-}"
# itests-remote too: its test dependencies bring the ZooKeeper server the two-host part runs
mvn -B -q -DskipTests "${mvn_args[@]}" package -pl distribution,itests-remote -am

step "Building the real test guest (Debian cloud kernel + busybox initramfs)"
bash tools/guest/build.sh "$here/target/guest"

step "Unpacking the distribution into $demo_dir"
rm -rf "$demo_dir"
mkdir -p "$demo_dir"
tar xzf distribution/target/hvkit-distribution-*.tar.gz -C "$demo_dir" --strip-components=1
cd "$demo_dir"

# The guest's disk: a 16 MiB raw ext4 image, root-owned, mode 0600. QEMU opens it as root
# before -runas drops to the pool uid. It lives under distribution/target, on a real
# filesystem: cache=none opens it with O_DIRECT, which tmpfs may refuse.
step "Creating the guest's disk with tools/guest/make-disk.sh"
mkdir -p "$(dirname "$disk_img")"
bash "$here/tools/guest/make-disk.sh" "$disk_img" 16
dd if="$disk_img" of=/dev/null bs=4096 count=1 iflag=direct status=none 2>/dev/null \
  || fail "$(dirname "$disk_img") ($(stat -f -c %T "$disk_img")) cannot open files with O_DIRECT, which cache=none needs"
printf '%s: %s %s:%s mode %s, %s MiB raw ext4 (%s), O_DIRECT works\n' "$disk_img" "$(stat -c %F "$disk_img")" \
  "$(stat -c %U "$disk_img")" "$(stat -c %G "$disk_img")" "$(stat -c %a "$disk_img")" \
  $(( $(stat -c %s "$disk_img") / 1048576 )) "$(stat -f -c %T "$disk_img")"

# examples/demo.json names the guest's kernel and initramfs through @GUEST_DIR@ and its disk
# through @DISK_IMAGE@. Its disk_template is "sharedfile" (Ganeti's image files on storage that
# every node sees, such as NFS): node-a and node-b are two hypervisors on this one machine, so
# the image is shared by definition, and a shared template is what lets hvkit live-migrate an
# instance with disks (it refuses "plain" and "file", whose disks exist on one node only).
# "blockdev" would want a block device (a loop device) for no gain here. Shared templates get
# cache=none (host caching on two nodes corrupts a disk during a migration); the instance asks
# for disk_cache=none itself, so no override is logged.
sed -i -e "s|@GUEST_DIR@|$guest_dir|g" -e "s|@DISK_IMAGE@|$disk_img|g" examples/demo.json
grep -q "$guest_dir/vmlinuz" examples/demo.json || fail "examples/demo.json does not name $guest_dir/vmlinuz"
grep -q "\"dev_path\": \"$disk_img\"" examples/demo.json || fail "examples/demo.json does not name the disk $disk_img"

# A disk that is a regular file must lie under a directory of the node key disk.file.dirs
# (default: Ganeti's /srv/ganeti/file-storage and /srv/ganeti/shared-file-storage): both demo
# nodes get the demo's disk directory, the "shared file storage" they have in common here.
for cfg in etc/org.hvkit.kvm-nodea.cfg etc/org.hvkit.kvm-nodeb.cfg; do
  sed -i -e "s|^disk\.file\.dirs *=.*|disk.file.dirs = $(dirname "$disk_img")|" "$cfg"
  grep -qx "disk.file.dirs = $(dirname "$disk_img")" "$cfg" || fail "$cfg does not set disk.file.dirs"
done

# Everything from here runs in fresh network and mount namespaces: the bridge, the taps and
# the migration traffic stay private, and the pool uids get passwd entries only in here.
[ "$(id -u)" = 0 ] || fail "the KVM part needs root (network namespace, taps, -runas to pool uids)"
step "Entering a private network and mount namespace (unshare --net --mount)"
unshare --net --mount --propagation private -- bash "$here/distribution/demo.sh" --in-namespace || exit $?

step "Two hosts (distribution/twohost/proof.sh): two Karafs in the namespaces host-a and host-b, a veth between them, ZooKeeper discovery"
TH_DIR="$here/distribution/target/demo-twohost" TH_JAVA_HOME="$JAVA_HOME" GUEST_DIR="$guest_dir" \
  bash "$here/distribution/twohost/proof.sh" || fail "the two-host story failed (see its last step above)"
printf '\nDEMO OK: both stories did what they show; no Karaf, QEMU or ZooKeeper is left, and the\nnamespaces with their bridges, veth and taps are gone.\n'
exit 0
fi

# --- inside the namespaces
cd "$demo_dir"
export JAVA_HOME PATH
mount -t sysfs sysfs /sys                     # /sys/class/net shows this namespace's links
ip link set lo up
ip link add br0 type bridge
ip addr add "$bridge_ip/24" dev br0
ip link set br0 up
# passwd entries for the pool uids, visible to getent (and QEMU's -runas) in here only
cp /etc/passwd "$demo_dir/passwd"
for uid in $(seq "$pool_first" "$pool_last"); do
  echo "hvkit-pool-$uid:x:$uid:$uid:hvkit uid pool:/nonexistent:/usr/sbin/nologin" >> "$demo_dir/passwd"
done
mount --bind "$demo_dir/passwd" /etc/passwd
step "Namespace ready: $(ip -br addr show br0 | tr -s ' '); users hvkit-pool-$pool_first..$pool_last for the uid pool"

karaf_pid=""
# kill what this demo started, by pid: Karaf, and any QEMU whose pid file is under our data dir
stop_all() {
  if [ -n "$karaf_pid" ] && kill -0 "$karaf_pid" 2>/dev/null; then
    bin/stop >/dev/null 2>&1 || true
    for _ in $(seq 1 100); do kill -0 "$karaf_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$karaf_pid" 2>/dev/null || true
  fi
  for f in "$demo_dir"/data/hvkit/kvm-node*/pid/*; do
    [ -f "$f" ] && kill -9 "$(cat "$f")" 2>/dev/null || true
  done
}
trap stop_all EXIT

step "Starting Karaf headless (bin/karaf server) in the namespace"
bin/karaf server >"$demo_dir/karaf.out" 2>&1 &
karaf_pid=$!
for _ in $(seq 1 600); do
  grep -q 'FeaturesServiceImpl.*| Done\.' data/log/karaf.log 2>/dev/null && break
  kill -0 "$karaf_pid" 2>/dev/null || fail "Karaf exited during boot (see $demo_dir/karaf.out)"
  sleep 0.2
done
grep -q 'FeaturesServiceImpl.*| Done\.' data/log/karaf.log || fail "Karaf did not finish booting within 120 s"

# one shell command through the ssh client in batch mode; output without ANSI colours
karaf_cmd() {
  echo "$1" | bin/client -u karaf -p karaf -b 2>&1 | sed 's/\x1b\[[0-9;]*m//g' | grep -v -e '^client: JAVA_HOME' || true
}
# run a step: print the command and its output, require the output to contain each expected text
run() {
  local cmd=$1; shift
  step "karaf@root()> $cmd"
  local out
  out=$(karaf_cmd "$cmd")
  printf '%s\n' "$out"
  if grep -q 'Error executing command' <<<"$out"; then fail "'$cmd' failed"; fi
  for want in "$@"; do
    grep -qF -- "$want" <<<"$out" || fail "'$cmd' did not print '$want'"
  done
}
# a fact checked outside Karaf, printed as its own step
show() { step "$1"; shift; "$@" || fail "this step's check failed: $*"; }
# a process has exited when /proc has no entry for it or it is a zombie waiting for its reaper
exited() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) || return 0; [ "${st:0:1}" = Z ]; }
# The guest's console, without carriage returns. Its lines are matched anchored: the bare
# regex 'HEARTBEAT n' would also match 'DISK-HEARTBEAT n' and 'GUEST-DISK-READ HEARTBEAT n'.
# lines LOG ERE: the lines of a serial log that match (none when there is no log yet)
lines() { { tr -d '\r' <"$1" | grep -a -E "$2"; } 2>/dev/null || true; }
# count LOG WORD: the number of the last 'WORD n' line (e.g. HEARTBEAT, DISK-HEARTBEAT); empty if none
count() { lines "$1" "^$2 [0-9]+\$" | tail -n 1 | sed 's/.* //'; }
first_count() { lines "$1" "^$2 [0-9]+\$" | head -n 1 | sed 's/.* //'; }
# await LOG ERE SECONDS: waits for a line matching ERE
await() {
  local i
  for i in $(seq 1 $(( $3 * 10 ))); do [ -n "$(lines "$1" "$2")" ] && return 0; sleep 0.1; done
  fail "no line '$2' in $1 within $3 s; its last lines:$(echo; lines "$1" . | tail -n 15)"
}
# await_count LOG WORD MIN SECONDS: waits until the last 'WORD n' has n >= MIN
await_count() {
  local i
  for i in $(seq 1 $(( $4 * 10 ))); do [ "$(count "$1" "$2")" -ge "$3" ] 2>/dev/null && return 0; sleep 0.1; done
  fail "no '$2 n' with n >= $3 in $1 within $4 s; its last lines:$(echo; lines "$1" . | tail -n 15)"
}
# no_disk_failure LOG: no GUEST-DISK-FAIL since the last boot in LOG (a heartbeat that finds the
# disk already read-only while the guest powers down is no failure of the next boot)
no_disk_failure() {
  local failed
  failed=$({ tr -d '\r' <"$1" | awk '/^GUEST-UP / { n = 0 } /^GUEST-DISK-FAIL/ { f[++n] = $0 } END { for (i = 1; i <= n; i++) print f[i] }'; } 2>/dev/null || true)
  [ -z "$failed" ] || fail "the guest reports a disk failure: $(head -n 3 <<<"$failed")"
}
# image_fd PID: the descriptor of PID that has the disk image open, as "fd N (FLAGS)"; fails
# unless it is open read-write with O_DIRECT (cache=none)
image_fd() {
  local fd flags acc img
  img=$(readlink -f "$disk_img")
  for fd in /proc/"$1"/fd/*; do
    [ "$(readlink "$fd" 2>/dev/null)" = "$img" ] || continue
    flags=$(awk '/^flags:/ {print $2}' "/proc/$1/fdinfo/${fd##*/}")
    case $(( 8#$flags & 3 )) in 0) acc=O_RDONLY ;; 1) acc=O_WRONLY ;; *) acc=O_RDWR ;; esac
    if [ "$acc" = O_RDWR ] && (( 8#$flags & 8#40000 )); then echo "fd ${fd##*/} ($acc|O_DIRECT)"; return 0; fi
    echo "fd ${fd##*/} ($acc, flags 0$flags, no O_DIRECT)"
  done
  return 1
}
# check_qemu PID WHERE: QEMU runs as a pool user and holds the root-owned 0600 image open
check_qemu() {
  local user uid open
  user=$(ps -o user= -p "$1") uid=$(ps -o uid= -p "$1" | tr -d ' ')
  open=$(image_fd "$1") || fail "QEMU $1 does not hold $disk_img open read-write with O_DIRECT: ${open:-not among its open files}"
  show "$2 QEMU (pid $1) runs as $user (uid $uid from the pool) and holds the disk open: /proc/$1/fd -> $disk_img, $open; the image is $(stat -c '%U:%G mode %a' "$disk_img")" \
    test "$uid" -ge "$pool_first" -a "$uid" -le "$pool_last" -a "$user" = "hvkit-pool-$uid" \
      -a "$(stat -c %u:%a "$disk_img")" = 0:600
  qemu_uid=$uid
}

# the shell may answer before the hv commands are registered: wait for them
for _ in $(seq 1 100); do
  karaf_cmd "hv:types" | grep -q 'kvm' && break
  sleep 0.2
done

run "hv:types" "fake" "kvm" "node-a" "node-b" "org.hvkit.kvm"
run "hv:verify" "kvm@node-a: OK" "kvm@node-b: OK"
run "hv:uidpool" "$pool_first-$pool_last" "Total     20" "Taken     0"
run "hv:start --dry-run examples/demo.json" '"-name","demo"' '"-accel","tcg"' '"-runas"' \
  "\"file=$disk_img,format=raw,if=none,id=disk0,cache=none,auto-read-only=off\"" '"virtio-blk-pci,id=virtio-disk0,drive=disk0,addr=0xc"'
run "hv:start examples/demo.json" "Instance demo started on kvm@node-a"

serial="$demo_dir/data/hvkit/kvm-nodea/ctrl/demo.serial.log"
await "$serial" '^(DISK-HEARTBEAT [0-9]+|GUEST-DISK-FAIL .*)$' 60
[ -n "$(lines "$serial" '^GUEST-UP ip=10\.99\.0\.2/24 ')" ] || fail "the guest did not come up with its IP (see $serial)"
no_disk_failure "$serial"
[ -n "$(lines "$serial" '^GUEST-DISK-OK /dev/vda$')" ] || fail "the guest did not mount its disk (see $serial)"
[ -n "$(lines "$serial" '^GUEST-DISK-READ empty$')" ] || fail "the fresh disk was not empty: $(lines "$serial" '^GUEST-DISK-READ')"
[ -n "$(lines "$serial" "^GUEST-PING-OK ${bridge_ip//./\\.}\$")" ] \
  || fail "the guest did not reach $bridge_ip over its bridged NIC (see $serial)"
show "The guest is up, mounted its disk and reached the bridge over its NIC: $(lines "$serial" '^GUEST-(UP|DISK-READ|DISK-OK|PING-OK) ' | paste -sd';' | sed 's/;/; /g')" true
hb_first=$(count "$serial" DISK-HEARTBEAT)
await_count "$serial" DISK-HEARTBEAT $(( hb_first + 2 )) 15
show "Its heartbeat reaches the disk on node-a (appended to /heartbeat on /dev/vda and synced): DISK-HEARTBEAT $hb_first, then up to $(count "$serial" DISK-HEARTBEAT)" true
run "hv:list" "demo" "kvm" "node-a" "running"
run "hv:console --tail 5 demo" "DISK-HEARTBEAT"
pid=$(cat "$demo_dir/data/hvkit/kvm-nodea/pid/demo")
check_qemu "$pid" "node-a's"
uid=$qemu_uid
show "Taps on br0: $(ip -br link show master br0 | awk '{print $1}' | tr '\n' ' ')" test -n "$(ip -br link show master br0)"
run "hv:uidpool" "Taken     1 ($uid)"

# hvkit removes node-a's serial log with the source's files once the migration is done: an
# open descriptor keeps the whole log readable, up to the source QEMU's last line
exec {serial_a_fd}<"$serial"
run "hv:migrate demo node-b" "Instance demo migrated to kvm@node-b"
exited "$pid" || fail "the source QEMU (pid $pid) is still running after the migration"
cat <&"$serial_a_fd" >"$demo_dir/node-a.serial.log"
exec {serial_a_fd}<&-
serial_a="$demo_dir/node-a.serial.log"
last_a=$(count "$serial_a" DISK-HEARTBEAT) beat_a=$(count "$serial_a" HEARTBEAT)
[ -n "$last_a" ] && [ -n "$beat_a" ] || fail "node-a's console shows no heartbeat (see $serial_a)"
serial_b="$demo_dir/data/hvkit/kvm-nodeb/ctrl/demo.serial.log"
await_count "$serial_b" DISK-HEARTBEAT $(( last_a + 2 )) 15
no_disk_failure "$serial_b"
first_b=$(first_count "$serial_b" DISK-HEARTBEAT) now_b=$(count "$serial_b" DISK-HEARTBEAT)
[ -z "$(lines "$serial_b" '^GUEST-UP')" ] || fail "the guest booted again on node-b instead of going on"
show "The guest goes on on node-b without a reboot: node-a's console (kept as $serial_a) ends at HEARTBEAT $beat_a, DISK-HEARTBEAT $last_a (the last one written there); node-b's serial log goes on with DISK-HEARTBEAT $first_b..$now_b (> $last_a)" \
  test "$first_b" -gt "$last_a" -a "$(count "$serial_b" HEARTBEAT)" -gt "$beat_a"
pid_b=$(cat "$demo_dir/data/hvkit/kvm-nodeb/pid/demo")
check_qemu "$pid_b" "Source QEMU $pid is gone; node-b's"
show "Taps on br0: $(ip -br link show master br0 | awk '{print $1}' | tr '\n' ' ')" test -n "$(ip -br link show master br0)"
run "hv:list" "demo" "node-b" "running"

# hv:reboot: a clean stop (ACPI; the guest remounts its disk read-only and powers off), then a
# start from the saved runtime on the same node. The new boot shows the disk's last line. (The
# new QEMU starts node-b's serial log afresh; the checks below hold whether it does or not.)
synced_b=$(count "$serial_b" DISK-HEARTBEAT)
clean_stops=$(grep -c 'Instance demo shut down cleanly' data/log/karaf.log || true)
run "hv:reboot demo" "Instance demo rebooted on kvm@node-b"
[ "$(grep -c 'Instance demo shut down cleanly' data/log/karaf.log || true)" -gt "$clean_stops" ] \
  || fail "the reboot did not stop the guest cleanly (no 'Instance demo shut down cleanly' in data/log/karaf.log)"
exited "$pid_b" || fail "the QEMU before the reboot (pid $pid_b) is still running"
await "$serial_b" '^(GUEST-DISK-OK .*|GUEST-DISK-FAIL .*)$' 60
no_disk_failure "$serial_b"
read_back=$(lines "$serial_b" '^GUEST-DISK-READ ' | tail -n 1)
n=$(sed -n 's/^GUEST-DISK-READ HEARTBEAT \([0-9][0-9]*\)$/\1/p' <<<"$read_back")
[ -n "$n" ] || fail "after the reboot the guest read '$read_back' from its disk, not a heartbeat"
show "After the reboot on node-b the guest reads back from its disk: '$read_back'; $n >= $last_a, the last DISK-HEARTBEAT written on node-a before the migration ($n >= $synced_b, the last one on node-b before the reboot)" \
  test "$n" -ge "$last_a" -a "$n" -ge "$synced_b"
await "$serial_b" '^DISK-HEARTBEAT 1$' 15
show "The new boot writes again: $(lines "$serial_b" '^(GUEST-DISK-OK .*|DISK-HEARTBEAT 1)$' | paste -sd';' | sed 's/;/; /g')" true
pid_r=$(cat "$demo_dir/data/hvkit/kvm-nodeb/pid/demo")
check_qemu "$pid_r" "After the reboot node-b's new"
run "hv:uidpool" "Taken     1 ($qemu_uid)"

powerdowns=$(lines "$serial_b" '^GUEST-POWERDOWN' | wc -l)
run "hv:stop demo" "Instance demo stopped on kvm@node-b"
[ "$(lines "$serial_b" '^GUEST-POWERDOWN' | wc -l)" -gt "$powerdowns" ] || fail "the guest did not receive the ACPI powerdown"
show "The guest powered down through ACPI: $(lines "$serial_b" '^GUEST-POWERDOWN' | tail -n 1)" true
exited "$pid_r" || fail "QEMU $pid_r is still running after hv:stop"
# the image as the guest left it: a clean filesystem whose /heartbeat holds the first boot's
# HEARTBEAT 1..n (node-a, then node-b after the migration), then the second boot's 1..m
fs_state=$(dumpe2fs -h "$disk_img" 2>/dev/null | sed -n 's/^Filesystem state: *//p')
on_disk=$(debugfs -R 'cat /heartbeat' "$disk_img" 2>/dev/null)
m=$(tail -n 1 <<<"$on_disk" | sed -n 's/^HEARTBEAT \([0-9][0-9]*\)$/\1/p')
image_as_expected() {
  [ "$fs_state" = clean ] || { echo "the filesystem is '$fs_state', not clean" >&2; return 1; }
  [ -n "$m" ] && [ "$on_disk" = "$(seq -f 'HEARTBEAT %.0f' 1 "$n"; seq -f 'HEARTBEAT %.0f' 1 "$m")" ] \
    || { echo "/heartbeat is not HEARTBEAT 1..$n then 1..m; it has $(wc -l <<<"$on_disk") lines, the last: $(tail -n 3 <<<"$on_disk" | paste -sd'|')" >&2; return 1; }
}
show "The image after the stop: filesystem $fs_state; /heartbeat holds HEARTBEAT 1..$n (first boot: node-a up to $last_a, then node-b), then 1..${m:-?} (after the reboot)" \
  image_as_expected
run "hv:cleanup demo" "Cleaned up demo on kvm@node-b"
run "hv:list" "(no instances)"
run "hv:uidpool" "Taken     0"
[ -z "$(ip -br link show master br0)" ] || fail "a tap is still enslaved to br0: $(ip -br link show master br0)"

step "Stopping Karaf"
stop_all
karaf_pid=""
trap - EXIT
for p in $(pgrep -f -- "-pidfile $demo_dir/data/hvkit/" || true); do
  exited "$p" || fail "QEMU process $p was left behind"
done
printf '\nONE HOST OK: every step did what it shows; Karaf is stopped, no QEMU is left, and the\nnamespace with br0 and its taps is gone with this process.\n'
