package io.granda.runtimes;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Java shim tests on Java 17, the JDK of Debian 12's base image; skipped where no JDK 17 is installed under
 * /usr/lib/jvm.
 */
class Java17ShimTest extends JavaShimTest {

    static final Path JDK17 = Path.of("/usr/lib/jvm/java-17-openjdk-amd64");

    @Override
    Path javaHome() {
        assumeTrue(Files.isExecutable(JDK17.resolve("bin/javac")), "no JDK 17 at " + JDK17);
        return JDK17;
    }
}
