package io.granda.core.spi;

/**
 * Implemented by a registry or metering store that can tell whether it works (e.g. that it can still write).
 * {@link io.granda.core.Granda#health()} asks every component that implements it.
 */
public interface HealthCheck {

    /** @return a short name for the component in health reports, e.g. {@code store} */
    String healthName();

    /**
     * Checks the component. Must be quick (well under a second) and must never throw.
     *
     * @return the component's health
     */
    ComponentHealth health();
}
