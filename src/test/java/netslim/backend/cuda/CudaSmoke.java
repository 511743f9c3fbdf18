package netslim.backend.cuda;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Function;

import netslim.backend.Backend;
import netslim.backend.ConvSpec;
import netslim.backend.cpu.ReferenceKernels;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.testing.Close;

/**
 * First thing bench/gpu/run.sh runs on a GPU: one line per step (probe, context, upload/download, a kernel, a
 * cuBLAS GEMM, a tensor view at an offset, a convolution, a kernel fault check) with its error against
 * ReferenceKernels, so a broken basic shows up in seconds even if the full suite then fails. Not a test.
 */
public final class CudaSmoke {
    private CudaSmoke() {
    }

    public static void main(String[] args) {
        CudaProbe.Result r = CudaBackend.probe();
        System.out.println("probe: " + (r.available() ? "ok, " + r.device() : "unavailable: " + r.reason()));
        if (!r.available()) System.exit(2);
        Backend ref = ReferenceKernels.create();
        int failures = 0;
        try (Backend gpu = CudaBackend.create(false)) {
            System.out.println("backend: " + gpu);
            Map<String, Function<Backend, float[]>> steps = new LinkedHashMap<>();
            steps.put("upload/download", b -> roundTrip(b, input(3, 5, 7)));
            steps.put("relu kernel", b -> {
                Tensor x = up(b, input(2, 3, 33, 31)), y = b.allocate(x.shape());
                b.relu(x, y);
                return down(b, y);
            });
            steps.put("gemm (cuBLAS, via the shim on CUDA 13)", b -> {
                Tensor a = up(b, input(37, 29)), m = up(b, input(29, 41)), c = b.allocate(Shape.of(37, 41));
                b.gemm(false, false, 37, 41, 29, 1f, a, 0, 29, m, 0, 41, 0f, c, 0, 41);
                return down(b, c);
            });
            steps.put("kernel on a view at an offset", b -> {
                Tensor whole = up(b, input(2, 1000));
                Tensor second = new Tensor(Shape.of(1000), whole.storage(), whole.offset() + 1000);
                Tensor y = b.allocate(Shape.of(1000));
                b.relu(second, y);
                return down(b, y);
            });
            steps.put("conv2d 3x3 (im2col + batched GEMM + bias)", b -> {
                ConvSpec s = ConvSpec.of(8, 16, 3, 1, 1);
                Tensor x = up(b, input(4, 8, 13, 11)), w = up(b, input(16, 8, 3, 3)), bias = up(b, input(16));
                Tensor y = b.allocate(Shape.of(4, 16, 13, 11));
                b.conv2d(x, w, bias, y, s);
                return down(b, y);
            });
            for (var e : steps.entrySet()) {
                long t0 = System.nanoTime();
                try {
                    float[] expected = e.getValue().apply(ref);
                    float[] actual = e.getValue().apply(gpu);
                    double rel = Close.relL2(actual, expected);
                    boolean ok = rel < 1e-5;
                    failures += ok ? 0 : 1;
                    System.out.printf("%-45s %s  rel L2 %.2e  (%.1f ms)%n", e.getKey(), ok ? "ok  " : "FAIL", rel,
                            (System.nanoTime() - t0) / 1e6);
                } catch (RuntimeException ex) {
                    failures++;
                    System.out.printf("%-45s FAIL %s%n", e.getKey(), ex);
                }
            }
        }
        System.out.println(failures == 0 ? "smoke: all ok" : "smoke: " + failures + " failed");
        System.exit(failures == 0 ? 0 : 1);
    }

    private static Tensor input(int... dims) {
        return new Rng(dims.length * 7919L + dims[dims.length - 1]).uniform(Shape.of(dims));
    }

    private static Tensor up(Backend b, Tensor host) {
        Tensor t = b.allocate(host.shape());
        b.upload(host, t);
        return t;
    }

    private static float[] down(Backend b, Tensor t) {
        Tensor h = Tensor.zeros(t.shape());
        b.download(t, h);
        return h.toArray();
    }

    private static float[] roundTrip(Backend b, Tensor host) {
        return down(b, up(b, host));
    }
}
