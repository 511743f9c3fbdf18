package netslim.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code netslim} in a child JVM: the same Java and class path as the tests (surefire's manifest jar carries the
 * class path), for what needs a process of its own — SIGKILL, a small heap, the real stderr. Output goes to files,
 * so nothing blocks on a full pipe and a killed child's last words can still be read.
 */
final class ChildCli {
    private ChildCli() {
    }

    /** A finished child: exit code and both streams. */
    record Result(int code, String out, String err) {
        /** stderr without the JVM's own warnings (e.g. "WARNING: Using incubator modules"). */
        List<String> errLines() {
            return err.lines().filter(l -> !l.isBlank() && !l.startsWith("WARNING: ")
                    && !l.startsWith("OpenJDK 64-Bit Server VM warning:")).toList();
        }
    }

    /** A started child and where its streams go. */
    record Running(Process process, Path out, Path err) {
        Result await(long seconds) throws IOException, InterruptedException {
            if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor();
                throw new AssertionError("the child did not finish in " + seconds + " s: " + Files.readString(err));
            }
            return new Result(process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                    Files.readString(err, StandardCharsets.UTF_8));
        }

        /** SIGKILL on Linux: no shutdown hook, no flush, no cleanup. */
        void kill() throws InterruptedException {
            process.destroyForcibly().waitFor();
        }
    }

    /** Starts {@code netslim args} with heap {@code xmx} (e.g. "256m"); streams go to {@code logs}/NAME.{out,err}. */
    static Running start(Path logs, String name, String xmx, String... args) throws IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss8m",
                "-Xmx" + xmx, "-cp", System.getProperty("java.class.path"), "netslim.cli.Main"));
        cmd.addAll(List.of(args));
        Files.createDirectories(logs);
        Path out = logs.resolve(name + ".out"), err = logs.resolve(name + ".err");
        Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        return new Running(p, out, err);
    }

    static Result run(Path logs, String name, String xmx, String... args) throws IOException, InterruptedException {
        return start(logs, name, xmx, args).await(300);
    }
}
