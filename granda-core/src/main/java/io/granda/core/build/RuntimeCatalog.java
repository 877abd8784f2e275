package io.granda.core.build;

import io.granda.core.InvalidFunctionSpecException;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The runtimes a Granda offers, found by name or alias (case-insensitive). Immutable and thread-safe.
 */
public final class RuntimeCatalog {

    private final Map<String, LanguageRuntime> byName = new LinkedHashMap<>();
    private final Map<String, LanguageRuntime> byAlias = new LinkedHashMap<>();

    /** @param runtimes the runtimes, in the order lists show them */
    public RuntimeCatalog(List<LanguageRuntime> runtimes) {
        for (LanguageRuntime r : runtimes) {
            if (byName.putIfAbsent(r.name(), r) != null) {
                throw new IllegalArgumentException("two runtimes are named " + r.name());
            }
            byAlias.put(r.name().toLowerCase(Locale.ROOT), r);
            for (String alias : r.aliases()) {
                LanguageRuntime other = byAlias.putIfAbsent(alias.toLowerCase(Locale.ROOT), r);
                if (other != null && other != r) {
                    throw new IllegalArgumentException("runtimes " + other.name() + " and " + r.name()
                            + " both answer to " + alias);
                }
            }
        }
    }

    /** A catalog with no runtime: functions can only be images. */
    public static final RuntimeCatalog NONE = new RuntimeCatalog(List.of());

    /** @return the runtime of that name or alias */
    public Optional<LanguageRuntime> find(String nameOrAlias) {
        return nameOrAlias == null ? Optional.empty()
                : Optional.ofNullable(byAlias.get(nameOrAlias.trim().toLowerCase(Locale.ROOT)));
    }

    /**
     * @return the runtime of that name or alias
     * @throws InvalidFunctionSpecException naming field {@code runtime}, listing the known ones
     */
    public LanguageRuntime require(String nameOrAlias) {
        return find(nameOrAlias).orElseThrow(() -> new InvalidFunctionSpecException("runtime",
                "runtime '" + nameOrAlias + "' is unknown; known runtimes are " + String.join(", ", byName.keySet())));
    }

    /** @return every runtime, in order */
    public List<LanguageRuntime> all() {
        return new ArrayList<>(byName.values());
    }
}
