package org.hvkit.remote.internal;

import java.io.ObjectInputFilter;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The deserialization allow-list (JEP 290) of the remote connection: what the Aries RSA fastbin
 * provider reads — a request's arguments on the exporting side, an answer on the importing side —
 * may only contain hvkit's SPI model and the JDK types that model is made of; anything else (a
 * gadget chain's {@code PriorityQueue} with a {@code Comparator}, a provider's internal class)
 * stops the read before the object is built.
 *
 * <p><b>Where it sits.</b> Aries RSA 1.16.1's fastbin provider creates its
 * {@code ObjectInputStream}s itself ({@code ClassLoaderObjectInputStream} in
 * {@code ObjectSerializationStrategy.decodeRequest} and {@code decodeResponse}) and offers no hook.
 * A JVM-wide filter factory ({@code ObjectInputFilter.Config.setSerialFilterFactory}) can no longer
 * be set once any stream has been created, which in a running Karaf has long happened. The
 * JVM-wide filter ({@code Config.setSerialFilter}) can still be set once at run time, and every
 * stream created afterwards consults it. So this class installs, once per JVM, a filter that
 * applies the allow-list only when the stream is read on behalf of the provider (a frame of
 * package {@value #PROVIDER_PACKAGE} on the reading thread's stack: the server decodes a request
 * on its call pool, the client an answer on its dispatch queue, both inside the provider's code)
 * and answers {@code UNDECIDED} — what no filter at all would mean — to every other stream in the
 * JVM. The check runs once per class descriptor and array in a stream, not per object.
 * {@code jdk.serialFilter} in etc/system.properties would be the last resort: it is one pattern
 * for every stream of the JVM, so it would have to admit whatever Karaf's other users of
 * serialization (JMX over RMI) need.
 *
 * <p>A refused request is answered with the {@code InvalidClassException} of the read (the
 * provider sends the error of a call back), so the caller learns that its argument was refused;
 * the hypervisor is never called.
 *
 * <p>If another party already set a JVM-wide filter, this one cannot be added and nothing is
 * exported (see {@link #install}).
 */
final class SerialAllowList implements ObjectInputFilter {

    private static final Logger LOG = LoggerFactory.getLogger(SerialAllowList.class);

    static final String PROVIDER_PACKAGE = "org.apache.aries.rsa.provider.fastbin.";

    /**
     * The allow-list with its limits. The SPI package ({@code org.hvkit.hypervisor.*}: its
     * records, enums and exceptions, and {@code ParameterCheck}'s wire form); strings, boxed
     * numbers and booleans; the collections the model and the answers are made of (the
     * immutable ones travel as {@code java.util.CollSer}; a {@code HashMap} checks its table as a
     * {@code Map.Entry[]}); {@code java.time}'s serial form
     * ({@code java.time.Ser}: {@code Duration}, {@code Instant}); the request's {@code Object[]};
     * and what an exception is made of (stack trace elements, the JDK exceptions a call can end
     * with: a failed lookup of the method, a driver's unexpected error turned into
     * {@code IllegalStateException}; what the provider itself answers with: the
     * {@code InvalidClassException} of a refused request, OSGi's {@code ServiceException} for an
     * endpoint that is gone, {@code java.rmi.RemoteException} for an answer it could not write).
     * Everything else is rejected ({@code !*}). The JDK checks
     * the object a serial form resolves to as well ({@code Duration} from {@code java.time.Ser},
     * {@code List.of}'s classes from {@code CollSer}), so those are named too.
     */
    static final String PATTERN = "maxdepth=32;maxrefs=2000000;maxarray=1000000;maxbytes=67108864;"
            + "org.hvkit.hypervisor.*;"
            + "java.lang.String;java.lang.Boolean;java.lang.Integer;java.lang.Long;java.lang.Double;"
            + "java.lang.Number;java.lang.Enum;java.lang.Object;"
            + "java.util.ArrayList;java.util.LinkedHashMap;java.util.HashMap;java.util.Map$Entry;java.util.CollSer;"
            + "java.util.ImmutableCollections$*;"
            + "java.util.Collections$UnmodifiableMap;java.util.Collections$UnmodifiableCollection;"
            + "java.util.Collections$UnmodifiableList;java.util.Collections$UnmodifiableRandomAccessList;"
            + "java.util.Collections$EmptyList;java.util.Collections$EmptyMap;"
            + "java.util.Collections$SingletonList;java.util.Collections$SingletonMap;"
            + "java.time.Ser;java.time.Duration;java.time.Instant;"
            + "java.lang.Throwable;java.lang.Exception;java.lang.RuntimeException;"
            + "java.lang.IllegalArgumentException;java.lang.IllegalStateException;"
            + "java.lang.UnsupportedOperationException;java.lang.NullPointerException;"
            + "java.lang.IllegalMonitorStateException;java.lang.NoSuchMethodException;"
            + "java.lang.ReflectiveOperationException;java.lang.StackTraceElement;"
            + "java.io.IOException;java.io.ObjectStreamException;java.io.InvalidClassException;"
            + "java.rmi.RemoteException;org.osgi.framework.ServiceException;"
            + "!*";

    private static final ObjectInputFilter ALLOWED = ObjectInputFilter.Config.createFilter(PATTERN);
    private static final StackWalker WALKER = StackWalker.getInstance();
    /** The installed filter of this JVM, when this class installed it. */
    private static final AtomicReference<SerialAllowList> INSTALLED = new AtomicReference<>();

    private final AtomicLong rejected = new AtomicLong();
    private final AtomicReference<String> lastRejected = new AtomicReference<>();

    private SerialAllowList() {
    }

    /**
     * Installs the allow-list as the JVM-wide filter, or finds it installed by an earlier start of
     * this bundle (the JVM keeps its filter for life; the check is by class name, since an
     * updated bundle brings a new class).
     *
     * @throws IllegalStateException naming the filter that is in place when it is someone else's
     */
    static ObjectInputFilter install() {
        synchronized (SerialAllowList.class) {
            ObjectInputFilter current = ObjectInputFilter.Config.getSerialFilter();
            if (current == null) {
                SerialAllowList mine = new SerialAllowList();
                ObjectInputFilter.Config.setSerialFilter(mine);
                INSTALLED.set(mine);
                LOG.info("Deserialization allow-list installed for Aries RSA's fastbin provider (other streams unaffected)");
                return mine;
            }
            if (current.getClass().getName().equals(SerialAllowList.class.getName())) {
                return current;
            }
            throw new IllegalStateException("A JVM-wide deserialization filter is already set (" + current
                    + ", e.g. by jdk.serialFilter); hvkit's allow-list for the remote connection cannot be added, so"
                    + " nothing is exported: remove it, or make it reject everything but " + PATTERN);
        }
    }

    /** The filter this class installed in this JVM, or null. */
    static SerialAllowList installed() {
        return INSTALLED.get();
    }

    /** How many reads this filter stopped. */
    long rejectedCount() {
        return rejected.get();
    }

    /** The class (or limit) of the last read stopped, or null. */
    String lastRejected() {
        return lastRejected.get();
    }

    @Override
    public Status checkInput(FilterInfo info) {
        if (!readByProvider()) {
            return Status.UNDECIDED;
        }
        Status status = ALLOWED.checkInput(info);
        if (status == Status.REJECTED) {
            String what = info.serialClass() == null ? "a stream over its limits (depth " + info.depth() + ", refs "
                    + info.references() + ", bytes " + info.streamBytes() + ")" : info.serialClass().getName();
            rejected.incrementAndGet();
            lastRejected.set(what);
            LOG.warn("Refused to deserialize {} from the remote connection: not on hvkit's allow-list", what);
        }
        return status;
    }

    private static boolean readByProvider() {
        return WALKER.walk(frames -> frames.anyMatch(f -> f.getClassName().startsWith(PROVIDER_PACKAGE)));
    }

    @Override
    public String toString() {
        return "hvkit remote allow-list: " + PATTERN;
    }
}
