package io.granda.testkit;

import io.granda.core.memory.InMemoryApiKeyStore;
import io.granda.core.spi.ApiKeyStore;

/** The in-memory key store against the shared contract. */
class InMemoryApiKeyStoreContractTest extends ApiKeyStoreContract {

    @Override
    protected ApiKeyStore createStore(FakeClock clock) {
        return new InMemoryApiKeyStore(clock);
    }
}
