package io.granda.testkit;

import io.granda.core.memory.InMemoryMeteringStore;
import io.granda.core.spi.MeteringStore;

/** Core's in-memory metering store against the shared metering contract. */
class InMemoryMeteringStoreContractTest extends MeteringStoreContract {

    @Override
    protected MeteringStore createStore(FakeClock clock) {
        return new InMemoryMeteringStore();
    }
}
