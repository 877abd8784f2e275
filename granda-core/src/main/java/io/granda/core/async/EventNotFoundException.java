package io.granda.core.async;

import io.granda.core.GrandaException;

/** There is no event (asynchronous invocation) with the given id, or none in the state the request needs. */
public class EventNotFoundException extends GrandaException {

    public EventNotFoundException(String message) {
        super(message);
    }

    @Override
    public String code() {
        return "event_not_found";
    }
}
