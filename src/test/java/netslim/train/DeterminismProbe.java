package netslim.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import netslim.backend.Backend;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.nn.Graph;
import netslim.nn.models.Zoo;
import netslim.tensor.Shape;

/**
 * Measures what the thread count changes in training (bench/RESULTS.md, "Determinism"): googlenet-cifar (width 1/8,
 * 28x28, seeded synthetic data) for 4 SGD steps per GEMM and thread count, weights compared bit for bit. Run:
 * {@code java --add-modules jdk.incubator.vector -Xss8m -cp target/test-classes:target/classes:$(cat target/cp.txt)
 * netslim.train.DeterminismProbe}.
 */
public final class DeterminismProbe {
    private DeterminismProbe() {
    }

    public static void main(String[] args) {
        for (String gemm : List.of("java", "openblas", "auto")) {
            float[][] one = train(1, gemm), two = train(2, gemm), twoAgain = train(2, gemm), three = train(3, gemm);
            System.out.printf("--gemm %-8s 2 vs 2 threads: %s; 1 vs 2: %s; 2 vs 3: %s%n", gemm, compare(two, twoAgain),
                    compare(one, two), compare(two, three));
        }
    }

    static float[][] train(int threads, String gemm) {
        SyntheticData train = new SyntheticData("train", 64, 28, 10, 11), test = new SyntheticData("test", 16, 28, 10, 12);
        Graph g = Zoo.create("googlenet-cifar", new Zoo.Options(10, Shape.of(1, 28, 28), 0.125, 0));
        TrainConfig c = TrainConfig.defaults(1).withBatchSize(16).withLr(0.05).withSeed(5);
        try (Backend b = CpuBackend.create(threads, Gemm.select(gemm, threads));
             Trainer t = new Trainer(g, "googlenet-cifar", b, train, test, c, Map.of())) {
            t.train();
        }
        List<float[]> w = new ArrayList<>();
        for (String name : g.params().names()) w.add(g.params().get(name).toArray());
        return w.toArray(new float[0][]);
    }

    /** "bit-identical", or how many weights differ and the relative L2 distance. */
    static String compare(float[][] a, float[][] b) {
        long differ = 0, total = 0;
        double num = 0, den = 0;
        for (int i = 0; i < a.length; i++) {
            for (int j = 0; j < a[i].length; j++) {
                total++;
                if (Float.floatToRawIntBits(a[i][j]) != Float.floatToRawIntBits(b[i][j])) differ++;
                double d = (double) a[i][j] - b[i][j];
                num += d * d;
                den += (double) b[i][j] * b[i][j];
            }
        }
        return differ == 0 ? "bit-identical" : String.format("%d of %d weights differ, relative L2 %.2g", differ, total,
                Math.sqrt(num / den));
    }
}
