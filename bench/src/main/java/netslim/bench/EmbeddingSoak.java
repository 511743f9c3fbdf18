package netslim.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;

import netslim.api.Device;
import netslim.api.NetslimModel;
import netslim.nn.models.Zoo;
import netslim.tensor.Rng;
import netslim.tensor.Shape;

/**
 * Soak of the embedding API (issue "Reliability", part 5): T threads call {@link NetslimModel#predict} on ONE shared
 * model for a given time; every result is compared bit for bit with the single-threaded result of the same input;
 * every 10 s it prints throughput, heap used after a full GC and the process's resident set (VmRSS: heap plus native
 * memory). Exit status 1 on any mismatch or failure. Not a JMH benchmark: the point is a long, steady run.
 *
 * <p>Usage: {@code bench/soak.sh [SECONDS] [THREADS] [MODEL] [BATCH]} (defaults 600, 16, googlenet-cifar, 1).
 */
public final class EmbeddingSoak {
    private EmbeddingSoak() {
    }

    public static void main(String[] args) throws Exception {
        int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 600;
        int threads = args.length > 1 ? Integer.parseInt(args[1]) : 16;
        String model = args.length > 2 ? args[2] : "googlenet-cifar";
        int batch = args.length > 3 ? Integer.parseInt(args[3]) : 1;
        boolean cifar = model.equals("googlenet-cifar");
        var options = new Zoo.Options(0, null, cifar ? 0.25 : 1.0, 42);
        try (NetslimModel m = NetslimModel.of(Zoo.create(model, options), Device.CPU, NetslimModel.Options.defaults())) {
            Shape in = m.inputShape();
            int inputs = 64;
            float[][] x = new float[inputs][];
            float[][] expected = new float[inputs][];
            for (int i = 0; i < inputs; i++) {
                x[i] = new Rng(7000 + i).uniform(Shape.of(batch, in.dim(0), in.dim(1), in.dim(2))).toArray();
                expected[i] = m.predict(x[i], batch); // single-threaded reference, same batch size
            }
            System.out.printf(Locale.ROOT, "soak: %s batch %d, %d threads, %d s, %d distinct inputs; %s%n",
                    model, batch, threads, seconds, inputs, Runtime.version());
            AtomicLong calls = new AtomicLong(), mismatches = new AtomicLong(), failures = new AtomicLong();
            long end = System.nanoTime() + seconds * 1_000_000_000L;
            List<Thread> workers = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int id = t;
                Thread w = new Thread(() -> {
                    int i = id % inputs;
                    while (System.nanoTime() < end) {
                        try {
                            if (!Arrays.equals(m.predict(x[i], batch), expected[i])) mismatches.incrementAndGet();
                        } catch (RuntimeException e) {
                            if (failures.getAndIncrement() == 0) e.printStackTrace();
                        }
                        calls.incrementAndGet();
                        i = (i + threads) % inputs;
                    }
                }, "soak-" + t);
                w.start();
                workers.add(w);
            }
            long start = System.nanoTime(), last = 0, lastCalls = 0;
            System.out.println("   t_s    calls/s  heap_after_gc_MiB  rss_MiB  mismatches");
            while (workers.stream().anyMatch(Thread::isAlive)) {
                Thread.sleep(10_000);
                long now = System.nanoTime(), c = calls.get();
                System.gc();
                long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
                System.out.printf(Locale.ROOT, "%6.0f %10.1f %18.1f %8.1f %11d%n", (now - start) / 1e9,
                        (c - lastCalls) / ((now - Math.max(last, start)) / 1e9), heap / 1048576.0, rssMiB(),
                        mismatches.get());
                last = now;
                lastCalls = c;
            }
            for (Thread w : workers) w.join();
            System.out.printf(Locale.ROOT, "soak done: %d calls, %d mismatches, %d failures%n", calls.get(),
                    mismatches.get(), failures.get());
            if (mismatches.get() > 0 || failures.get() > 0) System.exit(1);
        }
    }

    /** The process's resident set in MiB (Linux /proc), or NaN elsewhere. */
    private static double rssMiB() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("\\D", "")) / 1024.0;
            }
        } catch (Exception ignored) {
            // not Linux
        }
        return Double.NaN;
    }
}
