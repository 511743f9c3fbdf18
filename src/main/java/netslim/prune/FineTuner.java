package netslim.prune;

import netslim.nn.Graph;

/**
 * Fine-tuning between pruning rounds. It receives the compacted model of the round. That is equivalent to
 * fine-tuning the masked model with its masks held (re-applied after every step): the masked channels are exactly
 * zero, send no gradient upstream (their weight rows are zero) and add nothing downstream, so every other parameter
 * sees the same gradients and the same updates — only the compacted model is cheaper to train.
 */
@FunctionalInterface
public interface FineTuner {
    /** No fine-tuning. */
    FineTuner NONE = (g, round, rounds) -> g;

    /** Fine-tunes {@code graph} after round {@code round} (1-based) of {@code rounds}; returns the tuned graph. */
    Graph fineTune(Graph graph, int round, int rounds);
}
