package io.granda.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * What a benchmark ran on, for the heading of its results: CPUs, memory, kernel, distribution, Java, load. Read from
 * {@code /proc} and {@code /etc/os-release}; a value that cannot be read is "?". Stateless.
 */
final class Machine {

    private Machine() {
    }

    /** @return e.g. {@code 2 CPUs (Intel Xeon ...), 23.5 GiB memory} */
    static String hardware() {
        String model = firstValue(Path.of("/proc/cpuinfo"), "model name");
        return Runtime.getRuntime().availableProcessors() + " CPUs" + (model.equals("?") ? "" : " (" + model + ")")
                + ", " + memory() + " memory";
    }

    /** @return e.g. {@code Debian GNU/Linux 12 (bookworm), Linux 6.1.0-18-amd64} */
    static String system() {
        String distro = firstValue(Path.of("/etc/os-release"), "PRETTY_NAME").replace("\"", "");
        return distro + ", " + System.getProperty("os.name") + " " + read(Path.of("/proc/sys/kernel/osrelease"));
    }

    /** @return e.g. {@code Java 25+36-LTS (Eclipse Adoptium OpenJDK 64-Bit Server VM)} */
    static String java() {
        return "Java " + Runtime.version() + " (" + System.getProperty("java.vm.vendor", "?") + " "
                + System.getProperty("java.vm.name", "?") + ")";
    }

    /** @return the 1, 5 and 15 minute load averages, e.g. {@code 0.52 0.80 1.10} */
    static String loadAverage() {
        String[] parts = read(Path.of("/proc/loadavg")).split("\\s+");
        return parts.length >= 3 ? parts[0] + " " + parts[1] + " " + parts[2] : "?";
    }

    private static String memory() {
        String kb = firstValue(Path.of("/proc/meminfo"), "MemTotal").replace("kB", "").strip();
        try {
            return String.format(Locale.ROOT, "%.1f GiB", Long.parseLong(kb) / 1024.0 / 1024.0);
        } catch (NumberFormatException e) {
            return "?";
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file).strip();
        } catch (IOException | RuntimeException e) {
            return "?";
        }
    }

    /** @return the value of the first {@code key: value} or {@code key=value} line */
    private static String firstValue(Path file, String key) {
        try {
            List<String> lines = Files.readAllLines(file);
            for (String line : lines) {
                int sep = line.indexOf(':') >= 0 && !file.toString().endsWith("os-release") ? line.indexOf(':')
                        : line.indexOf('=');
                if (sep > 0 && line.substring(0, sep).strip().equals(key)) {
                    return line.substring(sep + 1).strip();
                }
            }
        } catch (IOException | RuntimeException e) {
            // Not Linux, or not readable.
        }
        return "?";
    }
}
