package io.granda.server;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * The id that labels this server's containers, kept in the data directory so that a restarted server recognises
 * (and removes) what its previous run left behind, while another server with another data directory sharing the same
 * Docker engine is never touched.
 */
final class OwnerId {

    private static final Pattern VALID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,62}");
    static final String FILE = "owner-id";

    private OwnerId() {
    }

    /**
     * @param dataDir the server's data directory
     * @return the id stored there, created on first use
     */
    static String loadOrCreate(Path dataDir) {
        Path file = dataDir.resolve(FILE);
        try {
            if (Files.exists(file)) {
                String id = Files.readString(file, StandardCharsets.UTF_8).trim();
                return validate(id, file.toString());
            }
            byte[] random = new byte[6];
            new SecureRandom().nextBytes(random);
            String id = "granda-" + HexFormat.of().formatHex(random);
            Files.writeString(file, id + "\n", StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW);
            return id;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create " + file, e);
        }
    }

    static String validate(String id, String source) {
        if (!VALID.matcher(id).matches()) {
            throw new ServerConfig.InvalidConfigException("owner id '" + id + "' from " + source
                    + " is invalid: use 1-63 letters, digits, '.', '_' or '-'");
        }
        return id;
    }
}
