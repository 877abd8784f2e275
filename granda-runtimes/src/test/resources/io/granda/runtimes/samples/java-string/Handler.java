// The sample the Java shim tests run.
public class Handler {

    static int initialisations; // the shim loads the class once

    static {
        initialisations++;
    }

    public static String handle(String input) {
        if (input.equals("fail")) {
            throw new IllegalArgumentException("boom from the handler");
        }
        if (input.isEmpty()) {
            return null;
        }
        if (input.equals("initialisations")) {
            return Integer.toString(initialisations);
        }
        if (input.startsWith("hello ")) {
            return "Hello, " + Greeting.of(input.substring(6)) + "!";
        }
        return input;
    }
}
