package io.granda.runtimes;

import java.nio.file.Path;

/** The python shim with a script and no {@code handle}, on this host's python3. */
class PythonProgramShimTest extends ProgramShimContract {

    @Override
    ShimProcess start(Path dir) throws Exception {
        return PythonModuleShimTest.startPython(Samples.writeFunctionDirectory(Samples.runtime("python"),
                Samples.source("python", "python-program"), dir));
    }

    @Override
    String programName() {
        return "handler.py";
    }
}
