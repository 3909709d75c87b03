#!/usr/bin/env bash
# Builds hvkit's tiny real test guest from Debian packages (no root needed once the apt lists
# exist): the current cloud kernel and an initramfs with static busybox whose /init brings
# up eth0 from guest.ip=/guest.gw= kernel arguments, prints GUEST-UP, optionally pings
# guest.ping=, powers off on the ACPI button (GUEST-POWERDOWN) and prints HEARTBEAT n every
# second. Output: <out>/vmlinuz and <out>/initramfs.gz (byte-identical for the same packages).
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
moddir=pkg/lib/modules/$krel/kernel

root=initramfs
mkdir -p $root/bin $root/dev $root/proc $root/sys $root/etc/acpi/PWRF $root/lib/modules
cp pkg/bin/busybox $root/bin/busybox
# modules in dependency order (no modules.dep in the initramfs: busybox insmod, one by one)
for m in button evdev virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net; do
  f=$(find "$moddir" -name "$m.ko*" | head -1)
  [ -n "$f" ] || { echo "guest: module $m not found in $kpkg" >&2; exit 1; }
  case "$f" in
    *.ko.xz) xz -dc "$f" > "$root/lib/modules/$m.ko" ;;
    *.ko.zst) zstd -qdc "$f" > "$root/lib/modules/$m.ko" ;;
    *) cp "$f" "$root/lib/modules/$m.ko" ;;
  esac
done
cat > $root/etc/acpi/PWRF/00000080 <<'ACPI'
#!/bin/busybox sh
echo GUEST-POWERDOWN > /dev/console
/bin/busybox poweroff -f
ACPI
cat > $root/init <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
for m in button evdev virtio_ring virtio virtio_pci_modern_dev virtio_pci_legacy_dev virtio_pci failover net_failover virtio_net; do
  insmod /lib/modules/$m.ko 2>/dev/null
done
mkdir -p /var/run /var/log
# busybox acpid exits at once when it cannot open its log file
acpid -c /etc/acpi -l /dev/null
arg() { for w in $(cat /proc/cmdline); do case "$w" in "$1="*) echo "${w#*=}";; esac; done; }
ip=$(arg guest.ip); gw=$(arg guest.gw); target=$(arg guest.ping)
ip link set lo up
if [ -n "$ip" ]; then
  ip link set eth0 up
  ip addr add "$ip" dev eth0
  [ -n "$gw" ] && ip route add default via "$gw"
fi
echo "GUEST-UP ip=${ip:-none} kernel=$(uname -r)"
if [ -n "$target" ]; then
  if ping -c 3 -W 2 "$target" >/dev/null 2>&1; then echo "GUEST-PING-OK $target"; else echo "GUEST-PING-FAIL $target"; fi
fi
n=0
while true; do n=$((n+1)); echo "HEARTBEAT $n"; sleep 1; done
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
