package io.granda.core;

/**
 * The function's image is not present and could not be pulled.
 */
public class ImageUnavailableException extends GrandaException {

    public ImageUnavailableException(String message) {
        super(message);
    }

    public ImageUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }

    @Override
    public String code() {
        return "image_unavailable";
    }
}
