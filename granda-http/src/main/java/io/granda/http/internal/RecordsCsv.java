package io.granda.http.internal;

import io.granda.core.Billing;
import io.granda.core.InvocationRecord;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.function.Consumer;

/**
 * Writes invocation records as CSV (RFC 4180: comma-separated, CRLF line ends, fields holding a comma, quote or line
 * end quoted with quotes doubled), one header row then one row per record, streamed: rows are gathered into chunks
 * of {@link #CHUNK_CHARS} and sent as they fill, so an export of any size needs little memory. Nothing is sent before
 * the first chunk fills (or {@link #finish()}), so a failure before then can still be answered with a JSON error.
 * Not API. Not thread-safe: used by the one thread that reads the records.
 */
public final class RecordsCsv implements Consumer<InvocationRecord> {

    /** The columns, in order. */
    public static final List<String> COLUMNS = List.of("invocation_id", "tenant", "function_id", "function_name",
            "revision", "start", "end", "queue_ms", "pull_ms", "start_ms", "init_ms", "run_ms", "billed_ms",
            "memory_mb", "gb_seconds", "cpu_ms", "outcome", "exit_code", "cold", "request_bytes", "response_bytes");

    /** The media type answered. */
    public static final String CONTENT_TYPE = "text/csv; charset=utf-8";

    static final int CHUNK_CHARS = 64 * 1024;
    private static final BigDecimal MB_MILLIS_PER_GB_SECOND = BigDecimal.valueOf(1024L * 1000L);

    private final ServerResponse res;
    private final String filename;
    private final StringBuilder chunk = new StringBuilder(CHUNK_CHARS + 1024);
    private OutputStream out;
    private long rows;

    /**
     * @param res      where to send the CSV
     * @param filename the file name offered to the client (in {@code Content-Disposition})
     */
    public RecordsCsv(ServerResponse res, String filename) {
        this.res = res;
        this.filename = filename;
        appendRow(chunk, COLUMNS);
    }

    /** Adds one record's row; sends a chunk when one is full. */
    @Override
    public void accept(InvocationRecord r) {
        appendRow(chunk, row(r));
        rows++;
        if (chunk.length() >= CHUNK_CHARS) {
            sendChunk();
        }
    }

    /** @return true once bytes went out: a failure can then only break the connection, not answer an error */
    public boolean started() {
        return out != null;
    }

    /** @return rows written, the header not counted */
    public long rows() {
        return rows;
    }

    /** Sends what is left and ends the answer; an export that fits one chunk goes out whole, with its length. */
    public void finish() {
        if (out == null) {
            headers();
            res.send(chunk.toString().getBytes(StandardCharsets.UTF_8));
            return;
        }
        sendChunk();
        try {
            out.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private void headers() {
        res.status(200);
        res.header(HeaderNames.CONTENT_TYPE, CONTENT_TYPE);
        res.header(HeaderNames.CONTENT_DISPOSITION, "attachment; filename=\"" + filename + "\"");
        res.header(HeaderNames.CACHE_CONTROL, "no-store");
    }

    private void sendChunk() {
        try {
            if (out == null) {
                headers();
                out = res.outputStream();
            }
            out.write(chunk.toString().getBytes(StandardCharsets.UTF_8));
            chunk.setLength(0);
        } catch (IOException e) {
            throw new UncheckedIOException(e); // the client went away: stop reading records
        }
    }

    /** @return one record's fields, in {@link #COLUMNS} order */
    static List<String> row(InvocationRecord r) {
        InvocationRecord.PhaseMicros p = r.phases();
        return List.of(
                r.invocationId(),
                r.tenant(),
                r.functionId(),
                r.functionName(),
                Long.toString(r.revision()),
                r.start().toString(),
                r.end().toString(),
                millis(p.queueMicros()),
                millis(p.pullMicros()),
                millis(p.startMicros()),
                millis(p.initMicros()),
                millis(p.runMicros()),
                Long.toString(r.billedMillis()),
                Integer.toString(r.memoryMb()),
                gbSeconds(Billing.mbMillis(r.memoryMb(), r.billedMillis())),
                r.cpuMicros() >= 0 ? millis(r.cpuMicros()) : "",
                r.outcome().name().toLowerCase(Locale.ROOT),
                r.exitCode() >= 0 ? Integer.toString(r.exitCode()) : "",
                Boolean.toString(r.cold()),
                Long.toString(r.requestBytes()),
                Long.toString(r.responseBytes()));
    }

    /** @return microseconds as milliseconds with exactly three decimals: 1234 -> {@code 1.234} */
    static String millis(long micros) {
        return BigDecimal.valueOf(micros, 3).toPlainString();
    }

    /** @return MiB x ms as exact GB-seconds (a GB being 1024 MiB), without trailing zeros: 128000 -> {@code 0.125} */
    static String gbSeconds(long mbMillis) {
        // 1024 x 1000 = 2^13 x 5^3, so the quotient always has a finite decimal expansion (at most 13 places).
        BigDecimal exact = BigDecimal.valueOf(mbMillis).divide(MB_MILLIS_PER_GB_SECOND);
        return exact.signum() == 0 ? "0" : exact.stripTrailingZeros().toPlainString();
    }

    /** Appends fields as one CSV line, quoting where RFC 4180 requires it. */
    static void appendRow(StringBuilder b, List<String> fields) {
        for (int i = 0; i < fields.size(); i++) {
            if (i > 0) {
                b.append(',');
            }
            appendField(b, fields.get(i));
        }
        b.append("\r\n");
    }

    static void appendField(StringBuilder b, String v) {
        boolean quote = false;
        for (int i = 0; i < v.length() && !quote; i++) {
            char c = v.charAt(i);
            quote = c == ',' || c == '"' || c == '\r' || c == '\n';
        }
        if (!quote) {
            b.append(v);
            return;
        }
        b.append('"');
        for (int i = 0; i < v.length(); i++) {
            char c = v.charAt(i);
            if (c == '"') {
                b.append('"');
            }
            b.append(c);
        }
        b.append('"');
    }
}
