package netslim.train;

import java.util.List;

import netslim.NetslimException;
import netslim.data.Augmentation;

/**
 * Everything that decides a training run's arithmetic: optimiser, schedule, loss, data order and augmentation.
 * Saved in every checkpoint, so a resumed run continues with exactly the same settings.
 *
 * @param epochs           passes over the training set
 * @param batchSize        examples per SGD step (the last partial batch of an epoch is dropped)
 * @param lr               base learning rate (peak of the schedule)
 * @param momentum         SGD momentum (0 = plain SGD)
 * @param nesterov         Nesterov momentum (needs momentum > 0)
 * @param weightDecay      L2 coefficient added to the gradient (PyTorch's SGD weight_decay)
 * @param decayNormAndBias also decay BatchNorm γ/β and biases (off by default: decaying them only hurts)
 * @param schedule         how the LR changes over steps
 * @param warmupEpochs     linear warm-up from ~0 to {@code lr} over this many epochs (0 = none)
 * @param milestones       step schedule: epochs (from 0) at whose start the LR is multiplied by {@code gamma};
 *                         empty = at 50 % and 75 % of the run
 * @param gamma            step schedule factor
 * @param labelSmoothing   ε of label smoothing (0 = plain cross-entropy)
 * @param seed             seeds the data order, the augmentation draws and the dropout masks
 * @param augmentation     training augmentation; null = the dataset's default ({@link Augmentation#defaultFor})
 */
public record TrainConfig(int epochs, int batchSize, double lr, double momentum, boolean nesterov, double weightDecay,
        boolean decayNormAndBias, LrSchedule.Kind schedule, double warmupEpochs, List<Integer> milestones,
        double gamma, double labelSmoothing, long seed, Augmentation augmentation) {

    public TrainConfig {
        milestones = milestones == null ? List.of() : List.copyOf(milestones);
        if (schedule == null) throw new NetslimException("schedule must be step or cosine");
        if (epochs < 1) throw new NetslimException("epochs must be ≥ 1, got " + epochs);
        if (batchSize < 1) throw new NetslimException("batch size must be ≥ 1, got " + batchSize);
        if (!(lr > 0) || Double.isInfinite(lr)) throw new NetslimException("learning rate must be > 0, got " + lr);
        if (!(momentum >= 0 && momentum < 1)) throw new NetslimException("momentum must be in [0, 1), got " + momentum);
        if (nesterov && momentum == 0) throw new NetslimException("Nesterov momentum needs momentum > 0");
        if (!(weightDecay >= 0) || Double.isInfinite(weightDecay)) {
            throw new NetslimException("weight decay must be ≥ 0, got " + weightDecay);
        }
        if (!(warmupEpochs >= 0) || warmupEpochs > epochs) {
            throw new NetslimException("warm-up must be between 0 and the " + epochs + " epochs, got " + warmupEpochs);
        }
        for (int m : milestones) {
            if (m < 1 || m >= epochs) {
                throw new NetslimException("LR milestone " + m + " must be an epoch in [1, " + (epochs - 1) + "]");
            }
        }
        if (!(gamma > 0 && gamma <= 1)) throw new NetslimException("gamma must be in (0, 1], got " + gamma);
        if (!(labelSmoothing >= 0 && labelSmoothing < 1)) {
            throw new NetslimException("label smoothing must be in [0, 1), got " + labelSmoothing);
        }
    }

    /** Defaults for googlenet-cifar on Fashion-MNIST: batch 128, LR 0.1 cosine, momentum 0.9 Nesterov, wd 5e-4. */
    public static TrainConfig defaults(int epochs) {
        return new TrainConfig(epochs, 128, 0.1, 0.9, true, 5e-4, false, LrSchedule.Kind.COSINE, 0, List.of(), 0.1, 0,
                0, null);
    }

    public TrainConfig withEpochs(int v) {
        return new TrainConfig(v, batchSize, lr, momentum, nesterov, weightDecay, decayNormAndBias, schedule,
                warmupEpochs, milestones, gamma, labelSmoothing, seed, augmentation);
    }

    public TrainConfig withBatchSize(int v) {
        return new TrainConfig(epochs, v, lr, momentum, nesterov, weightDecay, decayNormAndBias, schedule,
                warmupEpochs, milestones, gamma, labelSmoothing, seed, augmentation);
    }

    public TrainConfig withLr(double v) {
        return new TrainConfig(epochs, batchSize, v, momentum, nesterov, weightDecay, decayNormAndBias, schedule,
                warmupEpochs, milestones, gamma, labelSmoothing, seed, augmentation);
    }

    public TrainConfig withMomentum(double v, boolean nest) {
        return new TrainConfig(epochs, batchSize, lr, v, nest, weightDecay, decayNormAndBias, schedule, warmupEpochs,
                milestones, gamma, labelSmoothing, seed, augmentation);
    }

    public TrainConfig withWeightDecay(double v, boolean normAndBias) {
        return new TrainConfig(epochs, batchSize, lr, momentum, nesterov, v, normAndBias, schedule, warmupEpochs,
                milestones, gamma, labelSmoothing, seed, augmentation);
    }

    public TrainConfig withSchedule(LrSchedule.Kind v, double warmup, List<Integer> ms, double g) {
        return new TrainConfig(epochs, batchSize, lr, momentum, nesterov, weightDecay, decayNormAndBias, v, warmup, ms,
                g, labelSmoothing, seed, augmentation);
    }

    public TrainConfig withLabelSmoothing(double v) {
        return new TrainConfig(epochs, batchSize, lr, momentum, nesterov, weightDecay, decayNormAndBias, schedule,
                warmupEpochs, milestones, gamma, v, seed, augmentation);
    }

    public TrainConfig withSeed(long v) {
        return new TrainConfig(epochs, batchSize, lr, momentum, nesterov, weightDecay, decayNormAndBias, schedule,
                warmupEpochs, milestones, gamma, labelSmoothing, v, augmentation);
    }

    public TrainConfig withAugmentation(Augmentation v) {
        return new TrainConfig(epochs, batchSize, lr, momentum, nesterov, weightDecay, decayNormAndBias, schedule,
                warmupEpochs, milestones, gamma, labelSmoothing, seed, v);
    }
}
