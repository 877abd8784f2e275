package io.granda.server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The docker CLI, for tests that look at the engine independently of Granda's own Docker code.
 */
final class Docker {

    private Docker() {
    }

    static String run(String... args) {
        List<String> cmd = new ArrayList<>();
        cmd.add("docker");
        cmd.addAll(List.of(args));
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new IllegalStateException("cannot run docker", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** @return ids of every container, in any state, labelled with this owner id */
    static List<String> containersOf(String ownerId) {
        String out = run("ps", "-aq", "--filter", "label=io.granda.owner=" + ownerId);
        return out.isEmpty() ? List.of() : List.of(out.split("\\s+"));
    }
}
