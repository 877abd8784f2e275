// Both handle methods: the byte[] one is called.
public class Handler {

    public static byte[] handle(byte[] input) {
        byte[] out = new byte[input.length];
        for (int i = 0; i < input.length; i++) {
            out[i] = input[input.length - 1 - i];
        }
        return out;
    }

    public static String handle(String input) {
        return "the String one";
    }
}
