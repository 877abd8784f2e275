package io.granda.docker;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.BuildImageResultCallback;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.HostConfig;
import io.granda.core.BackendUnavailableException;
import io.granda.core.ImageUnavailableException;
import io.granda.core.spi.Backend;
import io.granda.core.spi.ComponentHealth;
import io.granda.core.spi.RunOnceRequest;
import io.granda.core.spi.RunOnceResult;
import io.granda.core.spi.RunOnceResult.Termination;
import io.granda.testkit.RunOnceBackendContract;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The run-mode contract against a real Docker engine ({@code DOCKER_HOST}, else the default socket), plus what is
 * Docker's own: labels and limits on the container, reaping by owner, an unreachable engine, engine refusals and
 * unrunnable images. Needs the test images of {@code scripts/build-images.sh}.
 */
class DockerBackendTest extends RunOnceBackendContract {

    /** Unique per run, so that other test runs sharing the engine are never reaped by this one. */
    private static final String OWNER = "test-" + UUID.randomUUID().toString().substring(0, 8);
    private static final String SCRIPT_IMAGE = "granda-test-busybox:latest";

    private static DockerClient docker;

    @BeforeAll
    static void connect() {
        docker = TestDocker.connect(SCRIPT_IMAGE);
    }

    @AfterAll
    static void disconnect() throws IOException {
        docker.close();
    }

    @Override
    protected Backend createBackend() {
        return new DockerBackend(DockerBackendConfig.defaults(OWNER));
    }

    @Override
    protected String scriptImage() {
        return SCRIPT_IMAGE;
    }

    @Test
    void runningContainerCarriesLabelsLimitsAndNoNetwork() throws Exception {
        // Long enough to be inspected while it runs even when the engine is slow to list it (a busy CI machine).
        RunOnceRequest request = script("sleep 10; echo done").memoryMb(48).request();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Future<RunOnceResult> call = pool.submit(() -> backend().runOnce(request));

            InspectContainerResponse c;
            try {
                c = docker.inspectContainerCmd(awaitContainer(request.invocationId())).exec();
            } catch (NotFoundException e) {
                throw new AssertionError("the container was gone before it could be inspected; the call: "
                        + outcome(call), e);
            }
            Map<String, String> labels = c.getConfig().getLabels();
            // The image's own labels are merged in by the engine; ours must all be there.
            assertEquals(OWNER, labels.get(DockerBackend.LABEL_OWNER));
            assertEquals(request.functionName(), labels.get(DockerBackend.LABEL_FUNCTION));
            assertEquals(request.functionId(), labels.get(DockerBackend.LABEL_FUNCTION_ID));
            assertEquals("1", labels.get(DockerBackend.LABEL_REVISION));
            assertEquals(request.invocationId(), labels.get(DockerBackend.LABEL_INVOCATION));
            HostConfig host = c.getHostConfig();
            assertEquals("none", host.getNetworkMode());
            assertTrue(c.getConfig().getNetworkDisabled(), "no network sandbox at all");
            assertEquals(48L * 1024 * 1024, host.getMemory());
            assertEquals(48L * 1024 * 1024, host.getMemorySwap(), "no swap");
            assertTrue(List.of(c.getConfig().getEnv()).contains("SCRIPT=sleep 10; echo done"));
            HardeningAssertions.assertHardenedByDefault(c);

            RunOnceResult r = call.get(30, TimeUnit.SECONDS);
            assertExited(r, 0);
            assertEquals("done\n", stdout(r));
        }
    }

    @Test
    void aRunModeCallReportsTheCpuTimeOfItsProcessesNotItsWallTime() {
        // Busy in the shell and in a child shell: every process of the container counts.
        String loop = "i=0; while [ $i -lt 150000 ]; do i=$((i+1)); done";
        RunOnceRequest busy = script(loop + "; sh -c '" + loop + "'; echo done").request();
        RunOnceResult b = backend().runOnce(busy);
        assertExited(b, 0);
        // Generous bounds: a shell counting to 300,000 takes far more than 20 ms of CPU on any machine, and one CPU
        // (the quota) cannot give more than the run's wall time, plus the start's own few milliseconds.
        assertTrue(b.cpuMicros() > 20_000, "busy: " + b.cpuMicros() + " µs");
        assertTrue(b.cpuMicros() <= b.run().toNanos() / 1000 + 50_000, "busy: " + b.cpuMicros() + " µs in " + b.run());

        RunOnceResult idle = script("sleep 0.5; echo slept").run();
        assertExited(idle, 0);
        assertTrue(idle.cpuMicros() >= 0 && idle.cpuMicros() < 50_000,
                "half a second asleep is not CPU time: " + idle.cpuMicros() + " µs");

        RunOnceResult spinning = script("while :; do :; done").timeout(Duration.ofSeconds(1)).run();
        assertEquals(Termination.TIMED_OUT, spinning.termination());
        assertTrue(spinning.cpuMicros() > 100_000, "spun until killed: " + spinning.cpuMicros() + " µs");

        // The call's own group is gone with it, in every hierarchy.
        try (Stream<Path> hierarchies = Files.list(Path.of("/sys/fs/cgroup"))) {
            List<Path> left = hierarchies.map(h -> h.resolve("docker/granda-" + OWNER + "/" + busy.invocationId()))
                    .filter(Files::exists).toList();
            assertEquals(List.of(), left);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void withoutNetworkAFunctionStillHasLoopbackAndLocalhost() {
        // Created with networking disabled (no engine sandbox), a container must still look like network mode
        // "none" from inside: a loopback interface that works, "localhost" in /etc/hosts, and nothing else.
        RunOnceResult r = script("ls /sys/class/net; grep -w localhost /etc/hosts"
                + "; (nc -l -p 7000 > /tmp/got &) ; sleep 0.3; echo ping | nc localhost 7000; sleep 0.1"
                + "; echo \"got $(cat /tmp/got)\"; echo x >> /etc/hosts 2>/dev/null || echo hosts-read-only").run();
        assertExited(r, 0);
        assertEquals("lo\n127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\ngot ping\nhosts-read-only\n",
                stdout(r), r.stderrTail());
    }

    @Test
    void theRootFileSystemIsReadOnly() {
        RunOnceResult r = script("echo x > /x 2>&1 && echo wrote; echo x > /bin/x 2>&1 && echo wrote; echo end").run();
        assertExited(r, 0);
        assertEquals("end\n", stdout(r), r.stderrTail());
        assertTrue(r.stderrTail().contains("Read-only file system"), r.stderrTail());
    }

    @Test
    void tmpIsWritableUpToItsSize() {
        RunOnceResult r = script("echo hi > /tmp/a && cat /tmp/a"
                + "; dd if=/dev/zero of=/tmp/fits bs=1M count=32 2>/dev/null && echo fits; rm -f /tmp/fits"
                + "; if dd if=/dev/zero of=/tmp/big bs=1M count=80 2>/dev/null; then echo big; else echo full; fi")
                .memoryMb(256).run();
        assertExited(r, 0);
        assertEquals("hi\nfits\nfull\n", stdout(r), r.stderrTail());
    }

    @Test
    void tmpIsNoexec() {
        RunOnceResult r = script("cp /bin/busybox /tmp/bb && /tmp/bb true && echo ran || echo refused").run();
        assertExited(r, 0);
        assertEquals("refused\n", stdout(r), r.stderrTail());
    }

    @Test
    void theFunctionRunsAsNobodyWithNoCapabilitiesAndLimits() {
        RunOnceResult r = script("id -u; id -g; grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/self/status"
                + " | tr -s '\\t ' ' '; ulimit -n").run();
        assertExited(r, 0);
        assertEquals("65534\n65534\nCapEff: 0000000000000000\nCapBnd: 0000000000000000\nNoNewPrivs: 1\n1024\n",
                stdout(r), r.stderrTail());
    }

    @Test
    void aForkBombIsStoppedByThePidsLimit() {
        // 500 background sleeps in a subshell, which dies at the first fork refused; then count the processes left
        // with builtins only (there is no fork to spare), and kill them.
        RunOnceResult r = script("(i=0; while [ $i -lt 500 ]; do sleep 5 & i=$((i+1)); done) 2>/dev/null"
                + "; set -- /proc/[0-9]*; echo $#; kill -9 -1 2>/dev/null; true")
                .timeout(Duration.ofSeconds(20)).run();
        assertExited(r, 0);
        int processes = Integer.parseInt(stdout(r).strip());
        assertTrue(processes > 10 && processes < 200, processes + " processes started");
        assertTrue(processes <= 128, processes + " processes started, the limit is 128");
    }

    /**
     * The contract's memory hog waits before it allocates, because Docker 20.10's shim misses an OOM kill in a
     * container's first instants while the engine is busy (seen here: 3 of 12 such hogs started among other
     * containers). The backend reads the kernel's own count too (OomKillWatch), which catches most of the kills
     * the engine misses; not all: when the kernel kills the hog and removes its cgroup before the watch's first
     * read (a few milliseconds on a loaded machine), neither source knows, and the call ends as a plain kill (exit
     * 137). So of eight hogs that allocate at once, started together, every one is killed and at least six are
     * reported as out of memory; the remaining race is a documented limit.
     */
    @Test
    void memoryHogsThatAllocateAtOnceWhileOthersStartAreKilledAndMostlyReportedOutOfMemory() throws Exception {
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            List<Future<RunOnceResult>> hogs = new java.util.ArrayList<>();
            for (int i = 0; i < 8; i++) {
                hogs.add(pool.submit(() -> script("head -c 200m /dev/zero | tail").memoryMb(16).run()));
            }
            int outOfMemory = 0;
            List<String> others = new java.util.ArrayList<>();
            for (Future<RunOnceResult> hog : hogs) {
                RunOnceResult r = hog.get(60, TimeUnit.SECONDS);
                assertEquals(137, r.exitCode(), "killed: " + r.stderrTail());
                if (r.termination() == Termination.OUT_OF_MEMORY) {
                    outOfMemory++;
                } else {
                    others.add(r.termination() + " exit " + r.exitCode());
                }
            }
            assertTrue(outOfMemory >= 6, outOfMemory + " of 8 reported out of memory; others: " + others);
        }
    }

    @Test
    void aProcessKillingItselfIsNotOutOfMemory() {
        // A shell of its own: PID 1 of a container ignores the SIGKILL it sends itself.
        RunOnceResult r = script("sh -c 'kill -9 $$'").memoryMb(16).run();
        assertExited(r, 137);
    }

    @Test
    void thereIsNoNetwork() {
        RunOnceResult r = script("if nc -w 2 1.1.1.1 80 </dev/null; then echo connected; else echo refused; fi"
                + "; if nc -w 2 127.0.0.1 80 </dev/null; then echo connected; else echo refused; fi"
                + "; ls /sys/class/net").run();
        assertExited(r, 0);
        assertEquals("refused\nrefused\nlo\n", stdout(r), r.stderrTail());
    }

    @Test
    void hardeningCanBeTurnedOffForImagesThatNeedRoot() throws Exception {
        DockerBackendConfig config = DockerBackendConfig.defaults(OWNER)
                .withHardening(DockerBackendConfig.Hardening.DEFAULTS.withUser("").withReadOnlyRootfs(false));
        try (Backend b = new DockerBackend(config)) {
            RunOnceResult r = b.runOnce(script("id -u; echo x > /x && cat /x").request());
            assertExited(r, 0);
            assertEquals("0\nx\n", stdout(r));
        }
    }

    @Test
    void reapRemovesEveryContainerOfItsOwnerAndNoOneElses() {
        String otherOwner = "test-other-" + UUID.randomUUID().toString().substring(0, 8);
        String created = createLabelled(OWNER, "sleep 300");
        String running = createLabelled(OWNER, "sleep 300");
        docker.startContainerCmd(running).exec();
        String exited = createLabelled(OWNER, "true");
        docker.startContainerCmd(exited).exec();
        docker.waitContainerCmd(exited).start().awaitStatusCode(30, TimeUnit.SECONDS);
        String others = createLabelled(otherOwner, "sleep 300");
        docker.startContainerCmd(others).exec();
        try {
            assertEquals(3, backend().reapLeftovers());

            for (String id : List.of(created, running, exited)) {
                assertThrows(NotFoundException.class, () -> docker.inspectContainerCmd(id).exec(), id);
            }
            assertTrue(docker.inspectContainerCmd(others).exec().getState().getRunning(),
                    "another owner's container was touched");
            assertEquals(0, backend().reapLeftovers());
        } finally {
            docker.removeContainerCmd(others).withForce(true).exec();
        }
    }

    @Test
    void unreachableEngineIsDownAndEveryCallIsAPlatformError() {
        DockerBackend down = new DockerBackend(DockerBackendConfig.defaults(OWNER)
                .withDockerHost("unix:///nonexistent.sock"));
        try {
            ComponentHealth health = down.health();
            assertFalse(health.up());
            assertTrue(health.detail().contains("unix:///nonexistent.sock"), health.detail());

            RunOnceRequest request = script("echo never").request();
            BackendUnavailableException run = assertThrows(BackendUnavailableException.class,
                    () -> down.runOnce(request));
            assertTrue(run.getMessage().contains("unix:///nonexistent.sock"), run.getMessage());
            assertThrows(BackendUnavailableException.class, () -> down.prepare(SCRIPT_IMAGE));
            assertThrows(BackendUnavailableException.class, down::reapLeftovers);
        } finally {
            down.close();
        }
    }

    @Test
    void unpullableImageMessageNamesTheImageAndTheCause() {
        ImageUnavailableException e = assertThrows(ImageUnavailableException.class,
                () -> backend().prepare(UNPULLABLE_IMAGE));

        String message = e.getMessage();
        assertTrue(message.startsWith("image '" + UNPULLABLE_IMAGE + "' is not present and could not be pulled: "),
                message);
        assertTrue(message.length() > ("image '" + UNPULLABLE_IMAGE + "' is not present and could not be pulled: ")
                .length() + 5, "no cause in: " + message);
    }

    @Test
    void createRefusedByTheEngineIsAPlatformErrorAndLeavesNothing() {
        // Docker refuses memory limits under 6 MiB at create time.
        RunOnceRequest request = script("echo never").memoryMb(1).request();

        BackendUnavailableException e = assertThrows(BackendUnavailableException.class,
                () -> backend().runOnce(request));
        assertTrue(e.getMessage().contains("HTTP 400"), e.getMessage());
        assertEquals(0, backend().reapLeftovers());
    }

    @Test
    void imageWhoseEntrypointIsMissingExitsWith127AndTheReason() throws Exception {
        String image = "granda-test-broken-entrypoint:" + UUID.randomUUID().toString().substring(0, 8);
        Path context = Files.createTempDirectory("granda-broken-image");
        try {
            Files.writeString(context.resolve("Dockerfile"),
                    "FROM " + SCRIPT_IMAGE + "\nENTRYPOINT [\"/no/such/binary\"]\n");
            docker.buildImageCmd(context.toFile()).withTags(Set.of(image)).withPull(false)
                    .exec(new BuildImageResultCallback()).awaitImageId(60, TimeUnit.SECONDS);

            RunOnceRequest request = new RunOnceRequest("inv-" + UUID.randomUUID(), "fn-id", "broken", 1, image,
                    Map.of(), 64, Duration.ofSeconds(20), "payload".getBytes(), 1024, 4096);
            RunOnceResult r = backend().runOnce(request);

            assertEquals(Termination.EXITED, r.termination());
            assertEquals(127, r.exitCode());
            assertTrue(r.stderrTail().contains("/no/such/binary"), r.stderrTail());
            assertEquals(0, backend().reapLeftovers());
        } finally {
            try {
                docker.removeImageCmd(image).withForce(true).exec();
            } catch (NotFoundException ignored) {
                // The build failed before tagging.
            }
            try (Stream<Path> files = Files.walk(context)) {
                files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    @Test
    void aPayloadTooLongForOneArgumentComesOnStdinOnly() {
        // Linux caps one argument at 128 KiB: such a payload is not passed as $1 (the process could not start),
        // and stdin still carries all of it.
        String big = "p".repeat(200 * 1024);
        RunOnceResult r = script("echo \"args=$#\"; wc -c").payload(big).run();

        assertExited(r, 0);
        assertEquals("args=0\n" + big.length() + "\n", stdout(r).replace(" ", ""));
    }

    @Test
    void aPayloadWithANulByteComesOnStdinOnly() {
        byte[] binary = {'a', 0, 'b'};
        RunOnceResult r = script("echo \"args=$#\"; wc -c").payload(binary).run();

        assertExited(r, 0);
        assertEquals("args=0\n3\n", stdout(r).replace(" ", ""));
    }

    @Test
    void aPayloadJustUnderTheArgumentLimitIsStillTheLastArgument() {
        String fits = "q".repeat(DockerBackend.MAX_ARGUMENT_BYTES - 1);
        RunOnceResult r = script("echo \"args=$# len=${#1}\"").payload(fits).run();

        assertExited(r, 0);
        assertEquals("args=1 len=" + fits.length() + "\n", stdout(r));
    }

    @Test
    void aClosedBackendRefusesCalls() {
        backend().close();

        assertThrows(BackendUnavailableException.class, () -> script("true").run());
        assertFalse(backend().health().up());
    }

    @Test
    void providerIsFoundByNameAndAppliesItsSettings() {
        var provider = java.util.ServiceLoader.load(io.granda.core.spi.BackendProvider.class).stream()
                .map(java.util.ServiceLoader.Provider::get)
                .filter(p -> p.name().equals("docker"))
                .findFirst()
                .orElseThrow();
        try (Backend b = provider.create(OWNER, Map.of(DockerBackendProvider.HOST,
                DockerBackendConfig.defaultDockerHost(), DockerBackendProvider.TEARDOWN_TIMEOUT, "3s"))) {
            assertEquals("docker", b.name());
            assertEquals(Duration.ofSeconds(3), ((DockerBackend) b).config().teardownTimeout());
            assertTrue(b.health().up(), b.health().detail());
        }
    }

    @Test
    void startFailuresOfTheFunctionsOwnExecutableMapLikeDockerRun() {
        assertEquals(127, DockerBackend.unrunnableExitCode("failed to create shim task: OCI runtime create failed:"
                + " runc create failed: unable to start container process: exec: \"/x\": stat /x: no such file or"
                + " directory: unknown"));
        assertEquals(127, DockerBackend.unrunnableExitCode("exec: \"foo\": executable file not found in $PATH"));
        assertEquals(126, DockerBackend.unrunnableExitCode("exec: \"/etc\": permission denied"));
        assertEquals(-1, DockerBackend.unrunnableExitCode("cgroups: cannot find cgroup mount destination"));
    }

    /** Polls for the container of a call: it exists only while the call runs. */
    /** What a call ended with, for a failure message: its result, or what it threw. */
    private static String outcome(Future<RunOnceResult> call) {
        try {
            return String.valueOf(call.get(30, TimeUnit.SECONDS));
        } catch (Exception e) {
            return "failed: " + e;
        }
    }

    private static String awaitContainer(String invocationId) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (System.nanoTime() < deadline) {
            List<Container> found = docker.listContainersCmd().withShowAll(true)
                    .withLabelFilter(Map.of(DockerBackend.LABEL_INVOCATION, invocationId)).exec();
            if (!found.isEmpty()) {
                return found.getFirst().getId();
            }
            Thread.sleep(20);
        }
        throw new AssertionError("no container appeared for invocation " + invocationId);
    }

    private static String createLabelled(String owner, String script) {
        return docker.createContainerCmd(SCRIPT_IMAGE)
                .withLabels(Map.of(DockerBackend.LABEL_OWNER, owner))
                .withEnv("SCRIPT=" + script)
                .withHostConfig(HostConfig.newHostConfig().withNetworkMode("none"))
                .exec()
                .getId();
    }
}
