package io.granda.testkit.facade;

import io.granda.core.DeployedFunction;
import io.granda.core.FunctionNotFoundException;
import io.granda.core.FunctionSpec;
import io.granda.core.Granda;
import io.granda.core.InvalidFunctionSpecException;
import io.granda.core.InvocationRecord;
import io.granda.core.InvocationRequest;
import io.granda.core.access.Tenant;
import io.granda.testkit.FakeBackend;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Tenants through the facade: each function has one, and tenant-scoped calls see only that tenant's functions. */
class GrandaTenancyTest {

    private final FakeClock clock = new FakeClock();
    private final FakeBackend backend = new FakeBackend();
    private final Granda granda = Granda.builder().backend(backend).clock(clock).build();

    @AfterEach
    void close() {
        granda.close();
    }

    private static FunctionSpec spec(String name) {
        return FunctionSpec.builder(name).image("granda/hello").build();
    }

    @Test
    void aFunctionBelongsToTheTenantItWasDeployedForOrTheDefaultOne() {
        DeployedFunction acme = granda.deploy("acme", spec("a"));
        DeployedFunction plain = granda.deploy(spec("p"));

        assertEquals("acme", acme.tenant());
        assertEquals(Tenant.DEFAULT, plain.tenant());
        assertEquals(List.of(acme), granda.functions("acme"));
        assertEquals(List.of(plain), granda.functions(Tenant.DEFAULT));
        assertEquals(List.of(acme, plain), granda.functions(null));
        assertThrows(InvalidFunctionSpecException.class, () -> granda.deploy("Not A Tenant", spec("x")));
        assertTrue(granda.function("x").isEmpty());
    }

    @Test
    void anotherTenantsFunctionIsMissingToEveryScopedCall() {
        DeployedFunction theirs = granda.deploy("globex", spec("theirs"));
        granda.invoke(theirs, InvocationRequest.of("x"));
        String acme = "acme";
        Instant now = clock.instant();

        assertEquals(Optional.empty(), granda.function(acme, "theirs"));
        String expected = "no function named 'theirs'";
        for (Runnable call : List.<Runnable>of(
                () -> granda.update(acme, spec("theirs").toBuilder().memoryMb(256).build(), -1),
                () -> granda.invocations(acme, "theirs", 10, null),
                () -> granda.usage(acme, "theirs", Instant.EPOCH, now.plusSeconds(1)),
                () -> granda.recentLogs(acme, "theirs"),
                () -> granda.source(acme, "theirs"),
                () -> granda.instances(acme, "theirs"),
                () -> granda.usageSeries(acme, "theirs", Instant.EPOCH, now.plusSeconds(60),
                        io.granda.core.Granularity.MINUTE),
                () -> granda.exportRecords(acme, "theirs", Instant.EPOCH, now.plusSeconds(1), r -> { }))) {
            FunctionNotFoundException e = assertThrows(FunctionNotFoundException.class, call::run);
            assertEquals(expected, e.getMessage(), "the same as for a missing function");
        }
        assertFalse(granda.delete(acme, "theirs"));

        DeployedFunction still = granda.function("theirs").orElseThrow();
        assertEquals(1, still.revision());
        assertEquals(1, granda.invocations("globex", "theirs", 10, null).items().size());
        assertEquals(2, granda.update("globex", spec("theirs"), -1).revision());
        assertEquals("globex", granda.function("theirs").orElseThrow().tenant(), "an update keeps the tenant");
        assertTrue(granda.delete(null, "theirs"), "no tenant: any tenant's, as an operator");
    }

    @Test
    void recordsCarryTheTenantOfTheFunctionTheyBill() {
        DeployedFunction acme = granda.deploy("acme", spec("a"));
        DeployedFunction globex = granda.deploy("globex", spec("g"));
        granda.invoke(acme, InvocationRequest.of("1"));
        granda.invoke(globex, InvocationRequest.of("2"));
        granda.invoke(globex, InvocationRequest.of("3"));

        List<InvocationRecord> acmes = granda.invocations("a", 10, null).items();
        assertEquals(List.of("acme"), acmes.stream().map(InvocationRecord::tenant).toList());
        assertEquals(1, granda.usageByFunction("acme", Instant.EPOCH, clock.instant().plusSeconds(60)).size());
        assertEquals(2, granda.usageByFunction("globex", Instant.EPOCH, clock.instant().plusSeconds(60))
                .getFirst().usage().calls());
    }
}
