/**
 * Granda's benchmarks: the JMH set ({@link io.granda.bench.ColdStartBenchmark},
 * {@link io.granda.bench.WarmLatencyBenchmark}, {@link io.granda.bench.WarmThroughputBenchmark}) and the one-run
 * side-by-side comparison ({@link io.granda.bench.Comparison}), both against a whole Granda server started in the
 * bench's JVM, a real Docker engine and the locally built {@code granda-hot-echo} image. Run them with
 * {@code ./granda bench} and {@code ./granda bench jmh}. Nothing here is API.
 */
package io.granda.bench;
