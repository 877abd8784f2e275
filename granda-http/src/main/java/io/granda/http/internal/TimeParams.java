package io.granda.http.internal;

import java.time.DateTimeException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads points in time from query parameters: an ISO-8601 instant ({@code 2026-11-26T10:00:00Z}), an ISO-8601
 * duration meaning "that long ago" ({@code PT1H}), or a short duration ({@code 90s}, {@code 15m}, {@code 1h},
 * {@code 7d}). Not API.
 */
public final class TimeParams {

    private static final Pattern SHORT = Pattern.compile("(\\d{1,9})([smhd])");

    private TimeParams() {
    }

    /**
     * @param param the parameter's name, for the error
     * @param value its value
     * @param now   the current time
     * @return the instant meant
     * @throws ApiException 400 when the value is none of the accepted forms
     */
    public static Instant parse(String param, String value, Instant now) {
        String v = value.trim();
        Matcher m = SHORT.matcher(v.toLowerCase(Locale.ROOT));
        try {
            if (m.matches()) {
                long amount = Long.parseLong(m.group(1));
                Duration d = switch (m.group(2)) {
                    case "s" -> Duration.ofSeconds(amount);
                    case "m" -> Duration.ofMinutes(amount);
                    case "h" -> Duration.ofHours(amount);
                    default -> Duration.ofDays(amount);
                };
                return now.minus(d);
            }
            if (v.startsWith("P") || v.startsWith("p")) {
                Duration d = Duration.parse(v);
                if (d.isNegative()) {
                    throw new DateTimeParseException("negative", v, 0);
                }
                return now.minus(d);
            }
            return Instant.parse(v);
        } catch (DateTimeException | ArithmeticException e) {
            // DateTimeException also covers a duration so long that "that long ago" is before the first instant.
            throw ApiException.badRequest("invalid_request", param, param + " '" + value
                    + "' is not a time: use an ISO-8601 instant (2026-11-26T10:00:00Z), an ISO-8601 duration ago "
                    + "(PT1H) or a short one (90s, 15m, 1h, 7d)");
        }
    }
}
