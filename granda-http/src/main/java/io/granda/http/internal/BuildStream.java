package io.granda.http.internal;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.granda.core.GrandaException;
import io.granda.core.InvalidFunctionSpecException;
import io.granda.core.build.BuildFailedException;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerResponse;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.util.function.Consumer;

/**
 * Sends a build's output to the caller as it comes, as newline-delimited JSON ({@code application/x-ndjson}): one
 * {@code {"log": "..."}} object per line of the build, then one final object, {@code {"status": 201, "function":
 * {...}}} or {@code {"status": 422, "error": {...}}}. The HTTP status is 200 once the first line went out; until then
 * nothing is sent, so a request refused before its build starts still gets its own 4xx. Not API. Not thread-safe:
 * used by the one thread that runs the build.
 */
public final class BuildStream implements Consumer<String> {

    private final ServerResponse res;
    private OutputStream out;
    private boolean broken;

    public BuildStream(ServerResponse res) {
        this.res = res;
    }

    /** Writes one line of the build's output. */
    @Override
    public void accept(String line) {
        ObjectNode n = Json.object();
        n.put("log", line);
        write(n);
    }

    /** @return true once the stream has started: errors must then go in the stream, not as a status */
    public boolean started() {
        return out != null;
    }

    /** Ends the stream with the result. */
    public void finish(int status, String field, ObjectNode value) {
        ObjectNode n = Json.object();
        n.put("status", status);
        n.set(field, value);
        write(n);
        if (out != null) {
            try {
                out.close();
            } catch (IOException e) {
                // The caller went away; the function was built all the same.
            }
        }
    }

    /** Ends the stream with a failure: the same error object a non-streamed request would get. */
    public void fail(Throwable failure) {
        ObjectNode error;
        int status;
        if (failure instanceof BuildFailedException e) {
            // As the non-streamed answer: the code is what failed to build (the log is already in the stream).
            status = 422;
            error = Responses.errorBody(e.code(), e.getMessage(), "code");
        } else if (failure instanceof GrandaException e) {
            status = Responses.statusOf(e);
            error = Responses.errorBody(e.code(), e.getMessage(),
                    e instanceof InvalidFunctionSpecException invalid ? invalid.field() : null);
        } else if (failure instanceof ApiException e) {
            status = e.status();
            error = Responses.errorBody(e.code(), e.getMessage(), e.field());
        } else {
            status = 500;
            error = Responses.errorBody("internal_error", "Granda failed unexpectedly; the server log has the details",
                    null);
        }
        finish(status, "error", error);
    }

    private void write(ObjectNode n) {
        if (broken) {
            return;
        }
        try {
            if (out == null) {
                res.status(200);
                res.header(HeaderNames.CONTENT_TYPE, "application/x-ndjson");
                out = res.outputStream();
            }
            out.write(Json.bytes(n));
            out.write('\n');
            out.flush();
        } catch (IOException | UncheckedIOException e) {
            // The caller stopped listening: the build goes on, its log is kept.
            broken = true;
        }
    }
}
