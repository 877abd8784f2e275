package io.granda.core.spi;

/**
 * What a {@link Backend} can do. Callers check capabilities instead of catching "unsupported" at run time.
 */
public enum BackendCapability {
    /** {@link Backend#runOnce(RunOnceRequest)}: one instance per call, the original contract. */
    RUN_ONCE,
    /** Long-lived instances that serve many calls (hot mode). */
    HOT_INSTANCES,
    /** Idle instances can be paused and resumed. */
    PAUSE,
    /** The backend pulls images from a registry when they are missing. */
    PULL_IMAGES,
    /** The backend reads the CPU time an instance used. */
    CPU_ACCOUNTING
}
