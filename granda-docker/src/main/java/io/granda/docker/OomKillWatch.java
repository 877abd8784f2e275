package io.granda.docker;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Watches a run-mode container's OOM-kill counter ({@link CgroupOomCounter}) while its call runs, so that a process
 * the kernel killed for memory is reported as such even when the engine did not record it.
 *
 * <p>Why a watch and not one read at the end: the cgroup is removed with the container's task, measured here 15 to
 * 30 ms <em>before</em> the engine's wait or the output stream report the exit, so by then there is nothing left to
 * read. The counter is opened and read at once on the caller's thread, right after the start (a hog can be killed
 * within milliseconds), then read every {@value #EARLY_INTERVAL_MS} ms during the first second, when the engine's own
 * watcher may not be in place yet (see {@link CgroupOomCounter}), and every {@value #LATE_INTERVAL_MS} ms after that
 * until the call ends. The watch stops at the first kill seen, or when the cgroup is gone.
 *
 * <p>The reads run on a platform thread of their own: a virtual thread waits for a free carrier, and while many
 * containers start that wait was seen here to reach 100 ms, longer than the cgroup outlives a killed hog. A read is
 * one positional read of a pseudo-file, a few microseconds; the thread parks between reads (it is never interrupted:
 * that would close the file, an interruptible channel).
 *
 * <p>A watch that cannot find the cgroup (a remote engine, a layout other than the engine's defaults, or a container
 * already gone) sees nothing, and the engine's record alone decides. Thread-safe.
 */
final class OomKillWatch implements AutoCloseable {

    static final long EARLY_INTERVAL_MS = 2;
    static final long LATE_INTERVAL_MS = 50;
    private static final long EARLY_PERIOD_NANOS = TimeUnit.SECONDS.toNanos(1);
    /** The reading loop needs little stack. */
    private static final long STACK_BYTES = 128 * 1024;

    private final Thread thread;
    private volatile boolean killSeen;
    private volatile boolean stopping;

    private OomKillWatch(CgroupOomCounter counter, String name) {
        long first = counter.kills();
        if (first != 0) {
            killSeen = first > 0;
            counter.close();
            thread = null;
        } else {
            thread = Thread.ofPlatform().name(name).daemon().stackSize(STACK_BYTES).start(() -> watch(counter));
        }
    }

    /**
     * Starts watching a container that was just started: finds and reads its counter on this thread, then goes on
     * reading on a thread of its own.
     *
     * @param containerId the container's full id
     * @param procRoot    the host's {@code /proc}
     * @param cgroupRoot  the host's cgroup mount
     * @return the watch, or empty when the container's memory cgroup cannot be found
     */
    static Optional<OomKillWatch> start(String containerId, Path procRoot, Path cgroupRoot) {
        String name = "granda-oom-" + containerId.substring(0, Math.min(12, containerId.length()));
        return CgroupOomCounter.find(containerId, 0, procRoot, cgroupRoot).map(c -> new OomKillWatch(c, name));
    }

    private void watch(CgroupOomCounter counter) {
        long started = System.nanoTime();
        try (counter) {
            while (true) {
                boolean early = System.nanoTime() - started < EARLY_PERIOD_NANOS;
                LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(early ? EARLY_INTERVAL_MS : LATE_INTERVAL_MS));
                long kills = counter.kills();
                if (kills != 0) {
                    killSeen = kills > 0;
                    return; // a kill seen, or the cgroup is gone: nothing more to learn
                }
                if (stopping) {
                    return;
                }
            }
        }
    }

    /**
     * Reads the counter a last time, if the cgroup is still there, and stops.
     *
     * @param maxWait how long to wait for that last read
     * @return whether the kernel's OOM killer killed a process of the container while it was watched
     */
    boolean finish(Duration maxWait) {
        stopping = true;
        if (thread != null) {
            LockSupport.unpark(thread);
            Threads.joinUninterruptibly(thread, maxWait);
        }
        return killSeen;
    }

    /** Stops watching, without waiting. Idempotent. */
    @Override
    public void close() {
        stopping = true;
        if (thread != null) {
            LockSupport.unpark(thread);
        }
    }
}
