#!/usr/bin/env bash
# Builds hvkit's tiny real test guest from Debian packages (no root needed once the apt lists
# exist): the current cloud kernel and an initramfs with static busybox whose /init brings
# up eth0 from guest.ip=/guest.gw= kernel arguments, prints GUEST-UP, optionally mounts the
# disk guest.disk= (a raw ext4 image from make-disk.sh on a virtio drive, e.g. /dev/vda),
# optionally pings guest.ping=, powers off on the ACPI button (GUEST-POWERDOWN) and prints
# HEARTBEAT n every second (with a disk, also appended to /mnt/heartbeat and synced).
# With guest.dirty=N (1-64), a background loop keeps rewriting N MiB of its RAM with
# alternating random contents, as a busy guest does: the load that a pre-copy migration under a
# bandwidth limit cannot converge on (#15, Ganeti #950).
# With guest.hotplug=1, NICs and virtio disks that appear or go while it runs are reported; a
# new NIC gets guest.hotip= (when no link holds it yet) and pings guest.hotping= over it.
# Console lines, in this order:
#   GUEST-UP ip=<ip|none> kernel=<release>
#   GUEST-QUEUES <entries of /sys/class/net/eth0/queues>   (only with guest.queues=1: rx-0 … tx-0 …)
#   GUEST-DIRTY <N> MiB | GUEST-DIRTY-FAIL <reason>         (only with guest.dirty=N)
#   GUEST-HOTPLUG nics=<links> disks=<vd*>                   (only with guest.hotplug=1), then at any time:
#     GUEST-NIC-ADDED <link> <mac> / GUEST-NIC-REMOVED <link>
#     GUEST-PING-OK <ip> via <link> | GUEST-PING-FAIL <ip> via <link>   (with guest.hotip/hotping)
#     GUEST-DISK-ADDED <vd*> sectors=<n> head=<its first 32 bytes, printable> / GUEST-DISK-REMOVED <vd*>
#   GUEST-DISK-READ <last line of /mnt/heartbeat|empty>   } only with guest.disk=; or
#   GUEST-DISK-OK <dev>                                    } GUEST-DISK-FAIL <dev>: <reason>
#   GUEST-PING-OK <ip> | GUEST-PING-FAIL <ip>               (only with guest.ping=)
#   HEARTBEAT n, then DISK-HEARTBEAT n once that line is written and synced to the disk
#   GUEST-DISK-FAIL <dev>: write of HEARTBEAT n             (instead, if that write failed)
#   GUEST-POWERDOWN                                         (ACPI button; the disk is remounted
#                                                            read-only, i.e. clean, before power-off)
# Output: <out>/vmlinuz and <out>/initramfs.gz (byte-identical for the same packages).
# Usage: tools/guest/build.sh [OUTDIR]   (default: target/guest under the repository root)
set -euo pipefail

here=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$here/target/guest}
mkdir -p "$out"
out=$(cd "$out" && pwd)
if [ -s "$out/vmlinuz" ] && [ -s "$out/initramfs.gz" ] && [ "$out/initramfs.gz" -nt "$0" ]; then
  echo "guest: up to date in $out"
  exit 0
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

# the kernel package behind the meta-package (Debian keeps only the current ABI)
kpkg=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
if [ -z "$kpkg" ]; then
  [ "$(id -u)" = 0 ] || { echo "guest: no apt lists; run apt-get update as root first" >&2; exit 1; }
  apt-get update -qq
  kpkg=$(apt-cache depends linux-image-cloud-amd64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
fi
echo "guest: downloading $kpkg and busybox-static"
apt-get download -qq "$kpkg" busybox-static >/dev/null
mkdir pkg
for deb in ./*.deb; do dpkg-deb -x "$deb" pkg; done

vmlinuz=$(ls pkg/boot/vmlinuz-* | head -1)
krel=${vmlinuz##*/vmlinuz-}
kmods=pkg/lib/modules/$krel

root=initramfs
mkdir -p $root/bin $root/dev $root/proc $root/sys $root/mnt $root/etc/acpi/PWRF $root/lib/modules
cp pkg/bin/busybox $root/bin/busybox

# What the guest needs: the ACPI button (+ evdev) for acpid, virtio-pci, virtio-net, virtio-blk
# for guest.disk= and ext4 to mount it (ext4 also mounts ext2), virtio_balloon for the balloon
# device hvkit gives every instance (hv:balloon, Ganeti's BalloonInstanceMemory). Each is either
# built into this kernel (modules.builtin) or a module that is shipped together with its dependencies, read
# from the depends= field of the .ko files themselves and recursively; /init loads them in
# that order with busybox insmod (no modules.dep in the initramfs). A kernel where one is
# missing, or where a needed module names a soft dependency (modprobe-only), fails the build.
needed="button evdev virtio_pci virtio_net virtio_blk virtio_balloon ext4"
fail() { echo "guest: $*" >&2; exit 1; }
[ -s "$kmods/modules.builtin" ] || fail "no modules.builtin in $kpkg"
declare -A kofile=() builtin=() state=()
while IFS= read -r f; do n=${f##*/}; n=${n%%.ko*}; kofile[${n//-/_}]=$f; done \
  < <(find "$kmods/kernel" -name '*.ko*' | LC_ALL=C sort)
while IFS= read -r f; do n=${f##*/}; n=${n%%.ko*}; builtin[${n//-/_}]=1; done < "$kmods/modules.builtin"
# one key=value of a module's .modinfo (NUL-separated strings); exactly one occurrence or none
modfield() {
  local v; v=$(tr '\0' '\n' < "$2" | grep -a "^$1=" || true)
  case "$v" in *$'\n'*) fail "${2##*/}: several $1= fields" ;; esac
  printf '%s' "${v#"$1="}"
}
order=() builtins=()
addmod() {
  local m=$1 f ko deps d
  case "${state[$m]:-}" in done) return ;; busy) fail "module dependency cycle at $m" ;; esac
  if [ -n "${builtin[$m]:-}" ]; then state[$m]=done; builtins+=("$m"); return; fi
  f=${kofile[$m]:-}
  [ -n "$f" ] || fail "module $m is neither built into $krel nor shipped in $kpkg"
  state[$m]=busy
  ko=$root/lib/modules/$m.ko
  case "$f" in
    *.ko.xz) xz -dc "$f" > "$ko" ;;
    *.ko.zst) zstd -qdc "$f" > "$ko" ;;
    *.ko) cp "$f" "$ko" ;;
    *) fail "$f: unknown module compression" ;;
  esac
  d=$(modfield vermagic "$ko"); [[ "$d" == "$krel "* ]] || fail "$f: vermagic '$d' is not $krel"
  d=$(modfield name "$ko"); [ -z "$d" ] || [ "$d" = "$m" ] || fail "$f: module name is $d, not $m"
  d=$(modfield softdep "$ko"); [ -z "$d" ] || fail "$f: soft dependencies ($d) that insmod does not load"
  deps=$(modfield depends "$ko")
  for d in ${deps//,/ }; do addmod "${d//-/_}"; done
  state[$m]=done
  order+=("$m")
}
for m in $needed; do addmod "$m"; done
printf '%s\n' "${order[@]}" > $root/lib/modules/load-order
echo "guest: modules ${order[*]}; built in: ${builtins[*]}"
cat > $root/etc/acpi/PWRF/00000080 <<'ACPI'
#!/bin/busybox sh
export PATH=/bin
echo GUEST-POWERDOWN > /dev/console
# the disk: read-only (flushed and marked clean) rather than unmounted, so that a heartbeat
# written meanwhile fails instead of landing in the initramfs under /mnt
if awk '$2 == "/mnt" { found = 1 } END { exit !found }' /proc/mounts; then
  for i in 1 2 3 4 5 6 7 8 9 10; do mount -o remount,ro /mnt 2>/dev/null && break; sleep 0.1; done
  sync
fi
poweroff -f
ACPI
cat > $root/init <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
for m in $(cat /lib/modules/load-order); do
  insmod /lib/modules/$m.ko 2>/dev/null
done
mkdir -p /var/run /var/log
# busybox acpid exits at once when it cannot open its log file
acpid -c /etc/acpi -l /dev/null
arg() { for w in $(cat /proc/cmdline); do case "$w" in "$1="*) echo "${w#*=}";; esac; done; }
ip=$(arg guest.ip); gw=$(arg guest.gw); target=$(arg guest.ping); disk=$(arg guest.disk)
ip link set lo up
if [ -n "$ip" ]; then
  ip link set eth0 up
  ip addr add "$ip" dev eth0
  [ -n "$gw" ] && ip route add default via "$gw"
fi
echo "GUEST-UP ip=${ip:-none} kernel=$(uname -r)"
# guest.queues=1: the queues virtio-net gave eth0 (one rx and one tx a queue pair in use)
if [ -n "$(arg guest.queues)" ]; then
  echo "GUEST-QUEUES $(ls /sys/class/net/eth0/queues 2>/dev/null | tr '\n' ' ')"
fi
# guest.dirty=N: rewrite N MiB of RAM (a tmpfs file) over and over from two random patterns in
# turn, so that every round changes every page's contents (xbzrle cannot shrink it either)
dirty=$(arg guest.dirty)
if [ -n "$dirty" ]; then
  case "$dirty" in
    [1-9]|[1-5][0-9]|6[0-4])
      mkdir -p /dirty && mount -t tmpfs -o size=$((dirty * 3 + 1))m tmpfs /dirty
      if dd if=/dev/urandom of=/dirty/a bs=1M count=$dirty 2>/dev/null \
          && dd if=/dev/urandom of=/dirty/b bs=1M count=$dirty 2>/dev/null \
          && cp /dirty/a /dirty/pages; then
        ( while true; do
            for src in /dirty/b /dirty/a; do dd if=$src of=/dirty/pages bs=64k conv=notrunc 2>/dev/null; done
          done ) &
        echo "GUEST-DIRTY $dirty MiB"
      else
        echo "GUEST-DIRTY-FAIL no room for 3 x $dirty MiB in RAM"
      fi ;;
    *) echo "GUEST-DIRTY-FAIL guest.dirty=$dirty: a whole number of MiB from 1 to 64" ;;
  esac
fi
# guest.hotplug=1: a watcher (every 0.2 s) of /sys/class/net and /sys/block
if [ -n "$(arg guest.hotplug)" ]; then
  hotip=$(arg guest.hotip); hotping=$(arg guest.hotping)
  links() { ls /sys/class/net | tr '\n' ' '; }
  disks() { ls /sys/block | grep '^vd' | tr '\n' ' '; }
  # one snapshot, printed and watched from: a device that goes right after the line is reported
  nets=" $(links)"; blks=" $(disks)"
  echo "GUEST-HOTPLUG nics=${nets# }disks=${blks# }"
  ( while true; do
      sleep 0.2
      now=" $(links)"
      for n in $now; do
        case "$nets" in *" $n "*) continue ;; esac
        echo "GUEST-NIC-ADDED $n $(cat /sys/class/net/$n/address 2>/dev/null)"
        [ -n "$hotip" ] || continue
        ip link set "$n" up
        ip addr show | grep -q " ${hotip%/*}/" || ip addr add "$hotip" dev "$n"
        if [ -n "$hotping" ]; then
          if ping -c 3 -W 2 -I "$n" "$hotping" >/dev/null 2>&1; then
            echo "GUEST-PING-OK $hotping via $n"
          else
            echo "GUEST-PING-FAIL $hotping via $n"
          fi
        fi
      done
      for n in $nets; do case "$now" in *" $n "*) ;; *) echo "GUEST-NIC-REMOVED $n" ;; esac; done
      nets=$now
      now=" $(disks)"
      for d in $now; do
        case "$blks" in *" $d "*) continue ;; esac
        echo "GUEST-DISK-ADDED $d sectors=$(cat /sys/block/$d/size 2>/dev/null) head=$(head -c 32 /dev/$d 2>/dev/null | tr -c 'A-Za-z0-9_.:=-' '.')"
      done
      for d in $blks; do case "$now" in *" $d "*) ;; *) echo "GUEST-DISK-REMOVED $d" ;; esac; done
      blks=$now
    done ) &
fi
# guest.disk=<dev>: mount it on /mnt (synchronous writes), show what the last boot left there
hbfile=
if [ -n "$disk" ]; then
  case "$disk" in /*) ;; *) disk=/dev/$disk ;; esac
  i=0
  while [ ! -b "$disk" ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i+1)); done
  if [ ! -b "$disk" ]; then
    echo "GUEST-DISK-FAIL $disk: no such block device after 10 s"
  elif ! err=$(mount -t ext4 -o rw,sync "$disk" /mnt 2>&1); then
    echo "GUEST-DISK-FAIL $disk: $(echo $err)"
  elif ! awk '$2 == "/mnt" && $4 ~ /^rw(,|$)/ { found = 1 } END { exit !found }' /proc/mounts; then
    echo "GUEST-DISK-FAIL $disk: mounted read-only"
    umount /mnt
  else
    last=$(tail -n 1 /mnt/heartbeat 2>/dev/null)
    echo "GUEST-DISK-READ ${last:-empty}"
    echo "GUEST-DISK-OK $disk"
    hbfile=/mnt/heartbeat
  fi
fi
if [ -n "$target" ]; then
  if ping -c 3 -W 2 "$target" >/dev/null 2>&1; then echo "GUEST-PING-OK $target"; else echo "GUEST-PING-FAIL $target"; fi
fi
n=0
while true; do
  n=$((n+1))
  echo "HEARTBEAT $n"
  if [ -n "$hbfile" ]; then
    if { echo "HEARTBEAT $n" >> $hbfile && sync; } 2>/dev/null; then
      echo "DISK-HEARTBEAT $n"
    else
      echo "GUEST-DISK-FAIL $disk: write of HEARTBEAT $n"
    fi
  fi
  sleep 1
done
INIT
chmod 755 $root/init $root/etc/acpi/PWRF/00000080
(
  cd $root
  find . -exec touch -h -d @0 {} +
  find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --reproducible --quiet | gzip -9 -n > "$work/initramfs.gz"
)
cp "$vmlinuz" "$out/vmlinuz.new" && mv "$out/vmlinuz.new" "$out/vmlinuz"
cp "$work/initramfs.gz" "$out/initramfs.gz.new" && mv "$out/initramfs.gz.new" "$out/initramfs.gz"
echo "$kpkg" > "$out/kernel-package"
echo "guest: $out/vmlinuz ($krel), $out/initramfs.gz ($(stat -c %s "$out/initramfs.gz") bytes)"
