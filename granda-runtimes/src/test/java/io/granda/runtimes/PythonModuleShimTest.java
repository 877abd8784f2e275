package io.granda.runtimes;

import io.granda.core.build.FunctionSource;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** The python shim with {@code def handle(request)}, on this host's python3. */
class PythonModuleShimTest extends ModuleShimContract {

    static ShimProcess startPython(Path dir) throws Exception {
        Path python = Samples.onPath("python3").orElseThrow(() -> new AssertionError("these tests need python3"));
        return ShimProcess.start(List.of(python.toString(), dir.resolve(".granda/shim.py").toString()), dir, Map.of());
    }

    @Override
    ShimProcess start(Path dir) throws Exception {
        return startIn(Samples.writeFunctionDirectory(Samples.runtime("python"),
                Samples.source("python", "python-module"), dir));
    }

    @Override
    ShimProcess startIn(Path dir) throws Exception {
        return startPython(dir);
    }

    @Override
    FunctionSource brokenAtLoad() {
        return Samples.source("python", "handler.py", "raise RuntimeError('broken at load')\n\ndef handle(r):\n    pass\n");
    }
}
