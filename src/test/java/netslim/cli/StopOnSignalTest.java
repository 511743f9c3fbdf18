package netslim.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import netslim.io.Nsm;
import netslim.nn.Graph;
import netslim.train.Checkpoint;
import netslim.train.SyntheticData;
import netslim.train.TinyModels;

/**
 * A real signal: {@code netslim train} runs in a child JVM, gets SIGTERM (what Ctrl-C's SIGINT also triggers: the
 * shutdown hook) after its first epoch, checkpoints at the next step boundary and exits; {@code --resume} then
 * finishes with the same weights as an uninterrupted run.
 */
class StopOnSignalTest {
    @Test
    void signalCheckpointsMidRunAndResumeMatchesAnUninterruptedRun(@TempDir Path dir) throws Exception {
        Path data = dir.resolve("idx"), model = dir.resolve("m.nsm");
        SyntheticData.writeIdxDir(data, 28, 640, 40, 41);
        Nsm.save(TinyModels.convNet(28, 16, 10, 0.2f, 3), model);
        Path stopped = dir.resolve("stopped.nsm"), straight = dir.resolve("straight.nsm");

        Process p = new ProcessBuilder(childCommand(args(model, data, stopped))).start();
        p.getOutputStream().close();
        CountDownLatch firstEpoch = new CountDownLatch(1);
        List<String> errLines = new ArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (errLines) {
                        errLines.add(line);
                    }
                    if (line.startsWith("epoch 1:")) firstEpoch.countDown();
                }
            } catch (IOException e) {
                // the child is gone
            }
        });
        reader.start();
        assertTrue(firstEpoch.await(240, TimeUnit.SECONDS), "no epoch line: " + errLines);
        // SIGTERM runs the JVM's shutdown hooks as SIGINT does. Not Process.destroy(): that also closes our ends of
        // the child's pipes, and we want to read what the child prints while it stops.
        p.toHandle().destroy();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "child did not exit");
        reader.join(10_000);
        String err = String.join("\n", errLines);
        assertEquals(143, p.exitValue(), err);
        assertTrue(err.contains("netslim: signal received; stopping at the next step boundary"), err);
        assertTrue(err.matches("(?s).*netslim: stopped at (epoch [23]/3, step \\d+|the start of epoch [23]/3).*"), err);
        assertTrue(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).isEmpty(), "nothing on stdout");
        Checkpoint.Loaded ck = Checkpoint.load(stopped);
        assertFalse(ck.state().complete(), "stopped before the end: " + ck.state().epoch());
        assertTrue(ck.state().epoch() >= 1);

        CliTest.Result resumed = CliTest.cli(withResume(args(model, data, stopped)));
        assertEquals(0, resumed.code(), resumed.err());
        assertTrue(resumed.err().contains("resuming " + stopped), resumed.err());
        CliTest.Result full = CliTest.cli(args(model, data, straight));
        assertEquals(0, full.code(), full.err());
        Graph a = Nsm.load(straight), b = Nsm.load(stopped);
        for (String name : a.params().names()) {
            assertArrayEquals(a.params().get(name).toArray(), b.params().get(name).toArray(), name);
        }
    }

    private static String[] args(Path model, Path data, Path out) {
        return new String[] {"train", "--model", model.toString(), "--data", "idx:" + data, "--epochs", "3", "--batch",
                "16", "--lr", "0.05", "--device", "cpu", "--threads", "1", "--out", out.toString()};
    }

    private static String[] withResume(String[] args) {
        String[] a = java.util.Arrays.copyOf(args, args.length + 1);
        a[args.length] = "--resume";
        return a;
    }

    /** The same JVM and class path as this test (surefire's manifest jar carries the class path). */
    private static List<String> childCommand(String[] args) {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-XX:+UseSerialGC", "-Xmx512m", "-cp",
                System.getProperty("java.class.path"), "netslim.cli.Main"));
        cmd.addAll(List.of(args));
        return cmd;
    }
}
