package netslim.backend.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import netslim.backend.Backend;
import netslim.backend.Backends;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.nn.ParamStore;
import netslim.nn.models.Zoo;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Training-step throughput of a zoo model on a device, for bench/gpu/run.sh while the CLI has no {@code finetune}:
 * forward (training mode), softmax cross-entropy, backward, SGD with momentum on every parameter, on seeded random
 * host batches (uploaded each step, as a loader would), after warm-up; one JSON line on stdout. Not a test.
 * <pre>java -cp netslim.jar:test-classes netslim.backend.cuda.TrainStepBench googlenet-cifar 128 30 cuda [tf32]</pre>
 */
public final class TrainStepBench {
    private TrainStepBench() {
    }

    public static void main(String[] args) {
        try {
            run(args);
        } catch (netslim.NetslimException e) {
            System.err.println("netslim: error: " + e.getMessage());
            System.exit(2);
        }
    }

    private static void run(String[] args) {
        String model = args.length > 0 ? args[0] : "googlenet-cifar";
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 30;
        String device = args.length > 3 ? args[3] : "cuda";
        boolean tf32 = args.length > 4 && args[4].equals("tf32");
        int warmup = Math.max(2, steps / 5);
        Graph g = Zoo.create(model, new Zoo.Options(0, null, 1.0, 1));
        Shape in = g.inputShape();
        Rng rng = new Rng(3);
        List<Tensor> batches = new ArrayList<>();
        List<int[]> labels = new ArrayList<>();
        int classes = g.shapes(1).get(g.outputName()).dim(1);
        for (int i = 0; i < 4; i++) {
            batches.add(rng.uniform(Shape.of(batch, in.dim(0), in.dim(1), in.dim(2))));
            int[] l = new int[batch];
            for (int j = 0; j < batch; j++) l[j] = rng.nextInt(classes);
            labels.add(l);
        }
        try (Backend b = Backends.select(device, tf32, msg -> System.err.println("netslim: " + msg));
             Executor ex = new Executor(g, b, batch, Executor.Mode.TRAINING)) {
            Shape out = g.shapes(batch).get(g.outputName());
            Tensor probs = b.allocate(out), dlogits = b.allocate(out);
            Tensor hostProbs = Tensor.zeros(out);
            List<String> trainable = g.params().names().stream().filter(p -> !ParamStore.isBuffer(p)).toList();
            List<Tensor> velocity = trainable.stream().map(p -> b.allocate(g.params().get(p).shape())).toList();
            double[] ms = new double[steps];
            // Device timestamps between the phases (null on the CPU): forward, loss, backward, update.
            Backend.DeviceTimer phases = b.deviceTimer(5);
            double[][] phaseMs = new double[4][steps];
            float loss = 0;
            for (int s = 0; s < warmup + steps; s++) {
                long t0 = System.nanoTime();
                if (phases != null) phases.mark(0);
                Tensor logits = ex.forward(batches.get(s % 4));
                if (phases != null) phases.mark(1);
                loss = b.softmaxCrossEntropy(logits, labels.get(s % 4), 0f, probs);
                b.fill(dlogits, 0f);
                b.softmaxCrossEntropyBackward(probs, labels.get(s % 4), 0f, 1f, dlogits);
                for (String p : trainable) b.fill(ex.paramGrad(p), 0f);
                if (phases != null) phases.mark(2);
                ex.backward(dlogits);
                if (phases != null) phases.mark(3);
                for (int i = 0; i < trainable.size(); i++) {
                    b.sgdStep(ex.param(trainable.get(i)), ex.paramGrad(trainable.get(i)), velocity.get(i), 0.01f,
                            0.9f, 5e-4f, false);
                }
                if (phases != null) phases.mark(4);
                b.download(probs, hostProbs); // synchronises: the step is done
                if (s >= warmup) {
                    ms[s - warmup] = (System.nanoTime() - t0) / 1e6;
                    for (int q = 0; phases != null && q < 4; q++) phaseMs[q][s - warmup] = phases.elapsedMs(q, q + 1);
                }
            }
            // One more forward with a per-node timer: forward time by layer kind (events between the ops).
            java.util.Map<String, Double> byKind = new java.util.TreeMap<>();
            if (phases != null) {
                ex.setNodeTimer((n, nanos) -> byKind.merge(n.layer().kind(), nanos / 1e6, Double::sum));
                ex.forward(batches.get(0));
                ex.setNodeTimer(null);
                phases.close();
            }
            double[] sorted = ms.clone();
            Arrays.sort(sorted);
            double median = sorted[steps / 2];
            StringBuilder extra = new StringBuilder();
            String[] names = {"forward", "loss", "backward", "update"};
            for (int q = 0; phases != null && q < 4; q++) {
                double[] p = phaseMs[q].clone();
                Arrays.sort(p);
                extra.append(String.format(Locale.ROOT, ",\"%s_ms\":%.3f", names[q], p[steps / 2]));
            }
            byKind.forEach((k, v) -> extra.append(String.format(Locale.ROOT, ",\"fwd_%s_ms\":%.3f", k, v)));
            System.out.printf(Locale.ROOT, "{\"model\":\"%s\",\"batch\":%d,\"device\":\"%s\",\"tf32\":%b,\"steps\":%d,"
                    + "\"median_step_ms\":%.3f,\"images_per_s\":%.1f,\"last_loss\":%.4f%s}%n", model, batch, b.name(),
                    tf32, steps, median, batch * 1000.0 / median, loss, extra);
        }
    }
}
