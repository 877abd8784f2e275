package io.granda.testkit.facade;

import io.granda.core.BackendUnavailableException;
import io.granda.core.DeployedFunction;
import io.granda.core.ExecutionMode;
import io.granda.core.FunctionAlreadyExistsException;
import io.granda.core.FunctionNotFoundException;
import io.granda.core.FunctionSpec;
import io.granda.core.Granda;
import io.granda.core.ImageUnavailableException;
import io.granda.core.InvalidFunctionSpecException;
import io.granda.core.RevisionConflictException;
import io.granda.testkit.FakeBackend;
import io.granda.testkit.FakeClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Deploying, listing, updating and deleting functions through the facade, as an embedding application does. */
class GrandaDeployTest {

    private final FakeClock clock = new FakeClock();
    private final FakeBackend backend = new FakeBackend();
    private final Granda granda = Granda.builder().backend(backend).clock(clock).build();

    @AfterEach
    void close() {
        granda.close();
    }

    private static FunctionSpec hello() {
        return FunctionSpec.builder("hello").image("granda/hello").build();
    }

    @Test
    void deployRegistersRevisionOneWithARoute() {
        DeployedFunction f = granda.deploy(hello().toBuilder().description("greets").memoryMb(256)
                .env(Map.of("GREETING", "hi")).build());

        assertEquals("hello", f.name());
        assertEquals(1, f.revision());
        assertTrue(f.routeId().startsWith("hello-"), f.routeId());
        assertEquals(clock.instant(), f.createdAt());
        assertEquals(clock.instant(), f.updatedAt());
        assertEquals(256, f.spec().memoryMb());
        assertEquals(1, backend.prepareCalls());
        assertEquals(f, granda.function("hello").orElseThrow());
        assertEquals(f, granda.functionByRoute(f.routeId()).orElseThrow());
        assertEquals(List.of(f), granda.functions());
    }

    @Test
    void anInvalidSpecIsRefusedBeforeTheBackendIsTouched() {
        List<FunctionSpec> invalid = List.of(
                hello().toBuilder().name("Hello").build(),
                hello().toBuilder().image("granda/Hello").build(),
                hello().toBuilder().image("").build(),
                hello().toBuilder().timeout(Duration.ZERO).build(),
                hello().toBuilder().memoryMb(1).build(),
                hello().toBuilder().env(Map.of("GRANDA_OWNER", "me")).build());
        for (FunctionSpec spec : invalid) {
            assertThrows(InvalidFunctionSpecException.class, () -> granda.deploy(spec), spec.toString());
        }
        assertEquals(0, backend.prepareCalls());
        assertEquals(0, backend.runCalls());
        assertTrue(granda.functions().isEmpty());
        assertTrue(granda.function("hello").isEmpty());
    }

    @Test
    void theRefusalNamesTheField() {
        InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class,
                () -> granda.deploy(hello().toBuilder().memoryMb(1_000_000).build()));
        assertEquals("memoryMb", e.field());
        assertEquals("invalid_request", e.code());
    }

    @Test
    void aModeTheBackendCannotServeIsRefusedBeforeThePull() {
        InvalidFunctionSpecException e = assertThrows(InvalidFunctionSpecException.class,
                () -> granda.deploy(hello().toBuilder().mode(ExecutionMode.HOT).build()));
        assertEquals("mode", e.field());
        assertEquals(0, backend.prepareCalls());
        assertTrue(granda.functions().isEmpty());
    }

    @Test
    void aDuplicateNameIsRefusedWithoutPullingAgain() {
        DeployedFunction first = granda.deploy(hello());
        FunctionAlreadyExistsException e = assertThrows(FunctionAlreadyExistsException.class,
                () -> granda.deploy(hello().toBuilder().image("granda/other").build()));
        assertEquals("function_exists", e.code());
        assertEquals(1, backend.prepareCalls());
        assertEquals(List.of(first), granda.functions());
    }

    @Test
    void anUnpullableImageRegistersNothing() {
        backend.withMissingImage("granda/nope");
        ImageUnavailableException e = assertThrows(ImageUnavailableException.class,
                () -> granda.deploy(hello().toBuilder().image("granda/nope").build()));
        assertTrue(e.getMessage().contains("granda/nope"), e.getMessage());
        assertEquals("image_unavailable", e.code());
        assertTrue(granda.functions().isEmpty());
        assertTrue(granda.function("hello").isEmpty());
        // The name is still free.
        granda.deploy(hello());
    }

    @Test
    void aDownBackendRegistersNothing() {
        backend.setDown(true);
        assertThrows(BackendUnavailableException.class, () -> granda.deploy(hello()));
        assertTrue(granda.functions().isEmpty());
        assertFalse(granda.backendHealth().up());
    }

    @Test
    void functionsAreListedByName() {
        for (String name : List.of("zeta", "alpha", "mid")) {
            granda.deploy(FunctionSpec.builder(name).image("granda/hello").build());
        }
        assertEquals(List.of("alpha", "mid", "zeta"), granda.functions().stream().map(DeployedFunction::name).toList());
    }

    @Test
    void updateMakesANewRevisionOnTheSameRoute() {
        DeployedFunction v1 = granda.deploy(hello());
        clock.advance(Duration.ofMinutes(5));
        DeployedFunction v2 = granda.update(hello().toBuilder().image("granda/hello:v2").memoryMb(512).build());

        assertEquals(2, v2.revision());
        assertEquals(v1.id(), v2.id());
        assertEquals(v1.routeId(), v2.routeId());
        assertEquals(v1.createdAt(), v2.createdAt());
        assertEquals(v1.createdAt().plus(Duration.ofMinutes(5)), v2.updatedAt());
        assertEquals("granda/hello:v2", granda.function("hello").orElseThrow().spec().image());
        assertEquals(v2, granda.functionByRoute(v1.routeId()).orElseThrow());
        assertEquals(2, backend.prepareCalls(), "the new image is prepared");
    }

    @Test
    void updateWithAStaleRevisionIsRefused() {
        granda.deploy(hello());
        granda.update(hello().toBuilder().description("v2").build(), 1);
        RevisionConflictException e = assertThrows(RevisionConflictException.class,
                () -> granda.update(hello().toBuilder().description("lost").build(), 1));
        assertEquals("v2", granda.function("hello").orElseThrow().spec().description());
        assertFalse(e.code().isBlank());
    }

    @Test
    void anInvalidUpdateChangesNothingAndPullsNothing() {
        granda.deploy(hello());
        assertThrows(InvalidFunctionSpecException.class,
                () -> granda.update(hello().toBuilder().timeout(Duration.ofDays(1)).build()));
        assertEquals(1, backend.prepareCalls());
        assertEquals(1, granda.function("hello").orElseThrow().revision());
    }

    @Test
    void anUpdateToAnUnpullableImageChangesNothing() {
        granda.deploy(hello());
        backend.withMissingImage("granda/gone");
        assertThrows(ImageUnavailableException.class,
                () -> granda.update(hello().toBuilder().image("granda/gone").build()));
        DeployedFunction current = granda.function("hello").orElseThrow();
        assertEquals(1, current.revision());
        assertEquals("granda/hello", current.spec().image());
    }

    @Test
    void updatingAnUnknownFunctionFails() {
        FunctionNotFoundException e = assertThrows(FunctionNotFoundException.class, () -> granda.update(hello()));
        assertEquals("function_not_found", e.code());
        assertThrows(FunctionNotFoundException.class, () -> granda.update(hello(), 1));
        assertEquals(0, backend.prepareCalls());
    }

    @Test
    void deleteRemovesTheFunctionAndItsRoute() {
        DeployedFunction f = granda.deploy(hello());
        assertTrue(granda.delete("hello"));
        assertTrue(granda.function("hello").isEmpty());
        assertTrue(granda.functionByRoute(f.routeId()).isEmpty());
        assertTrue(granda.functions().isEmpty());
        assertFalse(granda.delete("hello"), "deleting twice reports there was nothing");
    }

    @Test
    void aFunctionDeployedAgainAfterDeleteIsANewFunction() {
        DeployedFunction before = granda.deploy(hello());
        granda.delete("hello");
        clock.set(Instant.parse("2026-02-01T00:00:00Z"));
        DeployedFunction after = granda.deploy(hello());
        assertEquals(1, after.revision());
        assertNotEquals(before.id(), after.id());
        assertNotEquals(before.routeId(), after.routeId());
        assertTrue(granda.functionByRoute(before.routeId()).isEmpty(), "the old URL stays dead");
    }
}
