package io.granda.core;

/**
 * A call's payload is larger than the platform accepts. Nothing ran.
 */
public class PayloadTooLargeException extends GrandaException {

    public PayloadTooLargeException(String message) {
        super(message);
    }

    @Override
    public String code() {
        return "payload_too_large";
    }
}
