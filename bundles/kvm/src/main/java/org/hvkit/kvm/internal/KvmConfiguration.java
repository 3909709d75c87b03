package org.hvkit.kvm.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;
import org.osgi.service.metatype.annotations.Option;

@ObjectClassDefinition(id = KvmNode.PID, name = "hvkit KVM hypervisor",
        description = "Ganeti's KVM hypervisor on one node. One factory configuration per node"
                + " (etc/org.hvkit.kvm-<alias>.cfg; the alias must not contain '-').")
@interface KvmConfiguration {

    @AttributeDefinition(name = "Node name", required = false,
            description = "The node this hypervisor runs instances on; the service property hypervisor.node."
                    + " Unset means this machine's host name.")
    String hypervisor_node();

    @AttributeDefinition(name = "Migration address", required = false,
            description = "The address this node's migration targets listen on (-incoming tcp:<address>:<port>);"
                    + " published as the service property hypervisor.address. Unset: 127.0.0.1.")
    String hypervisor_address();

    @AttributeDefinition(name = "Runtime directory",
            description = "Absolute path of the runtime directory (pid, uid, ctrl, conf, nic, chroot, chroot-quarantine).")
    String root_dir() default "/run/hvkit/kvm-hypervisor";

    @AttributeDefinition(name = "QEMU binary", required = false,
            description = "Absolute path of QEMU. Unset: /usr/bin/kvm if it exists, else qemu-system-x86_64 from PATH.")
    String kvm_path();

    @AttributeDefinition(name = "Other QEMU binaries", required = false,
            description = "Absolute paths, separated by commas, of QEMU binaries an instance may name in its"
                    + " kvm_path parameter besides kvm.path. Unset: only kvm.path (an instance's kvm_path must be"
                    + " empty or kvm.path).")
    String kvm_allowed_paths();

    @AttributeDefinition(name = "Host disks for guests", required = false,
            description = "Absolute paths, separated by commas, of block devices of this machine's hardware (whole"
                    + " disks or partitions: SATA, NVMe, virtio, SCSI or iSCSI LUNs) that instances may get as disks."
                    + " Unset: none; device-mapper (LVM), DRBD, loop, md, NBD and RBD devices need no listing.")
    String disk_host_devices();

    @AttributeDefinition(name = "Directories of file disks", required = false,
            description = "Absolute paths, separated by commas, of the directories under which a disk that is a regular"
                    + " file may lie (its real path, links followed). Default: Ganeti's file storage directories;"
                    + " empty: no file disks.")
    String disk_file_dirs() default "/srv/ganeti/file-storage,/srv/ganeti/shared-file-storage";

    @AttributeDefinition(name = "kvm_extra from instances", required = false,
            description = "Whether an instance definition may set its own kvm_extra (raw QEMU arguments hvkit neither"
                    + " checks nor escapes: they can give the guest any host file). The node's hvparam.kvm_extra is"
                    + " always allowed. Default: false.")
    boolean kvm__extra_from_instances() default false;

    @AttributeDefinition(name = "SPICE certificate", required = false,
            description = "PEM file with the private key and the certificate SPICE over TLS presents (an instance's"
                    + " spice_use_tls; Ganeti's spice.pem). Unset: SPICE over TLS is refused.")
    String spice_certificate();

    @AttributeDefinition(name = "SPICE CA certificate", required = false,
            description = "PEM file with the CA certificate for SPICE over TLS (Ganeti's spice-ca.pem); set together"
                    + " with spice.certificate.")
    String spice_ca_certificate();

    @AttributeDefinition(name = "NIC setup", description = "native: rtnetlink from the JVM; script: run ifup.script"
            + " with Ganeti's environment contract",
            options = {@Option(value = "native", label = "native (netlink)"), @Option(value = "script", label = "script")})
    String nic_setup() default "native";

    @AttributeDefinition(name = "ifup script", required = false,
            description = "The NIC setup script for nic.setup=script. Unset: hvkit's built-in kvm-ifup.")
    String ifup_script();

    @AttributeDefinition(name = "ifup timeout (s)", description = "Longest an ifup script may run (nic.setup=script);"
            + " a script still running is killed with its process group and the start fails.")
    int ifup_timeout_seconds() default 30;

    @AttributeDefinition(name = "socat binary", description = "socat, used by the ssh console command (Ganeti's contract).")
    String socat_path() default "/usr/bin/socat";

    @AttributeDefinition(name = "Stop timeout (s)", description = "How long a clean stop or reboot waits before killing.")
    int stop_timeout_seconds() default 120;

    @AttributeDefinition(name = "Migration timeout (s)", description = "Longest a migration may take before it is"
            + " cancelled (the source keeps running).")
    int migration_timeout_seconds() default 600;

    // the tuning of migration_caps' multifd and xbzrle: read from the raw properties by MigrationTuning

    @AttributeDefinition(name = "Migration: multifd streams", min = "0", max = "255", description = "How many parallel"
            + " streams a migration whose migration_caps has multifd opens (set on target and source); 0 keeps QEMU's 2.")
    int migration_multifd_channels() default 0;

    @AttributeDefinition(name = "Migration: xbzrle cache (MiB)", min = "0", max = "65536", description = "The cache of"
            + " sent pages a migration whose migration_caps has xbzrle keeps on the source; 0 keeps QEMU's 64 MiB.")
    int migration_xbzrle_cache_mib() default 0;

    // the statistics collector's bounds: read from the raw properties by CollectorTimings (errors name the key)

    @AttributeDefinition(name = "Statistics: QMP wait (ms)", min = "50", max = "30000",
            description = "How long one instance's QMP queries for statistics (lock, connect, each command) may take.")
    int stats_qmp_wait_millis() default 500;

    @AttributeDefinition(name = "Statistics: answer age (ms)", min = "100", max = "600000",
            description = "How old the last QMP answer (block I/O, balloon) may be and still be given without waiting;"
                    + " a QEMU that stopped answering is marked stale once its last answer is older.")
    int stats_max_age_millis() default 3000;

    @AttributeDefinition(name = "Statistics: pass deadline (ms)", min = "100", max = "60000",
            description = "How long one statistics pass waits for the QMP answers it has to wait for, together.")
    int stats_pass_deadline_millis() default 1500;
}
