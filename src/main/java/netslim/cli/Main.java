package netslim.cli;

import java.io.PrintWriter;

import netslim.NetslimException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The {@code netslim} command line. Exit codes: 0 ok; 2 bad input (one line on stderr, no stack trace unless
 * {@code --debug}); 1 internal error.
 */
@Command(name = "netslim", mixinStandardHelpOptions = true, version = "netslim 0.1.0",
        description = "Prune, Tucker-2 decompose and fine-tune CNNs; measure params, MACs and latency.",
        subcommands = {StatsCommand.class, RunCommand.class, BenchCommand.class, TrainCommand.class, EvalCommand.class,
                FinetuneCommand.class, PruneCommand.class, DecomposeCommand.class, CompressCommand.class,
                ExportCommand.class, DemoCommand.class,
                CommandLine.HelpCommand.class})
public final class Main implements Runnable {

    /** Set by any command's --debug flag: print stack traces. */
    static boolean debug;

    @Option(names = "--debug", description = "Print stack traces on errors.", scope = CommandLine.ScopeType.INHERIT)
    void setDebug(boolean d) {
        debug = d;
    }

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing command (try: netslim --help)");
    }

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI with the given streams and returns the exit code (used by tests). */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        debug = false;
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setParameterExceptionHandler((ex, a) -> {
            err.println("netslim: " + oneLine(ex.getMessage()));
            if (debug) ex.printStackTrace(err);
            err.flush();
            return 2;
        });
        cl.setExecutionExceptionHandler((ex, c, parsed) -> handle(ex, err, c));
        int code;
        try {
            code = cl.execute(args);
        } catch (Error e) {
            // picocli passes only Exceptions to the handler above; an OutOfMemoryError would escape with its trace
            code = handle(e, err, executedCommand(cl));
        }
        out.flush();
        err.flush();
        return code;
    }

    /** The subcommand that ran (the deepest one parsed), or {@code cl} itself. */
    private static CommandLine executedCommand(CommandLine cl) {
        CommandLine.ParseResult r = cl.getParseResult();
        if (r == null) return cl;
        while (r.hasSubcommand()) r = r.subcommand();
        return r.commandSpec().commandLine();
    }

    static int handle(Throwable ex, PrintWriter err) {
        return handle(ex, err, null);
    }

    /** Prints the one-line message for {@code ex} thrown by {@code command} (null if unknown) and returns the exit code. */
    static int handle(Throwable ex, PrintWriter err, CommandLine command) {
        int code;
        OutOfMemoryError oom = outOfMemory(ex);
        if (ex instanceof NetslimException) {
            err.println("netslim: error: " + oneLine(ex.getMessage()));
            code = 2;
        } else if (oom != null) {
            err.println("netslim: error: out of memory (" + oneLine(oom.getMessage()) + "); " + memoryHint(command));
            code = 2;
        } else {
            err.println("netslim: internal error: " + ex + (debug ? "" : " (run with --debug for the stack trace)"));
            code = 1;
        }
        if (debug) ex.printStackTrace(err);
        err.flush();
        return code;
    }

    /** The OutOfMemoryError behind {@code ex}: itself, or a cause (a worker or prefetch thread's, wrapped). */
    private static OutOfMemoryError outOfMemory(Throwable ex) {
        for (Throwable t = ex; t != null && t.getCause() != t; t = t.getCause()) {
            if (t instanceof OutOfMemoryError o) return o;
        }
        return null;
    }

    /** What to do about running out of heap: a smaller --batch where the command has one, or more heap. */
    static String memoryHint(CommandLine command) {
        String heap = "a larger heap via NETSLIM_JAVA_OPTS (e.g. NETSLIM_JAVA_OPTS=-Xmx16g; now "
                + Runtime.getRuntime().maxMemory() / (1 << 20) + " MiB)";
        CommandLine.Model.OptionSpec batch = command == null ? null : command.getCommandSpec().findOption("--batch");
        if (command != null && batch == null) return "try " + heap;
        Object value = batch == null ? null : batch.getValue();
        return "try a smaller --batch" + (value == null ? "" : " than " + value) + ", or " + heap;
    }

    static String oneLine(String s) {
        if (s == null) return "(no message)";
        return s.replace('\n', ' ').replace('\r', ' ').trim();
    }
}
