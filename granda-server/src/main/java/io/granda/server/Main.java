package io.granda.server;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.bridge.SLF4JBridgeHandler;

import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Runs the standalone server until SIGTERM or SIGINT, then shuts down cleanly: calls under way finish (or time
 * out), their records are stored, every container is removed.
 */
public final class Main {

    private Main() {
    }

    public static void main(String[] args) throws InterruptedException {
        if (List.of(args).contains("--help") || List.of(args).contains("-h")) {
            System.out.print(ServerConfig.help());
            return;
        }
        // Helidon logs through java.util.logging; route it to the same slf4j output.
        SLF4JBridgeHandler.removeHandlersForRootLogger();
        SLF4JBridgeHandler.install();
        Logger log = LoggerFactory.getLogger(Main.class);
        ServerConfig config;
        try {
            config = ServerConfig.from(args, System.getenv());
        } catch (ServerConfig.InvalidConfigException e) {
            System.err.println("granda: " + e.getMessage());
            System.exit(2);
            return;
        }
        GrandaServer server;
        try {
            server = GrandaServer.start(config);
        } catch (RuntimeException e) {
            log.atError().setCause(e).log("Granda could not start: " + e.getMessage());
            System.exit(1);
            return;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(Thread.ofPlatform().name("granda-shutdown").unstarted(() -> {
            log.info("shutting down");
            server.close();
            stopped.countDown();
            // Calls are logged through an asynchronous appender: stopping logging last writes out every queued line.
            if (LoggerFactory.getILoggerFactory() instanceof ch.qos.logback.classic.LoggerContext context) {
                context.stop();
            }
        }));
        stopped.await();
    }
}
