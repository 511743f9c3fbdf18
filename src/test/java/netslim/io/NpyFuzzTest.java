package netslim.io;

import java.io.ByteArrayInputStream;

import com.code_intelligence.jazzer.junit.FuzzTest;

import netslim.testing.FuzzContract;

/** Fuzzes the .npy reader, with the byte count known (files, ZIP entries) and unknown (streams). */
class NpyFuzzTest {
    @FuzzTest
    void npy(byte[] data) throws Exception {
        FuzzContract.loadsOrRefuses(() -> Npy.fromBytes(data, "fuzz.npy"));
        FuzzContract.loadsOrRefuses(() -> Npy.read(new ByteArrayInputStream(data), "fuzz.npy"));
    }
}
