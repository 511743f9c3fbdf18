package netslim.bench;

import java.util.concurrent.TimeUnit;

import netslim.api.Device;
import netslim.api.NetslimModel;
import netslim.nn.models.Zoo;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Embedding throughput: 1, 2, 4 and 16 threads calling {@link NetslimModel#predict(float[], int)} on ONE shared
 * model (the service case), batch 1 and 8, googlenet-cifar (width {@code width}, 1x28x28) and googlenet
 * (3x224x224). Scores are calls per second summed over the threads: images/s = score × batch. {@code threads}
 * is the model's {@link NetslimModel.Options#threads} (0: a worker per core shared by all calls; 1: each call on
 * its caller's thread only). Seeded zoo weights; the input of each thread is seeded by its index. Run:
 * {@code bench/run-jmh.sh EmbeddingBench -f 1 -wi 1 -i 3 -p model=googlenet-cifar}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-XX:+UseParallelGC", "-Xss8m", "-Xmx8g",
        "-XX:+UseTransparentHugePages"}) // as ./netslim runs where the kernel offers them (else: a JVM warning)
public class EmbeddingBench {

    /** The one model all benchmark threads share. */
    @State(Scope.Benchmark)
    public static class SharedModel {
        @Param({"googlenet-cifar", "googlenet"})
        public String model;

        @Param({"1", "8"})
        public int batch;

        @Param({"0.25"})
        public double width;

        @Param({"0"})
        public int threads;

        NetslimModel m;

        @Setup(Level.Trial)
        public void load() {
            boolean cifar = model.equals("googlenet-cifar");
            Zoo.Options o = new Zoo.Options(0, null, cifar ? width : 1.0, 42);
            m = NetslimModel.of(Zoo.create(model, o), Device.CPU, new NetslimModel.Options(threads, true));
        }

        @TearDown(Level.Trial)
        public void close() {
            m.close();
        }
    }

    /** Each benchmark thread's own input batch. */
    @State(Scope.Thread)
    public static class Input {
        private static final java.util.concurrent.atomic.AtomicInteger NEXT = new java.util.concurrent.atomic.AtomicInteger();
        float[] images;

        @Setup(Level.Trial)
        public void make(SharedModel s) {
            Shape in = s.m.inputShape();
            images = new Rng(1000 + NEXT.getAndIncrement())
                    .uniform(Shape.of(s.batch, in.dim(0), in.dim(1), in.dim(2))).toArray();
        }
    }

    @Benchmark
    @Threads(1)
    public float[] threads01(SharedModel s, Input in) {
        return s.m.predict(in.images, s.batch);
    }

    @Benchmark
    @Threads(2)
    public float[] threads02(SharedModel s, Input in) {
        return s.m.predict(in.images, s.batch);
    }

    @Benchmark
    @Threads(4)
    public float[] threads04(SharedModel s, Input in) {
        return s.m.predict(in.images, s.batch);
    }

    @Benchmark
    @Threads(16)
    public float[] threads16(SharedModel s, Input in) {
        return s.m.predict(in.images, s.batch);
    }
}
