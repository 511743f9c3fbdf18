package netslim.train;

import netslim.backend.Backend;
import netslim.nn.Executor;
import netslim.nn.Graph;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * One SGD training step of a classifier graph, in three phases: {@link #forwardLoss} (TRAINING-mode forward and
 * softmax cross-entropy, mean over the batch), {@link #backward} (zero the parameter gradients, the loss gradient,
 * back-propagation) and {@link #update} ({@link Sgd}). {@link Trainer} runs its guards between the phases;
 * {@code bench --train} times {@link #run}, the three without guards. Owns its executor.
 */
public final class TrainStep implements AutoCloseable {
    private final Executor executor;
    private final Backend backend;
    private final Sgd sgd;
    private final Tensor probs, dlogits; // (batch, classes), backend memory
    private final float labelSmoothing;

    /** Plans a TRAINING executor for {@code config.batchSize()}; the graph's weights are trained in place. */
    public TrainStep(Graph graph, Backend backend, TrainConfig config) {
        int classes = DataChecks.outputs(graph);
        this.backend = backend;
        this.executor = Executor.forTraining(graph, backend, config.batchSize());
        this.sgd = new Sgd(executor, config);
        Shape logits = Shape.of(config.batchSize(), classes);
        this.probs = backend.allocate(logits);
        this.dlogits = backend.allocate(logits);
        this.labelSmoothing = (float) config.labelSmoothing();
    }

    public Executor executor() {
        return executor;
    }

    public Sgd sgd() {
        return sgd;
    }

    /** Softmax probabilities of the last {@link #forwardLoss} (backend memory). */
    public Tensor probs() {
        return probs;
    }

    /** Forward pass on a host batch and the loss (label-smoothed cross-entropy, mean over the batch). */
    public float forwardLoss(Tensor hostX, int[] labels) {
        Tensor logits = executor.forward(hostX);
        return backend.softmaxCrossEntropy(logits, labels, labelSmoothing, probs);
    }

    /** Parameter gradients of the last forward's loss (zeroed first: the executor's backward adds into them). */
    public void backward(int[] labels) {
        sgd.zeroGrads();
        backend.fill(dlogits, 0f);
        backend.softmaxCrossEntropyBackward(probs, labels, labelSmoothing, 1f, dlogits);
        executor.backward(dlogits);
    }

    /** One SGD update of every trainable parameter. */
    public void update(double lr) {
        sgd.step(lr);
    }

    /** The whole step without guards; returns the loss (computed before the update). */
    public float run(Tensor hostX, int[] labels, double lr) {
        float loss = forwardLoss(hostX, labels);
        backward(labels);
        update(lr);
        return loss;
    }

    @Override
    public void close() {
        executor.close();
    }
}
