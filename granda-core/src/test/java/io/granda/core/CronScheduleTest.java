package io.granda.core;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Cron schedules by example: the syntax, the day rule, calendar edges and every refusal with its message. */
class CronScheduleTest {

    // ---- firing times -------------------------------------------------------------------------------------------

    @Test
    void everyFifteenMinutes() {
        CronSchedule s = CronSchedule.parse("*/15 * * * *");
        assertFirings(s, "2026-03-10T10:07:30Z",
                "2026-03-10T10:15:00Z", "2026-03-10T10:30:00Z", "2026-03-10T10:45:00Z", "2026-03-10T11:00:00Z");
        // Strictly after: a firing instant itself is not returned, nor is a firing earlier in the same minute.
        assertNext(s, "2026-03-10T10:15:00Z", "2026-03-10T10:30:00Z");
        assertNext(s, "2026-03-10T10:14:59.999999999Z", "2026-03-10T10:15:00Z");
        assertNext(s, "2026-03-10T23:50:00Z", "2026-03-11T00:00:00Z");
        assertFalse(s.hasSeconds());
    }

    @Test
    void weekdaysAtNine() {
        CronSchedule s = CronSchedule.parse("0 9 * * MON-FRI");
        // 2026-03-13 is a Friday.
        assertFirings(s, "2026-03-13T08:59:59Z",
                "2026-03-13T09:00:00Z", "2026-03-16T09:00:00Z", "2026-03-17T09:00:00Z");
        assertNext(s, "2026-03-14T12:00:00Z", "2026-03-16T09:00:00Z");
    }

    @Test
    void february29FiresInTheNextLeapYear() {
        CronSchedule s = CronSchedule.parse("0 0 29 2 *");
        assertFirings(s, "2026-01-01T00:00:00Z", "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z");
        // 2100 is not a leap year: the gap is eight years, and the search must look that far.
        assertNext(s, "2096-02-29T00:00:00Z", "2104-02-29T00:00:00Z");
        assertNext(s, "2099-12-31T23:59:00Z", "2104-02-29T00:00:00Z");
    }

    @Test
    void the31stSkipsShortMonths() {
        CronSchedule s = CronSchedule.parse("0 0 31 * *");
        assertFirings(s, "2026-01-31T00:00:00Z",
                "2026-03-31T00:00:00Z", "2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z", "2026-08-31T00:00:00Z",
                "2026-10-31T00:00:00Z", "2026-12-31T00:00:00Z", "2027-01-31T00:00:00Z");
    }

    @Test
    void bothDayFieldsRestrictedMeansEither() {
        // 1st of the month OR Monday. 2026-03-01 is a Sunday, 2026-03-02 a Monday.
        CronSchedule s = CronSchedule.parse("30 8 1 * 1");
        assertFirings(s, "2026-02-27T00:00:00Z",
                "2026-03-01T08:30:00Z", "2026-03-02T08:30:00Z", "2026-03-09T08:30:00Z");
        // 2026-07-01 is a Wednesday.
        assertFirings(s, "2026-06-29T09:00:00Z", "2026-07-01T08:30:00Z", "2026-07-06T08:30:00Z");
    }

    @Test
    void oneDayFieldRestrictedMeansThatOne() {
        assertFirings(CronSchedule.parse("0 0 13 * *"), "2026-02-01T00:00:00Z",
                "2026-02-13T00:00:00Z", "2026-03-13T00:00:00Z");
        assertFirings(CronSchedule.parse("0 0 13 * ?"), "2026-02-01T00:00:00Z",
                "2026-02-13T00:00:00Z", "2026-03-13T00:00:00Z");
        assertFirings(CronSchedule.parse("0 0 ? * FRI"), "2026-02-01T00:00:00Z",
                "2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z");
        // Friday the 13th is not "13th AND Friday" but "13th OR Friday".
        assertFirings(CronSchedule.parse("0 0 13 * FRI"), "2026-02-01T00:00:00Z",
                "2026-02-06T00:00:00Z", "2026-02-13T00:00:00Z", "2026-02-20T00:00:00Z", "2026-02-27T00:00:00Z",
                "2026-03-06T00:00:00Z", "2026-03-13T00:00:00Z");
    }

    @Test
    void aSteppedDayFieldCountsAsRestricted() {
        // Unlike Vixie cron, */2 is a restriction, so the OR rule applies: odd days OR Sundays.
        // 2026-03-01 is a Sunday; the 8th is the next Sunday.
        assertFirings(CronSchedule.parse("0 0 */2 * SUN"), "2026-03-01T00:00:00Z",
                "2026-03-03T00:00:00Z", "2026-03-05T00:00:00Z", "2026-03-07T00:00:00Z", "2026-03-08T00:00:00Z",
                "2026-03-09T00:00:00Z");
    }

    @Test
    void everyTwoSeconds() {
        CronSchedule s = CronSchedule.parse("*/2 * * * * *");
        assertTrue(s.hasSeconds());
        assertFirings(s, "2026-03-10T10:00:00Z", "2026-03-10T10:00:02Z", "2026-03-10T10:00:04Z");
        assertNext(s, "2026-03-10T10:00:01.5Z", "2026-03-10T10:00:02Z");
        assertNext(s, "2026-03-10T10:00:59Z", "2026-03-10T10:01:00Z");
        assertNext(s, "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z");
    }

    @Test
    void secondsFieldNarrowsWithinTheMinute() {
        assertFirings(CronSchedule.parse("15,45 30 * * * *"), "2026-03-10T10:00:00Z",
                "2026-03-10T10:30:15Z", "2026-03-10T10:30:45Z", "2026-03-10T11:30:15Z");
    }

    @Test
    void macros() {
        String after = "2026-03-10T10:07:30Z";
        assertNext(CronSchedule.parse("@yearly"), after, "2027-01-01T00:00:00Z");
        assertNext(CronSchedule.parse("@annually"), after, "2027-01-01T00:00:00Z");
        assertNext(CronSchedule.parse("@monthly"), after, "2026-04-01T00:00:00Z");
        // 2026-03-15 is a Sunday.
        assertNext(CronSchedule.parse("@weekly"), after, "2026-03-15T00:00:00Z");
        assertNext(CronSchedule.parse("@daily"), after, "2026-03-11T00:00:00Z");
        assertNext(CronSchedule.parse("@midnight"), after, "2026-03-11T00:00:00Z");
        assertNext(CronSchedule.parse("@hourly"), after, "2026-03-10T11:00:00Z");
        assertNext(CronSchedule.parse("@HOURLY"), after, "2026-03-10T11:00:00Z");
        CronSchedule daily = CronSchedule.parse("  @daily ");
        assertEquals("@daily", daily.expression());
        assertFalse(daily.hasSeconds());
    }

    @Test
    void yearRollover() {
        assertFirings(CronSchedule.parse("59 23 31 12 *"), "2026-06-01T00:00:00Z",
                "2026-12-31T23:59:00Z", "2027-12-31T23:59:00Z");
        assertNext(CronSchedule.parse("0 0 1 JAN *"), "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z");
        assertNext(CronSchedule.parse("* * * * *"), "2026-12-31T23:59:00Z", "2027-01-01T00:00:00Z");
    }

    @Test
    void namesAreCaseInsensitiveAndMixWithNumbers() {
        CronSchedule s = CronSchedule.parse("0 12 * jan,Feb-3,DEC sun");
        assertFirings(s, "2026-01-01T00:00:00Z", "2026-01-04T12:00:00Z", "2026-01-11T12:00:00Z");
        assertNext(s, "2026-04-01T00:00:00Z", "2026-12-06T12:00:00Z");
    }

    @Test
    void sundayIsBoth0And7() {
        String after = "2026-03-10T00:00:00Z";
        assertNext(CronSchedule.parse("0 0 * * 0"), after, "2026-03-15T00:00:00Z");
        assertNext(CronSchedule.parse("0 0 * * 7"), after, "2026-03-15T00:00:00Z");
        // A range ending on Sunday ends with 7: Friday, Saturday, Sunday.
        assertFirings(CronSchedule.parse("0 0 * * FRI-7"), after,
                "2026-03-13T00:00:00Z", "2026-03-14T00:00:00Z", "2026-03-15T00:00:00Z", "2026-03-20T00:00:00Z");
        // a/n runs to 7: Monday, Thursday, Sunday.
        assertFirings(CronSchedule.parse("0 0 * * MON/3"), after,
                "2026-03-12T00:00:00Z", "2026-03-15T00:00:00Z", "2026-03-16T00:00:00Z");
    }

    @Test
    void stepsOverRangesAndFromAStart() {
        assertFirings(CronSchedule.parse("0 9-17/4 * * *"), "2026-03-10T00:00:00Z",
                "2026-03-10T09:00:00Z", "2026-03-10T13:00:00Z", "2026-03-10T17:00:00Z", "2026-03-11T09:00:00Z");
        assertFirings(CronSchedule.parse("50/5 * * * *"), "2026-03-10T10:00:00Z",
                "2026-03-10T10:50:00Z", "2026-03-10T10:55:00Z", "2026-03-10T11:50:00Z");
        // A step larger than what is left of the range gives the start alone.
        assertFirings(CronSchedule.parse("*/59 * * * *"), "2026-03-10T10:00:00Z",
                "2026-03-10T10:59:00Z", "2026-03-10T11:00:00Z", "2026-03-10T11:59:00Z");
    }

    @Test
    void schedulesThatNeverFireAreEmpty() {
        for (String never : List.of("0 0 30 2 *", "0 0 31 4,6,9,11 *", "0 0 30-31 FEB ?", "0 0 0 31 2 * ")) {
            CronSchedule s = CronSchedule.parse(never);
            assertEquals(Optional.empty(), s.nextAfter(Instant.parse("2026-01-01T00:00:00Z")), never);
            assertEquals(Optional.empty(), s.nextAfter(Instant.parse("2096-02-28T00:00:00Z")), never);
        }
        // With the OR rule a restricted day-of-week rescues an impossible day-of-month, within the month field:
        // the first Monday of February 2027.
        assertNext(CronSchedule.parse("0 0 30 2 MON"), "2026-03-10T00:00:00Z", "2027-02-01T00:00:00Z");
    }

    @Test
    void extremeInstantsDoNotThrow() {
        CronSchedule every = CronSchedule.parse("* * * * * *");
        assertEquals(Optional.empty(), every.nextAfter(Instant.MAX));
        assertEquals(Optional.of(Instant.parse("+999999999-12-31T23:59:59Z")),
                every.nextAfter(Instant.parse("+999999999-12-31T23:59:58Z")));
        assertEquals(Optional.empty(), every.nextAfter(Instant.parse("+999999999-12-31T23:59:59Z")));
        assertEquals(Optional.empty(), CronSchedule.parse("0 0 1 1 *").nextAfter(Instant.parse("+999999999-06-01T00:00:00Z")));
        Optional<Instant> first = every.nextAfter(Instant.MIN);
        assertTrue(first.isPresent() && first.get().isAfter(Instant.MIN));
        assertTrue(CronSchedule.parse("0 0 29 2 *").nextAfter(Instant.MIN).isPresent());
        assertThrows(NullPointerException.class, () -> every.nextAfter(null));
    }

    // ---- value semantics ----------------------------------------------------------------------------------------

    @Test
    void expressionIsTrimmedAndDefinesEquality() {
        CronSchedule a = CronSchedule.parse("  0 9 * * MON-FRI\t");
        assertEquals("0 9 * * MON-FRI", a.expression());
        assertEquals("0 9 * * MON-FRI", a.toString());
        assertEquals(a, CronSchedule.parse("0 9 * * MON-FRI"));
        assertEquals(a.hashCode(), CronSchedule.parse("0 9 * * MON-FRI").hashCode());
        // Same firings, different expressions: not equal.
        assertNotEquals(a, CronSchedule.parse("0 9 * * 1-5"));
        // Fields may be separated by any run of whitespace.
        assertEquals("0\t9  *\n* 1-5", CronSchedule.parse("0\t9  *\n* 1-5").expression());
    }

    // ---- refusals -----------------------------------------------------------------------------------------------

    static Stream<Arguments> refusals() {
        String tooLong = "0 0 1 1 " + "1,".repeat(96) + "1";
        return Stream.of(
                // expression, field, message
                Arguments.of("0 24 * * *", "hour", "cron field 'hour' (second of 5): 24 is out of range 0-23"),
                Arguments.of("60 * * * *", "minute", "cron field 'minute' (first of 5): 60 is out of range 0-59"),
                Arguments.of("60 * * * * *", "second", "cron field 'second' (first of 6): 60 is out of range 0-59"),
                Arguments.of("0 60 * * * *", "minute", "cron field 'minute' (second of 6): 60 is out of range 0-59"),
                Arguments.of("0 0 0 * *", "day-of-month",
                        "cron field 'day-of-month' (third of 5): 0 is out of range 1-31"),
                Arguments.of("0 0 32 * *", "day-of-month",
                        "cron field 'day-of-month' (third of 5): 32 is out of range 1-31"),
                Arguments.of("0 0 * 13 *", "month", "cron field 'month' (fourth of 5): 13 is out of range 1-12"),
                Arguments.of("0 0 * 0 *", "month", "cron field 'month' (fourth of 5): 0 is out of range 1-12"),
                Arguments.of("0 0 * * 8", "day-of-week",
                        "cron field 'day-of-week' (fifth of 5): 8 is out of range 0-7"),
                Arguments.of("0 0 * * * 8", "day-of-week",
                        "cron field 'day-of-week' (sixth of 6): 8 is out of range 0-7"),
                Arguments.of("99999999999999 * * * *", "minute",
                        "cron field 'minute' (first of 5): 99999999999999 is out of range 0-59"),
                Arguments.of("*/0 * * * *", "minute", "cron field 'minute' (first of 5): step 0 in '*/0' must be at least 1"),
                Arguments.of("0 1-5/0 * * *", "hour", "cron field 'hour' (second of 5): step 0 in '1-5/0' must be at least 1"),
                Arguments.of("*/60 * * * *", "minute",
                        "cron field 'minute' (first of 5): step 60 in '*/60' is out of range 1-59"),
                Arguments.of("0 5-1 * * *", "hour", "cron field 'hour' (second of 5): range 5-1 is reversed"),
                Arguments.of("0 0 * DEC-JAN *", "month", "cron field 'month' (fourth of 5): range DEC-JAN is reversed"),
                Arguments.of("0 0 * * SAT-SUN", "day-of-week", "cron field 'day-of-week' (fifth of 5): range SAT-SUN"
                        + " is reversed; a range that ends on Sunday ends with 7, as in 5-7"),
                Arguments.of("abc * * * *", "minute", "cron field 'minute' (first of 5): 'abc' is not a number"),
                Arguments.of("0 0 * FOO *", "month",
                        "cron field 'month' (fourth of 5): 'FOO' is not a number or a month name (JAN-DEC)"),
                Arguments.of("0 0 * * MONDAY", "day-of-week",
                        "cron field 'day-of-week' (fifth of 5): 'MONDAY' is not a number or a day name (SUN-SAT)"),
                Arguments.of("0 0 * MON *", "month",
                        "cron field 'month' (fourth of 5): 'MON' is not a number or a month name (JAN-DEC)"),
                Arguments.of("0 JAN * * *", "hour", "cron field 'hour' (second of 5): 'JAN' is not a number"),
                Arguments.of("0 0 L * *", "day-of-month", "cron field 'day-of-month' (third of 5): 'L' is not a number"),
                Arguments.of("0 0 * * MON#2", "day-of-week",
                        "cron field 'day-of-week' (fifth of 5): 'MON#2' is not a number or a day name (SUN-SAT)"),
                Arguments.of("-1 * * * *", "minute", "cron field 'minute' (first of 5): '-1' is missing a value"),
                Arguments.of("0 1- * * *", "hour", "cron field 'hour' (second of 5): '1-' is missing a value"),
                Arguments.of("1-2-3 * * * *", "minute",
                        "cron field 'minute' (first of 5): '1-2-3' is not a range: a range is a-b"),
                Arguments.of("*-5 * * * *", "minute", "cron field 'minute' (first of 5): '*' is not a number"),
                Arguments.of("/5 * * * *", "minute", "cron field 'minute' (first of 5): '/5' has a step but nothing"
                        + " to step over; write */n, a-b/n or a/n"),
                Arguments.of("*/ * * * *", "minute", "cron field 'minute' (first of 5): step '' in '*/' is not a number"),
                Arguments.of("*/2/3 * * * *", "minute",
                        "cron field 'minute' (first of 5): step '2/3' in '*/2/3' is not a number"),
                Arguments.of("*/-1 * * * *", "minute",
                        "cron field 'minute' (first of 5): step '-1' in '*/-1' is not a number"),
                Arguments.of("1,,2 * * * *", "minute", "cron field 'minute' (first of 5): empty element in list '1,,2'"),
                Arguments.of("1, * * * *", "minute", "cron field 'minute' (first of 5): empty element in list '1,'"),
                Arguments.of("? * * * *", "minute",
                        "cron field 'minute' (first of 5): '?' is allowed only in day-of-month and day-of-week"),
                Arguments.of("0 0 ?,1 * *", "day-of-month",
                        "cron field 'day-of-month' (third of 5): '?' must be the whole field, not part of '?,1'"),
                Arguments.of("0 0 * * ?/2", "day-of-week",
                        "cron field 'day-of-week' (fifth of 5): '?' must be the whole field, not part of '?/2'"),
                Arguments.of("+5 * * * *", "minute", "cron field 'minute' (first of 5): '+5' is not a number"),
                Arguments.of("\u0661 * * * *", "minute", "cron field 'minute' (first of 5): '\u0661' is not a number"),
                Arguments.of("", "expression", "cron expression is empty"),
                Arguments.of(" \t\n", "expression", "cron expression is empty"),
                Arguments.of(null, "expression", "cron expression is missing"),
                Arguments.of(tooLong, "expression", "cron expression is 201 characters; at most 200 are allowed"),
                Arguments.of("* * * *", "expression", "cron expression has 4 fields; expected 5 (minute hour"
                        + " day-of-month month day-of-week) or 6 (second minute hour day-of-month month day-of-week)"),
                Arguments.of("*", "expression", "cron expression has 1 field; expected 5 (minute hour"
                        + " day-of-month month day-of-week) or 6 (second minute hour day-of-month month day-of-week)"),
                Arguments.of("* * * * * * *", "expression", "cron expression has 7 fields; expected 5 (minute hour"
                        + " day-of-month month day-of-week) or 6 (second minute hour day-of-month month day-of-week)"),
                Arguments.of("@reboot", "expression", "cron macro @reboot is not supported: a schedule fires at"
                        + " clock times, not when the server starts"),
                Arguments.of("@often", "expression", "cron macro '@often' is unknown; expected one of @yearly,"
                        + " @annually, @monthly, @weekly, @daily, @midnight, @hourly, as the whole expression"),
                Arguments.of("@daily 0", "expression", "cron macro '@daily 0' is unknown; expected one of @yearly,"
                        + " @annually, @monthly, @weekly, @daily, @midnight, @hourly, as the whole expression"));
    }

    @ParameterizedTest
    @MethodSource("refusals")
    void refusalsNameTheFieldAndSayWhy(String expression, String field, String message) {
        InvalidCronException e = assertThrows(InvalidCronException.class, () -> CronSchedule.parse(expression));
        assertEquals(message, e.getMessage());
        assertEquals(field, e.field());
        if (!field.equals(InvalidCronException.WHOLE_EXPRESSION)) {
            assertTrue(e.getMessage().startsWith("cron field '" + field + "'"), e.getMessage());
        }
    }

    @Test
    void theLongestAllowedExpressionParses() {
        String longest = "1,".repeat(95) + "11 0 1 1 *";
        assertEquals(200, longest.length());
        assertEquals(longest, CronSchedule.parse(" " + longest + " ".repeat(10)).expression());
    }

    @ParameterizedTest
    @ValueSource(strings = {"@reboot", "@REBOOT", " @reboot "})
    void rebootIsRefusedInAnyCase(String expression) {
        InvalidCronException e = assertThrows(InvalidCronException.class, () -> CronSchedule.parse(expression));
        assertTrue(e.getMessage().contains("@reboot is not supported"), e.getMessage());
    }

    @Test
    void refusalIsAnIllegalArgument() {
        assertThrows(IllegalArgumentException.class, () -> CronSchedule.parse("nope"));
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private static void assertNext(CronSchedule s, String after, String expected) {
        assertEquals(Optional.of(Instant.parse(expected)), s.nextAfter(Instant.parse(after)),
                s + " after " + after);
    }

    /** Follows the schedule from {@code after} and checks the successive firings. */
    private static void assertFirings(CronSchedule s, String after, String... expected) {
        List<String> actual = new ArrayList<>();
        Instant t = Instant.parse(after);
        for (int i = 0; i < expected.length; i++) {
            t = s.nextAfter(t).orElseThrow();
            actual.add(t.toString());
        }
        assertEquals(List.of(expected), actual, s + " after " + after);
    }
}
