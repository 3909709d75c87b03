package org.hvkit.kvm.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

/** What a hot-added disk is opened with: the cache modes of a start (Ganeti's GetCacheSettings) and the blockdev. */
class DiskBlockdevTest {

    private static Map<String, Object> hv(String cache, String aio, String discard) {
        Map<String, Object> hv = new LinkedHashMap<>();
        hv.put("disk_cache", cache);
        hv.put("disk_aio", aio);
        hv.put("disk_discard", discard);
        return hv;
    }

    @Test
    void cacheModesAsAtStart() {
        assertEquals(new KvmDiskHotplug.CacheSettings("default", true, false, false),
                KvmDiskHotplug.CacheSettings.of(hv("default", "threads", "default"), "plain"));
        assertEquals(new KvmDiskHotplug.CacheSettings("writethrough", false, false, false),
                KvmDiskHotplug.CacheSettings.of(hv("writethrough", "threads", "default"), "file"));
        assertEquals(new KvmDiskHotplug.CacheSettings("none", true, true, false),
                KvmDiskHotplug.CacheSettings.of(hv("none", "threads", "default"), "plain"));
        // shared storage forces none, as -drive at start does (Ganeti #822/#1824)
        assertEquals(new KvmDiskHotplug.CacheSettings("none", true, true, false),
                KvmDiskHotplug.CacheSettings.of(hv("writeback", "threads", "default"), "drbd"));
    }

    @Test
    void theBlockdevCarriesTheOptionsOfAStart() {
        var none = KvmDiskHotplug.CacheSettings.of(hv("none", "native", "unmap"), "plain");
        Map<String, Object> file = new LinkedHashMap<>();
        file.put("driver", "file");
        file.put("filename", "/dev/fdset/3");
        file.put("aio", "native");
        file.put("auto-read-only", false);
        file.put("discard", "unmap");
        file.put("cache", Map.of("direct", true, "no-flush", false));
        Map<String, Object> raw = new LinkedHashMap<>();
        raw.put("driver", "raw");
        raw.put("node-name", "hotdisk14");
        raw.put("read-only", false);
        raw.put("auto-read-only", false);
        raw.put("discard", "unmap");
        raw.put("cache", Map.of("direct", true, "no-flush", false));
        raw.put("file", file);
        assertEquals(raw, KvmDiskHotplug.blockdev(hv("none", "native", "unmap"), false, none, "hotdisk14", 3));

        // a block device is a host_device; threads (QEMU's default) and discard default stay unsaid
        Map<String, Object> plain = KvmDiskHotplug.blockdev(hv("default", "threads", "default"), true,
                KvmDiskHotplug.CacheSettings.of(hv("default", "threads", "default"), "plain"), "hotdisk15", 4);
        assertEquals("{driver=host_device, filename=/dev/fdset/4, auto-read-only=false, cache={direct=false, no-flush=false}}",
                sorted(plain.get("file")));
        assertEquals(false, plain.containsKey("discard"));
    }

    @SuppressWarnings("unchecked")
    private static String sorted(Object fileNode) {
        Map<String, Object> m = new LinkedHashMap<>((Map<String, Object>) fileNode);
        m.put("cache", new java.util.TreeMap<>((Map<String, Object>) m.get("cache")));
        return m.toString();
    }
}
