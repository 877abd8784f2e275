package io.granda.server;

import io.granda.core.DeployedFunction;
import io.granda.core.FunctionSpec;
import io.granda.core.Granda;
import io.granda.core.InvocationRecord;
import io.granda.core.InvocationRequest;
import io.granda.core.InvocationResult;
import io.granda.core.Outcome;
import io.granda.docker.DockerBackend;
import io.granda.docker.DockerBackendConfig;
import io.granda.store.SqliteStore;
import io.granda.store.SqliteStoreConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Granda embedded in another Java application, written the way the README shows it: no HTTP, a real Docker engine
 * and a real SQLite file. If this test needs changing, the README's snippet does too.
 */
class EmbeddingExampleTest {

    @TempDir
    Path dir;

    @Test
    void anApplicationDeploysCallsAndBillsAFunctionInAFewLines() {
        String ownerId = "my-app-" + UUID.randomUUID().toString().substring(0, 8);
        Path db = dir.resolve("granda.db");
        String functionId;

        // --- as in the README ---
        try (SqliteStore store = SqliteStore.open(SqliteStoreConfig.defaults(db), Clock.systemUTC());
             Granda granda = Granda.builder()
                     .backend(new DockerBackend(DockerBackendConfig.defaults(ownerId)))
                     .registry(store.functions())
                     .meteringStore(store.metering())
                     .build()) {
            DeployedFunction hello = granda.deploy(FunctionSpec.builder("hello")
                    .image("granda/hello")
                    .timeout(Duration.ofSeconds(5))
                    .build());
            InvocationResult r = granda.invoke("hello", InvocationRequest.of("World"));
            // --- end of the README's snippet ---

            assertEquals(Outcome.SUCCESS, r.outcome());
            assertEquals("Hello, World!\n", r.outputAsString());
            assertTrue(r.cold());
            functionId = hello.id();

            List<InvocationRecord> calls = granda.invocations("hello", 10, null).items();
            assertEquals(1, calls.size());
            assertEquals(r.invocationId(), calls.getFirst().invocationId());
            assertEquals(1, granda.usage("hello", Instant.EPOCH, Instant.now().plusSeconds(1)).calls());
        }
        assertEquals(List.of(), Docker.containersOf(ownerId), "closing Granda leaves no container behind");

        // The records are billing data: they are in the file after Granda is gone.
        try (SqliteStore reopened = SqliteStore.open(SqliteStoreConfig.defaults(db), Clock.systemUTC())) {
            assertEquals(1, reopened.metering().invocations(functionId, 10, null).items().size());
        }
    }
}
