package netslim.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import netslim.io.Npy;
import netslim.io.Nsm;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.train.SyntheticData;
import netslim.train.TinyModels;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The CLI's error contract, for every subcommand found at run time in {@link Main}'s picocli model (so commands
 * added later are covered without editing this test): bad input — an unknown option, a missing required option, a
 * model file that does not exist or is corrupt, a value that is not a number, an output in a missing directory —
 * exits 2 with exactly one non-empty line on stderr and no stack trace; {@code --debug} adds the stack trace.
 */
class CliErrorContractTest {
    @TempDir
    static Path dir;
    static Path data, model, corrupt, input, notADirectory;

    @BeforeAll
    static void fixtures() throws IOException {
        data = dir.resolve("idx");
        SyntheticData.writeIdxDir(data, 8, 32, 16, 5);
        model = dir.resolve("tiny.nsm");
        Nsm.save(TinyModels.convNet(8, 4, 10, 0, 1), model);
        corrupt = dir.resolve("corrupt.nsm");
        byte[] junk = new byte[700];
        Rng rng = new Rng(9);
        for (int i = 0; i < junk.length; i++) junk[i] = (byte) rng.nextInt(256);
        Files.write(corrupt, junk);
        input = dir.resolve("x.npy");
        Tensor x = Tensor.zeros(Shape.of(2, 1, 8, 8));
        rng.fillUniform(x, -1, 1);
        Npy.write(input, x);
        notADirectory = dir.resolve("plain-file");
        Files.writeString(notADirectory, "not a directory");
    }

    /** stdout, and stderr as the user sees it: the command's error writer and System.err together. */
    record Run(int code, String out, List<String> errLines, String err) {
    }

    static Run cli(String... args) {
        StringWriter out = new StringWriter();
        ByteArrayOutputStream errBytes = new ByteArrayOutputStream();
        PrintStream realErr = System.err;
        PrintStream capture = new PrintStream(errBytes, true, StandardCharsets.UTF_8);
        int code;
        System.setErr(capture);
        try {
            code = Main.execute(args, new PrintWriter(out, true), new PrintWriter(capture, true));
        } finally {
            System.setErr(realErr);
        }
        String err = errBytes.toString(StandardCharsets.UTF_8);
        return new Run(code, out.toString(), err.lines().filter(l -> !l.isBlank()).toList(), err);
    }

    /** Every subcommand name (aliases once), from picocli's model of Main. */
    static List<String> subcommands() {
        return new ArrayList<>(new LinkedHashSet<>(new CommandLine(new Main()).getSubcommands().keySet()));
    }

    static Stream<Arguments> badInvocations() {
        List<Arguments> cases = new ArrayList<>();
        cases.add(Arguments.of("no command", new String[] {}));
        cases.add(Arguments.of("unknown command", new String[] {"no-such-command"}));
        cases.add(Arguments.of("unknown top-level option", new String[] {"--no-such-option"}));
        CommandLine root = new CommandLine(new Main());
        for (String name : subcommands()) {
            CommandSpec spec = root.getSubcommands().get(name).getCommandSpec();
            if (spec.userObject() instanceof CommandLine.HelpCommand) {
                // picocli's help prints the usage for anything it does not know, except an unknown command name
                cases.add(Arguments.of(name + ": unknown command", new String[] {name, "no-such-command"}));
                continue;
            }
            cases.add(Arguments.of(name + ": unknown option", new String[] {name, "--no-such-option"}));
            if (!required(spec).isEmpty()) cases.add(Arguments.of(name + ": nothing given", new String[] {name}));
            for (OptionSpec o : required(spec)) {
                Map<String, String> args = validArgs(spec);
                args.remove(o.longestName());
                cases.add(Arguments.of(name + ": missing " + o.longestName(), argv(name, args)));
            }
            if (spec.findOption("--model") != null) {
                cases.add(Arguments.of(name + ": missing model file",
                        argv(name, with(validArgs(spec), "--model", dir.resolve("no/such/model.nsm").toString()))));
                cases.add(Arguments.of(name + ": corrupt model file",
                        argv(name, with(validArgs(spec), "--model", corrupt.toString()))));
            }
            for (OptionSpec o : spec.options()) {
                if (isNumeric(o)) {
                    cases.add(Arguments.of(name + ": " + o.longestName() + " abc",
                            argv(name, with(validArgs(spec), o.longestName(), "abc"))));
                }
                if (isOutput(o)) {
                    cases.add(Arguments.of(name + ": " + o.longestName() + " in a missing directory",
                            argv(name, with(validArgs(spec), o.longestName(),
                                    notADirectory.resolve("out" + extension(o)).toString()))));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badInvocations")
    void badInputIsOneLineAndExitTwo(String what, String[] args) {
        Run r = cli(args);
        assertEquals(2, r.code(), what + ": exit code; stderr: " + r.err());
        assertEquals(1, r.errLines().size(), what + ": exactly one line on stderr, got: " + r.err());
        String line = r.errLines().get(0);
        assertTrue(line.startsWith("netslim: "), what + ": " + line);
        assertFalse(line.contains("Exception") || line.matches("\\s*at .*"), what + ": a stack trace? " + line);
        assertTrue(r.out().isEmpty(), what + ": nothing on stdout, got: " + r.out());
    }

    @Test
    void everySubcommandIsWalked() {
        Set<String> walked = new LinkedHashSet<>();
        badInvocations().forEach(a -> {
            String[] args = (String[]) a.get()[1];
            if (args.length > 0) walked.add(args[0]);
        });
        assertTrue(walked.containsAll(subcommands()), "walked " + walked + " of " + subcommands());
        assertTrue(subcommands().containsAll(List.of("stats", "run", "bench", "train", "eval", "finetune", "prune",
                "decompose", "demo")), subcommands().toString());
    }

    @Test
    void debugAddsTheStackTrace() {
        Run plain = cli("stats", "--model", corrupt.toString());
        Run debug = cli("stats", "--model", corrupt.toString(), "--debug");
        assertEquals(2, debug.code(), debug.err());
        assertEquals(plain.errLines().get(0), debug.errLines().get(0), "the same message first");
        assertTrue(debug.errLines().size() > 2, debug.err());
        assertTrue(debug.errLines().stream().anyMatch(l -> l.matches("\\s+at netslim\\..*")), debug.err());
    }

    private static List<OptionSpec> required(CommandSpec spec) {
        return spec.options().stream().filter(OptionSpec::required).toList();
    }

    /**
     * Values for the command's required options that are valid on their own (a tiny model, a tiny IDX set, outputs
     * in the test's directory), so that each case fails only for the reason it is about.
     */
    private static Map<String, String> validArgs(CommandSpec spec) {
        Map<String, String> args = new LinkedHashMap<>();
        for (OptionSpec o : required(spec)) args.put(o.longestName(), validValue(o));
        return args;
    }

    private static String validValue(OptionSpec o) {
        String n = o.longestName();
        boolean path = o.type() == Path.class;
        return switch (n) {
            case "--model" -> model.toString();
            case "--data" -> "idx:" + data;
            case "--input" -> path ? input.toString() : "1x8x8";
            case "--epochs" -> "1";
            case "--ratio" -> "0.5";
            case "--rank" -> "evbmf";
            case "--pipeline" -> "prune";
            default -> path ? dir.resolve("out" + extension(o)).toString() : isNumeric(o) ? "1" : "x";
        };
    }

    private static boolean isNumeric(OptionSpec o) {
        Class<?> t = o.type();
        return t == int.class || t == long.class || t == double.class || t == float.class || t == Integer.class
                || t == Long.class || t == Double.class || t == Float.class;
    }

    /** An option naming a file or directory the command writes. */
    private static boolean isOutput(OptionSpec o) {
        return o.type() == Path.class && !o.longestName().equals("--input");
    }

    /** A plausible extension for an output option: .npy for run's --output, .onnx for --onnx, .nsm for models. */
    private static String extension(OptionSpec o) {
        String n = o.longestName();
        if (n.equals("--output")) return ".npy";
        if (n.equals("--onnx")) return ".onnx";
        if (n.equals("--out")) return ".nsm";
        return "";
    }

    private static Map<String, String> with(Map<String, String> args, String option, String value) {
        args.put(option, value);
        return args;
    }

    private static String[] argv(String command, Map<String, String> options) {
        List<String> a = new ArrayList<>(List.of(command));
        options.forEach((k, v) -> {
            a.add(k);
            a.add(v);
        });
        return a.toArray(new String[0]);
    }
}
