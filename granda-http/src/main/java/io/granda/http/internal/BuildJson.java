package io.granda.http.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.granda.core.BuildInfo;
import io.granda.core.build.FunctionSource;
import io.granda.core.build.SourceFile;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;

/**
 * The JSON shape of builds and sources. Not API.
 */
public final class BuildJson {

    private BuildJson() {
    }

    /** @return a build as the API shows it, with its log or without */
    public static ObjectNode render(BuildInfo b, boolean withLog) {
        ObjectNode n = Json.object();
        n.put("id", b.id());
        n.put("function", b.functionName());
        n.put("runtime", b.runtime());
        n.put("status", b.status().name().toLowerCase(Locale.ROOT));
        if (b.revision() > 0) {
            n.put("revision", b.revision());
        }
        n.put("started", b.started().toString());
        if (b.ended() != null) {
            n.put("ended", b.ended().toString());
            n.put("durationMs", b.ended().toEpochMilli() - b.started().toEpochMilli());
        }
        if (!b.message().isEmpty()) {
            n.put("message", b.message());
        }
        if (withLog) {
            n.put("log", b.log());
        }
        return n;
    }

    /** @return a source: its runtime and files, text as UTF-8 and anything else as base64 */
    public static ObjectNode render(FunctionSource source) {
        ObjectNode n = Json.object();
        n.put("runtime", source.runtime());
        ArrayNode files = n.putArray("files");
        for (SourceFile f : source.files()) {
            ObjectNode file = files.addObject();
            file.put("path", f.path());
            String text = utf8(f.content());
            if (text != null) {
                file.put("encoding", "utf-8");
                file.put("content", text);
            } else {
                file.put("encoding", "base64");
                file.put("content", Base64.getEncoder().encodeToString(f.content()));
            }
        }
        return n;
    }

    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }
}
