package io.granda.http.internal;

import io.helidon.common.buffers.DataReader;
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
        } catch (IOException | UncheckedIOException | DataReader.InsufficientDataAvailableException e) {
            // The client closed or broke the connection in the middle of its body (a chunk cut short, fewer bytes
            // than its Content-Length): its mistake, not ours. The answer may not reach it, but it must not be a 500.
            throw incomplete(what);
        }
    }

    private static ApiException incomplete(String what) {
        return ApiException.badRequest("incomplete_body", null,
                what + " ended before it was complete (connection closed in the middle of the body)");
    }

    private static ApiException tooLarge(String what, long size, int maxBytes) {
        String sizeText = size >= 0 ? " is " + size + " bytes;" : " is too large;";
        return new ApiException(413, "payload_too_large", null,
                what + sizeText + " at most " + maxBytes + " bytes are accepted");
    }

    /**
     * The request's media type without parameters. Helidon parses Content-Type lazily and throws its own
     * {@code BadRequestException} for one it cannot parse (empty, {@code /}, {@code application/}); that must be the
     * client's 415, not a 500.
     *
     * @param req the request
     * @return the media type, e.g. {@code application/json}; empty when there is no Content-Type
     * @throws ApiException 415 {@code unsupported_media_type} when the Content-Type is no media type
     */
    public static String mediaType(ServerRequest req) {
        Optional<HttpMediaType> type;
        try {
            type = req.headers().contentType();
        } catch (RuntimeException e) {
            String raw = req.headers().first(io.helidon.http.HeaderNames.CONTENT_TYPE).orElse("");
            throw new ApiException(415, "unsupported_media_type", null,
                    "Content-Type '" + raw + "' is not a media type");
        }
        return type.map(t -> t.mediaType().text()).orElse("");
    }

    /**
     * @param req      the request
     * @param expected the media type required, e.g. {@code application/json}
     * @throws ApiException 415 {@code unsupported_media_type} when the request's Content-Type is another
     */
    public static void requireContentType(ServerRequest req, String expected) {
        String actual = mediaType(req);
        if (!expected.equalsIgnoreCase(actual)) {
            throw new ApiException(415, "unsupported_media_type", null,
                    "Content-Type must be " + expected + (actual.isEmpty() ? " (none was sent)" : ", not " + actual));
        }
    }
}
