package netslim.prune;

import java.util.Locale;
import java.util.Map;

import netslim.NetslimException;
import netslim.backend.Backend;
import netslim.nn.Graph;

/**
 * A filter-importance criterion: one raw score per channel of every prunable group (higher = more important). The
 * pruner L2-normalises each group's scores before ranking them globally, so layers compete fairly.
 *
 * <ul>
 *   <li>{@link #l1()}: Σ|W| of the channel's filters (Li et al. 2017), summed over every conv producing the channel
 *       (several in a residual group; a depthwise conv's 1-channel filter included);</li>
 *   <li>{@link #taylor}: activation × gradient (Molchanov et al. 2017), Θ = |mean over the batch of the spatial mean
 *       of ∂L/∂z · z| on each producer's feature map z (the BatchNorm output when the conv feeds only a BatchNorm,
 *       else the conv output), averaged over batches and summed over the group's producers;</li>
 *   <li>{@link #taylorWeight}: Σ (w · ∂L/∂w)² over the channel's filters (Molchanov et al. 2019), averaged over
 *       batches.</li>
 * </ul>
 * The data-driven criteria run forward and backward passes in training mode on a copy of the model (so its
 * BatchNorm running statistics are not touched); L is the mean softmax cross-entropy of the batch.
 */
public interface Importance {

    /** The criterion's name as the CLI spells it. */
    String name();

    /** Raw scores by group id, each of the group's width, for every prunable group of {@code groups}. */
    Map<Integer, double[]> scores(Graph graph, ChannelGroups groups);

    /** The criteria as the CLI names them. */
    enum Criterion {
        L1("l1"), TAYLOR("taylor"), TAYLOR_WEIGHT("taylor-weight");

        private final String cliName;

        Criterion(String cliName) {
            this.cliName = cliName;
        }

        public String cliName() {
            return cliName;
        }

        /** Whether the criterion needs data batches. */
        public boolean needsData() {
            return this != L1;
        }

        public static Criterion parse(String s) {
            for (Criterion c : values()) if (c.cliName.equals(s.toLowerCase(Locale.ROOT))) return c;
            throw new NetslimException("unknown criterion '" + s + "' (expected l1, taylor or taylor-weight)");
        }
    }

    static Importance l1() {
        return new L1Importance();
    }

    /**
     * Taylor activation × gradient over at most {@code maxBatches} batches of {@code batches} (iterated afresh for
     * every ranking), on {@code backend}.
     */
    static Importance taylor(Iterable<LabeledBatch> batches, int maxBatches, Backend backend) {
        return new TaylorImportance(batches, maxBatches, backend, false);
    }

    /** Taylor weight × weight-gradient, as {@link #taylor}. */
    static Importance taylorWeight(Iterable<LabeledBatch> batches, int maxBatches, Backend backend) {
        return new TaylorImportance(batches, maxBatches, backend, true);
    }

    /** The criterion {@code c}; {@code batches} and {@code backend} may be null for {@link Criterion#L1}. */
    static Importance of(Criterion c, Iterable<LabeledBatch> batches, int maxBatches, Backend backend) {
        if (c.needsData() && (batches == null || backend == null)) {
            throw new NetslimException("criterion " + c.cliName() + " needs data batches (give --data)");
        }
        return switch (c) {
            case L1 -> l1();
            case TAYLOR -> taylor(batches, maxBatches, backend);
            case TAYLOR_WEIGHT -> taylorWeight(batches, maxBatches, backend);
        };
    }
}
