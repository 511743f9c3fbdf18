package netslim.cli;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;

import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import netslim.train.EpochMetrics;
import netslim.train.TrainListener;

/**
 * Training progress on stderr: a progress bar per epoch (batch, running loss and accuracy, images/s, ETA) and one
 * summary line per finished epoch (train loss / accuracy, test top-1, LR, seconds, images/s).
 */
final class ProgressReporter implements TrainListener {
    private final PrintWriter err;
    private final boolean terminal;
    private ProgressBar bar;

    ProgressReporter(PrintWriter err) {
        this.err = err;
        this.terminal = ProgressOutput.stderrIsTerminal();
    }

    @Override
    public void epochStarted(int epoch, int epochs, int batches, int firstBatch) {
        closeBar();
        bar = new ProgressBarBuilder()
                .setTaskName(String.format(Locale.ROOT, "epoch %d/%d", epoch + 1, epochs))
                .setInitialMax(batches)
                .startsFrom(firstBatch, Duration.ZERO)
                .setStyle(terminal ? ProgressBarStyle.COLORFUL_UNICODE_BLOCK : ProgressBarStyle.ASCII)
                .setUpdateIntervalMillis(terminal ? 500 : 1000)
                .setConsumer(ProgressOutput.consumer(err, terminal))
                .build();
    }

    @Override
    public void stepDone(StepInfo s) {
        if (bar == null) return;
        bar.stepTo(s.step());
        bar.setExtraMessage(String.format(Locale.ROOT, "loss %.4f acc %.1f%% %.0f img/s", s.progress().meanLoss(),
                100 * s.progress().accuracy(), s.progress().imagesPerS()));
    }

    @Override
    public void evaluating(int epoch) {
        closeBar();
    }

    @Override
    public void epochFinished(EpochMetrics m) {
        closeBar();
        err.println(epochLine(m));
        err.flush();
    }

    /** "epoch 2: train loss 0.4123 acc 85.1%, test top-1 87.9%, lr 0.0905, 61.2 s, 412 img/s". */
    static String epochLine(EpochMetrics m) {
        String test = Double.isNaN(m.testTop1()) ? "no test set"
                : String.format(Locale.ROOT, "test top-1 %.2f%% (top-5 %.2f%%)", 100 * m.testTop1(), 100 * m.testTop5());
        return String.format(Locale.ROOT, "epoch %d: train loss %.4f acc %.2f%%, %s, lr %.4g, %.1f s, %.0f img/s",
                m.epoch(), m.trainLoss(), 100 * m.trainAccuracy(), test, m.lr(), m.seconds(), m.imagesPerS());
    }

    /** Closes the current bar (its last state stays on screen / in the log). */
    void closeBar() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
    }
}
