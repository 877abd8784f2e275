package io.granda.runtimes;

import java.nio.file.Path;

/** The node shim with a script that exports nothing, on this host's node. */
class NodeProgramShimTest extends ProgramShimContract {

    @Override
    ShimProcess start(Path dir) throws Exception {
        return NodeModuleShimTest.startNode(Samples.writeFunctionDirectory(Samples.runtime("node"),
                Samples.source("node", "node-program"), dir));
    }

    @Override
    String programName() {
        return "handler.js";
    }
}
