package netslim.io;

import com.code_intelligence.jazzer.junit.FuzzTest;

import netslim.testing.FuzzContract;

/**
 * Fuzzes the graph.json decoder of .nsm files (format, nodes, layer attributes, tensor declarations, metadata)
 * directly: {@link NsmFuzzTest}'s whole-file inputs rarely get past the ZIP's CRCs into graph.json.
 */
class GraphJsonFuzzTest {
    @FuzzTest
    void graphJson(byte[] data) throws Exception {
        FuzzContract.loadsOrRefuses(() -> GraphJson.decode(Nsm.parseJson(data, "fuzz.nsm"), "fuzz.nsm"));
    }
}
