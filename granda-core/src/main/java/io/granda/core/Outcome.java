package io.granda.core;

/**
 * What became of a call that the platform ran. These are the function's own outcomes; a platform failure (no
 * such function, no capacity, engine down) is never an outcome but a {@link GrandaException}.
 */
public enum Outcome {
    /** The function finished and reported success (exit code 0 in run mode). */
    SUCCESS,
    /** The function finished and reported failure (a non-zero exit code, or a crash). */
    FUNCTION_ERROR,
    /** The function did not finish within its timeout and was stopped. */
    TIMEOUT,
    /** The function was killed for exceeding its memory limit. */
    OUT_OF_MEMORY;

    /** @return true for every outcome but {@link #SUCCESS} */
    public boolean isFailure() {
        return this != SUCCESS;
    }
}
