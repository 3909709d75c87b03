#!/usr/bin/env bash
# The two-host proof (issue #16, items 4 and 5): two hvkit Karafs in two network namespaces
# ("host-a", "host-b", see twohost.sh), joined by a veth; everything driven from host-a's
# console, with the real test guest under TCG:
#   hv:types lists kvm@host-a and kvm@host-b (remote) -> hv:start -n host-b -> hv:list ->
#   hv:migrate guest host-a (live, over the veth, the heartbeat going on) -> hv:stats (the
#   migration's figures on host-a) -> hv:stop
# and with --faults, across the hosts:
#   a migration host-b -> host-a whose target QEMU dies mid-stream: it fails, the guest goes on
#   on host-b, host-a keeps nothing of it; host-b's Karaf killed while that migration is in
#   flight: the call fails on host-a at once with an error naming host-b's endpoint, and
#   kvm@host-b vanishes from host-a within the discovery session
#   timeout, the guest on host-b keeps running; host-b's Karaf restarted: the guest is adopted
#   and reappears on host-a; ZooKeeper killed and restarted: host-b's service comes back on
#   host-a without a Karaf restart; the guest is then stopped from host-a.
# Prints every step and what it checked; exits 0 only if every step did what it shows; leaves
# no process, namespace, veth, tap or ZooKeeper data behind (TH_KEEP=1 keeps TH_DIR's files).
#
# Usage, as root, after `mvn package -pl distribution -am` and tools/guest/build.sh:
#   bash distribution/twohost/proof.sh [--faults]
# Environment: TH_DIR (default distribution/target/twohost), TH_DIST, TH_M2, TH_JAVA_HOME,
# GUEST_DIR (default target/guest), TH_REMOTE_FEATURES (see twohost.sh).
set -euo pipefail
PATH=$PATH:/usr/sbin:/sbin
here=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=twohost.sh
source "$here/distribution/twohost/twohost.sh"
th_private "$here/distribution/twohost/proof.sh" "$@"

faults=false
[ "${1:-}" = --faults ] && faults=true
export TH_DIR=$(realpath -m "${TH_DIR:-$here/distribution/target/twohost}")
TH_DIST=${TH_DIST:-$(ls "$here"/distribution/target/hvkit-distribution-*.tar.gz 2>/dev/null | head -n 1)}
[ -f "$TH_DIST" ] || th_fail "no distribution tar.gz (build it: mvn -B -ntp package -pl distribution -am)"
TH_JAVA_HOME=${TH_JAVA_HOME:-${JAVA_HOME:-/usr/lib/jvm/java-17-openjdk-amd64}}
GUEST_DIR=$(realpath -m "${GUEST_DIR:-$here/target/guest}")   # instance files want normalized paths
[ -f "$GUEST_DIR/vmlinuz" ] && [ -f "$GUEST_DIR/initramfs.gz" ] || th_fail "no test guest in $GUEST_DIR (bash tools/guest/build.sh $GUEST_DIR)"

t_start=$(date +%s)
finish() {
  local rc=$?
  th_cleanup
  [ "${TH_KEEP:-}" = 1 ] || rm -rf "$TH_DIR"
  exit "$rc"
}
trap finish EXIT
trap 'exit 143' TERM INT   # a signal runs the EXIT trap too: nothing is left behind

th_step "Two hosts: namespaces host-a and host-b, veth mgmt0 ($(th_ip a) <-> $(th_ip b)), br0 $TH_BRIDGE_IP/24 in each"
rm -rf "$TH_DIR"
th_setup
for h in $TH_HOSTS; do
  printf 'host-%s: %s, hostname %s; %s\n' "$h" "$(th_netns_of "${TH_HOLDER[$h]}")" "$(th_in "$h" hostname)" \
    "$(th_in "$h" ip -br addr show | awk '$1 != "lo" {print $1, $3}' | paste -sd';' | sed 's/;/; /g')"
done
th_step "ZooKeeper (own process) in host-a's namespace on $(th_ip a):$TH_ZK_PORT"
th_zk_start
echo "ZooKeeper pid $TH_ZK answers 'imok' from host-b"

# the guest: the real test guest, a NIC on br0 and a disk image every host sees (the two
# namespaces share one filesystem: shared storage, disk template sharedfile)
mkdir -p "$TH_DIR/disks"
bash "$here/tools/guest/make-disk.sh" "$TH_DIR/disks/guest.img" 16 >/dev/null
cat >"$TH_DIR/guest.json" <<EOF
{
  "name": "guest",
  "hypervisor": "kvm",
  "primary_node": "host-b",
  "beparams": {"memory": 128, "vcpus": 1},
  "hvparams": {
    "kernel_path": "$GUEST_DIR/vmlinuz",
    "initrd_path": "$GUEST_DIR/initramfs.gz",
    "root_path": "/dev/ram0",
    "kernel_args": "panic=-1 guest.ip=10.99.0.2/24 guest.ping=$TH_BRIDGE_IP guest.disk=/dev/vda",
    "kvm_flag": "disabled",
    "disk_cache": "none",
    "security_model": "pool"
  },
  "nics": [{"mac": "aa:00:00:00:00:02", "nicparams": {"mode": "bridged", "link": "br0"}}],
  "disks": [{"dev_path": "$TH_DIR/disks/guest.img", "mode": "rw", "size": 16}],
  "disk_template": "sharedfile"
}
EOF

for h in $TH_HOSTS; do
  th_step "Starting host-$h's Karaf headless (features hvkit, $TH_REMOTE_FEATURES)"
  th_prepare "$h"
  t0=$(date +%s%N)
  th_karaf_start "$h"
  echo "host-$h: Karaf pid $(th_karaf_java "$h"), kvm@host-$h registered after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
done

sees_b() { th_cmd a hv:types | grep -q 'host-b'; }
lacks_b() { ! th_cmd a hv:types | grep -q 'host-b'; }
th_step "Waiting for host-b's hypervisor to appear on host-a (ZooKeeper discovery, Aries RSA fastbin import)"
th_until 60 "kvm@host-b on host-a's console" sees_b
echo "kvm@host-b imported on host-a after $TH_WAITED_MS ms"

th_step "What listens on host-b (ss -ltn): the fastbin provider's endpoint on the management address only, ZooKeeper is on host-a"
th_in b ss -ltnH | awk '{print "  " $4}' | sort -u
# issue #16: bound to org.hvkit.remote's address (a dual-stack socket shows it IPv4-mapped), never the wildcard
bound_b=$(th_in b ss -ltnH "sport = :8201" | awk '{print $4}')
[ -n "$bound_b" ] && ! grep -Evqx "(\[::ffff:)?$(th_ip b)\]?:8201" <<<"$bound_b" \
  || th_fail "host-b's Remote Services port 8201 is not bound to $(th_ip b) alone: ${bound_b:-nothing listens}"
echo "host-b's port 8201 is bound to: $bound_b"
th_run a "hv:types" "host-a" "host-b"
row_b=$(grep 'host-b' <<<"$TH_OUT")
row_a=$(grep 'host-a' <<<"$TH_OUT")
grep -q 'remote' <<<"$row_b" || th_fail "hv:types does not mark kvm@host-b as remote: $row_b"
! grep -q 'remote' <<<"$row_a" || th_fail "hv:types marks host-a's own node as remote: $row_a"

serial_b=$(th_serial b guest) serial_a=$(th_serial a guest)
th_run a "hv:start -n host-b $TH_DIR/guest.json" "Instance guest started on kvm@host-b"
pid_b=$(cat "$(th_pidfile b guest)")
[ "$(th_netns_of "$pid_b")" = "$(th_netns_of "${TH_HOLDER[b]}")" ] || th_fail "QEMU $pid_b does not run in host-b's namespace"
th_await "$serial_b" '^DISK-HEARTBEAT [0-9]+$' 60
[ -n "$(th_lines "$serial_b" "^GUEST-PING-OK ${TH_BRIDGE_IP//./\\.}\$")" ] || th_fail "the guest did not reach host-b's br0 (see $serial_b)"
th_step "The guest runs on host-b: QEMU pid $pid_b in $(th_netns_of "$pid_b") (host-b's), as uid $(ps -o uid= -p "$pid_b" | tr -d ' '); $(th_lines "$serial_b" '^GUEST-(UP|PING-OK|DISK-OK) ' | paste -sd';' | sed 's/;/; /g'); HEARTBEAT $(th_count "$serial_b" HEARTBEAT)"
th_run a "hv:list" "guest" "host-b" "running"

exec {serial_fd}<"$serial_b"   # keeps host-b's log readable after the migration removes it
th_run a "hv:migrate guest host-a" "at $(th_ip a)" "Instance guest migrated to kvm@host-a"
th_exited "$pid_b" || th_fail "the source QEMU $pid_b on host-b still runs after the migration"
cat <&"$serial_fd" >"$TH_DIR/host-b.serial.log"
exec {serial_fd}<&-
last_b=$(th_count "$TH_DIR/host-b.serial.log" HEARTBEAT)
[ -n "$last_b" ] || th_fail "host-b's console shows no heartbeat"
th_await_count "$serial_a" HEARTBEAT $(( last_b + 2 )) 15
first_a=$(th_first_count "$serial_a" HEARTBEAT)
[ -z "$(th_lines "$serial_a" '^GUEST-UP')" ] || th_fail "the guest booted again on host-a instead of going on"
[ "$first_a" -gt "$last_b" ] || th_fail "host-a's heartbeat starts at $first_a, not after host-b's last ($last_b)"
pid_a=$(cat "$(th_pidfile a guest)")
[ "$(th_netns_of "$pid_a")" = "$(th_netns_of "${TH_HOLDER[a]}")" ] || th_fail "QEMU $pid_a does not run in host-a's namespace"
th_step "The guest went on on host-a without a reboot: host-b's console ends at HEARTBEAT $last_b, host-a's goes on with HEARTBEAT $first_a..$(th_count "$serial_a" HEARTBEAT); QEMU pid $pid_a in host-a's namespace; source QEMU $pid_b gone"
th_run a "hv:list" "guest" "host-a" "running"
# issue #17: host-a's statistics tell of the arrival, with the downtime and bytes host-b's QEMU
# measured (the coordinator hands the source's final status over to the target's finalize)
th_run a "hv:stats guest" "last migration:" "guest@host-a: arrived, completed" ", paused " " sent"
th_step "host-a's hv:stats: $(grep -a 'guest@host-a: arrived' <<<"$TH_OUT" | sed 's/^ *//')"
th_run a "hv:stop guest" "Instance guest stopped on kvm@host-a"
th_exited "$pid_a" || th_fail "QEMU $pid_a still runs after hv:stop"
th_run a "hv:cleanup guest" "Cleaned up guest on kvm@host-a"
th_run a "hv:list" "(no instances)"

if $faults; then
  # A migration from host-b must last long enough to be hit mid-stream: host-b's node default
  # migration_bandwidth (a cluster-level parameter, Ganeti refuses it per instance) goes down to
  # 1 MiB/s by a configuration change, which Karaf applies without a restart; an instance takes
  # the node's values when it starts.
  t_mid_faults=$(date +%s)
  th_step "host-b's migration_bandwidth lowered to 1 MiB/s (etc/org.hvkit.kvm-hostb.cfg, applied without a restart)"
  sed -i -e 's/^hvparam\.migration_bandwidth *=.*/hvparam.migration_bandwidth = 1/' "$(th_home b)/etc/org.hvkit.kvm-hostb.cfg"
  slow_b() { th_cmd a "hv:params -n host-b kvm" | grep 'migration_bandwidth' | grep -q '[^0-9]1 (node'; }
  th_until 60 "host-b's new migration_bandwidth seen from host-a (hv:params -n host-b kvm)" slow_b
  th_until 60 "kvm@host-b on host-a's console after its node was reconfigured" sees_b
  echo "host-a's hv:params -n host-b kvm: $(th_cmd a "hv:params -n host-b kvm" | grep migration_bandwidth | tr -s ' ' | cut -c1-90)"
  th_run a "hv:start -n host-b $TH_DIR/guest.json" "Instance guest started on kvm@host-b"
  pid_b=$(cat "$(th_pidfile b guest)")
  th_await "$serial_b" '^HEARTBEAT [0-9]+$' 60

  th_step "Fault: the target's QEMU dies mid-stream (hv:migrate guest host-a from host-b; host-a's incoming QEMU killed)"
  tree_a=$(th_tree a) links_a=$(th_links a)
  mig_out=$TH_DIR/migrate-target-dies.out
  th_migrate_bg a guest host-a "$mig_out"
  mid_target() { [ -s "$(th_pidfile a guest)" ] && th_midstream a; }
  th_until 60 "the migration to host-a under way" mid_target
  incoming=$(cat "$(th_pidfile a guest)")
  kill -9 "$incoming"
  echo "killed host-a's incoming QEMU (pid $incoming) mid-stream"
  th_await_exit "$TH_MIG" 60 "hv:migrate ends after the target's QEMU died"
  cat "$mig_out"
  grep -q 'Error executing command' "$mig_out" || th_fail "hv:migrate did not fail although its target QEMU died mid-stream"
  grep -q 'migrated to' "$mig_out" && th_fail "hv:migrate reports success although its target QEMU died mid-stream"
  th_exited "$pid_b" && th_fail "the source QEMU $pid_b on host-b died with the migration"
  hb=$(th_count "$serial_b" HEARTBEAT)
  th_await_count "$serial_b" HEARTBEAT $(( hb + 2 )) 10
  th_run a "hv:list" "guest" "host-b" "running"
  [ "$(th_tree a)" = "$tree_a" ] || th_fail "host-a's kvm node keeps files of the failed migration: $(diff <(echo "$tree_a") <(th_tree a) | grep '^>' | paste -sd' ')"
  [ "$(th_links a)" = "$links_a" ] || th_fail "host-a keeps links of the failed migration: $(th_links a | paste -sd' ')"
  th_exited "$incoming" || th_fail "host-a's incoming QEMU $incoming still runs"
  th_step "hv:migrate failed ${TH_WAITED_MS} ms after the target's QEMU died ($(grep -a 'Error executing command' "$mig_out" | cut -c1-200)); the guest goes on on host-b (QEMU $pid_b, HEARTBEAT $hb -> $(th_count "$serial_b" HEARTBEAT)); host-a keeps no QEMU, tap or file of it"

  th_step "Fault: host-b's Karaf is killed (SIGKILL) while host-a's hv:migrate guest host-a is in flight (its call migrateInstance runs on host-b)"
  mig_out=$TH_DIR/migrate-source-host-dies.out
  th_migrate_bg a guest host-a "$mig_out"
  th_until 60 "the migration to host-a under way" mid_target
  incoming=$(cat "$(th_pidfile a guest)")
  t_kill=$(date +%s%N)
  th_karaf_kill b
  echo "killed host-b's Karaf mid-stream"
  th_await_exit "$TH_MIG" 60 "hv:migrate on host-a ends after host-b's Karaf died"
  call_ms=$TH_WAITED_MS
  cat "$mig_out"
  grep -q 'Error executing command' "$mig_out" || th_fail "hv:migrate did not fail although host-b's Karaf died during its call"
  grep -qF "$(th_ip b):820" "$mig_out" || th_fail "hv:migrate's error does not name host-b's endpoint at $(th_ip b)"
  th_exited "$incoming" || th_fail "host-a's incoming QEMU $incoming still runs after the migration failed"
  [ "$(th_tree a)" = "$tree_a" ] || th_fail "host-a's kvm node keeps files of the failed migration: $(diff <(echo "$tree_a") <(th_tree a) | grep '^>' | paste -sd' ')"
  [ "$(th_links a)" = "$links_a" ] || th_fail "host-a keeps links of the failed migration: $(th_links a | paste -sd' ')"
  th_until 30 "kvm@host-b gone from host-a after host-b's Karaf died" lacks_b
  gone_ms=$(( ($(date +%s%N) - t_kill) / 1000000 ))
  th_exited "$pid_b" && th_fail "host-b's guest (QEMU $pid_b) died with its Karaf"
  hb=$(th_count "$serial_b" HEARTBEAT)
  th_await_count "$serial_b" HEARTBEAT $(( hb + 2 )) 10
  th_run a "hv:types" "host-a"
  th_step "The call in flight failed on host-a $call_ms ms after host-b's Karaf died (the call timeout is 900 s): $(grep -a 'Error executing command' "$mig_out" | cut -c1-200); host-a's incoming QEMU and files are gone; kvm@host-b vanished from host-a $gone_ms ms after the kill (ZooKeeper session timeout 3000 ms); host-b's guest (QEMU $pid_b) keeps running: HEARTBEAT $hb -> $(th_count "$serial_b" HEARTBEAT). The two mid-stream faults took $(( $(date +%s) - t_mid_faults )) s, the slower migration's setup included"

  th_step "Fault: host-b's Karaf restarted: it adopts the running guest, which reappears on host-a"
  t0=$(date +%s%N)
  th_karaf_start b
  lists_guest_b() { th_cmd a hv:list | grep 'guest' | grep 'host-b' | grep -q running; }
  th_until 60 "host-b's adopted guest on host-a's hv:list" lists_guest_b
  back_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  [ "$(cat "$(th_pidfile b guest)")" = "$pid_b" ] || th_fail "host-b started a new QEMU instead of adopting $pid_b"
  th_run a "hv:list" "guest" "host-b" "running"
  th_step "The guest (the same QEMU $pid_b) is back on host-a's hv:list $back_ms ms after host-b's Karaf was started"

  th_step "Fault: ZooKeeper killed (SIGKILL) and restarted on the same data"
  zk_pid=$TH_ZK
  th_zk_stop
  [ -z "$(th_zk_4lw ruok)" ] || th_fail "ZooKeeper still answers after its process $zk_pid was killed"
  echo "ZooKeeper (pid $zk_pid) is gone; nothing answers on $(th_ip a):$TH_ZK_PORT"
  sleep 5   # longer than the session timeout: the Karafs notice the loss
  th_run a "hv:types" "host-a"
  t0=$(date +%s%N)
  th_zk_start
  # both Karafs publish their endpoints again: ephemeral nodes of two live sessions under
  # /osgi/service_registry (ZooKeeper's 'dump'; fastbin's endpoint ids name no host)
  both_published() {
    [ "$(th_zk_4lw dump | awk '/^0x/ { s = $1 } /\/osgi\/service_registry\// { print s }' | sort -u | wc -l)" -ge 2 ]
  }
  th_until 60 "both hosts' endpoints back in ZooKeeper after its restart" both_published
  republished_ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  th_until 60 "kvm@host-b back on host-a after ZooKeeper's restart" sees_b
  th_run a "hv:list" "guest" "host-b" "running"
  th_step "Both endpoints are published again $republished_ms ms after ZooKeeper's restart ($(th_zk_4lw dump | grep -o '/osgi/service_registry/[^ ]*' | sort -u | paste -sd' ')); host-a lists host-b's guest over the import; no Karaf restarted"

  th_run a "hv:stop guest" "Instance guest stopped on kvm@host-b"
  th_exited "$pid_b" || th_fail "QEMU $pid_b still runs after hv:stop"
  th_run a "hv:cleanup guest" "Cleaned up guest on kvm@host-b"
fi

th_step "Stopping both Karafs, ZooKeeper and the namespaces"
th_cleanup
trap - EXIT
# anything still running that names this run's directory: QEMU (-pidfile), Karaf (karaf.home), ZooKeeper (zoo.cfg)
left=$(for p in $(pgrep -f -- "$TH_DIR/" || true); do th_exited "$p" || echo "$p"; done)
[ "${TH_KEEP:-}" = 1 ] || rm -rf "$TH_DIR"
[ -z "$left" ] || th_fail "processes left behind: $(ps -o pid=,args= -p "${left//$'\n'/,}" | cut -c1-160)"
printf '\nTWO-HOST OK in %s s: every step did what it shows; no Karaf, QEMU or ZooKeeper is left, and\nthe namespaces with their veth, bridges and taps are gone.\n' $(( $(date +%s) - t_start ))
