// A hello-world per runtime (docs/runtimes.md), to start the code editor with, and the highlighter's language.

export const SAMPLES = {
  python: `def handle(request):
    # request.text is the payload; return a str, bytes, dict (JSON) or a Response
    name = request.text.strip() or "world"
    return f"Hello, {name}!"
`,
  node: `// The payload is request.text; return a string, a Buffer or an object (JSON).
module.exports = async (request) => {
  const name = request.text.trim() || 'world';
  return \`Hello, \${name}!\`;
};
`,
  go: `package main

import (
\t"fmt"
\t"os"
)

// The payload is the last argument, as in the original Granda.
func main() {
\tname := "world"
\tif len(os.Args) > 1 && os.Args[1] != "" {
\t\tname = os.Args[1]
\t}
\tfmt.Printf("Hello, %s!", name)
}
`,
  java: `public class Handler {
    // The payload comes in as a String; what this returns is the answer.
    public static String handle(String input) {
        String name = input == null || input.isBlank() ? "world" : input.strip();
        return "Hello, " + name + "!";
    }
}
`,
  shell: `#!/bin/bash
# The payload is $1 (and stdin); stdout is the answer.
name=\${1:-world}
printf 'Hello, %s!' "$name"
`,
};

const LANGUAGES = { python: 'python', node: 'javascript', javascript: 'javascript', go: 'go', java: 'java', shell: 'shell' };

/** @returns the highlighter language of a runtime name ("node" is javascript) */
export function languageOf(runtime) {
  return LANGUAGES[runtime] || 'plain';
}

export function sampleFor(runtime) {
  return SAMPLES[runtime] || '';
}
