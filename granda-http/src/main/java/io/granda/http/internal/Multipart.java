package io.granda.http.internal;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits a {@code multipart/form-data} body (RFC 7578) already read into memory into its named parts. Strict: a
 * body that does not follow the format is a 400, never a guess. Not API.
 */
public final class Multipart {

    private static final Pattern BOUNDARY = Pattern.compile("(?i)boundary=(\"([^\"]+)\"|([^;\\s]+))");
    private static final Pattern NAME = Pattern.compile("(?i)[;\\s]name=\"([^\"]*)\"");
    private static final Pattern FILENAME = Pattern.compile("(?i)filename=\"([^\"]*)\"");

    private Multipart() {
    }

    /**
     * One part.
     *
     * @param name     its form field name
     * @param filename the file name the client gave, empty for a plain field
     * @param content  its bytes
     */
    public record Part(String name, String filename, byte[] content) {

        /** @return the content as UTF-8 text */
        public String text() {
            return new String(content, StandardCharsets.UTF_8);
        }
    }

    /**
     * @param contentType the request's Content-Type, with its boundary parameter
     * @param body        the whole body
     * @return the parts by name, in order; a repeated name keeps the first
     * @throws ApiException 400 {@code malformed_multipart} when the body is not multipart/form-data
     */
    public static Map<String, Part> parse(String contentType, byte[] body) {
        Matcher m = BOUNDARY.matcher(contentType == null ? "" : contentType);
        if (!m.find()) {
            throw bad("the Content-Type has no boundary");
        }
        String boundaryText = m.group(2) != null ? m.group(2) : m.group(3);
        byte[] delimiter = ("--" + boundaryText).getBytes(StandardCharsets.ISO_8859_1);
        int pos = indexOf(body, delimiter, 0);
        if (pos < 0) {
            throw bad("the body does not contain its boundary");
        }
        Map<String, Part> parts = new LinkedHashMap<>();
        while (true) {
            pos += delimiter.length;
            if (pos + 1 < body.length && body[pos] == '-' && body[pos + 1] == '-') {
                return parts; // the closing delimiter
            }
            pos = skipLineEnd(body, pos);
            int headEnd = indexOf(body, "\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1), pos);
            if (headEnd < 0) {
                throw bad("a part has no end of headers");
            }
            String head = new String(body, pos, headEnd - pos, StandardCharsets.UTF_8);
            int contentStart = headEnd + 4;
            byte[] next = ("\r\n--" + boundaryText).getBytes(StandardCharsets.ISO_8859_1);
            int contentEnd = indexOf(body, next, contentStart);
            if (contentEnd < 0) {
                throw bad("a part is not closed by the boundary");
            }
            String disposition = null;
            for (String line : head.split("\r\n")) {
                int colon = line.indexOf(':');
                if (colon > 0 && line.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("content-disposition")) {
                    disposition = line.substring(colon + 1);
                }
            }
            if (disposition == null) {
                throw bad("a part has no Content-Disposition");
            }
            Matcher name = NAME.matcher(disposition);
            if (!name.find()) {
                throw bad("a part has no name");
            }
            Matcher filename = FILENAME.matcher(disposition);
            byte[] content = java.util.Arrays.copyOfRange(body, contentStart, contentEnd);
            parts.putIfAbsent(name.group(1), new Part(name.group(1), filename.find() ? filename.group(1) : "", content));
            pos = contentEnd + 2; // at the delimiter
        }
    }

    private static int skipLineEnd(byte[] body, int pos) {
        if (pos + 1 < body.length && body[pos] == '\r' && body[pos + 1] == '\n') {
            return pos + 2;
        }
        throw bad("a boundary is not followed by a line end");
    }

    private static int indexOf(byte[] haystack, byte[] needle, int from) {
        outer:
        for (int i = Math.max(0, from); i <= haystack.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    private static ApiException bad(String why) {
        return ApiException.badRequest("malformed_multipart", null, "the body is not valid multipart/form-data: " + why);
    }
}
