package io.granda.http.internal;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.granda.core.InvocationRecord;

import java.util.Locale;

/**
 * The JSON shape of invocation records (usage totals: {@link UsageJson}). Not API.
 */
public final class InvocationJson {

    private InvocationJson() {
    }

    /** @return one invocation as the API shows it */
    public static ObjectNode render(InvocationRecord r) {
        ObjectNode n = Json.object();
        n.put("invocationId", r.invocationId());
        n.put("function", r.functionName());
        n.put("revision", r.revision());
        n.put("start", r.start().toString());
        n.put("end", r.end().toString());
        n.put("durationMs", r.durationMillis());
        n.put("outcome", r.outcome().name().toLowerCase(Locale.ROOT));
        if (r.exitCode() >= 0) {
            n.put("exitCode", r.exitCode());
        } else {
            n.putNull("exitCode");
        }
        n.put("cold", r.cold());
        n.put("queueMs", r.queueMicros() / 1000.0);
        n.put("pullMs", r.phases().pullMicros() / 1000.0);
        n.put("startMs", r.phases().startMicros() / 1000.0);
        n.put("initMs", r.initMicros() / 1000.0);
        n.put("runMs", r.runMicros() / 1000.0);
        n.put("billedMs", r.billedMillis());
        n.put("memoryMb", r.memoryMb());
        n.put("gbSeconds", r.gbSeconds());
        if (r.cpuMicros() >= 0) {
            n.put("cpuMs", r.cpuMicros() / 1000.0);
        } else {
            n.putNull("cpuMs");
        }
        n.put("requestBytes", r.requestBytes());
        n.put("responseBytes", r.responseBytes());
        return n;
    }
}
