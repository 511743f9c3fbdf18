package netslim.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import jcuda.driver.CUdeviceptr;
import org.junit.jupiter.api.Test;

/**
 * The growth rule of {@link DeviceScratch} on a fake device (runs without a GPU): while a CUDA graph is alive the
 * old buffer is retired, not freed, because the graph's kernels still hold its address; without graphs it is freed
 * at once; release frees everything. The real-device case (a graph captured before another executor grew the
 * scratch replays correctly) is CudaModelParityTest#graphSurvivesScratchGrowth.
 */
class DeviceScratchTest {
    static final class FakeDevice implements DeviceScratch.Device {
        final List<CUdeviceptr> live = new ArrayList<>();
        final List<CUdeviceptr> freed = new ArrayList<>();
        int graphs;
        int syncs;

        @Override
        public CUdeviceptr allocate(long bytes) {
            CUdeviceptr p = new CUdeviceptr();
            live.add(p);
            return p;
        }

        @Override
        public void free(CUdeviceptr p) {
            assertTrue(live.remove(p), "freed twice or never allocated");
            freed.add(p);
        }

        @Override
        public void synchronize(String what) {
            syncs++;
        }

        @Override
        public int liveGraphs() {
            return graphs;
        }
    }

    @Test
    void withoutGraphsGrowthFreesTheOldBuffer() {
        FakeDevice d = new FakeDevice();
        DeviceScratch s = new DeviceScratch(d, "test");
        CUdeviceptr a = s.get(100);
        assertSame(a, s.get(50), "a smaller request reuses the buffer");
        CUdeviceptr b = s.get(1000);
        assertEquals(List.of(a), d.freed);
        assertEquals(List.of(b), d.live);
        assertEquals(0, s.retiredCount());
        assertTrue(d.syncs >= 1, "growing waits for queued kernels first");
    }

    @Test
    void withALiveGraphGrowthRetiresTheOldBufferUntilRelease() {
        FakeDevice d = new FakeDevice();
        DeviceScratch s = new DeviceScratch(d, "test");
        CUdeviceptr a = s.get(100);
        d.graphs = 1; // a graph captured with address a
        CUdeviceptr b = s.get(1000);
        CUdeviceptr c = s.get(100_000_000L);
        assertEquals(List.of(), d.freed, "a graph may still replay kernels on the old addresses");
        assertEquals(2, s.retiredCount());
        assertEquals(List.of(a, b, c), d.live);
        s.release();
        assertEquals(List.of(), d.live, "release frees the live and the retired buffers");
        assertEquals(3, d.freed.size());
        assertEquals(0, s.retiredCount());
        CUdeviceptr e = s.get(10);
        assertEquals(List.of(e), d.live, "usable again after release");
    }
}
