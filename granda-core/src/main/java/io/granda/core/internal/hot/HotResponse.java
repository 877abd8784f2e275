package io.granda.core.internal.hot;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A complete response from a hot function instance.
 *
 * <p>{@code headers} are as received, in order, repeated names kept, except the hop-by-hop headers
 * ({@code Connection}, {@code Keep-Alive}, {@code Transfer-Encoding}, {@code TE}, {@code Trailer},
 * {@code Upgrade}, {@code Proxy-*}) and {@code Content-Length}: the body is complete, so how it was framed on the
 * socket is of no use to anyone downstream. Filtering {@code Granda-*} headers is the caller's business.
 *
 * <p>Immutable except for {@code body}, which is not copied: do not change the array. Thread-safe under that rule.
 *
 * @param status  the status code, 200-599 (interim 1xx responses are skipped, never returned)
 * @param reason  the reason phrase, possibly empty
 * @param headers the header fields, as received, minus the ones named above
 * @param body    the complete body; empty for {@code HEAD} requests and for 204 and 304
 */
public record HotResponse(int status, String reason, List<HotHeader> headers, byte[] body) {

    public HotResponse {
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(body, "body");
        headers = List.copyOf(headers);
    }

    /** @return the value of the first header named {@code name}, ignoring case, if any */
    public Optional<String> firstHeader(String name) {
        for (HotHeader header : headers) {
            if (header.name().equalsIgnoreCase(name)) {
                return Optional.of(header.value());
            }
        }
        return Optional.empty();
    }

    /** Compares bodies by content: the record default would compare array identity. */
    @Override
    public boolean equals(Object o) {
        return o instanceof HotResponse r && status == r.status && reason.equals(r.reason)
                && headers.equals(r.headers) && Arrays.equals(body, r.body);
    }

    @Override
    public int hashCode() {
        return Objects.hash(status, reason, headers, Arrays.hashCode(body));
    }

    @Override
    public String toString() {
        return "HotResponse[" + status + " " + reason + ", headers=" + headers + ", body=" + body.length + " bytes]";
    }
}
