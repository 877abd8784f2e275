import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Locale;

/**
 * Granda's shim for Java functions: serves the hot protocol (docs/hot-functions.md) on the unix socket
 * {@code $GRANDA_SOCKET} and calls {@code Handler.handle} for every request (docs/runtimes.md).
 *
 * <p>{@code public class Handler} (default package) has {@code public static byte[] handle(byte[] input)} or
 * {@code public static String handle(String input)}; when it has both, the {@code byte[]} one is called. The input is
 * the request's body; a {@code String} answer is 200 {@code text/plain; charset=utf-8}, a {@code byte[]} answer 200
 * {@code application/octet-stream}, {@code null} 204, and an exception 500 with its stack trace. Handler is loaded and
 * initialised before the socket exists, so its static initialisation is the instance's init time.
 *
 * <p>One platform thread per connection (the code compiles and runs on Java 17). Only the JDK is used.
 */
public final class GrandaShim {

    private static final int MAX_HEAD_BYTES = 64 * 1024;
    private static final int MAX_BODY_BYTES = 64 * 1024 * 1024;
    private static final byte[] CRLF = {'\r', '\n'};

    private final Method handle;
    private final boolean bytes;

    private GrandaShim(Method handle) {
        this.handle = handle;
        this.bytes = handle.getReturnType() == byte[].class;
    }

    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--check")) {
            check();
            return;
        }
        GrandaShim shim = new GrandaShim(findHandle(true));
        String socket = System.getenv("GRANDA_SOCKET");
        if (socket == null || socket.isEmpty()) {
            System.err.println("granda: GRANDA_SOCKET is not set: this image is a hot function and serves on that unix"
                    + " socket (docs/hot-functions.md)");
            System.exit(2);
        }
        Path path = Path.of(socket);
        ServerSocketChannel server = listen(path);
        java.lang.Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                // going away anyway
            }
        }));
        System.err.println("granda: java " + System.getProperty("java.version") + " serving Handler."
                + shim.handle.getName() + "(" + (shim.bytes ? "byte[]" : "String") + ") on " + socket);
        for (long n = 1; ; n++) {
            SocketChannel connection = server.accept();
            Thread thread = new Thread(null, () -> shim.serve(connection), "granda-connection-" + n, 512 * 1024);
            thread.setDaemon(true);
            thread.start();
        }
    }

    /**
     * Listens on path: bound under a temporary name and moved into place once listening, since Granda takes the
     * socket's existence as readiness; mode 0777, since Granda may run as another user (Java has no umask).
     */
    private static ServerSocketChannel listen(Path path) throws IOException {
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Path temporary = Path.of(path + ".new");
        Files.deleteIfExists(path);
        Files.deleteIfExists(temporary);
        ServerSocketChannel server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(temporary), 128);
        Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rwxrwxrwx"));
        Files.move(temporary, path, StandardCopyOption.ATOMIC_MOVE);
        return server;
    }

    /**
     * The image build's check that Handler can be served: loads it without initialising it (no code of the function
     * runs), and exits 1 with javac's style of message when it cannot.
     */
    private static void check() {
        try {
            findHandle(false);
        } catch (IllegalStateException e) {
            System.err.println("error: " + e.getMessage());
            System.exit(1);
        }
    }

    private static Method findHandle(boolean initialise) {
        Class<?> handler;
        try {
            handler = Class.forName("Handler", initialise, GrandaShim.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IllegalStateException("no class Handler: Handler.java must declare public class Handler in the "
                    + "default package (no package line)", e);
        }
        for (Class<?> type : new Class<?>[] {byte[].class, String.class}) {
            try {
                Method m = handler.getMethod("handle", type);
                if (Modifier.isStatic(m.getModifiers()) && m.getReturnType() == type) {
                    return m;
                }
            } catch (NoSuchMethodException e) {
                // try the next
            }
        }
        throw new IllegalStateException("class Handler has neither public static byte[] handle(byte[]) nor public"
                + " static String handle(String)");
    }

    /** An answer: status, content type (null for none) and body. */
    private record Answer(int status, String contentType, byte[] body) {
    }

    private Answer call(byte[] input) {
        try {
            Object result = bytes ? handle.invoke(null, (Object) input)
                    : handle.invoke(null, new String(input, StandardCharsets.UTF_8));
            if (result == null) {
                return new Answer(204, null, new byte[0]);
            }
            return bytes ? new Answer(200, "application/octet-stream", (byte[]) result)
                    : new Answer(200, "text/plain; charset=utf-8", ((String) result).getBytes(StandardCharsets.UTF_8));
        } catch (InvocationTargetException e) {
            return failure(e.getCause());
        } catch (Throwable e) {
            return failure(e);
        }
    }

    private static Answer failure(Throwable e) {
        // The trace ends at the function's own frames: the reflective call into it and the shim say nothing useful.
        StackTraceElement[] frames = e.getStackTrace();
        for (int i = 0; i < frames.length; i++) {
            String type = frames[i].getClassName();
            if (type.startsWith("jdk.internal.reflect.") || type.equals("java.lang.reflect.Method")
                    || type.equals(GrandaShim.class.getName())) {
                e.setStackTrace(java.util.Arrays.copyOf(frames, i));
                break;
            }
        }
        StringWriter trace = new StringWriter();
        e.printStackTrace(new PrintWriter(trace));
        System.err.print(trace);
        return new Answer(500, "text/plain; charset=utf-8", trace.toString().getBytes(StandardCharsets.UTF_8));
    }

    // -----------------------------------------------------------------------------------------------------------------
    // HTTP/1.1, as much as Granda speaks

    /** A request head, parsed. */
    private static final class Request {
        String method;
        boolean http10;
        boolean keepAlive;
        boolean expectContinue;
        boolean chunked;
        long contentLength;
        String error;
        int errorStatus;
    }

    /** Serves requests on one connection until the client closes it or a request cannot be read. */
    private void serve(SocketChannel channel) {
        try (channel) {
            InputStream in = new BufferedInputStreamNoSync(Channels.newInputStream(channel));
            OutputStream out = Channels.newOutputStream(channel);
            while (true) {
                Request request = readHead(in);
                if (request == null) {
                    return; // closed between requests
                }
                if (request.error != null) {
                    write(out, request, new Answer(request.errorStatus, "text/plain; charset=utf-8",
                            (request.error + "\n").getBytes(StandardCharsets.UTF_8)), false);
                    return;
                }
                if (request.expectContinue && !request.http10) {
                    out.write("HTTP/1.1 100 Continue\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
                }
                byte[] body = in.readNBytes((int) request.contentLength);
                if (body.length < request.contentLength) {
                    return; // closed mid-body
                }
                write(out, request, call(body), request.keepAlive);
                if (!request.keepAlive) {
                    return;
                }
            }
        } catch (IOException e) {
            // the client went away: nobody to answer
        }
    }

    private static Request readHead(InputStream in) throws IOException {
        Request request = new Request();
        int[] budget = {MAX_HEAD_BYTES};
        String line = readLine(in, budget);
        while (line != null && line.isEmpty()) {
            line = readLine(in, budget); // RFC 9112: ignore empty lines before a request line
        }
        if (line == null) {
            return null;
        }
        String[] parts = line.split(" ", -1);
        if (parts.length != 3 || parts[0].isEmpty() || !parts[1].startsWith("/")) {
            return fail(request, 400, "malformed request line");
        }
        request.method = parts[0];
        if (parts[2].equals("HTTP/1.1")) {
            request.keepAlive = true;
        } else if (parts[2].equals("HTTP/1.0")) {
            request.http10 = true;
        } else {
            return fail(request, 505, "unsupported HTTP version");
        }
        boolean lengthSeen = false;
        while (true) {
            line = readLine(in, budget);
            if (line == null) {
                throw new EOFException("closed in a request head");
            }
            if (line.isEmpty()) {
                break;
            }
            int colon = line.indexOf(':');
            if (colon <= 0) {
                return fail(request, 400, "malformed header line");
            }
            String name = line.substring(0, colon).trim().toLowerCase(Locale.ROOT);
            String value = line.substring(colon + 1).trim();
            switch (name) {
                case "content-length" -> {
                    long length;
                    try {
                        length = Long.parseLong(value);
                    } catch (NumberFormatException e) {
                        return fail(request, 400, "malformed Content-Length");
                    }
                    if (length < 0 || (lengthSeen && length != request.contentLength)) {
                        return fail(request, 400, "malformed Content-Length");
                    }
                    if (length > MAX_BODY_BYTES) {
                        return fail(request, 413, "request body too large");
                    }
                    lengthSeen = true;
                    request.contentLength = length;
                }
                case "transfer-encoding" -> request.chunked = true;
                case "connection" -> {
                    String tokens = value.toLowerCase(Locale.ROOT);
                    if (tokens.contains("close")) {
                        request.keepAlive = false;
                    } else if (tokens.contains("keep-alive")) {
                        request.keepAlive = true;
                    }
                }
                case "expect" -> request.expectContinue = value.equalsIgnoreCase("100-continue");
                default -> {
                }
            }
        }
        if (request.chunked) {
            return fail(request, 501, "request bodies must have a Content-Length");
        }
        return request;
    }

    private static Request fail(Request request, int status, String why) {
        request.errorStatus = status;
        request.error = why;
        request.keepAlive = false;
        return request;
    }

    /** A line without its CRLF (or bare LF), or null at the end of the stream before any byte. */
    private static String readLine(InputStream in, int[] budget) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream(128);
        int b;
        while ((b = in.read()) != -1) {
            if (--budget[0] < 0) {
                throw new IOException("request head larger than " + MAX_HEAD_BYTES + " bytes");
            }
            if (b == '\n') {
                byte[] bytes = line.toByteArray();
                int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1 : bytes.length;
                return new String(bytes, 0, n, StandardCharsets.ISO_8859_1);
            }
            line.write(b);
        }
        if (line.size() == 0) {
            return null;
        }
        throw new EOFException("closed in a request head");
    }

    private static void write(OutputStream out, Request request, Answer answer, boolean keepAlive) throws IOException {
        StringBuilder head = new StringBuilder(128);
        head.append("HTTP/1.1 ").append(answer.status()).append(' ').append(reason(answer.status())).append("\r\n");
        if (answer.contentType() != null) {
            head.append("Content-Type: ").append(answer.contentType()).append("\r\n");
        }
        boolean noBody = answer.status() == 204 || answer.status() == 304;
        if (!noBody) {
            head.append("Content-Length: ").append(answer.body().length).append("\r\n");
        }
        if (!keepAlive) {
            head.append("Connection: close\r\n");
        } else if (request.http10) {
            head.append("Connection: keep-alive\r\n");
        }
        head.append("\r\n");
        byte[] headBytes = head.toString().getBytes(StandardCharsets.ISO_8859_1);
        boolean sendBody = !noBody && !"HEAD".equals(request.method) && answer.body().length > 0;
        byte[] all = new byte[headBytes.length + (sendBody ? answer.body().length : 0)];
        System.arraycopy(headBytes, 0, all, 0, headBytes.length);
        if (sendBody) {
            System.arraycopy(answer.body(), 0, all, headBytes.length, answer.body().length);
        }
        out.write(all); // one write: the answer leaves in as few segments as the socket allows
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 204 -> "No Content";
            case 400 -> "Bad Request";
            case 413 -> "Content Too Large";
            case 500 -> "Internal Server Error";
            case 501 -> "Not Implemented";
            case 505 -> "HTTP Version Not Supported";
            default -> "Status";
        };
    }

    /**
     * A buffer over a channel's stream, without BufferedInputStream's locking: one thread reads a connection.
     */
    private static final class BufferedInputStreamNoSync extends InputStream {
        private final InputStream in;
        private final byte[] buf = new byte[16 * 1024];
        private int pos;
        private int end;

        BufferedInputStreamNoSync(InputStream in) {
            this.in = in;
        }

        private boolean fill() throws IOException {
            if (pos < end) {
                return true;
            }
            int n = in.read(buf, 0, buf.length);
            if (n <= 0) {
                return false;
            }
            pos = 0;
            end = n;
            return true;
        }

        @Override
        public int read() throws IOException {
            return fill() ? buf[pos++] & 0xff : -1;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            if (len == 0) {
                return 0;
            }
            if (pos < end) {
                int n = Math.min(len, end - pos);
                System.arraycopy(buf, pos, b, off, n);
                pos += n;
                return n;
            }
            return len >= buf.length ? in.read(b, off, len) : fill() ? read(b, off, len) : -1;
        }
    }
}
