package netslim.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import netslim.NetslimException;
import netslim.data.Augmentation;
import netslim.train.LrSchedule;
import netslim.train.TrainConfig;
import picocli.CommandLine.Option;

/**
 * The options shared by {@code train} and {@code finetune}: data, optimiser, schedule, output. The learning rate's
 * default depends on the command (see {@link #config}).
 */
final class TrainingOptions {
    @Option(names = "--data", paramLabel = "S", defaultValue = "fashion-mnist",
            description = "fashion-mnist, idx:DIR, cifar10:DIR or folder:DIR (default fashion-mnist).")
    String data;

    @Option(names = "--epochs", required = true, paramLabel = "E", description = "Epochs to train.")
    int epochs;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "128", description = "Batch size (default 128).")
    int batch;

    @Option(names = "--lr", paramLabel = "LR",
            description = "Peak learning rate (default 0.1 for train, 0.01 for finetune).")
    Double lr;

    @Option(names = "--momentum", paramLabel = "M", defaultValue = "0.9", description = "SGD momentum (default 0.9).")
    double momentum;

    @Option(names = "--nesterov", negatable = true, defaultValue = "true", fallbackValue = "true",
            description = "Nesterov momentum (default on; --no-nesterov for classic momentum).")
    boolean nesterov;

    @Option(names = "--wd", paramLabel = "WD", defaultValue = "5e-4",
            description = "Weight decay (default 5e-4; not applied to BatchNorm parameters and biases).")
    double weightDecay;

    @Option(names = "--wd-all", description = "Apply weight decay to BatchNorm parameters and biases too.")
    boolean decayAll;

    @Option(names = "--schedule", paramLabel = "step|cosine", defaultValue = "cosine",
            description = "LR schedule, stepped per batch (default cosine).")
    String schedule;

    @Option(names = "--warmup-epochs", paramLabel = "W", defaultValue = "0",
            description = "Linear LR warm-up over W epochs (may be fractional; default 0).")
    double warmupEpochs;

    @Option(names = "--milestones", paramLabel = "E1,E2", split = ",",
            description = "Step schedule: epochs at which the LR is multiplied by --gamma (default 50% and 75%).")
    List<Integer> milestones;

    @Option(names = "--gamma", paramLabel = "G", defaultValue = "0.1", description = "Step schedule factor (default 0.1).")
    double gamma;

    @Option(names = "--label-smoothing", paramLabel = "EPS", defaultValue = "0",
            description = "Label smoothing (default 0).")
    double labelSmoothing;

    @Option(names = "--augment", paramLabel = "A", defaultValue = "default",
            description = "Training augmentation: default (crop:2+flip below 32 px, crop:4+flip from 32 px), none, flip, "
                    + "crop:P or crop:P+flip.")
    String augment;

    @Option(names = "--train-limit", paramLabel = "N", defaultValue = "0",
            description = "Use only the first N training examples (default all).")
    int trainLimit;

    @Option(names = "--test-limit", paramLabel = "N", defaultValue = "0",
            description = "Evaluate on the first N test examples (default all).")
    int testLimit;

    @Option(names = "--input", paramLabel = "CxHxW",
            description = "Image size for zoo models on folder:DIR data (default: the model's; IDX and CIFAR-10 give their own).")
    String input;

    @Option(names = "--out", required = true, paramLabel = "F.nsm",
            description = "Where to write the model; also the checkpoint, rewritten after every epoch.")
    Path out;

    @Option(names = "--resume", description = "Continue the run checkpointed in --out (same settings, same data order).")
    boolean resume;

    @Option(names = "--json", description = "One JSON summary object on stdout.")
    boolean json;

    /** The run's settings; {@code defaultLr} when --lr is absent, {@code seed} from --seed. */
    TrainConfig config(double defaultLr, long seed, int height, int width) {
        if (trainLimit < 0) throw new NetslimException("--train-limit must be ≥ 0, got " + trainLimit);
        if (testLimit < 0) throw new NetslimException("--test-limit must be ≥ 0, got " + testLimit);
        Augmentation aug = augment.trim().equalsIgnoreCase("default") ? null : Augmentation.parse(augment, height, width);
        return new TrainConfig(epochs, batch, lr == null ? defaultLr : lr, momentum, nesterov && momentum > 0,
                weightDecay, decayAll, LrSchedule.Kind.parse(schedule), warmupEpochs,
                milestones == null ? List.of() : new ArrayList<>(milestones), gamma, labelSmoothing, seed, aug);
    }

    /** Checks --out before any work: an .nsm name in a directory that takes new files ({@link OutputPaths}). */
    void checkOutput() {
        if (!out.getFileName().toString().toLowerCase().endsWith(".nsm")) {
            throw new NetslimException("--out " + out + ": the model file must end in .nsm");
        }
        OutputPaths.requireWritableFile(out, "--out");
    }
}
