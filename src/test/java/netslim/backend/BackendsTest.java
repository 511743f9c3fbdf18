package netslim.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import netslim.NetslimException;
import netslim.backend.cuda.CudaBackend;
import netslim.backend.cuda.CudaProbe;
import org.junit.jupiter.api.Test;

/**
 * --device selection. Both branches are asserted: without a CUDA device (this CI machine) auto falls back to the
 * CPU and says why in one line, cuda fails with one line; with one, both give the CUDA backend.
 */
class BackendsTest {

    @Test
    void probeIsCachedAndOneLine() {
        CudaProbe.Result r = CudaBackend.probe();
        assertTrue(r == CudaBackend.probe(), "the probe runs once");
        if (!r.available()) {
            assertFalse(r.reason().isBlank(), "a reason is given");
            assertFalse(r.reason().contains("\n"), "one line: " + r.reason());
        }
    }

    @Test
    void autoPicksCudaWhenItWorksElseTheCpuAndSaysWhy() {
        List<String> log = new ArrayList<>();
        try (Backend b = Backends.select("auto", log::add)) {
            assertEquals(1, log.size(), "one message: " + log);
            if (CudaBackend.probe().available()) {
                assertEquals("cuda", b.name());
                assertTrue(log.get(0).startsWith("device: cuda"), log.get(0));
            } else {
                assertEquals("cpu", b.name());
                assertEquals("device: cpu (no CUDA device: " + CudaBackend.probe().reason() + ")", log.get(0));
            }
        }
    }

    @Test
    void cudaFailsWithOneLineWithoutADevice() {
        if (CudaBackend.probe().available()) {
            try (Backend b = Backends.select("cuda", m -> { })) {
                assertEquals("cuda", b.name());
            }
            return;
        }
        NetslimException e = assertThrows(NetslimException.class, () -> Backends.select("cuda", m -> { }));
        assertTrue(e.getMessage().startsWith("no CUDA device: "), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }

    @Test
    void unknownDeviceIsRejected() {
        assertThrows(NetslimException.class, () -> Backends.select("tpu", m -> { }));
    }
}
