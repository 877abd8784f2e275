package io.granda.http;

import io.granda.core.InvocationRecord;
import io.granda.core.Outcome;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Measures, without asserting any timing, the CPU time the Prometheus meters cost per stored invocation record: what
 * {@link GrandaMetrics#invocationsStored} adds on the metering writer's thread for each call. Skipped unless asked
 * for: {@code mvn -pl granda-http test -Dtest=GrandaMetricsCostMeasurement -Dgranda.measure=true}; the figures are
 * printed to {@code target/surefire-reports/io.granda.http.GrandaMetricsCostMeasurement-output.txt}.
 */
@EnabledIfSystemProperty(named = "granda.measure", matches = "true")
class GrandaMetricsCostMeasurement {

    private static final int BATCH = 1000;
    private static final int BATCHES = 300;

    @Test
    void cpuTimePerRecord() {
        GrandaMetrics metrics = new GrandaMetrics(false);
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        metrics.bindTo(registry);
        Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
        List<InvocationRecord> batch = new ArrayList<>(BATCH);
        for (int i = 0; i < BATCH; i++) {
            Instant start = t0.plusNanos(i * 237_000L);
            // As in the metering bench: one function, warm, successful calls of about 150 us.
            batch.add(new InvocationRecord("call-" + i, InvocationRecord.DEFAULT_TENANT, "id-f", "f", 1, start,
                    start.plusNanos(150_000), new InvocationRecord.PhaseMicros(10, 0, 0, 0, 120), 128, 50,
                    i % 50 == 0 ? Outcome.FUNCTION_ERROR : Outcome.SUCCESS, 0, false, 10, 20));
        }
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (int round = 1; round <= 5; round++) {
            long cpu0 = threads.getCurrentThreadCpuTime();
            for (int b = 0; b < BATCHES; b++) {
                metrics.invocationsStored(batch);
            }
            double micros = (threads.getCurrentThreadCpuTime() - cpu0) / 1e3 / ((long) BATCH * BATCHES);
            // Round 1 includes the JIT's warm-up.
            System.out.printf("meters, round %d: %,d records, %.3f us CPU per record%n", round, BATCH * BATCHES,
                    micros);
        }
        assertTrue(registry.scrape().contains("granda_invocations_total"), "the meters were registered");
    }
}
