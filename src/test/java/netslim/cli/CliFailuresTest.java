package netslim.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import netslim.NetslimException;
import netslim.io.Npy;
import netslim.io.Nsm;
import netslim.nn.Graph;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.train.SyntheticData;
import netslim.train.TinyModels;

/**
 * Clear failures: out of memory during a batch (a child JVM with a small heap), outputs that cannot be written or
 * do not fit (refused before any work), non-finite outputs of {@code run} (a warning).
 */
class CliFailuresTest {
    @TempDir
    static Path dir;
    static Path data, model;

    @BeforeAll
    static void fixtures() throws IOException {
        data = dir.resolve("idx");
        SyntheticData.writeIdxDir(data, 28, 256, 16, 3);
        model = dir.resolve("tiny.nsm");
        Nsm.save(TinyModels.convNet(28, 4, 10, 0, 1), model);
    }

    @Test
    void outOfMemoryDuringABatchIsOneLineSuggestingASmallerBatch() throws Exception {
        // googlenet-cifar's activations for 256 images of 28x28 need far more than a 160 MiB heap
        ChildCli.Result r = ChildCli.run(dir.resolve("logs"), "oom", "160m", "train", "--model", "googlenet-cifar",
                "--width", "0.25", "--data", "idx:" + data, "--epochs", "1", "--batch", "256", "--device", "cpu",
                "--threads", "1", "--out", dir.resolve("oom.nsm").toString());
        assertEquals(2, r.code(), r.err());
        List<String> lines = r.errLines();
        String last = lines.get(lines.size() - 1);
        assertTrue(last.startsWith("netslim: error: out of memory"), r.err());
        assertTrue(last.contains("try a smaller --batch than 256"), last);
        assertTrue(lines.stream().noneMatch(l -> l.matches("\\s+at .*") || l.contains("Exception")), r.err());
        assertTrue(lines.size() <= 2, "at most the run's header line before the error: " + r.err());
        assertFalse(Files.exists(dir.resolve("oom.nsm")));
    }

    @Test
    void anOutOfMemoryErrorWrappedByAWorkerThreadIsStillRecognised() {
        StringWriter err = new StringWriter();
        int code = Main.handle(new IllegalStateException("preparing a batch failed",
                new OutOfMemoryError("Java heap space")), new PrintWriter(err, true));
        assertEquals(2, code);
        assertTrue(err.toString().startsWith("netslim: error: out of memory (Java heap space); try a smaller --batch"),
                err.toString());
    }

    /** A read-only file system: even root cannot create a file in /proc. */
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"train", "finetune", "prune", "decompose", "run"})
    void anUnwritableOutputIsRefusedBeforeAnyWork(String command) {
        Path proc = Path.of("/proc");
        org.junit.jupiter.api.Assumptions.assumeTrue(Files.isDirectory(proc.resolve("self")), "needs Linux /proc");
        String out = proc.resolve(command.equals("run") ? "y.npy" : "m.nsm").toString();
        String[] args = switch (command) {
            // the data does not exist either: the output must be checked first
            case "train", "finetune" -> new String[] {command, "--model", model.toString(), "--data",
                    "idx:" + dir.resolve("no-such-data"), "--epochs", "1", "--out", out};
            case "prune" -> new String[] {command, "--model", model.toString(), "--ratio", "0.5", "--out", out};
            case "decompose" -> new String[] {command, "--model", model.toString(), "--rank", "evbmf", "--out", out};
            default -> new String[] {command, "--model", model.toString(), "--input", input().toString(), "--output",
                    out};
        };
        CliErrorContractTest.Run r = CliErrorContractTest.cli(args);
        assertEquals(2, r.code(), r.err());
        assertEquals(1, r.errLines().size(), "one line and nothing started before it: " + r.err());
        assertTrue(r.errLines().get(0).contains(out) && r.errLines().get(0).contains("cannot write in /proc"),
                r.err());
    }

    @Test
    void anOutputThatDoesNotFitIsRefusedNamingTheFreeSpace() {
        NetslimException e = assertThrows(NetslimException.class,
                () -> OutputPaths.requireSpace(dir.resolve("big.nsm"), Long.MAX_VALUE / 2, "--out"));
        assertTrue(e.getMessage().matches("--out .*big\\.nsm: only [0-9.]+ [MG]iB free in .*, the file needs about "
                + "[0-9.]+ GiB \\(disk full\\?\\)"), e.getMessage());
        OutputPaths.requireSpace(dir.resolve("small.nsm"), 1, "--out");
    }

    @Test
    void runWarnsWhenAModelOverflowsToInfinity() throws IOException {
        Graph g = TinyModels.convNet(28, 4, 10, 0, 1);
        // bias at the largest float: any positive feature times the largest weight pushes a logit past it
        for (String p : List.of("fc.weight", "fc.bias")) {
            Tensor t = g.params().get(p);
            for (int i = 0; i < t.size(); i++) t.set(i, Float.MAX_VALUE);
        }
        Path overflowing = dir.resolve("overflow.nsm"), out = dir.resolve("y.npy");
        Nsm.save(g, overflowing);
        CliErrorContractTest.Run r = CliErrorContractTest.cli("run", "--model", overflowing.toString(), "--input",
                input().toString(), "--output", out.toString(), "--device", "cpu");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("netslim: warning: ") && r.err().contains("outputs are NaN or infinite"), r.err());
        float[] y = Npy.read(out).toArray();
        assertTrue(!Float.isFinite(y[0]), "the overflow is real: " + y[0]);

        CliErrorContractTest.Run fine = CliErrorContractTest.cli("run", "--model", model.toString(), "--input",
                input().toString(), "--output", out.toString(), "--device", "cpu");
        assertEquals(0, fine.code(), fine.err());
        assertFalse(fine.err().contains("warning"), fine.err());
    }

    private static Path input() {
        Path in = dir.resolve("x.npy");
        if (!Files.exists(in)) {
            Tensor x = Tensor.zeros(Shape.of(2, 1, 28, 28));
            new Rng(4).fillUniform(x, 0, 1);
            Npy.write(in, x);
        }
        return in;
    }
}
