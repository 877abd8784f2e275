package io.granda.http.internal;

import io.granda.core.InvocationRecord;
import io.granda.core.Outcome;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

class RecordsCsvTest {

    private static String line(String... fields) {
        StringBuilder b = new StringBuilder();
        RecordsCsv.appendRow(b, List.of(fields));
        return b.toString();
    }

    @Test
    void quotesOnlyWhatRfc4180Requires() {
        assertEquals("plain,with space,\r\n", line("plain", "with space", ""));
        assertEquals("\"a,b\",\"say \"\"hi\"\"\",\"two\r\nlines\",\"lf\nonly\"\r\n",
                line("a,b", "say \"hi\"", "two\r\nlines", "lf\nonly"));
        assertEquals("\"\"\"\"\r\n", line("\""));
    }

    @Test
    void millisecondsAreExactToTheMicrosecondWithThreeDecimals() {
        assertEquals("0.000", RecordsCsv.millis(0));
        assertEquals("0.001", RecordsCsv.millis(1));
        assertEquals("1.234", RecordsCsv.millis(1234));
        assertEquals("16900.000", RecordsCsv.millis(16_900_000));
    }

    @Test
    void gbSecondsAreExactDecimals() {
        assertEquals("0", RecordsCsv.gbSeconds(0));
        assertEquals("0.002125", RecordsCsv.gbSeconds(128 * 17)); // 128 MiB for 17 ms
        assertEquals("1", RecordsCsv.gbSeconds(1024 * 1000));
        assertEquals("0.0000009765625", RecordsCsv.gbSeconds(1)); // 1 MiB for 1 ms: 2^-20 GB-s, 13 places
        assertEquals("3600", RecordsCsv.gbSeconds(4096L * 900_000)); // 4 GiB for 15 minutes
    }

    @Test
    void aRowHasEveryColumnInOrder() {
        InvocationRecord r = new InvocationRecord("inv-1", "default", "fn-id", "hello", 3,
                Instant.parse("2026-11-26T16:00:01.123456Z"), Instant.parse("2026-11-26T16:00:01.301002Z"),
                new InvocationRecord.PhaseMicros(1, 2, 150_300, 9_900, 16_901), 128, -1, Outcome.TIMEOUT, -1, true,
                5, 14);
        List<String> row = RecordsCsv.row(r);
        assertEquals(RecordsCsv.COLUMNS.size(), row.size());
        assertEquals(List.of("inv-1", "default", "fn-id", "hello", "3", "2026-11-26T16:00:01.123456Z",
                "2026-11-26T16:00:01.301002Z", "0.001", "0.002", "150.300", "9.900", "16.901", "17", "128", "0.002125",
                "", "timeout", "", "true", "5", "14"), row);
    }
}
