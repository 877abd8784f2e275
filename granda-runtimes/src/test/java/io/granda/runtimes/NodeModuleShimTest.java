package io.granda.runtimes;

import io.granda.core.build.FunctionSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The node shim with an exported function, on this host's node. */
class NodeModuleShimTest extends ModuleShimContract {

    static ShimProcess startNode(Path dir) throws Exception {
        Path node = Samples.onPath("node").orElseThrow(() -> new AssertionError("these tests need node"));
        return ShimProcess.start(List.of(node.toString(), dir.resolve(".granda/shim.cjs").toString()), dir, Map.of());
    }

    @Override
    ShimProcess start(Path dir) throws Exception {
        return startIn(Samples.writeFunctionDirectory(Samples.runtime("node"), Samples.source("node", "node-module"),
                dir));
    }

    @Override
    ShimProcess startIn(Path dir) throws Exception {
        return startNode(dir);
    }

    @Override
    FunctionSource brokenAtLoad() {
        return Samples.source("node", "handler.js", "throw new Error('broken at load');\nmodule.exports = () => 1;\n");
    }
}
