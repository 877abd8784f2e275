package io.granda.core.internal.hot;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * One call as it goes to a hot function instance (see {@code docs/hot-functions.md}, "A call").
 *
 * <p>The constructor checks the syntax of everything that goes on the wire, so a value taken from a caller cannot
 * break the request framing (a CR or LF in a header value, a space in the target). {@code Host},
 * {@code Content-Length} and the hop-by-hop headers ({@code Connection}, {@code Keep-Alive},
 * {@code Transfer-Encoding}, {@code TE}, {@code Trailer}, {@code Upgrade}, {@code Proxy-*}) may be present in
 * {@code headers} but are not sent: the connection writes its own {@code Host: granda} and {@code Content-Length}.
 *
 * <p>Immutable except for {@code body}, which is not copied (a payload can be megabytes): do not change the array
 * after handing it over. Thread-safe under that rule.
 *
 * @param method  the request method, a token such as {@code POST}; case-sensitive
 * @param target  the path and optional {@code ?query} exactly as it goes on the request line; starts with {@code /}
 *                and holds no spaces or control characters (percent-encode them)
 * @param headers the header fields in the order they are sent; names may repeat
 * @param body    the payload, possibly empty; always sent with {@code Content-Length}
 */
public record HotRequest(String method, String target, List<HotHeader> headers, byte[] body) {

    public HotRequest {
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(body, "body");
        headers = List.copyOf(headers);
        if (!HttpSyntax.isToken(method)) {
            throw new IllegalArgumentException("method is not an HTTP token: " + method);
        }
        if (!isTarget(target)) {
            throw new IllegalArgumentException("target must start with / and hold no spaces or controls: " + target);
        }
        for (HotHeader header : headers) {
            if (!HttpSyntax.isToken(header.name())) {
                throw new IllegalArgumentException("header name is not an HTTP token: " + header.name());
            }
            String value = header.value();
            for (int i = 0; i < value.length(); i++) {
                if (!HttpSyntax.isFieldChar(value.charAt(i))) {
                    throw new IllegalArgumentException("header " + header.name()
                            + " has a character not allowed in a field value at index " + i);
                }
            }
        }
    }

    /** @return whether this is a {@code HEAD} request, whose response has no body whatever it says */
    public boolean isHead() {
        return method.equals("HEAD");
    }

    private static boolean isTarget(String target) {
        if (target.isEmpty() || target.charAt(0) != '/') {
            return false;
        }
        for (int i = 1; i < target.length(); i++) {
            char c = target.charAt(i);
            // VCHAR or obs-text: raw UTF-8 bytes of a path arrive here as chars 0x80-0xFF.
            if (c <= 0x20 || c == 0x7f || c > 0xff) {
                return false;
            }
        }
        return true;
    }

    /** Compares bodies by content: the record default would compare array identity. */
    @Override
    public boolean equals(Object o) {
        return o instanceof HotRequest r && method.equals(r.method) && target.equals(r.target)
                && headers.equals(r.headers) && Arrays.equals(body, r.body);
    }

    @Override
    public int hashCode() {
        return Objects.hash(method, target, headers, Arrays.hashCode(body));
    }

    @Override
    public String toString() {
        return "HotRequest[" + method + " " + target + ", headers=" + headers + ", body=" + body.length + " bytes]";
    }
}
