package netslim.train;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import netslim.NetslimException;

/**
 * The learning rate at every SGD step (counted from 0 over the whole run), so a resumed run needs only the global
 * step to be at the same place in the schedule. lr(t) = base · warm(t) · decay(t) with
 * <ul>
 *   <li>warm(t) = (t + 1) / W for t &lt; W warm-up steps (linear, the first step already moves), else 1;</li>
 *   <li>cosine: decay(t) = ½ (1 + cos(π (t − W) / (T − W))) after warm-up (PyTorch's CosineAnnealingLR with
 *       eta_min 0, stepped per batch), 1 during it;</li>
 *   <li>step: decay(t) = γ^(number of milestones ≤ t) (MultiStepLR, milestones in steps).</li>
 * </ul>
 *
 * @param milestoneSteps step schedule only: the steps at which the LR is multiplied by gamma, ascending
 */
public record LrSchedule(Kind kind, double baseLr, long totalSteps, long warmupSteps, List<Long> milestoneSteps,
        double gamma) {

    /** Schedule kinds, as the CLI spells them. */
    public enum Kind {
        STEP, COSINE;

        public static Kind parse(String s) {
            for (Kind k : values()) if (k.name().equalsIgnoreCase(s.trim())) return k;
            throw new NetslimException("--schedule must be step or cosine, got '" + s + "'");
        }

        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public LrSchedule {
        milestoneSteps = List.copyOf(milestoneSteps);
        if (totalSteps < 1) throw new IllegalArgumentException("a schedule needs at least one step");
        if (warmupSteps < 0 || warmupSteps > totalSteps) throw new IllegalArgumentException("warm-up " + warmupSteps);
    }

    /**
     * The schedule of {@code config} at {@code stepsPerEpoch} steps per epoch. Warm-up epochs are rounded to whole
     * steps; step milestones default to epochs ⌊E/2⌋ and ⌊3E/4⌋ (the classic ×0.1 at 50 % and 75 %).
     */
    public static LrSchedule of(TrainConfig config, int stepsPerEpoch) {
        long total = (long) config.epochs() * stepsPerEpoch;
        long warm = Math.round(config.warmupEpochs() * stepsPerEpoch);
        List<Integer> epochs = config.milestones().isEmpty()
                ? List.of(config.epochs() / 2, config.epochs() * 3 / 4) : config.milestones();
        List<Long> steps = new ArrayList<>();
        for (int e : epochs) {
            long s = (long) e * stepsPerEpoch;
            if (e > 0 && !steps.contains(s)) steps.add(s);
        }
        steps.sort(null);
        return new LrSchedule(config.schedule(), config.lr(), total, Math.min(warm, total), steps, config.gamma());
    }

    /** The learning rate of step {@code t} (0-based). */
    public double at(long t) {
        double warm = t < warmupSteps ? (t + 1) / (double) warmupSteps : 1.0;
        double decay;
        if (kind == Kind.COSINE) {
            long span = totalSteps - warmupSteps;
            double p = t < warmupSteps || span <= 0 ? 0 : Math.min(1.0, (t - warmupSteps) / (double) span);
            decay = 0.5 * (1 + Math.cos(Math.PI * p));
        } else {
            int passed = 0;
            for (long m : milestoneSteps) if (t >= m) passed++;
            decay = Math.pow(gamma, passed);
        }
        return baseLr * warm * decay;
    }
}
