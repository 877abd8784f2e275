package io.granda.testkit;

import io.granda.core.memory.InMemoryEventStore;
import io.granda.core.spi.EventStore;

/** The in-memory event store against the shared contract. */
class InMemoryEventStoreContractTest extends EventStoreContract {

    @Override
    protected EventStore createStore(FakeClock clock) {
        return new InMemoryEventStore();
    }
}
