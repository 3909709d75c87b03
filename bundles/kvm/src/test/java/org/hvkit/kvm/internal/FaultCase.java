package org.hvkit.kvm.internal;

/**
 * One fault-injection case: a hostile input or an unlucky event, and what must come of it.
 * The harness ({@link FaultSuiteTest}) checks after every case that nothing leaked and that
 * the bystander guest still runs; the body asserts the exact outcome.
 *
 * @param id       stable identifier, listed in docs/reliability.md
 * @param category names, injection, parameters, files, processes, state, concurrency, handover
 * @param title    what is done, in a few words
 * @param body     the case
 */
record FaultCase(String id, String category, String title, Body body) {

    @FunctionalInterface
    interface Body {
        void run(FaultBench bench) throws Exception;
    }

    static FaultCase of(String id, String category, String title, Body body) {
        return new FaultCase(id, category, title, body);
    }
}
