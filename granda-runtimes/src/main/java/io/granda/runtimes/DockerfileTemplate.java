package io.granda.runtimes;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A runtime's Dockerfile with two additions, rendered per build: {@code {{role}}} stands for the base image chosen
 * for that role, and lines between {@code #if <path>} (or {@code #if !<path>}), an optional {@code #else} and
 * {@code #end} are kept only when the function's source has (or lacks) that file; a path ending in {@code /} asks for
 * any file under that directory. The directive lines themselves are dropped; to Docker they would be comments anyway.
 * Immutable and thread-safe.
 */
final class DockerfileTemplate {

    private static final Pattern PLACEHOLDER = Pattern.compile("\\{\\{([a-z]+)}}");
    private static final Pattern IF = Pattern.compile("#if (!?)(\\S+)\\s*");

    private final String name;
    private final String text;

    /**
     * @param name what the template is, for error messages (its resource path)
     * @param text the template
     */
    DockerfileTemplate(String name, String text) {
        this.name = name;
        this.text = text;
    }

    /**
     * @param images the image for each role named by a placeholder
     * @param has    whether the source has a path (a file, or a directory when it ends in '/')
     * @return the Dockerfile
     * @throws IllegalStateException when the template is malformed or names a role with no image: a bug of the
     *                               runtime, not of the function
     */
    String render(Map<String, String> images, Predicate<String> has) {
        StringBuilder out = new StringBuilder(text.length());
        Deque<Boolean> keeping = new ArrayDeque<>(); // per open #if: whether its current branch is kept
        int lineNumber = 0;
        for (String line : text.split("\n", -1)) {
            lineNumber++;
            Matcher condition = IF.matcher(line);
            if (condition.matches()) {
                boolean holds = has.test(condition.group(2)) != condition.group(1).equals("!");
                keeping.push(holds);
                continue;
            }
            if (line.strip().equals("#else") || line.strip().equals("#end")) {
                if (keeping.isEmpty()) {
                    throw new IllegalStateException(name + ":" + lineNumber + ": " + line.strip() + " without #if");
                }
                boolean branch = keeping.pop();
                if (line.strip().equals("#else")) {
                    keeping.push(!branch);
                }
                continue;
            }
            if (keeping.contains(Boolean.FALSE)) {
                continue;
            }
            out.append(substitute(line, images, lineNumber)).append('\n');
        }
        if (!keeping.isEmpty()) {
            throw new IllegalStateException(name + ": an #if has no #end");
        }
        return out.toString().stripTrailing() + "\n";
    }

    private String substitute(String line, Map<String, String> images, int lineNumber) {
        Matcher m = PLACEHOLDER.matcher(line);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String image = images.get(m.group(1));
            if (image == null) {
                throw new IllegalStateException(name + ":" + lineNumber + ": no image for {{" + m.group(1) + "}}");
            }
            m.appendReplacement(out, Matcher.quoteReplacement(image));
        }
        m.appendTail(out);
        return out.toString();
    }
}
