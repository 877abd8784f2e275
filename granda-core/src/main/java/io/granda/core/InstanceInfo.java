package io.granda.core;

/**
 * One hot instance of a function, as seen at one moment: an immutable value.
 *
 * @param id            the instance id (also GRANDA_INSTANCE inside it)
 * @param revision      the revision it serves
 * @param state         PROVISIONING, READY, BUSY, PAUSED, REMOVING
 * @param callsInFlight calls under way on it
 * @param callsServed   calls it has taken since it started
 */
public record InstanceInfo(String id, long revision, String state, int callsInFlight, long callsServed) {
}
