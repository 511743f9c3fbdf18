package netslim.testing;

import java.util.ArrayList;
import java.util.List;

import netslim.tensor.Rng;
import netslim.tensor.Tensor;

/**
 * Central finite-difference check of a backward op against its forward. The scalar loss is L = Σ y·r for a
 * seeded random r, accumulated in double, so dL/dy = r is what the backward op receives as dy. Each checked input
 * element is perturbed in float to x ± h; the difference quotient divides by the perturbation actually stored,
 * {@code (float)(x+h) − (float)(x−h)}, so rounding of the perturbed input costs nothing. The gradient buffers are
 * pre-filled with random values before the backward call and those values are subtracted afterwards, which also
 * checks that backward ops <i>add into</i> their outputs.
 */
public final class GradCheck {

    /** Runs the forward pass on the current contents of the inputs and returns its output. */
    @FunctionalInterface
    public interface Forward {
        Tensor run();
    }

    /** Adds dL/d(input i) into grads[i] for the given dy; grads are in the order inputs were declared. */
    @FunctionalInterface
    public interface Backward {
        void run(Tensor dy, Tensor[] grads);
    }

    private final String what;
    private final Forward forward;
    private final Backward backward;
    private final List<String> names = new ArrayList<>();
    private final List<Tensor> inputs = new ArrayList<>();
    private double step = 1e-2;
    private double atol = 1e-4, rtol = 1e-3;
    private int maxSamples = 200;

    private GradCheck(String what, Forward forward, Backward backward) {
        this.what = what;
        this.forward = forward;
        this.backward = backward;
    }

    public static GradCheck of(String what, Forward forward, Backward backward) {
        return new GradCheck(what, forward, backward);
    }

    /** Declares a differentiated input (perturbed in place, restored afterwards). */
    public GradCheck input(String name, Tensor t) {
        names.add(name);
        inputs.add(t);
        return this;
    }

    /** The finite-difference step h (x ± h). */
    public GradCheck step(double h) {
        this.step = h;
        return this;
    }

    public GradCheck tolerance(double atol, double rtol) {
        this.atol = atol;
        this.rtol = rtol;
        return this;
    }

    /** At most this many elements per input are checked (chosen at random when the input is larger). */
    public GradCheck maxSamples(int n) {
        this.maxSamples = n;
        return this;
    }

    /** Runs the check; the largest error in units of the tolerance is returned (≤ 1 when it passed). */
    public double run(long seed) {
        Rng rng = new Rng(seed);
        Tensor r = rng.uniform(forward.run().shape());
        Tensor[] grads = new Tensor[inputs.size()];
        Tensor[] before = new Tensor[inputs.size()];
        for (int i = 0; i < grads.length; i++) {
            grads[i] = rng.uniform(inputs.get(i).shape());
            before[i] = grads[i].copy();
        }
        backward.run(r, grads);
        double worst = 0;
        for (int i = 0; i < grads.length; i++) {
            Tensor x = inputs.get(i);
            int[] idx = sample(x.size(), rng);
            float[] analytic = new float[idx.length], numeric = new float[idx.length];
            for (int s = 0; s < idx.length; s++) {
                analytic[s] = (float) ((double) grads[i].get(idx[s]) - before[i].get(idx[s]));
                numeric[s] = (float) centralDifference(x, idx[s], r);
                worst = Math.max(worst, Math.abs(analytic[s] - numeric[s]) / (atol + rtol * Math.abs(numeric[s])));
            }
            Close.assertClose(analytic, numeric, atol, rtol, what + ": d/d" + names.get(i) + " (sampled elements)");
        }
        return worst;
    }

    private double centralDifference(Tensor x, int i, Tensor r) {
        float orig = x.get(i);
        float plus = (float) (orig + step), minus = (float) (orig - step);
        x.set(i, plus);
        double lossPlus = loss(forward.run(), r);
        x.set(i, minus);
        double lossMinus = loss(forward.run(), r);
        x.set(i, orig);
        return (lossPlus - lossMinus) / ((double) plus - minus);
    }

    private static double loss(Tensor y, Tensor r) {
        double sum = 0;
        for (int j = 0; j < y.size(); j++) sum += (double) y.get(j) * r.get(j);
        return sum;
    }

    private int[] sample(int size, Rng rng) {
        if (size <= maxSamples) {
            int[] all = new int[size];
            for (int i = 0; i < size; i++) all[i] = i;
            return all;
        }
        return java.util.Arrays.copyOf(rng.permutation(size), maxSamples);
    }
}
