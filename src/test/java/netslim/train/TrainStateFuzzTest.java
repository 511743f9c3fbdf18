package netslim.train;

import com.code_intelligence.jazzer.junit.FuzzTest;

import netslim.testing.FuzzContract;

/**
 * Fuzzes the train_state.json decoder of checkpoints directly ({@code NsmFuzzTest}'s whole-file inputs rarely get
 * past the ZIP's CRCs into it).
 */
class TrainStateFuzzTest {
    @FuzzTest
    void trainState(byte[] data) throws Exception {
        FuzzContract.loadsOrRefuses(() -> TrainStateJson.decode(data, "fuzz.nsm"));
    }
}
