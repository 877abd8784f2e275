package io.granda.core;

import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.Month;
import java.time.Year;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * A cron schedule: the times at which a function fires, each firing becoming an asynchronous invocation. Immutable
 * and thread-safe. Times are evaluated in UTC.
 *
 * <h2>Syntax</h2>
 * An expression has five fields separated by runs of whitespace, as in standard cron, or six with a leading seconds
 * field, as in Spring and Quartz (so a schedule can fire every few seconds):
 * <pre>
 *   [second] minute hour day-of-month month day-of-week
 * </pre>
 * <table>
 *   <caption>Fields</caption>
 *   <tr><th>Field</th><th>Values</th><th>Names</th></tr>
 *   <tr><td>second (6-field form only)</td><td>0-59</td><td></td></tr>
 *   <tr><td>minute</td><td>0-59</td><td></td></tr>
 *   <tr><td>hour</td><td>0-23</td><td></td></tr>
 *   <tr><td>day-of-month</td><td>1-31</td><td></td></tr>
 *   <tr><td>month</td><td>1-12</td><td>JAN-DEC</td></tr>
 *   <tr><td>day-of-week</td><td>0-7, 0 and 7 both Sunday</td><td>SUN-SAT</td></tr>
 * </table>
 * Each field is a comma-separated list of elements; an element is one of
 * <ul>
 *   <li>{@code *}: every value of the field;</li>
 *   <li>{@code a}: one value, a number or (month and day-of-week) a three-letter name in any case;</li>
 *   <li>{@code a-b}: the values from a to b inclusive; a must not be after b, so a range that ends on Sunday
 *       ends with 7 ({@code FRI-7}, {@code 5-7});</li>
 *   <li><code>*&#47;n</code>, {@code a-b/n}, {@code a/n}: every n-th value of the whole field, of a to b, or of a to the
 *       field's maximum (7 for day-of-week, so {@code MON/3} is Monday, Thursday and Sunday); n is 1 to the field's
 *       maximum.</li>
 * </ul>
 * {@code ?} may stand for a whole day-of-month or day-of-week field and means the same as {@code *}.
 *
 * <p>Day rule (Vixie cron): when both day-of-month and day-of-week are restricted, that is neither is exactly
 * {@code *} or {@code ?}, a day matches if <em>either</em> matches ({@code 30 8 1 * 1} fires on the 1st of each
 * month and on every Monday). Otherwise a day must match both, which means the restricted one. Unlike Vixie cron,
 * which looks at the first character only, a field such as <code>*&#47;2</code> counts as restricted.
 *
 * <p>Macros, each the whole expression and in any case: {@code @yearly} and {@code @annually} ({@code 0 0 1 1 *}), {@code @monthly}
 * ({@code 0 0 1 * *}), {@code @weekly} ({@code 0 0 * * 0}), {@code @daily} and {@code @midnight}
 * ({@code 0 0 * * *}), {@code @hourly} ({@code 0 * * * *}). {@code @reboot} is refused: a schedule fires at
 * clock times, not when the server starts.
 *
 * <p>A 5-field schedule fires at second 0 of each matching minute. There are no time zones and so no daylight
 * saving: {@code 0 9 * * *} is 09:00 UTC every day.
 *
 * <p>Refused with an {@link InvalidCronException} that names the field: an empty expression, one longer than
 * {@value #MAX_LENGTH} characters, a field count other than 5 or 6, values out of range, a step of 0, reversed ranges
 * ({@code 5-1}), unknown names and anything else. Quartz's {@code L}, {@code W} and {@code #} are not supported.
 *
 * <p>Equality, hash code and {@link #toString()} are those of the {@linkplain #expression() expression} as given:
 * {@code 0 9 * * MON-FRI} and {@code 0 9 * * 1-5} fire at the same times but are not equal.
 */
public final class CronSchedule {

    /** Longest expression accepted, in characters after trimming. */
    public static final int MAX_LENGTH = 200;

    /**
     * Every schedule that can fire at all fires within this many years of any instant: the longest gap is Feb 29
     * across a non-leap century year (2096 to 2104). So searching this far makes "empty" mean "never".
     */
    private static final int LOOKAHEAD_YEARS = 8;

    /**
     * A safety net, not a limit that correct code reaches: each step of {@link #nextAfter} moves to a later month,
     * day, hour, minute or second boundary, and after a reset the lower fields match at once, so a search costs
     * about two steps per month visited, some 200 over {@link #LOOKAHEAD_YEARS}.
     */
    private static final int MAX_STEPS = 2_000;

    private static final long SECONDS_PER_DAY = 86_400;
    private static final long EARLIEST_EPOCH_SECOND = LocalDateTime.MIN.toEpochSecond(ZoneOffset.UTC);
    private static final long LATEST_EPOCH_SECOND = LocalDateTime.MAX.toEpochSecond(ZoneOffset.UTC);
    private static final String[] ORDINALS = {"first", "second", "third", "fourth", "fifth", "sixth"};

    private final String expression;
    private final boolean hasSeconds;
    // One bit per allowed value: bit v set means v matches. Day-of-week folds 7 into 0 (Sunday).
    private final long seconds;
    private final long minutes;
    private final long hours;
    private final long daysOfMonth;
    private final long months;
    private final long daysOfWeek;
    /** Both day fields restricted: a day matches if either matches. */
    private final boolean eitherDayMatches;

    private CronSchedule(String expression, boolean hasSeconds, long[] masks, boolean eitherDayMatches) {
        this.expression = expression;
        this.hasSeconds = hasSeconds;
        this.seconds = masks[0];
        this.minutes = masks[1];
        this.hours = masks[2];
        this.daysOfMonth = masks[3];
        this.months = masks[4];
        this.daysOfWeek = masks[5];
        this.eitherDayMatches = eitherDayMatches;
    }

    /**
     * Parses a cron expression in the syntax described on this class.
     *
     * @param expression the expression; surrounding whitespace is ignored
     * @return the schedule
     * @throws InvalidCronException when the expression is null, empty, too long, has the wrong number of fields or a
     *                              field is invalid; the message names the field and says why
     */
    public static CronSchedule parse(String expression) {
        if (expression == null) {
            throw new InvalidCronException(InvalidCronException.WHOLE_EXPRESSION, "cron expression is missing");
        }
        String trimmed = expression.trim();
        if (trimmed.isEmpty()) {
            throw new InvalidCronException(InvalidCronException.WHOLE_EXPRESSION, "cron expression is empty");
        }
        if (trimmed.length() > MAX_LENGTH) {
            throw new InvalidCronException(InvalidCronException.WHOLE_EXPRESSION, "cron expression is "
                    + trimmed.length() + " characters; at most " + MAX_LENGTH + " are allowed");
        }
        String[] parts = trimmed.startsWith("@") ? macro(trimmed).split(" ") : trimmed.split("\\s+");
        if (parts.length != 5 && parts.length != 6) {
            throw new InvalidCronException(InvalidCronException.WHOLE_EXPRESSION, "cron expression has "
                    + parts.length + (parts.length == 1 ? " field" : " fields")
                    + "; expected 5 (minute hour day-of-month month day-of-week) or 6 (second minute hour"
                    + " day-of-month month day-of-week)");
        }
        boolean hasSeconds = parts.length == 6;
        // The 5-field form fires at second 0 of each matching minute.
        long[] masks = {1L, 0, 0, 0, 0, 0};
        int first = hasSeconds ? 0 : 1;
        for (int i = 0; i < parts.length; i++) {
            masks[first + i] = Field.values()[first + i].parse(parts[i], i, parts.length);
        }
        boolean eitherDayMatches = restricts(parts[parts.length - 3]) && restricts(parts[parts.length - 1]);
        return new CronSchedule(trimmed, hasSeconds, masks, eitherDayMatches);
    }

    private static String macro(String trimmed) {
        return switch (trimmed.toLowerCase(Locale.ROOT)) {
            case "@yearly", "@annually" -> "0 0 1 1 *";
            case "@monthly" -> "0 0 1 * *";
            case "@weekly" -> "0 0 * * 0";
            case "@daily", "@midnight" -> "0 0 * * *";
            case "@hourly" -> "0 * * * *";
            case "@reboot" -> throw new InvalidCronException(InvalidCronException.WHOLE_EXPRESSION,
                    "cron macro @reboot is not supported: a schedule fires at clock times, not when the server starts");
            default -> throw new InvalidCronException(InvalidCronException.WHOLE_EXPRESSION, "cron macro '" + trimmed
                    + "' is unknown; expected one of @yearly, @annually, @monthly, @weekly, @daily, @midnight,"
                    + " @hourly, as the whole expression");
        };
    }

    private static boolean restricts(String dayField) {
        return !dayField.equals("*") && !dayField.equals("?");
    }

    /** @return the expression as given to {@link #parse(String)}, trimmed */
    public String expression() {
        return expression;
    }

    /** @return whether the expression has the 6-field form with a leading seconds field */
    public boolean hasSeconds() {
        return hasSeconds;
    }

    /**
     * The first firing strictly after an instant. Firings fall on whole seconds (6-field form) or whole minutes
     * (5-field form), in UTC.
     *
     * <p>Looks at most eight calendar years ahead, which is enough for every schedule that can fire at all (the
     * longest gap is Feb 29 across a non-leap century year, 2096 to 2104), so an empty result means the schedule
     * never fires, like {@code 0 0 30 2 *}. Costs a few hundred steps at most: the search skips whole months, days,
     * hours and minutes that cannot match.
     *
     * @param after the instant to start after, any instant
     * @return the next firing, or empty when the schedule never fires or the next firing would be after the end of
     *         year 999,999,999
     * @throws NullPointerException when {@code after} is null
     */
    public Optional<Instant> nextAfter(Instant after) {
        long unit = hasSeconds ? 1 : 60;
        long start = Math.floorDiv(after.getEpochSecond(), unit) * unit + unit;
        if (start > LATEST_EPOCH_SECOND) {
            return Optional.empty();
        }
        // A firing before year -999,999,999 cannot be represented by LocalDateTime; nothing needs one.
        start = Math.max(start, EARLIEST_EPOCH_SECOND);
        LocalDateTime from = LocalDateTime.ofEpochSecond(start, 0, ZoneOffset.UTC);
        int year = from.getYear();
        int month = from.getMonthValue();
        int day = from.getDayOfMonth();
        int hour = from.getHour();
        int minute = from.getMinute();
        int second = from.getSecond();
        int lastYear = (int) Math.min((long) year + LOOKAHEAD_YEARS, Year.MAX_VALUE);
        // Find the first matching value of each field from the largest down; when a field has none left, move
        // the next larger field on by one and reset the smaller ones to their minimum.
        for (int step = 0; step < MAX_STEPS; step++) {
            if (year > lastYear) {
                return Optional.empty();
            }
            int m = nextBit(months, month, 12);
            if (m < 0) {
                year++;
                month = 1;
                day = 1;
                hour = minute = second = 0;
                continue;
            }
            if (m != month) {
                month = m;
                day = 1;
                hour = minute = second = 0;
            }
            int d = nextDay(year, month, day);
            if (d < 0) {
                month++;
                day = 1;
                hour = minute = second = 0;
                continue;
            }
            if (d != day) {
                day = d;
                hour = minute = second = 0;
            }
            int h = nextBit(hours, hour, 23);
            if (h < 0) {
                day++;
                hour = minute = second = 0;
                continue;
            }
            if (h != hour) {
                hour = h;
                minute = second = 0;
            }
            int mi = nextBit(minutes, minute, 59);
            if (mi < 0) {
                hour++;
                minute = second = 0;
                continue;
            }
            if (mi != minute) {
                minute = mi;
                second = 0;
            }
            int s = nextBit(seconds, second, 59);
            if (s < 0) {
                minute++;
                second = 0;
                continue;
            }
            long epochSecond = LocalDate.of(year, month, day).toEpochDay() * SECONDS_PER_DAY
                    + hour * 3600L + minute * 60L + s;
            return Optional.of(Instant.ofEpochSecond(epochSecond));
        }
        throw new IllegalStateException("cron search for '" + expression + "' after " + after + " took more than "
                + MAX_STEPS + " steps; this is a bug");
    }

    /** @return the first day from {@code from} on in the month that matches the day rule, or -1 */
    private int nextDay(int year, int month, int from) {
        int length = Month.of(month).length(Year.isLeap(year));
        if (from > length) {
            return -1;
        }
        // Cron numbers Sunday 0; java.time numbers Monday 1 to Sunday 7.
        int dayOfWeek = LocalDate.of(year, month, from).getDayOfWeek().getValue() % 7;
        for (int d = from; d <= length; d++) {
            boolean domMatches = (daysOfMonth & (1L << d)) != 0;
            boolean dowMatches = (daysOfWeek & (1L << dayOfWeek)) != 0;
            if (eitherDayMatches ? domMatches || dowMatches : domMatches && dowMatches) {
                return d;
            }
            dayOfWeek = (dayOfWeek + 1) % 7;
        }
        return -1;
    }

    /** @return the smallest set bit of {@code mask} in {@code from..max}, or -1 */
    private static int nextBit(long mask, int from, int max) {
        if (from > max) {
            return -1;
        }
        long left = mask & (-1L << from);
        return left == 0 ? -1 : Long.numberOfTrailingZeros(left);
    }

    /** Equal when the expressions are equal as given (trimmed). */
    @Override
    public boolean equals(Object o) {
        return o instanceof CronSchedule other && expression.equals(other.expression);
    }

    @Override
    public int hashCode() {
        return expression.hashCode();
    }

    /** @return the expression, as given (trimmed) */
    @Override
    public String toString() {
        return expression;
    }

    /** The fields in the order of the 6-field form; each knows its range and names and parses itself. */
    private enum Field {
        SECOND("second", 0, 59, List.of()),
        MINUTE("minute", 0, 59, List.of()),
        HOUR("hour", 0, 23, List.of()),
        DAY_OF_MONTH("day-of-month", 1, 31, List.of()),
        MONTH("month", 1, 12,
                List.of("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")),
        DAY_OF_WEEK("day-of-week", 0, 7, List.of("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"));

        private final String label;
        private final int min;
        private final int max;
        /** Names in order from {@link #min}. */
        private final List<String> names;

        Field(String label, int min, int max, List<String> names) {
            this.label = label;
            this.min = min;
            this.max = max;
            this.names = names;
        }

        private boolean isDay() {
            return this == DAY_OF_MONTH || this == DAY_OF_WEEK;
        }

        /**
         * @param text     the field's text
         * @param position its index in the expression, for messages
         * @param count    the expression's field count, for messages
         * @return the field's bit mask
         */
        long parse(String text, int position, int count) {
            Context at = new Context(this, position, count, text);
            if (text.equals("?")) {
                if (!isDay()) {
                    throw at.fail("'?' is allowed only in day-of-month and day-of-week");
                }
                return range(min, max, 1);
            }
            long mask = 0;
            // -1 keeps trailing empty elements, so "1," is refused rather than read as "1".
            for (String element : text.split(",", -1)) {
                if (element.isEmpty()) {
                    throw at.fail("empty element in list '" + text + "'");
                }
                mask |= parseElement(element, at);
            }
            return mask;
        }

        private long parseElement(String element, Context at) {
            String base = element;
            int step = 1;
            int slash = element.indexOf('/');
            if (slash >= 0) {
                base = element.substring(0, slash);
                String stepText = element.substring(slash + 1);
                if (base.isEmpty()) {
                    throw at.fail("'" + element + "' has a step but nothing to step over; write */n, a-b/n or a/n");
                }
                if (stepText.isEmpty() || !isDigits(stepText)) {
                    throw at.fail("step '" + stepText + "' in '" + element + "' is not a number");
                }
                step = number(stepText);
                if (step < 1) {
                    throw at.fail("step 0 in '" + element + "' must be at least 1");
                }
                if (step > max) {
                    throw at.fail("step " + stepText + " in '" + element + "' is out of range 1-" + max);
                }
            }
            if (base.equals("*")) {
                return range(min, max, step);
            }
            if (base.equals("?")) {
                throw at.fail(isDay() ? "'?' must be the whole field, not part of '" + at.text() + "'"
                        : "'?' is allowed only in day-of-month and day-of-week");
            }
            int dash = base.indexOf('-');
            if (dash < 0) {
                int value = value(base, element, at);
                // a/n runs from a to the field's maximum; a alone is just a.
                return range(value, slash >= 0 ? max : value, step);
            }
            if (base.indexOf('-', dash + 1) >= 0) {
                throw at.fail("'" + element + "' is not a range: a range is a-b");
            }
            int low = value(base.substring(0, dash), element, at);
            int high = value(base.substring(dash + 1), element, at);
            if (low > high) {
                throw at.fail("range " + base + " is reversed" + (this == DAY_OF_WEEK && high == 0
                        ? "; a range that ends on Sunday ends with 7, as in 5-7" : ""));
            }
            return range(low, high, step);
        }

        /** @return the value of a number or name, in range */
        private int value(String text, String element, Context at) {
            if (text.isEmpty()) {
                throw at.fail("'" + element + "' is missing a value");
            }
            if (isDigits(text)) {
                int value = number(text);
                if (value < min || value > max) {
                    throw at.fail(text + " is out of range " + min + "-" + max);
                }
                return value;
            }
            int index = names.indexOf(text.toUpperCase(Locale.ROOT));
            if (index >= 0) {
                return min + index;
            }
            throw at.fail("'" + text + "' is not a number" + (names.isEmpty() ? ""
                    : " or a " + (this == MONTH ? "month" : "day") + " name (" + names.getFirst() + "-"
                            + names.getLast() + ")"));
        }

        /** @return the mask of {@code low}, {@code low + step}, ... up to {@code high}, with 7 folded into 0 */
        private long range(int low, int high, int step) {
            long mask = 0;
            for (int v = low; v <= high; v += step) {
                mask |= 1L << (this == DAY_OF_WEEK && v == 7 ? 0 : v);
            }
            return mask;
        }

        private static boolean isDigits(String text) {
            for (int i = 0; i < text.length(); i++) {
                char c = text.charAt(i);
                // Not Character.isDigit: that would accept digits of other scripts.
                if (c < '0' || c > '9') {
                    return false;
                }
            }
            return true;
        }

        /** @return the number, or Integer.MAX_VALUE for one too large to matter (any such is out of range) */
        private static int number(String digits) {
            long value = 0;
            for (int i = 0; i < digits.length(); i++) {
                value = value * 10 + (digits.charAt(i) - '0');
                if (value > Integer.MAX_VALUE) {
                    return Integer.MAX_VALUE;
                }
            }
            return (int) value;
        }
    }

    /**
     * A field being parsed, for messages such as "cron field 'hour' (second of 5): ...".
     *
     * @param field    which field
     * @param position its index in the expression
     * @param count    the expression's field count
     * @param text     the field's whole text
     */
    private record Context(Field field, int position, int count, String text) {

        InvalidCronException fail(String why) {
            return new InvalidCronException(field.label,
                    "cron field '" + field.label + "' (" + ORDINALS[position] + " of " + count + "): " + why);
        }
    }
}
