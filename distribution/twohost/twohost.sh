# hvkit two-host harness (issue #16): a library, sourced by distribution/twohost/proof.sh and
# distribution/demo.sh. Two "hosts" on one machine:
#
#   host-a                                    host-b
#   ├─ network+mount+UTS namespace            ├─ network+mount+UTS namespace
#   ├─ mgmt0 192.0.2.1/24 ──── veth ───────── mgmt0 192.0.2.2/24   (management + migration)
#   ├─ br0 10.99.0.1/24 (guests' bridge)      ├─ br0 10.99.0.1/24 (guests' bridge)
#   ├─ Karaf (hvkit + hvkit-remote),          ├─ Karaf (hvkit + hvkit-remote),
#   │  kvm node "host-a", uid pool            │  kvm node "host-b", uid pool
#   │  2000000-2000009                        │  2000010-2000019
#   └─ ZooKeeper (own JVM) on 192.0.2.1:2181
#
# 192.0.2.0/24 is TEST-NET-1 (RFC 5737), for documentation and tests. Both bridges carry the
# same subnet on purpose: a guest keeps its address when it moves from one host to the other.
#
# ZooKeeper runs as its own process, not inside host-a's Karaf
# (aries-rsa-discovery-zookeeper-server): the fault steps kill and restart each Karaf and
# stop and restart ZooKeeper independently, and in a real deployment the ensemble runs apart
# from the nodes it serves (docs/multi-host.md). It is the ZooKeeper 3.4.14 that Aries RSA
# 1.16.1's discovery bundles, started with QuorumPeerMain in standalone mode.
#
# Everything lives in namespaces created here and held by one "holder" process per host
# (unshare ... sleep infinity): when th_cleanup kills the holders and every process started
# inside (Karaf, QEMU, ZooKeeper, by pid), the kernel removes the namespaces with their veth,
# bridges and taps. The caller must already run in a private mount namespace (th_private):
# the passwd entries of the pool uids are bind-mounted there only. Nothing touches the host's
# network namespace.
#
# Inputs (environment): TH_DIR (work directory, created; on a real filesystem: the guest's
# disk uses O_DIRECT), TH_DIST (hvkit-distribution-*.tar.gz), TH_M2 (the local Maven
# repository that holds Aries RSA and ZooKeeper; default ~/.m2/repository), TH_JAVA_HOME
# (a JDK 17), TH_REMOTE_FEATURES (features booted besides hvkit; default hvkit-remote, the
# distribution's own, installed from its system/ — with the ZooKeeper 3.5 client bundle
# bundles/zookeeper-client makes, since Aries's 3.4.14 client never connects on Java 17).

TH_HOSTS="a b"
TH_NET=192.0.2
TH_BRIDGE_IP=10.99.0.1
TH_ZK_PORT=2181
TH_POOL_FIRST=2000000 TH_POOL_LAST=2000019
TH_M2=${TH_M2:-$HOME/.m2/repository}
TH_REMOTE_FEATURES=${TH_REMOTE_FEATURES:-hvkit-remote}
declare -A TH_HOLDER=() TH_KARAF=()
TH_ZK=""

th_step() { printf '\n==> %s\n' "$*"; }
th_fail() { printf '\nTWO-HOST FAILED: %s\n' "$*" >&2; exit 1; }
th_ip() { [ "$1" = a ] && echo "$TH_NET.1" || echo "$TH_NET.2"; }
th_home() { echo "$TH_DIR/host-$1"; }

# th_private SCRIPT ARGS...: re-executes SCRIPT in a private network and mount namespace
# unless it already runs in one (TH_PRIVATE=1); the outer network namespace only creates the veth
th_private() {
  [ "${TH_PRIVATE:-}" = 1 ] && return 0
  [ "$(id -u)" = 0 ] || th_fail "the two-host harness needs root (namespaces, veth, taps, -runas to pool uids)"
  TH_PRIVATE=1 exec unshare --net --mount --propagation private -- bash "$@"
}

# th_in HOST CMD...: runs CMD in HOST's network, mount and UTS namespaces
th_in() { local h=$1; shift; nsenter -t "${TH_HOLDER[$h]}" -n -m -u -- "$@"; }

# th_setup: the two namespaces, the veth between them, a bridge in each, the pool's passwd entries
th_setup() {
  mkdir -p "$TH_DIR"
  cp /etc/passwd "$TH_DIR/passwd"
  local uid h
  for uid in $(seq "$TH_POOL_FIRST" "$TH_POOL_LAST"); do
    echo "hvkit-pool-$uid:x:$uid:$uid:hvkit uid pool:/nonexistent:/usr/sbin/nologin" >>"$TH_DIR/passwd"
  done
  mount --bind "$TH_DIR/passwd" /etc/passwd
  for h in $TH_HOSTS; do
    rm -f "$TH_DIR/holder-$h.ready"
    # The host's own /etc/hosts (both hosts' names and management addresses) and an empty
    # resolv.conf: there is no DNS in here, and Java (InetAddress.getLocalHost) and ZooKeeper's
    # client (it canonicalizes the server's address) would otherwise wait for one on every lookup.
    mkdir -p "$TH_DIR/etc-host-$h"
    printf '127.0.0.1 localhost\n::1 localhost\n%s host-a\n%s host-b\n' "$(th_ip a)" "$(th_ip b)" >"$TH_DIR/etc-host-$h/hosts"
    : >"$TH_DIR/etc-host-$h/resolv.conf"
    # sysfs mounted in the host's own mount namespace shows the host's links (/sys/class/net)
    unshare --net --mount --uts --propagation private -- bash -c \
      'mount -t sysfs sysfs /sys && mount --bind "$3/hosts" /etc/hosts && mount --bind "$3/resolv.conf" /etc/resolv.conf \
       && ip link set lo up && hostname "$1" && : >"$2" && exec sleep infinity' \
      holder "host-$h" "$TH_DIR/holder-$h.ready" "$TH_DIR/etc-host-$h" &
    TH_HOLDER[$h]=$!
    disown
  done
  for h in $TH_HOSTS; do
    for _ in $(seq 1 50); do [ -e "$TH_DIR/holder-$h.ready" ] && break; sleep 0.1; done
    [ -e "$TH_DIR/holder-$h.ready" ] || th_fail "the namespace of host-$h was not ready within 5 s"
  done
  ip link add th-a type veth peer name th-b
  for h in $TH_HOSTS; do
    ip link set "th-$h" netns "${TH_HOLDER[$h]}"
    th_in "$h" ip link set "th-$h" name mgmt0
    th_in "$h" ip addr add "$(th_ip "$h")/24" dev mgmt0
    th_in "$h" ip link set mgmt0 up
    th_in "$h" ip link add br0 type bridge
    th_in "$h" ip addr add "$TH_BRIDGE_IP/24" dev br0
    th_in "$h" ip link set br0 up
  done
  # (no ping here: th_zk_start proves the veth, host-b asks host-a's ZooKeeper 'ruok')
  for h in $TH_HOSTS; do
    for _ in $(seq 1 50); do [ "$(th_in "$h" cat /sys/class/net/mgmt0/operstate)" = up ] && break; sleep 0.1; done
    [ "$(th_in "$h" cat /sys/class/net/mgmt0/operstate)" = up ] || th_fail "host-$h's mgmt0 is not up within 5 s"
  done
}

th_zk_classpath() {
  local j cp=""
  for j in org/apache/zookeeper/zookeeper/3.4.14/zookeeper-3.4.14.jar org/slf4j/slf4j-api/1.7.36/slf4j-api-1.7.36.jar \
    org/slf4j/slf4j-simple/1.7.36/slf4j-simple-1.7.36.jar; do
    [ -f "$TH_M2/$j" ] || th_fail "$TH_M2/$j is missing (itests-remote's pom declares it; run its build once online)"
    cp+=${cp:+:}$TH_M2/$j
  done
  echo "$cp"
}

# th_zk_start: ZooKeeper standalone in host-a's namespace on 192.0.2.1:2181; tickTime 1 s so
# that the discovery's 3 s session timeout is honoured (ZooKeeper allows 2..20 ticks)
th_zk_start() {
  mkdir -p "$TH_DIR/zk/data"
  printf 'tickTime=1000\ndataDir=%s\nclientPort=%s\nclientPortAddress=%s\nmaxClientCnxns=0\n' \
    "$TH_DIR/zk/data" "$TH_ZK_PORT" "$(th_ip a)" >"$TH_DIR/zk/zoo.cfg"
  # nsenter itself, not th_in: a backgrounded function is a subshell, and $! would be its pid
  # while ZooKeeper's JVM (nsenter's exec) lived on after a kill of that pid
  nsenter -t "${TH_HOLDER[a]}" -n -m -u -- "$TH_JAVA_HOME/bin/java" -Xmx128m -Dzookeeper.jmx.log4j.disable=true -cp "$(th_zk_classpath)" \
    org.apache.zookeeper.server.quorum.QuorumPeerMain "$TH_DIR/zk/zoo.cfg" >>"$TH_DIR/zk/zk.out" 2>&1 &
  TH_ZK=$!
  disown
  local i
  for i in $(seq 1 100); do
    [ "$(th_zk_4lw ruok)" = imok ] && return 0
    kill -0 "$TH_ZK" 2>/dev/null || th_fail "ZooKeeper exited (see $TH_DIR/zk/zk.out)"
    sleep 0.2
  done
  th_fail "ZooKeeper did not answer on $(th_ip a):$TH_ZK_PORT within 20 s (see $TH_DIR/zk/zk.out)"
}

# th_zk_4lw WORD: ZooKeeper's answer to a four-letter word (ruok, dump, ...), asked from host-b
th_zk_4lw() {
  th_in b bash -c "exec 3<>/dev/tcp/$(th_ip a)/$TH_ZK_PORT && echo $1 >&3 && timeout 5 cat <&3" 2>/dev/null || true
}

th_zk_stop() {
  [ -n "$TH_ZK" ] || return 0
  kill -9 "$TH_ZK" 2>/dev/null || true
  th_wait_gone "$TH_ZK" 10 || th_fail "ZooKeeper (pid $TH_ZK) did not exit within 10 s of SIGKILL"
  TH_ZK=""
}

# th_wait_gone PID SECONDS: waits until PID has exited (a zombie counts as gone)
th_wait_gone() {
  local st
  for _ in $(seq 1 $(( $2 * 10 ))); do
    st=$(ps -o stat= -p "$1" 2>/dev/null) || return 0
    [ "${st:0:1}" = Z ] && return 0
    sleep 0.1
  done
  return 1
}

# th_prepare HOST: unpacks the distribution for HOST and writes its configuration
th_prepare() {
  local h=$1 home ip first last
  home=$(th_home "$h") ip=$(th_ip "$h")
  rm -rf "$home"
  mkdir -p "$home"
  tar xzf "$TH_DIST" -C "$home" --strip-components=1
  rm -f "$home"/etc/org.hvkit.kvm-node*.cfg "$home"/etc/org.hvkit.fake-node*.cfg
  if [ "$h" = a ]; then first=$TH_POOL_FIRST last=$(( TH_POOL_FIRST + 9 )); else first=$(( TH_POOL_FIRST + 10 )) last=$TH_POOL_LAST; fi
  cat >"$home/etc/org.hvkit.kvm-host$h.cfg" <<EOF
# The KVM hypervisor of host-$h (written by distribution/twohost/twohost.sh)
hypervisor.node = host-$h
root.dir = \${karaf.data}/hvkit/kvm-host$h
# migration targets on this host listen on its management address (the veth)
hypervisor.address = $ip
nic.setup = native
stop.timeout.seconds = 60
# TCG guests are moved unthrottled, in one pass (see etc/org.hvkit.kvm-nodea.cfg of the distribution)
hvparam.migration_bandwidth = 1000
# the guest's disk image lies in the harness's disks/ directory (proof.sh), shared by both hosts
disk.file.dirs = $TH_DIR/disks
EOF
  # a fake node per host too: without a configuration the fake bundle would register a default
  # node keeping its state in /run/hvkit, outside this harness
  printf '# The fake hypervisor of host-%s (written by distribution/twohost/twohost.sh)\nhypervisor.node = host-%s\nstate.dir = ${karaf.data}/hvkit/fake-host%s\n' \
    "$h" "$h" "$h" >"$home/etc/org.hvkit.fake-host$h.cfg"
  cat >"$home/etc/org.hvkit.uidpool.cfg" <<EOF
# host-$h's share of the uid pool: the two hosts share one kernel here, so their ranges must not overlap
pool = $first-$last
lock.dir = \${karaf.data}/hvkit/uid-pool
EOF
  cat >"$home/etc/org.hvkit.remote.cfg" <<EOF
# export this host's hypervisors on its management address
address = $ip
port = 8201
timeout.seconds = 900
EOF
  cat >"$home/etc/org.apache.aries.rsa.discovery.zookeeper.cfg" <<EOF
zookeeper.host = $(th_ip a)
zookeeper.port = $TH_ZK_PORT
# the ZooKeeper session timeout: a dead host's endpoints vanish about this long after it died
zookeeper.timeout = 3000
EOF
  # ZooKeeper 3.4.14's client canonicalizes the server's address for SASL before it connects and
  # gives up on an address it has not resolved yet ("Unable to canonicalize address
  # 192.0.2.1/<unresolved>:2181 because it's not resolvable"), retrying forever; the
  # discovery uses no SASL
  printf '\n# two-host harness: ZooKeeper discovery without SASL (see distribution/twohost/twohost.sh)\nzookeeper.sasl.client = false\nzookeeper.sasl.client.canonicalize.hostname = false\n' \
    >>"$home/etc/system.properties"
  # artifacts that are not in system/ come from TH_M2 only: there is no network in here
  awk -v m2="$TH_M2" '
    /^org\.ops4j\.pax\.url\.mvn\.repositories *=/ { skip = 1 }
    skip { if ($0 !~ /\\$/) skip = 0; next }
    { print }
    END { print "org.ops4j.pax.url.mvn.repositories ="; print "org.ops4j.pax.url.mvn.localRepository = " m2 }
  ' "$home/etc/org.ops4j.pax.url.mvn.cfg" >"$home/etc/org.ops4j.pax.url.mvn.cfg.new"
  mv "$home/etc/org.ops4j.pax.url.mvn.cfg.new" "$home/etc/org.ops4j.pax.url.mvn.cfg"
  local feats=${TH_REMOTE_FEATURES// /, }
  sed -i -e "s|^\\( *\\)hvkit/\\([^,]*\\),|\\1hvkit/\\2, $feats,|" "$home/etc/org.apache.karaf.features.cfg"
  # Aries RSA's core needs Event Admin, which pax-logging imports optionally: with autoRefresh,
  # installing it restarts pax-logging and everything wired to it during the boot (slow, and here
  # once a boot that never finished); the new bundles resolve without that refresh
  sed -i -e 's|^autoRefresh *= *true|autoRefresh=false|' "$home/etc/org.apache.karaf.features.cfg"
  grep -q '^autoRefresh=false' "$home/etc/org.apache.karaf.features.cfg" || th_fail "could not turn off autoRefresh in host-$h's etc/org.apache.karaf.features.cfg"
  grep -qF ", $feats," "$home/etc/org.apache.karaf.features.cfg" || th_fail "could not add $feats to host-$h's featuresBoot"
}

# th_karaf_start HOST: bin/karaf server in HOST's namespaces; waits (bounded) for the boot and
# for HOST's own kvm node in hv:types
th_karaf_start() {
  local h=$1 home
  home=$(th_home "$h")
  : >>"$home/karaf.out"
  nsenter -t "${TH_HOLDER[$h]}" -n -m -u -- bash -c 'cd "$1" && JAVA_HOME="$2" exec bin/karaf server' karaf "$home" "$TH_JAVA_HOME" >>"$home/karaf.out" 2>&1 &
  TH_KARAF[$h]=$!
  disown
  local deadline=$(( $(date +%s) + 180 ))
  while [ "$(date +%s)" -lt "$deadline" ]; do
    if grep -q 'FeaturesServiceImpl.*| Done\.' "$home/data/log/karaf.log" 2>/dev/null \
      && th_cmd "$h" hv:types | grep -q "host-$h"; then
      return 0
    fi
    grep -q 'Error installing boot features' "$home/data/log/karaf.log" 2>/dev/null \
      && th_fail "host-$h's Karaf could not install its boot features: $(grep -A3 'Error installing boot features' "$home/data/log/karaf.log" | tail -n 3)"
    kill -0 "${TH_KARAF[$h]}" 2>/dev/null || th_fail "host-$h's Karaf exited during boot (see $home/karaf.out)"
    sleep 0.5
  done
  th_fail "host-$h's Karaf did not boot with kvm@host-$h within 180 s (see $home/data/log/karaf.log)"
}

# th_karaf_java HOST: the pid of HOST's Karaf JVM (bin/karaf runs java as a child)
th_karaf_java() {
  local p
  p=$(cat "$(th_home "$1")/karaf.pid" 2>/dev/null) && [ -n "$p" ] && kill -0 "$p" 2>/dev/null && { echo "$p"; return 0; }
  pgrep -P "${TH_KARAF[$1]}" -x java 2>/dev/null | head -n 1
}

# th_karaf_kill HOST: SIGKILL to HOST's Karaf JVM and its bin/karaf, nothing else
th_karaf_kill() {
  local h=$1 j
  [ -n "${TH_KARAF[$h]:-}" ] || return 0
  j=$(th_karaf_java "$h")
  [ -n "$j" ] && kill -9 "$j" 2>/dev/null || true
  kill -9 "${TH_KARAF[$h]}" 2>/dev/null || true
  [ -n "$j" ] && th_wait_gone "$j" 10 || true
  th_wait_gone "${TH_KARAF[$h]}" 10 || true
  TH_KARAF[$h]=""
}

# th_karaf_stop HOST: bin/stop, bounded, then th_karaf_kill
th_karaf_stop() {
  local h=$1
  [ -n "${TH_KARAF[$h]:-}" ] || return 0
  th_in "$h" bash -c 'cd "$1" && JAVA_HOME="$2" timeout 20 bin/stop' stop "$(th_home "$h")" "$TH_JAVA_HOME" >/dev/null 2>&1 || true
  th_wait_gone "${TH_KARAF[$h]}" 15 || true
  th_karaf_kill "$h"
}

# th_cmd HOST 'COMMAND': one shell command on HOST's console (ssh client, batch mode), without colours
th_cmd() {
  local h=$1
  echo "$2" | th_in "$h" bash -c 'cd "$1" && JAVA_HOME="$2" timeout 900 bin/client -u karaf -p karaf -b' client \
    "$(th_home "$h")" "$TH_JAVA_HOME" 2>&1 | sed 's/\x1b\[[0-9;]*m//g' | grep -v -e '^client: JAVA_HOME' || true
}

# th_qemu_pids: the pids in both hosts' pid files (QEMUs started by the Karafs of this harness)
th_qemu_pids() {
  local f
  for f in "$TH_DIR"/host-*/data/hvkit/kvm-host*/pid/*; do
    [ -f "$f" ] && cat "$f"
  done
  return 0
}

# th_cleanup: everything this harness started, by pid; the namespaces (with veth, bridges and
# taps) vanish with their holders
th_cleanup() {
  local h p
  for h in $TH_HOSTS; do th_karaf_stop "$h" || true; done
  for p in $(th_qemu_pids); do kill -9 "$p" 2>/dev/null || true; done
  th_zk_stop || true
  for h in $TH_HOSTS; do
    [ -n "${TH_HOLDER[$h]:-}" ] && kill -9 "${TH_HOLDER[$h]}" 2>/dev/null || true
  done
  for h in $TH_HOSTS; do
    [ -n "${TH_HOLDER[$h]:-}" ] && { th_wait_gone "${TH_HOLDER[$h]}" 10 || true; }
    TH_HOLDER[$h]=""
  done
  umount /etc/passwd 2>/dev/null || true
}

# --- the guest's serial log (tools/guest/build.sh prints GUEST-UP, HEARTBEAT n, DISK-HEARTBEAT n, ...)
# th_lines LOG ERE: the lines of LOG that match, without carriage returns (none when no log yet).
# Matched anchored: 'HEARTBEAT n' would also match 'DISK-HEARTBEAT n'.
th_lines() { { tr -d '\r' <"$1" | grep -a -E "$2"; } 2>/dev/null || true; }
# th_count LOG WORD: n of the last 'WORD n' line; empty if none
th_count() { th_lines "$1" "^$2 [0-9]+\$" | tail -n 1 | sed 's/.* //'; }
th_first_count() { th_lines "$1" "^$2 [0-9]+\$" | head -n 1 | sed 's/.* //'; }
# th_await LOG ERE SECONDS: waits for a line matching ERE
th_await() {
  for _ in $(seq 1 $(( $3 * 10 ))); do [ -n "$(th_lines "$1" "$2")" ] && return 0; sleep 0.1; done
  th_fail "no line '$2' in $1 within $3 s; its last lines:$(echo; th_lines "$1" . | tail -n 15)"
}
# th_await_count LOG WORD MIN SECONDS: waits until the last 'WORD n' has n >= MIN
th_await_count() {
  for _ in $(seq 1 $(( $4 * 10 ))); do [ "$(th_count "$1" "$2")" -ge "$3" ] 2>/dev/null && return 0; sleep 0.1; done
  th_fail "no '$2 n' with n >= $3 in $1 within $4 s; its last lines:$(echo; th_lines "$1" . | tail -n 15)"
}
# th_exited PID: PID has no /proc entry or is a zombie
th_exited() { local st; st=$(ps -o stat= -p "$1" 2>/dev/null) || return 0; [ "${st:0:1}" = Z ]; }
# th_netns_of PID: the network namespace of PID (net:[inode])
th_netns_of() { readlink "/proc/$1/ns/net" 2>/dev/null; }
# th_serial HOST NAME / th_pidfile HOST NAME: where HOST's kvm node keeps NAME's serial log and pid
th_serial() { echo "$(th_home "$1")/data/hvkit/kvm-host$1/ctrl/$2.serial.log"; }
th_pidfile() { echo "$(th_home "$1")/data/hvkit/kvm-host$1/pid/$2"; }

# th_run HOST 'COMMAND' WANT...: prints HOST's console command and its output; fails unless the
# output has each WANT and no 'Error executing command'
th_run() {
  local h=$1 cmd=$2; shift 2
  th_step "karaf@host-$h> $cmd"
  local out
  out=$(th_cmd "$h" "$cmd")
  printf '%s\n' "$out"
  if grep -q 'Error executing command' <<<"$out"; then th_fail "'$cmd' on host-$h failed"; fi
  local want
  for want in "$@"; do
    grep -qF -- "$want" <<<"$out" || th_fail "'$cmd' on host-$h did not print '$want'"
  done
  TH_OUT=$out
}

# th_until SECONDS DESCRIPTION CMD...: polls CMD every 0.2 s until it succeeds; prints how long it took
th_until() {
  local limit=$1 what=$2 t0 now; shift 2
  t0=$(date +%s%N)
  while :; do
    if "$@" >/dev/null 2>&1; then
      now=$(date +%s%N)
      TH_WAITED_MS=$(( (now - t0) / 1000000 ))
      return 0
    fi
    now=$(date +%s%N)
    [ $(( (now - t0) / 1000000000 )) -lt "$limit" ] || th_fail "$what: not within $limit s"
    sleep 0.2
  done
}

# --- faults during a migration (proof.sh --faults)
# th_migrate_bg HOST NAME TARGET OUT: starts 'hv:migrate NAME TARGET' on HOST's console in the
# background, its output in OUT; TH_MIG is the pid to watch (th_exited) and reap (wait)
th_migrate_bg() {
  : >"$4"
  th_cmd "$1" "hv:migrate $2 $3" >"$4" &
  TH_MIG=$!
}
# th_midstream HOST: a migration stream is arriving at HOST: an established connection on its
# migration port (Ganeti's migration_port, 8102) that has received data (the console prints the
# progress lines only when the command ends)
TH_MIGRATION_PORT=8102
th_midstream() {
  th_in "$1" ss -tniH state established "( sport = :$TH_MIGRATION_PORT )" | grep -oE 'bytes_received:[0-9]+' | grep -qvE ':0$'
}
# th_tree HOST: which files HOST's kvm node keeps (runtime, control, pid, uid and NIC files), without
# caps/ (the node's cache of QEMU's capabilities, written by its first incoming migration)
th_tree() { (cd "$(th_home "$1")/data/hvkit/kvm-host$1" 2>/dev/null && find . -mindepth 1 ! -path './caps/*' | sort); }
# th_links HOST: HOST's network links besides lo, mgmt0 and br0 (a guest's tap would show here)
th_links() { th_in "$1" ip -br link show | awk '{sub(/@.*/, "", $1); print $1}' | grep -vxE 'lo|mgmt0|br0' || true; }
# th_await_exit PID SECONDS WHAT: waits for PID to end; TH_WAITED_MS is how long it took
th_await_exit() {
  local pid=$1
  th_until "$2" "$3" th_exited "$pid"
  wait "$pid" 2>/dev/null || true
}
