package io.granda.core.spi;

import java.util.Map;

/**
 * Makes a {@link Backend} from configuration; found through {@link java.util.ServiceLoader}. The server picks the
 * provider whose {@link #name()} matches its {@code backend} setting. A backend registered in code wins over any
 * provider.
 */
public interface BackendProvider {

    /** @return the name configuration selects this provider by, e.g. {@code docker} */
    String name();

    /**
     * @param ownerId  the id that labels every instance the backend creates
     * @param settings backend-specific settings (e.g. {@code docker.host}); unknown keys are ignored
     * @return a ready backend
     * @throws io.granda.core.BackendUnavailableException when the backend cannot be set up
     */
    Backend create(String ownerId, Map<String, String> settings);
}
