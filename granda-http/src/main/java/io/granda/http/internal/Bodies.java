package io.granda.http.internal;

import io.helidon.http.HttpMediaType;
import io.helidon.webserver.http.ServerRequest;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Reads request bodies with a size limit that holds even when the client lies about or omits Content-Length. Not API.
 */
public final class Bodies {

    private Bodies() {
    }

    /**
     * @param req      the request
     * @param maxBytes largest body accepted
     * @param what     what the body is, for the error message ("payload", "request body")
     * @return the whole body, empty when there is none
     * @throws ApiException 413 {@code payload_too_large} when the body is larger
     */
    public static byte[] read(ServerRequest req, int maxBytes, String what) {
        OptionalLong declared = req.headers().contentLength();
        if (declared.isPresent() && declared.getAsLong() > maxBytes) {
            throw tooLarge(what, declared.getAsLong(), maxBytes);
        }
        if (!req.content().hasEntity()) {
            return new byte[0];
        }
        try (InputStream in = req.content().inputStream()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream(
                    (int) Math.min(declared.orElse(8192), maxBytes));
            byte[] buffer = new byte[16 * 1024];
            long total = 0;
            int n;
            while ((n = in.read(buffer)) != -1) {
                total += n;
                if (total > maxBytes) {
                    throw tooLarge(what, -1, maxBytes);
                }
                out.write(buffer, 0, n);
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static ApiException tooLarge(String what, long size, int maxBytes) {
        String sizeText = size >= 0 ? " is " + size + " bytes;" : " is too large;";
        return new ApiException(413, "payload_too_large", null,
                what + sizeText + " at most " + maxBytes + " bytes are accepted");
    }

    /**
     * @param req      the request
     * @param expected the media type required, e.g. {@code application/json}
     * @throws ApiException 415 {@code unsupported_media_type} when the request's Content-Type is another
     */
    public static void requireContentType(ServerRequest req, String expected) {
        Optional<HttpMediaType> type = req.headers().contentType();
        String actual = type.map(t -> t.mediaType().text()).orElse("");
        if (!expected.equalsIgnoreCase(actual)) {
            throw new ApiException(415, "unsupported_media_type", null,
                    "Content-Type must be " + expected + (actual.isEmpty() ? " (none was sent)" : ", not " + actual));
        }
    }
}
