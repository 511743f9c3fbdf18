package netslim.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Stride-2 gathers (and their inverse) as vector code: the even (or odd) elements of 2·L consecutive floats, from
 * two loads, one single-vector rearrange each (one permute instruction) and a blend of the halves. Not the two-vector
 * {@code rearrange(shuffle, v)}, which measured slower than a scalar loop here (bench/RESULTS.md, session 4). The
 * methods take and return no vectors, so they cost nothing whether or not C2 inlines them.
 */
final class EvenOdd {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int L = S.length();
    /** Lane i takes lane 2·(i mod L/2) + parity: a vector's even (odd) lanes land in both halves; a blend picks. */
    private static final VectorShuffle<Float> EVEN = shuffle(0), ODD = shuffle(1);
    private static final VectorMask<Float> HIGH_HALF = VectorMask.fromLong(S, ((1L << L) - 1) & ~((1L << (L / 2)) - 1));

    private EvenOdd() {
    }

    private static VectorShuffle<Float> shuffle(int parity) {
        int[] idx = new int[L];
        for (int i = 0; i < L; i++) idx[i] = 2 * (i % (L / 2)) + parity;
        return VectorShuffle.fromArray(S, idx, 0);
    }

    /** Lane i takes lane i/2 (ZIP_LO) or L/2 + i/2 (ZIP_HI); the blend on odd lanes then interleaves two vectors. */
    private static final VectorShuffle<Float> ZIP_LO = zipShuffle(0), ZIP_HI = zipShuffle(L / 2);
    private static final VectorMask<Float> ODD_LANES = VectorMask.fromLong(S, 0xAAAAAAAAAAAAAAAAL & ((1L << L) - 1));

    private static VectorShuffle<Float> zipShuffle(int from) {
        int[] idx = new int[L];
        for (int i = 0; i < L; i++) idx[i] = from + i / 2;
        return VectorShuffle.fromArray(S, idx, 0);
    }

    /**
     * The inverse of {@link #split}: dst[at + 2i] = e[ei + i], dst[at + 2i + 1] = o[oi + i] for i in
     * [0, L), i.e. 2L floats written from L of each.
     */
    static void zip(float[] e, int ei, float[] o, int oi, float[] dst, int at) {
        FloatVector ev = FloatVector.fromArray(S, e, ei), ov = FloatVector.fromArray(S, o, oi);
        ev.rearrange(ZIP_LO).blend(ov.rearrange(ZIP_LO), ODD_LANES).intoArray(dst, at);
        ev.rearrange(ZIP_HI).blend(ov.rearrange(ZIP_HI), ODD_LANES).intoArray(dst, at + L);
    }

    /** {@link #zip} added into dst: dst[at + 2i] += e[ei + i], dst[at + 2i + 1] += o[oi + i] for i in [0, L). */
    static void zipAdd(float[] e, int ei, float[] o, int oi, float[] dst, int at) {
        FloatVector ev = FloatVector.fromArray(S, e, ei), ov = FloatVector.fromArray(S, o, oi);
        FloatVector.fromArray(S, dst, at).add(ev.rearrange(ZIP_LO).blend(ov.rearrange(ZIP_LO), ODD_LANES))
                .intoArray(dst, at);
        FloatVector.fromArray(S, dst, at + L).add(ev.rearrange(ZIP_HI).blend(ov.rearrange(ZIP_HI), ODD_LANES))
                .intoArray(dst, at + L);
    }

    /** dst[at + i] = x[src + 2i] for i in [0, L). Reads x[src, src + 2L). */
    static void even(float[] x, int src, float[] dst, int at) {
        FloatVector a = FloatVector.fromArray(S, x, src), b = FloatVector.fromArray(S, x, src + L);
        a.rearrange(EVEN).blend(b.rearrange(EVEN), HIGH_HALF).intoArray(dst, at);
    }

    /**
     * Both halves of a split from the same two loads: even[ea + i] = x[src + 2i], odd[oa + i] = x[src + 2i + 1] for
     * i in [0, L). Reads x[src, src + 2L).
     */
    static void split(float[] x, int src, float[] even, int ea, float[] odd, int oa) {
        FloatVector a = FloatVector.fromArray(S, x, src), b = FloatVector.fromArray(S, x, src + L);
        a.rearrange(EVEN).blend(b.rearrange(EVEN), HIGH_HALF).intoArray(even, ea);
        a.rearrange(ODD).blend(b.rearrange(ODD), HIGH_HALF).intoArray(odd, oa);
    }

    /**
     * {@link #split} of the window x[src, src + 2L) with its elements outside [lo, hi) (window offsets, lo ≤ L: only
     * the first load has lanes below it) read as zero: masks from a compare of the window's lane indices, no masked
     * load (a mask built from bits per call, {@code VectorMask.fromLong}, made a Winograd pass 1.8x slower). Reads
     * x[src, src + 2L), which must lie in x.
     */
    static void splitWindow(float[] x, int src, int lo, int hi, float[] even, int ea, float[] odd, int oa) {
        if (lo > L) throw new IllegalArgumentException("splitWindow: lo " + lo + " past the first load (" + L + ")");
        FloatVector a = FloatVector.fromArray(S, x, src), b = FloatVector.fromArray(S, x, src + L);
        a = a.blend(ZERO, FIRST_LANES.compare(VectorOperators.LT, lo).or(FIRST_LANES.compare(VectorOperators.GE, hi)));
        b = b.blend(ZERO, SECOND_LANES.compare(VectorOperators.GE, hi));
        a.rearrange(EVEN).blend(b.rearrange(EVEN), HIGH_HALF).intoArray(even, ea);
        a.rearrange(ODD).blend(b.rearrange(ODD), HIGH_HALF).intoArray(odd, oa);
    }

    private static final FloatVector ZERO = FloatVector.zero(S);
    /** The window offsets of {@link #splitWindow}'s two loads: 0, ..., L − 1 and L, ..., 2L − 1. */
    private static final FloatVector FIRST_LANES = offsets(0), SECOND_LANES = offsets(L);

    private static FloatVector offsets(int from) {
        float[] a = new float[L];
        for (int i = 0; i < L; i++) a[i] = from + i;
        return FloatVector.fromArray(S, a, 0);
    }
}
