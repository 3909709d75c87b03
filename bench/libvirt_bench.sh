#!/usr/bin/env bash
# libvirt on the same guest as hvkit's harness: `virsh create` until it returns with the domain
# running, `virsh list` with 1 and N domains, `virsh destroy` of the running guest, medians
# in the JSON written to OUT. Benchmark harness only, outside the product code.
# Usage (root, inside bench/run's private network namespace): libvirt_bench.sh GUEST_DIR REPS N OUT.json
# libvirtd and virtlogd run in a nested mount namespace with tmpfs on /run, /var/log,
# /var/lib/libvirt and /var/cache/libvirt and a qemu.conf of its own (QEMU as root, no
# dynamic ownership, no cgroups: this machine's cgroup tree is not writable here), so nothing
# of it reaches the host, and they are killed at the end.
set -euo pipefail
guest=$1 reps=$2 count=$3 out=$4
if [ "${5:-}" != --inside ]; then
  exec unshare --mount --propagation private -- "$0" "$@" --inside
fi
work=$(mktemp -d /tmp/hvkit-libvirt.XXXXXX)
stop_daemons() {  # by pid: only the daemons this script started
  for f in "$work/libvirtd.pid" "$work/virtlogd.pid"; do
    [ -s "$f" ] && kill "$(cat "$f")" 2>/dev/null || true
  done
  sleep 0.5
  rm -rf "$work"
}
trap stop_daemons EXIT
for d in /run /var/log /var/lib/libvirt /var/cache/libvirt; do mount -t tmpfs tmpfs "$d"; done
mkdir -p /var/log/libvirt/qemu /run/libvirt
cp /etc/libvirt/qemu.conf "$work/qemu.conf"
printf 'user = "root"\ngroup = "root"\ndynamic_ownership = 0\nsecurity_driver = "none"\ncgroup_controllers = [ ]\n' >> "$work/qemu.conf"
mount --bind "$work/qemu.conf" /etc/libvirt/qemu.conf
virtlogd -d -p "$work/virtlogd.pid"
libvirtd -d -p "$work/libvirtd.pid"
for _ in $(seq 100); do [ -S /run/libvirt/libvirt-sock ] && break; sleep 0.1; done
virsh() { command virsh -q -c qemu:///system "$@"; }

domain() {  # name memory kernel?
  local kernel=""
  [ "$3" = yes ] && kernel="<kernel>$guest/vmlinuz</kernel><initrd>$guest/initramfs.gz</initrd><cmdline>root=/dev/ram0 panic=-1 console=ttyS0,38400</cmdline>"
  cat > "$work/$1.xml" <<XML
<domain type='qemu'><name>$1</name><memory unit='MiB'>$2</memory><vcpu>1</vcpu>
  <os><type arch='x86_64' machine='pc'>hvm</type>$kernel</os><features><acpi/></features>
  <devices><emulator>/usr/bin/qemu-system-x86_64</emulator><serial type='file'><source path='$work/$1.serial'/></serial></devices>
</domain>
XML
  echo "$work/$1.xml"
}
now() { date +%s%N; }
ms() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", (b - a) / 1e6 }'; }
join() { local IFS=,; echo "$*"; }

version=$(command virsh --version)
echo "[libvirt] $version: virsh create / destroy of the 64 MiB guest, $reps reps (after one warm-up)"
creates=() destroys=()
xml=$(domain lvg 64 yes)
for i in $(seq 0 "$reps"); do
  t0=$(now); virsh create "$xml" >/dev/null; t1=$(now)
  [ "$(virsh domstate lvg)" = running ] || { echo "lvg is not running" >&2; exit 1; }
  t2=$(now); virsh destroy lvg >/dev/null; t3=$(now)
  if [ "$i" -gt 0 ]; then creates+=("$(ms "$t0" "$t1")"); destroys+=("$(ms "$t2" "$t3")"); fi
done
lists=""
started=0
for target in $(printf '%s\n' 1 "$count" | sort -nu); do
  echo "[libvirt] virsh list with $target paused domains"
  while [ "$started" -lt "$target" ]; do
    virsh create --paused "$(domain "lvl$started" 32 no)" >/dev/null
    started=$((started + 1))
  done
  times=()
  for i in $(seq 0 $((reps + 1))); do
    t0=$(now); n=$(virsh list --all | grep -c ' lvl'); t1=$(now)
    [ "$n" = "$target" ] || { echo "virsh list saw $n of $target" >&2; exit 1; }
    [ "$i" -ge 2 ] && times+=("$(ms "$t0" "$t1")")
  done
  lists="$lists${lists:+,}\"$target\":[$(join "${times[@]}")]"
done
for i in $(seq 0 $((started - 1))); do virsh destroy "lvl$i" >/dev/null & done
wait
printf '{"version":"%s","start_ms":[%s],"stop_ms":[%s],"list_ms":{%s}}\n' "$version" "$(join "${creates[@]}")" \
  "$(join "${destroys[@]}")" "$lists" > "$out"
echo "[libvirt] done: $out"
