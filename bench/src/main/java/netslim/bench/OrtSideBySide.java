package netslim.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import netslim.backend.Backend;
import netslim.backend.cpu.CpuBackend;
import netslim.backend.cpu.Gemm;
import netslim.io.ModelFiles;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * netslim and ONNX Runtime on the same ONNX file in one JVM, passes interleaved: ORT, netslim, netslim, ORT, ...
 * so a machine whose speed drifts (a shared VM: the AVX-512 Xeon of session 7 ran the same code 1.5x apart from
 * one minute to the next) slows both alike, and the ratio of the two medians, and the median of the per-round
 * ratios, stay meaningful where separate runs were not. Both get the same random input; their outputs are compared
 * first (largest absolute difference, printed) as a check that both run the same model.
 *
 * <p>Usage: {@code java -cp benchmarks.jar netslim.bench.OrtSideBySide MODEL.onnx [batch ...]} (default 1 8), with
 * {@code -Dthreads=2} (both engines), {@code -Dgemm=auto|openblas|java}, {@code -Dwarmup=8} (seconds of interleaved
 * warm-up per batch, at least 10 passes each), {@code -Drounds=30} (timed rounds per batch; each round times one
 * pass of each, the order alternating), {@code -Dspin=false} (ORT's intra-op threads do not spin between runs: in
 * one process their spinning takes the cores from netslim's next pass), {@code -Dblock=1} (passes of each engine
 * per turn: with N > 1 each round runs N passes of one engine, then N of the other, and counts only the last N − 1
 * of each block — passes that follow the same engine's pass, as in a service that runs one model, where a pass right
 * after the other engine's finds the caches full of that engine's data; with 1 every pass follows the other
 * engine's). See bench/ort-side-by-side.sh.
 */
public final class OrtSideBySide {
    private OrtSideBySide() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: OrtSideBySide MODEL.onnx [batch ...]");
            System.exit(2);
        }
        Path model = Path.of(args[0]);
        int[] batches = args.length > 1 ? Arrays.stream(args, 1, args.length).mapToInt(Integer::parseInt).toArray()
                : new int[] {1, 8};
        int threads = Integer.getInteger("threads", 2);
        double warmupSeconds = Double.parseDouble(System.getProperty("warmup", "8"));
        int rounds = Integer.getInteger("rounds", 30);
        int block = Integer.getInteger("block", 1);
        if (block < 1) throw new IllegalArgumentException("-Dblock must be at least 1, got " + block);

        Graph g = ModelFiles.load(model);
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        OrtSession.SessionOptions o = new OrtSession.SessionOptions();
        o.setIntraOpNumThreads(threads);
        o.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        // ORT's intra-op threads spin after each parallel section by default; in one JVM that spinning would take the
        // cores from netslim's next pass. -Dspin=true keeps ORT's default.
        boolean spin = Boolean.getBoolean("spin");
        if (!spin) o.addConfigEntry("session.intra_op.allow_spinning", "0");
        try (Backend backend = CpuBackend.create(threads, Gemm.select(System.getProperty("gemm", "auto"), threads));
             OrtSession ort = env.createSession(model.toString(), o)) {
            String in = ort.getInputNames().iterator().next();
            System.out.printf("# %s: netslim (%s) vs ONNX Runtime %s (%d intra-op threads), one JVM, passes "
                    + "interleaved%s; %d timed rounds per batch after %.1f s of warm-up%n", model.getFileName(), backend,
                    env.getVersion() + (spin ? "" : ", spinning off"), threads,
                    block == 1 ? "" : " in blocks of " + block + " (the first pass of each block not counted)", rounds,
                    warmupSeconds);
            for (int batch : batches) {
                Shape xs = Shape.of(batch, g.inputShape().dim(0), g.inputShape().dim(1), g.inputShape().dim(2));
                float[] data = new float[xs.size()];
                Random r = new Random(1);
                for (int i = 0; i < data.length; i++) data[i] = (float) r.nextGaussian();
                Tensor x = Tensor.of(xs, data);
                long[] ortShape = {batch, xs.dim(1), xs.dim(2), xs.dim(3)};
                try (Executor ex = Executor.forInference(g, backend, batch);
                     OnnxTensor t = OnnxTensor.createTensor(env, FloatBuffer.wrap(data), ortShape)) {
                    Runnable ortPass = () -> {
                        try (OrtSession.Result res = ort.run(Map.of(in, t))) {
                            res.get(0);
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    };
                    Runnable netslimPass = () -> ex.forward(x);
                    System.out.printf("batch %d: largest |netslim - ORT| over the outputs %.3g%n", batch,
                            maxDifference(ex.forward(x).data(), ort, in, t));
                    long until = System.nanoTime() + (long) (warmupSeconds * 1e9);
                    for (int i = 0; i < 10 || System.nanoTime() < until; i++) {
                        ortPass.run();
                        netslimPass.run();
                    }
                    List<Double> ortMs = new ArrayList<>(), netMs = new ArrayList<>(), ratios = new ArrayList<>();
                    for (int round = 0; round < rounds; round++) {
                        List<Double> a, b;
                        if (round % 2 == 0) {
                            a = timeBlock(ortPass, block);
                            b = timeBlock(netslimPass, block);
                        } else {
                            b = timeBlock(netslimPass, block);
                            a = timeBlock(ortPass, block);
                        }
                        ortMs.addAll(a);
                        netMs.addAll(b);
                        ratios.add(median(b) / median(a));
                    }
                    double ortMed = median(ortMs), netMed = median(netMs);
                    System.out.printf("batch %d: ORT median %.2f ms (p10 %.2f), netslim median %.2f ms (p10 %.2f); "
                                    + "netslim/ORT = %.2f (ratio of medians), %.2f (median of per-round ratios)%n",
                            batch, ortMed, percentile(ortMs, 0.1), netMed, percentile(netMs, 0.1), netMed / ortMed,
                            median(ratios));
                }
            }
        }
    }

    private static double maxDifference(float[] mine, OrtSession ort, String in, OnnxTensor t) throws Exception {
        try (OrtSession.Result res = ort.run(Map.of(in, t))) {
            float[][] theirs = (float[][]) res.get(0).getValue();
            double worst = 0;
            int cols = theirs[0].length;
            for (int i = 0; i < theirs.length; i++) {
                for (int j = 0; j < cols; j++) worst = Math.max(worst, Math.abs(mine[i * cols + j] - theirs[i][j]));
            }
            return worst;
        }
    }

    /** The times of block passes of one engine back to back, the first left out when block > 1. */
    private static List<Double> timeBlock(Runnable pass, int block) {
        List<Double> t = new ArrayList<>();
        for (int i = 0; i < block; i++) {
            double ms = time(pass);
            if (block == 1 || i > 0) t.add(ms);
        }
        return t;
    }

    private static double time(Runnable pass) {
        long t0 = System.nanoTime();
        pass.run();
        return (System.nanoTime() - t0) / 1e6;
    }

    private static double median(List<Double> v) {
        return percentile(v, 0.5);
    }

    private static double percentile(List<Double> v, double q) {
        double[] s = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return s[Math.min(s.length - 1, (int) (q * s.length))];
    }
}
