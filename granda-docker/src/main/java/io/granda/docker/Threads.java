package io.granda.docker;

import java.time.Duration;

/** Thread helpers shared by the backend's teardown paths. Not API. */
final class Threads {

    private Threads() {
    }

    /**
     * Waits for a thread to end. Teardown waits are not cut short by an interrupt; the interrupt is kept for the
     * caller.
     *
     * @return whether the thread ended within the timeout
     */
    static boolean joinUninterruptibly(Thread thread, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    long remaining = deadline - System.nanoTime();
                    return remaining > 0 ? thread.join(Duration.ofNanos(remaining)) : !thread.isAlive();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
