package io.granda.server;

import io.granda.core.access.ApiKey;
import io.granda.core.access.ApiKeys;
import io.granda.core.access.IssuedApiKey;
import io.granda.core.access.Role;
import io.granda.core.access.Tenant;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.PrintStream;
import java.util.Optional;

/**
 * Makes sure an operator can manage the server: installs the configured admin key, or, at the first start (no key
 * was ever made), generates one and prints it once, in a banner on standard output. Granda keeps only hashes, so
 * that banner is the only place the generated key ever appears: it goes to the terminal, not through the log, whose
 * lines may be shipped and kept elsewhere. Not API.
 */
final class AdminKeyBootstrap {

    private static final Logger LOG = LoggerFactory.getLogger(AdminKeyBootstrap.class);

    private AdminKeyBootstrap() {
    }

    /**
     * @param keys       the server's keys
     * @param configured the key from {@code --admin-key}, if any
     * @param out        where a generated key is printed
     * @param baseUrl    where the server is reached, for the example in the banner
     * @return the key generated now, empty when none was (a key is configured, or keys exist already)
     */
    static Optional<IssuedApiKey> run(ApiKeys keys, Optional<String> configured, PrintStream out, String baseUrl) {
        if (configured.isPresent()) {
            ApiKey key = keys.configure(configured.get(), Tenant.DEFAULT, Role.ADMIN, "configured admin key");
            LOG.atInfo().addKeyValue("keyId", key.keyId()).log("admin key from the configuration is in place");
            return Optional.empty();
        }
        if (keys.anyKeys()) {
            return Optional.empty();
        }
        IssuedApiKey issued = keys.issue(Tenant.DEFAULT, Role.ADMIN, "generated at first start");
        out.print(banner(issued.token(), baseUrl));
        out.flush();
        LOG.atInfo().addKeyValue("keyId", issued.key().keyId())
                .log("generated the admin key and printed it once above; it is not stored, only its hash");
        return Optional.of(issued);
    }

    static String banner(String token, String baseUrl) {
        String rule = "=".repeat(100);
        return "\n" + rule + "\n"
                + "  Granda admin API key (shown this once; Granda keeps only its hash):\n\n"
                + "    " + token + "\n\n"
                + "  Use it as:   curl -H 'Authorization: Bearer " + token + "' " + baseUrl + "/functions\n"
                + "  or sign in to the console with it. Lost it? Restart with --admin-key gk_<id>_<secret> (your own).\n"
                + rule + "\n\n";
    }
}
