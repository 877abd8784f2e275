// Another file of the function, compiled with Handler.java.
final class Greeting {

    private Greeting() {
    }

    static String of(String name) {
        return name.strip();
    }
}
