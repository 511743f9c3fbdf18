package netslim.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import netslim.train.Trainer;

/**
 * Ctrl-C (SIGINT) or SIGTERM during training: a JVM shutdown hook asks the trainer to stop at the next step
 * boundary and waits while it writes its checkpoint; the JVM exits when the hook returns. The training thread
 * calls {@link #close()} when it is done (normally or not), which releases the hook and unregisters it.
 */
final class StopOnSignal implements AutoCloseable {
    /** How long the hook waits for the step in progress and the checkpoint. */
    static final long WAIT_SECONDS = 300;

    private final CountDownLatch done = new CountDownLatch(1);
    private final Thread hook;
    private volatile boolean fired;

    StopOnSignal(Trainer trainer) {
        hook = new Thread(() -> {
            fired = true;
            trainer.requestStop();
            try {
                done.await(WAIT_SECONDS, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "netslim-stop-on-signal");
        Runtime.getRuntime().addShutdownHook(hook);
    }

    /** Whether a signal asked the run to stop. */
    boolean fired() {
        return fired;
    }

    @Override
    public void close() {
        done.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // the JVM is already shutting down: the hook is running and returns now that done is counted down
        }
    }
}
