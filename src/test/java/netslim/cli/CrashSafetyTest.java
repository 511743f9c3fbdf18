package netslim.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import netslim.io.Nsm;
import netslim.nn.Graph;
import netslim.nn.GraphBuilder;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.train.Checkpoint;
import netslim.train.SyntheticData;

/**
 * SIGKILL at seeded random points — during an epoch and, aimed by watching for the temporary file, during a
 * checkpoint or output write — never leaves a torn file: a checkpoint on disk always loads, {@code --resume} ends
 * with the same weights bit for bit as an uninterrupted run, and {@code prune} / {@code decompose} (and
 * {@code compress} where it exists) outputs are either absent or complete.
 */
class CrashSafetyTest {
    @TempDir
    static Path dir;
    static Path data, wide;

    @BeforeAll
    static void fixtures() throws IOException {
        data = dir.resolve("idx");
        SyntheticData.writeIdxDir(data, 8, 64, 16, 17);
        wide = dir.resolve("wide.nsm");
        Nsm.save(wideNet(), wide);
    }

    /**
     * conv → flatten → linear 256→1024 → linear 1024→10: cheap steps but a 2 MB checkpoint (weights and momentum),
     * so much of each short epoch is spent writing it and random kills often land there.
     */
    static Graph wideNet() {
        GraphBuilder b = new GraphBuilder("input", Shape.of(1, 8, 8));
        String x = b.relu("relu1", b.conv("conv1", b.input(), 1, 4, 3, 1, 1, true));
        x = b.relu("relu2", b.linear("fc1", b.flatten("flat", x), 256, 1024, true));
        Graph g = b.build(b.linear("fc2", x, 1024, 10, true));
        Rng rng = new Rng(23);
        for (String name : g.params().names()) {
            if (name.endsWith(".weight")) rng.fillUniform(g.params().get(name), -0.1f, 0.1f);
        }
        return g;
    }

    private static String[] train(Path out, boolean resume) {
        List<String> a = new ArrayList<>(List.of("train", "--model", wide.toString(), "--data", "idx:" + data,
                "--epochs", "40", "--batch", "16", "--lr", "0.05", "--augment", "none", "--seed", "3", "--device",
                "cpu", "--threads", "1", "--out", out.toString()));
        if (resume) a.add("--resume");
        return a.toArray(new String[0]);
    }

    @Test
    void killedTrainingLeavesLoadableCheckpointsAndResumesBitIdentically() throws Exception {
        Path ck = dir.resolve("ck.nsm"), logs = dir.resolve("train-logs");
        Rng rng = new Rng(2024);
        int kills = 0, duringWrite = 0, lastEpoch = -1;
        for (int attempt = 0; attempt < 14 && (kills < 6 || duringWrite < 2); attempt++) {
            ChildCli.Running child = ChildCli.start(logs, "kill" + attempt, "256m", train(ck, true));
            boolean aimAtWrite = attempt % 2 == 1;
            if (!killWhen(child, ck, aimAtWrite, -1, rng)) break; // it finished first: nothing left to interrupt
            kills++;
            if (tempOf(ck, child.process().pid())) duringWrite++;
            if (Files.exists(ck)) {
                Checkpoint.Loaded loaded = Checkpoint.load(ck); // never torn: a checkpoint always loads
                assertTrue(loaded.state().epoch() >= lastEpoch, "checkpoints only move forward");
                lastEpoch = loaded.state().epoch();
            }
        }
        assertTrue(kills >= 4, "kills: " + kills);
        assertTrue(duringWrite >= 1, "no kill landed during a checkpoint write in " + kills + " kills");

        CliTest.Result resumed = CliTest.cli(train(ck, true));
        assertEquals(0, resumed.code(), resumed.err());
        Path straight = dir.resolve("straight.nsm");
        CliTest.Result full = CliTest.cli(train(straight, false));
        assertEquals(0, full.code(), full.err());
        assertSameWeights(Nsm.load(straight), Nsm.load(ck));
        try (Stream<Path> left = Files.list(dir)) {
            assertEquals(List.of(), left.filter(p -> p.getFileName().toString().startsWith(".ck.nsm.")).toList(),
                    "the temporaries of killed writes are cleaned up by the next write");
        }
        System.out.printf("crash safety (train): %d kills, %d during a checkpoint write, last checkpoint epoch %d%n",
                kills, duringWrite, lastEpoch);
    }

    static Stream<Arguments> writers() {
        List<Arguments> cases = new ArrayList<>(List.of(
                Arguments.of("prune", List.of("prune", "--model", "resnet20-cifar", "--ratio", "0.5", "--out")),
                Arguments.of("decompose", List.of("decompose", "--model", "resnet20-cifar", "--rank", "evbmf",
                        "--threads", "1", "--out"))));
        if (CliErrorContractTest.subcommands().contains("compress")) {
            cases.add(Arguments.of("compress", List.of("compress", "--model", wide.toString(), "--data", "idx:" + data,
                    "--pipeline", "prune", "--ratio", "0.5", "--finetune-epochs", "0", "--report",
                    dir.resolve("compress-report").toString(), "--out")));
        }
        return cases.stream();
    }

    /** Kills a command at random points and while it writes; its output must be absent or complete, never torn. */
    @ParameterizedTest(name = "{0}")
    @MethodSource("writers")
    void killedWritersLeaveTheirOutputAbsentOrComplete(String command, List<String> argsBeforeOut) throws Exception {
        Path logs = dir.resolve(command + "-logs"), reference = dir.resolve(command + "-reference.nsm");
        long t0 = System.nanoTime();
        ChildCli.Result ok = ChildCli.run(logs, "reference", "512m", with(argsBeforeOut, reference));
        assertEquals(0, ok.code(), ok.err());
        int runMillis = (int) ((System.nanoTime() - t0) / 1_000_000); // random kills fall within a run's length
        Graph expected = Nsm.load(reference);
        Rng rng = new Rng(command.hashCode());
        int kills = 0, duringWrite = 0;
        for (int attempt = 0; attempt < 10 && (kills < 4 || duringWrite < 1); attempt++) {
            // odd attempts overwrite an existing output; even ones write a new file
            Path out = dir.resolve(command + (attempt % 2 == 1 ? "-existing.nsm" : "-new" + attempt + ".nsm"));
            if (attempt % 2 == 1 && !Files.exists(out)) Files.copy(reference, out);
            ChildCli.Running child = ChildCli.start(logs, "kill" + attempt, "512m", with(argsBeforeOut, out));
            boolean killed = killWhen(child, out, attempt % 4 >= 2, runMillis, rng);
            if (killed) kills++;
            if (killed && tempOf(out, child.process().pid())) duringWrite++;
            if (Files.exists(out)) assertSameWeights(expected, Nsm.load(out)); // old or new, but whole
        }
        assertTrue(kills >= 3, command + " kills: " + kills);
        System.out.printf("crash safety (%s): %d kills, %d during the output write%n", command, kills, duringWrite);
    }

    /**
     * Waits, then SIGKILLs: when {@code aimAtWrite}, as soon as the child's temporary file for {@code out} appears;
     * otherwise at a seeded random point: within {@code randomMillis} of the launch, or (when it is -1, for
     * training) after 0 to 2 more epoch lines on stderr and up to 50 ms, so the point does not depend on the
     * machine's speed. False when the child exited by itself first.
     */
    private static boolean killWhen(ChildCli.Running child, Path out, boolean aimAtWrite, int randomMillis, Rng rng)
            throws Exception {
        Process p = child.process();
        long deadline = System.nanoTime() + 120_000_000_000L;
        if (randomMillis < 0) {
            while (p.isAlive() && !started(child) && System.nanoTime() < deadline) Thread.sleep(2);
        }
        if (aimAtWrite) {
            while (p.isAlive() && !tempOf(out, p.pid()) && System.nanoTime() < deadline) Thread.onSpinWait();
        } else if (randomMillis >= 0) {
            Thread.sleep(rng.nextInt(Math.max(1, randomMillis)));
        } else {
            long target = epochLines(child) + rng.nextInt(3);
            while (p.isAlive() && epochLines(child) < target && System.nanoTime() < deadline) Thread.sleep(2);
            Thread.sleep(rng.nextInt(50));
        }
        if (!p.isAlive()) {
            assertEquals(0, p.exitValue(), "the child failed by itself: " + Files.readString(child.err()));
            return false;
        }
        child.kill();
        return true;
    }

    /** The child printed its first line on stderr (the run's header, or the first progress line). */
    private static boolean started(ChildCli.Running child) throws IOException {
        return Files.readString(child.err()).lines().anyMatch(l -> l.startsWith("netslim: ") && !l.contains("--resume"));
    }

    private static long epochLines(ChildCli.Running child) throws IOException {
        return Files.readString(child.err()).lines().filter(l -> l.matches("epoch \\d+: .*")).count();
    }

    /** Whether {@code pid}'s temporary file for {@code out} exists (AtomicFiles: .NAME.PID.N.tmp). */
    private static boolean tempOf(Path out, long pid) throws IOException {
        String prefix = "." + out.getFileName() + "." + pid + ".";
        try (Stream<Path> s = Files.list(out.getParent())) {
            return s.map(f -> f.getFileName().toString()).anyMatch(n -> n.startsWith(prefix) && n.endsWith(".tmp"));
        }
    }

    private static String[] with(List<String> argsBeforeOut, Path out) {
        List<String> a = new ArrayList<>(argsBeforeOut);
        a.add(out.toString());
        return a.toArray(new String[0]);
    }

    static void assertSameWeights(Graph expected, Graph actual) {
        assertEquals(expected.params().names(), actual.params().names());
        for (String name : expected.params().names()) {
            assertArrayEquals(expected.params().get(name).toArray(), actual.params().get(name).toArray(), name);
        }
    }
}
