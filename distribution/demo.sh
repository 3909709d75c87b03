#!/usr/bin/env bash
# hvkit demo (README command 1): installs what it needs, builds hvkit and the real test guest,
# starts the Karaf distribution headless inside a private network and mount namespace, and
# walks through the hv:* story with a real KVM guest (TCG), a NIC bridged to br0 and a uid
# from the pool, printing every step. Exits 0 only if every step did what it shows; leaves
# nothing running (the namespace, its bridge and taps vanish with the last process in it).
# Usage, as root from the repository root:  bash distribution/demo.sh
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
demo_dir="$here/distribution/target/demo"
guest_dir="$here/target/guest"
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
mvn -B -q -DskipTests install -pl distribution -am

step "Building the real test guest (Debian cloud kernel + busybox initramfs)"
bash tools/guest/build.sh "$here/target/guest"

step "Unpacking the distribution into $demo_dir"
rm -rf "$demo_dir"
mkdir -p "$demo_dir"
tar xzf distribution/target/hvkit-distribution-*.tar.gz -C "$demo_dir" --strip-components=1
cd "$demo_dir"

# examples/demo.json names the guest's kernel and initramfs through @GUEST_DIR@
sed -i "s|@GUEST_DIR@|$guest_dir|g" examples/demo.json
grep -q "$guest_dir/vmlinuz" examples/demo.json || fail "examples/demo.json does not name $guest_dir/vmlinuz"

# Everything from here runs in fresh network and mount namespaces: the bridge, the taps and
# the migration traffic stay private, and the pool uids get passwd entries only in here.
[ "$(id -u)" = 0 ] || fail "the KVM part needs root (network namespace, taps, -runas to pool uids)"
step "Entering a private network and mount namespace (unshare --net --mount)"
exec unshare --net --mount --propagation private -- bash "$here/distribution/demo.sh" --in-namespace
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
heartbeat() { grep -a -o 'HEARTBEAT [0-9]*' "$1" 2>/dev/null | tail -1 | cut -d' ' -f2; }

# the shell may answer before the hv commands are registered: wait for them
for _ in $(seq 1 100); do
  karaf_cmd "hv:types" | grep -q 'kvm' && break
  sleep 0.2
done

run "hv:types" "fake" "kvm" "node-a" "node-b" "org.hvkit.kvm"
run "hv:verify" "kvm@node-a: OK" "kvm@node-b: OK"
run "hv:uidpool" "$pool_first-$pool_last" "Total     20" "Taken     0"
run "hv:start --dry-run examples/demo.json" '"-name","demo"' '"-accel","tcg"' '"-runas"'
run "hv:start examples/demo.json" "Instance demo started on kvm@node-a"

serial="$demo_dir/data/hvkit/kvm-nodea/ctrl/demo.serial.log"
for _ in $(seq 1 300); do grep -q 'GUEST-PING' "$serial" 2>/dev/null && [ -n "$(heartbeat "$serial")" ] && break; sleep 0.1; done
grep -q "GUEST-UP ip=10.99.0.2/24" "$serial" || fail "the guest did not come up within 30 s (see $serial)"
grep -q "GUEST-PING-OK $bridge_ip" "$serial" || fail "the guest did not reach $bridge_ip over its bridged NIC within 30 s (see $serial)"
show "The guest is up and reached the bridge over its NIC: $(grep -a -m1 GUEST-UP "$serial" | tr -d '\r'); $(grep -a -m1 GUEST-PING "$serial" | tr -d '\r')" true
run "hv:list" "demo" "kvm" "node-a" "running"
run "hv:console --tail 5 demo" "HEARTBEAT"
pid=$(cat "$demo_dir/data/hvkit/kvm-nodea/pid/demo")
user=$(ps -o user= -p "$pid")
uid=$(ps -o uid= -p "$pid" | tr -d ' ')
show "QEMU (pid $pid) runs as $user (uid $uid from the pool); taps on br0: $(ip -br link show master br0 | awk '{print $1}' | tr '\n' ' ')" \
  test "$uid" -ge "$pool_first" -a "$uid" -le "$pool_last" -a "$user" = "hvkit-pool-$uid"
[ -n "$(ip -br link show master br0)" ] || fail "no tap is enslaved to br0"

run "hv:uidpool" "Taken     1 ($uid)"

before=$(heartbeat "$serial")
run "hv:migrate demo node-b" "Instance demo migrated to kvm@node-b"
serial_b="$demo_dir/data/hvkit/kvm-nodeb/ctrl/demo.serial.log"
for _ in $(seq 1 50); do [ "$(heartbeat "$serial_b")" -gt "$before" ] 2>/dev/null && break; sleep 0.1; done
after=$(heartbeat "$serial_b")
show "Heartbeat before the migration on node-a: $before; now on node-b: ${after:-none}" \
  test "${after:-0}" -gt "$before"
pid_b=$(cat "$demo_dir/data/hvkit/kvm-nodeb/pid/demo")
exited "$pid" || fail "the source QEMU (pid $pid) is still running after the migration"
show "Source QEMU $pid is gone; node-b's QEMU (pid $pid_b) runs as $(ps -o user= -p "$pid_b"); taps on br0: $(ip -br link show master br0 | awk '{print $1}' | tr '\n' ' ')" \
  test -n "$(ip -br link show master br0)"
run "hv:list" "demo" "node-b" "running"

run "hv:stop demo" "Instance demo stopped on kvm@node-b"
grep -q GUEST-POWERDOWN "$serial_b" || fail "the guest did not receive the ACPI powerdown"
show "The guest powered down through ACPI: $(grep -a GUEST-POWERDOWN "$serial_b" | tr -d '\r')" true
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
printf '\nDEMO OK: every step did what it shows; Karaf is stopped, no QEMU is left, and the\nnamespace with br0 and its taps is gone with this process.\n'
