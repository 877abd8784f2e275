package io.granda.runtimes;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A shim running on this host as a container would run it: GRANDA_SOCKET set, its output kept in files. Ready once
 * its socket accepts a connection, as Granda judges. Closing kills it and everything it started.
 */
final class ShimProcess implements AutoCloseable {

    static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final Path socket;
    private final Path stderr;

    private ShimProcess(Process process, Path socket, Path stderr) {
        this.process = process;
        this.socket = socket;
        this.stderr = stderr;
    }

    /**
     * @param command the shim's command line
     * @param dir     its working directory; the socket, stdout and stderr go to {@code dir/../run-<name>/}
     */
    static ShimProcess start(List<String> command, Path dir, Map<String, String> env) throws IOException,
            InterruptedException {
        Path run = Files.createDirectories(dir.resolveSibling(dir.getFileName() + "-run"));
        Path socket = run.resolve("fn.sock");
        Path stderr = run.resolve("stderr");
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
                .redirectOutput(run.resolve("stdout").toFile()).redirectError(stderr.toFile());
        builder.environment().putAll(env);
        builder.environment().put("GRANDA_SOCKET", socket.toString());
        ShimProcess shim = new ShimProcess(builder.start(), socket, stderr);
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (!shim.process.isAlive()) {
                throw new IllegalStateException("the shim exited with " + shim.process.exitValue() + " before it was"
                        + " ready: " + shim.stderr());
            }
            if (Files.exists(socket)) {
                try (SocketChannel probe = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                    probe.connect(UnixDomainSocketAddress.of(socket));
                    return shim;
                } catch (IOException notYet) {
                    // bound, not yet listening: Granda keeps trying too
                }
            }
            if (System.nanoTime() > deadline) {
                shim.close();
                throw new IllegalStateException("the shim was not ready within " + START_TIMEOUT + ": " + shim.stderr());
            }
            Thread.sleep(10);
        }
    }

    Path socket() {
        return socket;
    }

    HotClient connect() throws IOException {
        return HotClient.connect(socket);
    }

    /** @return what the shim wrote to stderr so far */
    String stderr() {
        try {
            return Files.exists(stderr) ? Files.readString(stderr, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            return "(stderr unreadable: " + e + ")";
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.destroyForcibly();
        try {
            process.waitFor();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
