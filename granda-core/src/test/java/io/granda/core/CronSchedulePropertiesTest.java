package io.granda.core;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;

import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.IntPredicate;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cron schedules against a brute-force reference: random valid expressions, built together with their meaning, and
 * random instants in 2000-2100 (often near month and year ends), compared with a scan that checks each unit of time
 * with a matcher written here from the syntax, independent of the parser and of the skipping search.
 */
class CronSchedulePropertiesTest {

    private static final List<String> MONTH_NAMES =
            List.of("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC");
    private static final List<String> DAY_NAMES = List.of("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT");

    // ---- against the reference ----------------------------------------------------------------------------------

    /**
     * Any expression against a scan that looks at every day for nine years and, on a matching day, at every second
     * (6-field) or minute (5-field): nine years covers the longest gap between firings (Feb 29, 2096 to 2104), so
     * the reference finding nothing means the schedule never fires.
     */
    @Property(tries = 1500)
    void nextAfterMatchesAScanOfEveryDay(@ForAll("expressions") Expr e, @ForAll("instants") Instant t) {
        assertEquals(e.referenceNextAfter(t, Duration.ofDays(9 * 366)), CronSchedule.parse(e.text()).nextAfter(t),
                e.text() + " after " + t);
    }

    /**
     * Schedules that fire every day (day and month fields {@code *} or {@code ?}) against the plainest scan there
     * is: every second or minute from {@code t} on, for two days.
     */
    @Property
    void nextAfterMatchesAScanOfEveryUnitForDailySchedules(@ForAll("dailyExpressions") Expr e,
                                                           @ForAll("instants") Instant t) {
        Instant expected = e.naiveNextAfter(t, Duration.ofDays(2)).orElseThrow(
                () -> new AssertionError("a daily schedule fires within two days: " + e.text()));
        assertEquals(Optional.of(expected), CronSchedule.parse(e.text()).nextAfter(t), e.text() + " after " + t);
    }

    // ---- algebra ------------------------------------------------------------------------------------------------

    @Property
    void nextAfterIsStrictlyLaterOnAUnitBoundaryAndStableJustBefore(@ForAll("expressions") Expr e,
                                                                     @ForAll("instants") Instant t) {
        CronSchedule s = CronSchedule.parse(e.text());
        Optional<Instant> next = s.nextAfter(t);
        if (next.isEmpty()) {
            return;
        }
        Instant f = next.get();
        Duration unit = s.hasSeconds() ? Duration.ofSeconds(1) : Duration.ofMinutes(1);
        assertTrue(f.isAfter(t), f + " is not after " + t);
        assertEquals(0, f.getNano());
        assertEquals(0, f.getEpochSecond() % unit.toSeconds());
        assertEquals(next, s.nextAfter(f.minus(unit)), "one unit before the firing");
        assertEquals(next, s.nextAfter(f.minusNanos(1)), "one nanosecond before the firing");
    }

    @Property
    void parsingIsStableAndEqualityFollowsTheExpression(@ForAll("expressions") Expr e) {
        CronSchedule s = CronSchedule.parse("  " + e.text() + " \t");
        assertEquals(e.text(), s.expression());
        assertEquals(s, CronSchedule.parse(s.expression()));
        assertEquals(s.hashCode(), CronSchedule.parse(s.toString()).hashCode());
        assertEquals(e.hasSeconds(), s.hasSeconds());
    }

    /** Over the whole range of {@link Instant}, not just 2000-2100: never an exception, never a firing at or before. */
    @Property
    void nextAfterIsTotalOverAllInstants(@ForAll("expressions") Expr e, @ForAll("anyInstant") Instant t) {
        CronSchedule.parse(e.text()).nextAfter(t).ifPresent(f -> assertTrue(f.isAfter(t), f + " after " + t));
    }

    /** Garbage in, InvalidCronException out: no other exception, and what parses can be evaluated. */
    @Property(tries = 3000)
    void anythingEitherParsesOrIsRefusedWithTheDocumentedException(@ForAll("garbage") String text) {
        CronSchedule s;
        try {
            s = CronSchedule.parse(text);
        } catch (InvalidCronException refused) {
            assertTrue(refused.getMessage().startsWith("cron "), refused.getMessage());
            return;
        }
        s.nextAfter(Instant.parse("2026-01-01T00:00:00Z"));
    }

    // ---- generators ---------------------------------------------------------------------------------------------

    @Provide
    Arbitrary<Expr> expressions() {
        return Arbitraries.frequencyOf(Tuple.of(5, expressions(false)), Tuple.of(1, calendarEdges()));
    }

    @Provide
    Arbitrary<Expr> dailyExpressions() {
        return expressions(true);
    }

    private static Arbitrary<Expr> expressions(boolean daily) {
        Arbitrary<FieldText> second = field(0, 59, List.of(), false);
        Arbitrary<FieldText> minute = field(0, 59, List.of(), false);
        Arbitrary<FieldText> hour = field(0, 23, List.of(), false);
        Arbitrary<FieldText> dom = daily ? anyDay() : field(1, 31, List.of(), true);
        Arbitrary<FieldText> month = daily ? Arbitraries.just(FieldText.ALL) : field(1, 12, MONTH_NAMES, false);
        Arbitrary<FieldText> dow = daily ? anyDay() : field(0, 7, DAY_NAMES, true);
        Arbitrary<String> separator = Arbitraries.of(" ", " ", " ", "  ", "\t");
        return Combinators.combine(Arbitraries.of(true, false), second, minute, hour, dom, month, dow, separator)
                .as((withSeconds, s, mi, h, d, mo, w, sep) -> new Expr(withSeconds,
                        withSeconds ? s : new FieldText("0", v -> v == 0), mi, h, d, mo, w, sep));
    }

    /**
     * Days at the end of short months: Feb 29 (fires only in leap years, up to eight years apart), Feb 30 and the
     * 31st of 30-day months (never fire, unless the OR rule brings in weekdays).
     */
    private static Arbitrary<Expr> calendarEdges() {
        Arbitrary<FieldText> dom = Arbitraries.of(
                new FieldText("29", v -> v == 29),
                new FieldText("30", v -> v == 30),
                new FieldText("31", v -> v == 31),
                new FieldText("29-31", v -> v >= 29),
                new FieldText("1,31", v -> v == 1 || v == 31),
                new FieldText("30/5", v -> v == 30));
        Arbitrary<FieldText> month = Arbitraries.of(
                new FieldText("2", v -> v == 2),
                new FieldText("Feb", v -> v == 2),
                new FieldText("4,6,9,11", v -> v == 4 || v == 6 || v == 9 || v == 11),
                new FieldText("FEB-APR", v -> v >= 2 && v <= 4),
                new FieldText("2/9", v -> v == 2 || v == 11));
        Arbitrary<FieldText> dow = Arbitraries.frequencyOf(Tuple.of(4, anyDay()),
                Tuple.of(1, field(0, 7, DAY_NAMES, true)));
        Arbitrary<FieldText> time = field(0, 59, List.of(), false);
        return Combinators.combine(Arbitraries.of(true, false), time, time, dom, month, dow)
                .as((withSeconds, s, mi, d, mo, w) -> new Expr(withSeconds,
                        withSeconds ? s : new FieldText("0", v -> v == 0), mi, new FieldText("0", v -> v == 0), d, mo,
                        w, " "));
    }

    private static Arbitrary<FieldText> anyDay() {
        return Arbitraries.of(FieldText.ALL, new FieldText("?", v -> true));
    }

    /** A field: {@code *}, {@code ?} for day fields, or a list of one to three elements. */
    private static Arbitrary<FieldText> field(int min, int max, List<String> names, boolean day) {
        Arbitrary<FieldText> list = element(min, max, names).list().ofMinSize(1).ofMaxSize(3)
                .map(elements -> new FieldText(
                        elements.stream().map(FieldText::text).collect(Collectors.joining(",")),
                        v -> elements.stream().anyMatch(el -> el.matches().test(v))));
        if (day) {
            return Arbitraries.frequencyOf(
                    Tuple.of(2, Arbitraries.just(FieldText.ALL)),
                    Tuple.of(1, Arbitraries.just(new FieldText("?", v -> true))),
                    Tuple.of(7, list));
        }
        return Arbitraries.frequencyOf(Tuple.of(3, Arbitraries.just(FieldText.ALL)), Tuple.of(7, list));
    }

    /** One element with what it means over the field's raw values (day-of-week 0-7). */
    private static Arbitrary<FieldText> element(int min, int max, List<String> names) {
        Arbitrary<Integer> value = Arbitraries.integers().between(min, max);
        Arbitrary<Integer> step = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.integers().between(1, Math.min(max, 15))),
                Tuple.of(1, Arbitraries.integers().between(1, max)));
        Arbitrary<FieldText> star = Arbitraries.just(FieldText.ALL);
        Arbitrary<FieldText> single = value.flatMap(v -> render(v, min, names)
                .map(text -> new FieldText(text, x -> x == v)));
        // A range with its bounds kept as numbers, for the stepped form.
        Arbitrary<Tuple.Tuple3<Integer, Integer, String>> bounds = Combinators.combine(value, value)
                .flatAs((a, b) -> {
                    int lo = Math.min(a, b);
                    int hi = Math.max(a, b);
                    return Combinators.combine(render(lo, min, names), render(hi, min, names))
                            .as((l, h) -> Tuple.of(lo, hi, l + "-" + h));
                });
        Arbitrary<FieldText> range = bounds.map(r -> new FieldText(r.get3(), x -> x >= r.get1() && x <= r.get2()));
        Arbitrary<FieldText> everyNth = step.map(n -> new FieldText("*/" + n, x -> (x - min) % n == 0));
        Arbitrary<FieldText> rangeStep = Combinators.combine(bounds, step).as((r, n) -> new FieldText(
                r.get3() + "/" + n, x -> x >= r.get1() && x <= r.get2() && (x - r.get1()) % n == 0));
        Arbitrary<FieldText> fromStep = Combinators.combine(value, step).flatAs((a, n) -> render(a, min, names)
                .map(text -> new FieldText(text + "/" + n, x -> x >= a && x <= max && (x - a) % n == 0)));
        return Arbitraries.frequencyOf(
                Tuple.of(1, star),
                Tuple.of(4, single),
                Tuple.of(3, range),
                Tuple.of(2, everyNth),
                Tuple.of(2, rangeStep),
                Tuple.of(2, fromStep));
    }

    /** A value as a number or, where the field has one, a name in upper, lower or mixed case. */
    private static Arbitrary<String> render(int v, int min, List<String> names) {
        int index = v - min;
        if (index >= names.size()) {
            return Arbitraries.just(Integer.toString(v));
        }
        String name = names.get(index);
        return Arbitraries.of(Integer.toString(v), name, name.toLowerCase(Locale.ROOT),
                name.charAt(0) + name.substring(1).toLowerCase(Locale.ROOT));
    }

    @Provide
    Arbitrary<Instant> instants() {
        long from = LocalDateTime.of(2000, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC);
        long to = LocalDateTime.of(2101, 1, 1, 0, 0).toEpochSecond(ZoneOffset.UTC);
        Arbitrary<Instant> anywhere = Arbitraries.longs().between(from, to - 1).map(Instant::ofEpochSecond);
        // The last two hours of a month: month ends, Feb 28/29 and Dec 31 are where calendars go wrong.
        Arbitrary<Instant> nearMonthEnd = Combinators.combine(
                        Arbitraries.integers().between(2000, 2100),
                        Arbitraries.integers().between(1, 12),
                        Arbitraries.integers().between(1, 7200))
                .as((y, m, back) -> YearMonth.of(y, m).plusMonths(1).atDay(1).atStartOfDay()
                        .minusSeconds(back).toInstant(ZoneOffset.UTC));
        // From the last Feb 29 before 2100, which is not a leap year, the next is eight years away (2104).
        Arbitrary<Instant> beforeTheCenturyGap = Arbitraries.longs()
                .between(LocalDateTime.of(2096, 2, 28, 0, 0).toEpochSecond(ZoneOffset.UTC), to - 1)
                .map(Instant::ofEpochSecond);
        Arbitrary<Instant> whole = Arbitraries.frequencyOf(
                Tuple.of(6, anywhere), Tuple.of(4, nearMonthEnd), Tuple.of(1, beforeTheCenturyGap));
        Arbitrary<Integer> nanos = Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.just(0)),
                Tuple.of(1, Arbitraries.integers().between(1, 999_999_999)));
        return Combinators.combine(whole, nanos).as(Instant::plusNanos);
    }

    @Provide
    Arbitrary<Instant> anyInstant() {
        return Arbitraries.frequencyOf(
                Tuple.of(3, Arbitraries.longs().between(Instant.MIN.getEpochSecond(), Instant.MAX.getEpochSecond())
                        .map(Instant::ofEpochSecond)),
                Tuple.of(1, Arbitraries.of(Instant.MIN, Instant.MAX, Instant.EPOCH,
                        Instant.parse("+999999999-12-31T23:59:59Z"), Instant.parse("-999999999-01-01T00:00:00Z"),
                        Instant.parse("+999999999-12-31T23:00:00Z"))));
    }

    @Provide
    Arbitrary<String> garbage() {
        Arbitrary<String> token = Arbitraries.oneOf(
                Arbitraries.strings().withChars("0123456789*/-,?").ofMinLength(1).ofMaxLength(8),
                Arbitraries.of("MON", "sun", "Jan", "dec", "7", "0", "31", "59", "60", "L", "W", "#", "@daily",
                        "@reboot", "*", "?", "", "\u0661", "é", "\u0000"));
        Arbitrary<String> fielded = token.list().ofMinSize(0).ofMaxSize(8)
                .map(tokens -> String.join(" ", tokens));
        Arbitrary<String> chars = Arbitraries.strings()
                .withChars("0123456789*/-,?@ \tABCDEFJLMNORSTUVWYabcdefjlmnorstuvwy#")
                .ofMaxLength(40);
        return Arbitraries.oneOf(fielded, chars, Arbitraries.strings().ofMaxLength(250));
    }

    // ---- the reference ------------------------------------------------------------------------------------------

    /**
     * A field's text and its meaning over the field's raw values (for day-of-week 0-7, where 7 is Sunday too).
     *
     * @param text    as written in the expression
     * @param matches whether a raw value is selected
     */
    record FieldText(String text, IntPredicate matches) {
        static final FieldText ALL = new FieldText("*", v -> true);

        boolean restricts() {
            return !text.equals("*") && !text.equals("?");
        }
    }

    /** A generated expression and its meaning, with a matcher that knows nothing of the parser. */
    record Expr(boolean hasSeconds, FieldText second, FieldText minute, FieldText hour, FieldText dom,
                FieldText month, FieldText dow, String separator) {

        String text() {
            String five = String.join(separator, minute.text(), hour.text(), dom.text(), month.text(), dow.text());
            return hasSeconds ? second.text() + separator + five : five;
        }

        boolean dayMatches(LocalDate date) {
            int weekday = date.getDayOfWeek().getValue() % 7; // Sunday 0
            boolean domOk = dom.matches().test(date.getDayOfMonth());
            boolean dowOk = dow.matches().test(weekday) || (weekday == 0 && dow.matches().test(7));
            boolean dayOk = dom.restricts() && dow.restricts() ? domOk || dowOk : domOk && dowOk;
            return dayOk && month.matches().test(date.getMonthValue());
        }

        boolean timeMatches(int h, int m, int s) {
            return hour.matches().test(h) && minute.matches().test(m) && second.matches().test(s);
        }

        boolean matches(LocalDateTime t) {
            return dayMatches(t.toLocalDate()) && timeMatches(t.getHour(), t.getMinute(), t.getSecond());
        }

        /** The first whole unit strictly after {@code t}. */
        private LocalDateTime firstCandidate(Instant t) {
            long unit = hasSeconds ? 1 : 60;
            long second = Math.floorDiv(t.getEpochSecond(), unit) * unit + unit;
            return LocalDateTime.ofEpochSecond(second, 0, ZoneOffset.UTC);
        }

        /** Every second or minute from {@code t} on, up to {@code bound}. */
        Optional<Instant> naiveNextAfter(Instant t, Duration bound) {
            LocalDateTime c = firstCandidate(t);
            LocalDateTime end = c.plus(bound);
            for (; c.isBefore(end); c = hasSeconds ? c.plusSeconds(1) : c.plusMinutes(1)) {
                if (matches(c)) {
                    return Optional.of(c.toInstant(ZoneOffset.UTC));
                }
            }
            return Optional.empty();
        }

        /**
         * Every day from {@code t} on, up to {@code bound}; on a matching day, every second or minute of it. A day
         * that does not match has no matching second, so this is the full scan without the waste.
         */
        Optional<Instant> referenceNextAfter(Instant t, Duration bound) {
            LocalDateTime c = firstCandidate(t);
            LocalDate last = c.plus(bound).toLocalDate();
            int step = hasSeconds ? 1 : 60;
            for (LocalDate date = c.toLocalDate(); !date.isAfter(last); date = date.plusDays(1)) {
                if (!dayMatches(date)) {
                    continue;
                }
                int from = date.equals(c.toLocalDate()) ? c.toLocalTime().toSecondOfDay() : 0;
                for (int sod = from; sod < 86_400; sod += step) {
                    if (timeMatches(sod / 3600, sod / 60 % 60, sod % 60)) {
                        return Optional.of(date.atStartOfDay().plusSeconds(sod).toInstant(ZoneOffset.UTC));
                    }
                }
            }
            return Optional.empty();
        }
    }
}
