package io.granda.testkit;

import io.granda.core.memory.InMemoryFunctionRegistry;
import io.granda.core.spi.FunctionRegistry;

/** Core's in-memory registry against the shared registry contract. */
class InMemoryFunctionRegistryContractTest extends FunctionRegistryContract {

    @Override
    protected FunctionRegistry createRegistry(FakeClock clock) {
        return new InMemoryFunctionRegistry(clock);
    }
}
