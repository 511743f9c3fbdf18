package netslim.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** The probe's one-line reasons, from the loader errors JCuda actually throws (GPU.md, "Without a GPU"). */
class CudaProbeTest {

    @Test
    void missingDriverIsNamedFromTheNestedLinkerMessage() {
        String jcuda = """
                Error while loading native library "JCudaDriver-12.6.0-linux-x86_64"
                Operating system name: Linux
                ---(start of nested stack traces)---
                java.lang.UnsatisfiedLinkError: no JCudaDriver-12.6.0-linux-x86_64 in java.library.path: /usr/lib
                java.lang.UnsatisfiedLinkError: /tmp/libJCudaDriver-12.6.0-linux-x86_64.so: libcuda.so.1: \
                cannot open shared object file: No such file or directory
                ---(end of nested stack traces)---""";
        assertEquals("cannot load the CUDA driver: libcuda.so.1: cannot open shared object file: "
                + "No such file or directory", CudaProbe.describe(new UnsatisfiedLinkError(jcuda)));
    }

    @Test
    void otherLinkErrorsKeepTheirFirstLine() {
        assertEquals("cannot load the CUDA driver library (Could not initialize class jcuda.driver.JCudaDriver)",
                CudaProbe.describe(new NoClassDefFoundError("Could not initialize class jcuda.driver.JCudaDriver")));
    }
}
