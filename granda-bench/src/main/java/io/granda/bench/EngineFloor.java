package io.granda.bench;

import com.github.dockerjava.api.command.CreateContainerCmd;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Mount;
import com.github.dockerjava.api.model.MountType;
import com.github.dockerjava.api.model.Volume;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The floor under a Granda cold start: what the container engine itself takes to create and start a hot instance and
 * have it answer one request, measured with docker-java and the settings Granda's Docker backend uses (a fresh
 * directory bind-mounted at {@code /granda}, {@code GRANDA_SOCKET=/granda/fn.sock} and the other {@code GRANDA_*}
 * variables, six labels, network mode {@code none} with networking disabled and a read-only {@code /etc/hosts} of
 * loopback names bind-mounted, a memory limit without swap, no stdin, no TTY).
 *
 * <p>The timed part is create, start, waiting until the socket accepts a connection (looking every
 * {@value #POLL_MICROS} µs, finer than Granda's 500 µs) and one request/reply on that connection. Making the
 * directory before and removing the container after are not timed. Not thread-safe.
 */
public final class EngineFloor implements AutoCloseable {

    /** How long to sleep between two looks at the socket. */
    static final long POLL_MICROS = 100;

    private final DockerEngine engine;
    private final Path workDirectory;
    private final String ownerId;
    private final String image;
    private final int memoryMb;
    private final byte[] payload;
    private final List<String> leftToRemove = new ArrayList<>();
    private int sequence;

    /**
     * @param engine        the engine
     * @param workDirectory where the instances' directories are made (short: the socket path must fit 107 bytes)
     * @param ownerId       the owner label of the containers made, so that {@link #close()} finds them all
     * @param image         the hot image
     * @param memoryMb      the memory limit, as a function's {@code memoryMb}
     * @param payload       the request body; the answer must echo it
     */
    public EngineFloor(DockerEngine engine, Path workDirectory, String ownerId, String image, int memoryMb,
                       byte[] payload) {
        this.engine = engine;
        this.workDirectory = workDirectory;
        this.ownerId = ownerId;
        this.image = image;
        this.memoryMb = memoryMb;
        this.payload = payload.clone();
    }

    /**
     * Creates and starts one instance and has it answer one request. The container stays until
     * {@link #removeStarted()}.
     *
     * @return the time from before create to the end of the reply, in nanoseconds
     * @throws IllegalStateException when the instance did not become ready within 10 s or answered wrongly
     */
    public long startAndCall() {
        String instanceId = "floor" + (++sequence);
        Path dir = workDirectory.resolve(instanceId);
        try {
            Files.createDirectories(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));
            writeHostsFile();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        Path socket = dir.resolve("fn.sock");
        CreateContainerCmd cmd = create(instanceId, dir);

        long t0 = System.nanoTime();
        String id = cmd.exec().getId();
        leftToRemove.add(id);
        engine.client().startContainerCmd(id).exec();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        MiniHttpClient client = MiniHttpClient.unix(socket).request("POST", "/", "granda", payload);
        try {
            while (true) {
                if (Files.exists(socket, LinkOption.NOFOLLOW_LINKS)) {
                    try {
                        client.connect();
                        break;
                    } catch (IOException refused) {
                        // Bound but not listening yet: look again.
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("engine floor: " + socket + " did not accept within 10 s");
                }
                LockSupport.parkNanos(POLL_MICROS * 1000);
            }
            int status = client.call();
            long took = System.nanoTime() - t0;
            if (status != 200 || !client.bodyEquals(payload)) {
                throw new IllegalStateException("engine floor: answer " + status + " '" + client.body() + "'");
            }
            return took;
        } catch (IOException e) {
            throw new UncheckedIOException("engine floor: the request failed", e);
        } finally {
            client.close();
        }
    }

    private CreateContainerCmd create(String instanceId, Path dir) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put(DockerEngine.LABEL_OWNER, ownerId);
        labels.put(DockerEngine.LABEL_FUNCTION, "floor");
        labels.put("io.granda.function-id", "floor");
        labels.put("io.granda.revision", "1");
        labels.put("io.granda.instance", instanceId);
        labels.put("io.granda.mode", "hot");
        long memory = memoryMb * 1024L * 1024L;
        return engine.client().createContainerCmd(image)
                .withLabels(labels)
                .withEnv(List.of("GRANDA_SOCKET=/granda/fn.sock", "GRANDA_FUNCTION=floor", "GRANDA_REVISION=1",
                        "GRANDA_INSTANCE=" + instanceId))
                .withTty(false)
                .withStdinOpen(false)
                .withAttachStdin(false)
                .withHostConfig(HostConfig.newHostConfig()
                        .withMemory(memory)
                        .withMemorySwap(memory)
                        .withNetworkMode("none")
                        .withBinds(new Bind(dir.toString(), new Volume("/granda")))
                        .withMounts(List.of(new Mount().withType(MountType.BIND).withSource(hostsFile().toString())
                                .withTarget("/etc/hosts").withReadOnly(true))))
                // As Granda's backend: no network sandbox from the engine for a function without network.
                .withNetworkDisabled(true);
    }

    /** The hosts file every floor container mounts, as Granda's backend gives its containers without network. */
    private Path hostsFile() {
        return workDirectory.resolve("hosts");
    }

    /** Writes the hosts file when missing; before the timed part, as Granda writes its own once. */
    private void writeHostsFile() throws IOException {
        Path hosts = hostsFile();
        if (!Files.exists(hosts, LinkOption.NOFOLLOW_LINKS)) {
            Files.writeString(hosts, "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
            Files.setPosixFilePermissions(hosts, PosixFilePermissions.fromString("rw-r--r--"));
        }
    }

    /** Removes the containers started so far (not timed), and their directories. */
    public void removeStarted() {
        for (String id : leftToRemove) {
            engine.remove(id);
        }
        leftToRemove.clear();
        ScratchDirectory.deleteQuietly(workDirectory);
    }

    /** Removes every container of this floor's owner, whatever happened. */
    @Override
    public void close() {
        removeStarted();
        engine.removeAll(Map.of(DockerEngine.LABEL_OWNER, ownerId));
    }
}
