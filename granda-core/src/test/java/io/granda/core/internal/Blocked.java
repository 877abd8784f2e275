package io.granda.core.internal;

/** Waits, without timing anything, until another thread has parked or finished. */
final class Blocked {

    private Blocked() {
    }

    /**
     * @return true when the thread is parked (waiting on a lock, condition or join), false when it finished first
     */
    static boolean awaitParkedOrDone(Thread thread) {
        while (true) {
            switch (thread.getState()) {
                case WAITING, TIMED_WAITING, BLOCKED -> {
                    return true;
                }
                case TERMINATED -> {
                    return false;
                }
                default -> Thread.onSpinWait();
            }
        }
    }
}
