#!/usr/bin/env bash
# hvkit demo: build, start the Karaf distribution headless, and walk through the hv:* story on
# the fake hypervisor, printing every step. Exits 0 only if every step did what it shows;
# leaves nothing running. Usage: bash distribution/demo.sh   (from the repository root)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cd "$here"
demo_dir="$here/distribution/target/demo"

step() { printf '\n==> %s\n' "$*"; }
fail() { printf '\nDEMO FAILED: %s\n' "$*" >&2; exit 1; }

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

# the KVM example instance: the real guest, TCG, booting its kernel directly
cat > "$demo_dir/examples/kvm-demo.json" <<JSON
{
  "name": "kvmdemo",
  "hypervisor": "kvm",
  "primary_node": "node-a",
  "beparams": {"memory": 128, "vcpus": 1},
  "hvparams": {
    "kernel_path": "$here/target/guest/vmlinuz",
    "initrd_path": "$here/target/guest/initramfs.gz",
    "root_path": "/dev/ram0",
    "kernel_args": "panic=-1",
    "kvm_flag": "disabled"
  },
  "disk_template": "diskless"
}
JSON

karaf_pid=""
stop_karaf() {
  if [ -n "$karaf_pid" ] && kill -0 "$karaf_pid" 2>/dev/null; then
    bin/stop >/dev/null 2>&1 || true
    for _ in $(seq 1 100); do kill -0 "$karaf_pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$karaf_pid" 2>/dev/null || true
  fi
}
trap stop_karaf EXIT

step "Starting Karaf headless (bin/karaf server)"
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

# the shell may answer before the hv commands are registered: wait for them
for _ in $(seq 1 100); do
  karaf_cmd "hv:types" | grep -q 'fake' && break
  sleep 0.2
done

run "hv:types" "fake" "kvm" "node-a" "node-b" "org.hvkit.fake" "org.hvkit.kvm"
run "hv:verify" "fake@node-a: OK" "fake@node-b: OK" "kvm@node-a: OK" "kvm@node-b: OK"
run "hv:uidpool" "2000000-2000019" "Total     20"
run "hv:start $demo_dir/examples/fake-demo.json" "Instance demo started on fake@node-a"
run "hv:list" "demo" "node-a" "running"
run "hv:info demo" "aa:00:00:00:00:01 bridged br0" "128 MiB"
run "hv:migrate demo node-b" "Instance demo migrated to fake@node-b"
run "hv:list" "demo" "node-b"
run "hv:stop demo" "Instance demo stopped on fake@node-b"
run "hv:list" "(no instances)"

# the real thing: a KVM guest under TCG on node-a
run "hv:start --dry-run $demo_dir/examples/kvm-demo.json" '"-name","kvmdemo"' '"-accel","tcg"'
run "hv:start $demo_dir/examples/kvm-demo.json" "Instance kvmdemo started on kvm@node-a"
serial="$demo_dir/data/hvkit/kvm-nodea/ctrl/kvmdemo.serial.log"
for _ in $(seq 1 300); do grep -q GUEST-UP "$serial" 2>/dev/null && break; sleep 0.1; done
grep -q GUEST-UP "$serial" || fail "the guest did not print GUEST-UP within 30 s"
sleep 2
run "hv:console --tail 3 kvmdemo" "HEARTBEAT"
run "hv:list" "kvmdemo" "kvm" "node-a" "running"
run "hv:info kvmdemo" "128 MiB" "ssh -t root@node-a"
before=$(grep -a -o 'HEARTBEAT [0-9]*' "$serial" | tail -1)
run "hv:migrate kvmdemo node-b" "Instance kvmdemo migrated to kvm@node-b"
serial_b="$demo_dir/data/hvkit/kvm-nodeb/ctrl/kvmdemo.serial.log"
sleep 2
step "Heartbeat on node-a before: $before; on node-b now: $(grep -a -o 'HEARTBEAT [0-9]*' "$serial_b" | tail -1)"
[ "$(grep -a -o 'HEARTBEAT [0-9]*' "$serial_b" | tail -1 | cut -d' ' -f2)" -gt "${before#HEARTBEAT }" ] || fail "the heartbeat did not continue on node-b"
run "hv:list" "kvmdemo" "node-b" "running"
serial=$serial_b
run "hv:stop kvmdemo" "Instance kvmdemo stopped on kvm@node-b"
grep -q GUEST-POWERDOWN "$serial" || fail "the guest did not receive the ACPI powerdown"
step "The guest powered down through ACPI: $(grep -a GUEST-POWERDOWN "$serial" | tr -d '\r')"
run "hv:cleanup -t kvm -n node-b kvmdemo" "Cleaned up kvmdemo on kvm@node-b"
run "hv:list" "(no instances)"

step "Stopping Karaf"
stop_karaf
karaf_pid=""
trap - EXIT
printf '\nDEMO OK: every step did what it shows; Karaf is stopped.\n'
