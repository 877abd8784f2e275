package io.granda.runtimes;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Picks the lines that say why a build failed out of its log: the compiler's or interpreter's own message, found by
 * each runtime's {@link Picker}, or else the log's last lines. Logs of both Docker builders are understood: the classic
 * builder wraps a step's stderr in colour codes, which are taken off, and BuildKit's plain progress prefixes every
 * line of a step's output with {@code #<step> <seconds> }, which is taken off too.
 * Stateless and thread-safe.
 */
final class BuildLogSummary {

    /** Most lines a summary has. */
    static final int MAX_LINES = 20;
    /** How many of the log's last lines a summary falls back to. */
    static final int TAIL_LINES = 10;
    /** Longest line kept; longer ones are cut. */
    static final int MAX_LINE_CHARS = 400;

    /** BuildKit's prefix of a step's output; its own lines ({@code #7 ERROR: ...}, {@code #7 DONE}) keep theirs. */
    private static final Pattern BUILDKIT_PREFIX = Pattern.compile("^#\\d+ \\d+\\.\\d+ ");
    /** Colours: the classic builder wraps a step's stderr in them, even in pieces of a line. */
    private static final Pattern ANSI_ESCAPE = Pattern.compile("\u001b\\[[0-9;]*[A-Za-z]");
    /** Lines of the builder's and Granda's own that say nothing about the function. */
    private static final Pattern NOISE = Pattern.compile(
            "^( ---> |Removing intermediate container|Step \\d+/\\d+ : |granda: |Sending build context"
                    + "|#\\d+ (DONE \\d|CACHED|\\[internal]|transferring )|DEPRECATED: The legacy builder"
                    + "|\\s+BuildKit is|\\s+environment-variable)");

    private BuildLogSummary() {
    }

    /** Finds the error messages a runtime looks for in a log's lines: groups of lines, one message each. */
    @FunctionalInterface
    interface Picker {
        List<List<String>> pick(List<String> lines);
    }

    /**
     * @param log    the whole build log
     * @param picker finds the error messages in the log's lines
     * @return the messages found (each once, at most {@link #MAX_LINES} lines), or else the log's last non-empty lines
     */
    static String summarize(String log, Picker picker) {
        List<String> lines = lines(log);
        Set<List<String>> groups = new LinkedHashSet<>(picker.pick(lines)); // a message a builder repeats, once
        List<String> out = new ArrayList<>();
        for (List<String> group : groups) {
            for (String line : group) {
                if (out.size() < MAX_LINES) {
                    out.add(cut(line));
                }
            }
        }
        if (out.isEmpty()) {
            List<String> meaningful = lines.stream().filter(l -> !l.isBlank() && !NOISE.matcher(l).find()).toList();
            meaningful.subList(Math.max(0, meaningful.size() - TAIL_LINES), meaningful.size())
                    .forEach(l -> out.add(cut(l)));
        }
        return String.join("\n", out);
    }

    /** The log's lines, without colours, BuildKit's prefixes, carriage returns and trailing blanks. */
    static List<String> lines(String log) {
        List<String> out = new ArrayList<>();
        String plain = ANSI_ESCAPE.matcher(log == null ? "" : log).replaceAll("");
        for (String line : plain.split("\\r?\\n|\\r")) {
            out.add(BUILDKIT_PREFIX.matcher(line).replaceFirst("").stripTrailing());
        }
        return out;
    }

    /**
     * A picker that takes every line matching a pattern, each as a message of its own, together with the
     * {@code following} lines after it (e.g. javac's source line and caret).
     */
    static Picker matching(Pattern pattern, int following) {
        return lines -> {
            List<List<String>> groups = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                if (pattern.matcher(lines.get(i)).find()) {
                    int end = Math.min(lines.size(), i + 1 + following);
                    groups.add(List.copyOf(lines.subList(i, end)));
                    i = end - 1;
                }
            }
            return groups;
        };
    }

    /**
     * A picker that takes blocks from a line matching {@code start} to the first line matching {@code end}, both
     * included (at most {@code maxLength} lines; a block that does not end in time is dropped).
     */
    static Picker blocks(Pattern start, Pattern end, int maxLength) {
        return lines -> {
            List<List<String>> groups = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                if (!start.matcher(lines.get(i)).find()) {
                    continue;
                }
                for (int j = i; j < Math.min(lines.size(), i + maxLength); j++) {
                    if (end.matcher(lines.get(j)).find()) {
                        groups.add(List.copyOf(lines.subList(i, j + 1)).stream()
                                .filter(l -> !l.isBlank()).toList());
                        i = j;
                        break;
                    }
                }
            }
            return groups;
        };
    }

    /** A picker that takes what each of the pickers takes, in log order of the pickers' first lines. */
    static Picker all(Picker... pickers) {
        return lines -> {
            List<List<String>> groups = new ArrayList<>();
            for (Picker p : pickers) {
                groups.addAll(p.pick(lines));
            }
            groups.sort((a, b) -> Integer.compare(firstIndex(lines, a), firstIndex(lines, b)));
            return groups;
        };
    }

    private static int firstIndex(List<String> lines, List<String> group) {
        return group.isEmpty() ? Integer.MAX_VALUE : lines.indexOf(group.getFirst());
    }

    private static String cut(String line) {
        return line.length() <= MAX_LINE_CHARS ? line : line.substring(0, MAX_LINE_CHARS) + "...";
    }
}
