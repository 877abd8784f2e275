package io.granda.core;

import java.util.Objects;

/**
 * A cron expression was refused by {@link CronSchedule#parse(String)}. The message names the offending field and
 * says why, e.g. {@code cron field 'hour' (second of 5): 24 is out of range 0-23}; {@link #field()} carries the
 * field's name for callers that map the error to a request field.
 *
 * <p>An {@link IllegalArgumentException} rather than a {@link GrandaException}: a schedule is a value handed to the
 * platform, and a caller that builds one from its own input expects the standard type for a bad argument.
 */
public class InvalidCronException extends IllegalArgumentException {

    /** The {@link #field()} of errors about the expression as a whole (empty, too long, wrong field count, macros). */
    public static final String WHOLE_EXPRESSION = "expression";

    private final String field;

    /**
     * @param field   the offending field ({@code second}, {@code minute}, {@code hour}, {@code day-of-month},
     *                {@code month}, {@code day-of-week}) or {@link #WHOLE_EXPRESSION}
     * @param message what is wrong, naming the field
     */
    public InvalidCronException(String field, String message) {
        super(message);
        this.field = Objects.requireNonNull(field, "field");
    }

    /**
     * @return the offending field ({@code second}, {@code minute}, {@code hour}, {@code day-of-month}, {@code month},
     *         {@code day-of-week}), or {@link #WHOLE_EXPRESSION} when no single field is at fault
     */
    public String field() {
        return field;
    }
}
