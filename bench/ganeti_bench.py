#!/usr/bin/python3
"""Ganeti 3.0's own KVM hypervisor (hv_kvm from the Debian package ganeti-3.0) on the same
guest as hvkit's harness: StartInstance, GetAllInstancesInfo at 1 and N instances, and force
StopInstance, medians over repetitions. Benchmark harness only, outside the product code.

Usage: ganeti_bench.py GANETI_DIR GUEST_DIR REPS COUNT OUT.json
Runs as root in a private mount namespace with tmpfs on /run and /var/log (bench/run sets it up),
so Ganeti's /var/run/ganeti and /var/log/ganeti never touch the host.
"""
import json
import statistics
import sys
import time

ganeti_dir, guest, reps, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
sys.path.insert(0, ganeti_dir)
from ganeti import constants, objects  # noqa: E402
from ganeti.hypervisor import hv_kvm  # noqa: E402

hv = hv_kvm.KVMHypervisor()


def instance(name, paused_guest):
    params = dict(constants.HVC_DEFAULTS[constants.HT_KVM])
    params.update(kvm_flag="disabled", kvm_path="/usr/bin/qemu-system-x86_64")
    if paused_guest:
        params.update(kernel_path="", initrd_path="")
    else:
        params.update(kernel_path=guest + "/vmlinuz", initrd_path=guest + "/initramfs.gz", root_path="/dev/ram0",
                      kernel_args="panic=-1")
    mem = 32 if paused_guest else 64
    be = dict(constants.BEC_DEFAULTS)
    be.update({"maxmem": mem, "minmem": mem, "vcpus": 1})
    return objects.Instance(name=name, uuid="00000000-0000-0000-0000-%012d" % abs(hash(name) % 10 ** 12),
                            primary_node="node-a", hvparams=params, beparams=be, nics=[], disks=[], disks_info=[],
                            disk_template="diskless", network_port=None, os="none", osparams={}, hypervisor="kvm",
                            admin_state="up")


def ms(t0):
    return (time.perf_counter() - t0) * 1e3


def stop(inst):
    hv.StopInstance(inst, force=True)
    hv.CleanupInstance(inst.name)


results = {"version": constants.RELEASE_VERSION, "start_ms": [], "stop_ms": [], "list_ms": {}}
started = []
try:
    print("[ganeti] StartInstance and force StopInstance, %d reps (64 MiB guest, TCG)" % reps, flush=True)
    for i in range(reps + 1):
        inst = instance("gst", False)
        t0 = time.perf_counter()
        hv.StartInstance(inst, [], False)
        start = ms(t0)
        started.append(inst)
        t0 = time.perf_counter()
        hv.StopInstance(inst, force=True)
        halt = ms(t0)
        started.remove(inst)
        hv.CleanupInstance(inst.name)
        if i > 0:  # the first pair warms caches, as in hvkit's harness
            results["start_ms"].append(start)
            results["stop_ms"].append(halt)
    for target in sorted({1, count}):
        print("[ganeti] GetAllInstancesInfo with %d paused instances" % target, flush=True)
        while len(started) < target:
            inst = instance("gl%d" % len(started), True)
            hv.StartInstance(inst, [], True)
            started.append(inst)
        times = []
        for i in range(reps + 2):
            t0 = time.perf_counter()
            info = hv.GetAllInstancesInfo()
            took = ms(t0)
            if len(info) != target:
                raise SystemExit("GetAllInstancesInfo saw %d of %d" % (len(info), target))
            if i >= 2:
                times.append(took)
        results["list_ms"][str(target)] = times
finally:
    for inst in started:
        try:
            stop(inst)
        except Exception as e:  # keep cleaning
            print("[ganeti] cleaning up %s: %s" % (inst.name, e), file=sys.stderr)

with open(out, "w") as f:
    json.dump(results, f)
print("[ganeti] start median %.0f ms, force stop median %.0f ms, list %s" % (
    statistics.median(results["start_ms"]), statistics.median(results["stop_ms"]),
    {k: round(statistics.median(v), 2) for k, v in results["list_ms"].items()}), flush=True)
