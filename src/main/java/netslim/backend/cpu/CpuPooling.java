package netslim.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import netslim.backend.PoolSpec;
import netslim.tensor.Tensor;

/**
 * Max, average and global-average pooling, forward and backward, parallel over the N·C planes (a plane's windows
 * overlap only within the plane, so backward tasks never write the same element). Window bounds follow PyTorch:
 * a window is clipped to the image; max pooling keeps the first maximal element; the average divisor counts
 * padding (up to the padded edge) when {@code countIncludePad}, else only the elements inside the image.
 */
final class CpuPooling {
    private final WorkerPool pool;

    CpuPooling(WorkerPool pool) {
        this.pool = pool;
    }

    /** Plane geometry of one call. */
    private record Planes(int count, int h, int w, int outH, int outW) {
        static Planes of(Tensor x, PoolSpec s) {
            var xs = x.shape();
            return new Planes(xs.n() * xs.c(), xs.h(), xs.w(), s.outH(xs.h()), s.outW(xs.w()));
        }

        int grain() {
            return Math.max(1, 8_192 / Math.max(1, h * w));
        }
    }

    /**
     * Whether the 3x3 stride-1 max pool tries its integer pass on non-negative planes ({@code FlatMax3.bitsPlane});
     * -Dnetslim.pool.bitsMax=false turns it off (not final: probes flip it).
     */
    static boolean BITS_MAX = !"false".equals(System.getProperty("netslim.pool.bitsMax"));

    /**
     * Whether the flat stride-2 max pools try their integer pass on non-negative planes ({@code
     * StrideTwoMax.bitsPlane}); -Dnetslim.pool.stride2Bits=false turns it off (not final: probes flip it).
     */
    static boolean STRIDE2_BITS = !"false".equals(System.getProperty("netslim.pool.stride2Bits"));

    /** +infinity's bits: a float's bits as an int lie in [0, this] exactly when it is +0 up to +infinity. */
    private static final int POSITIVE_INFINITY_BITS = 0x7f800000;

    /**
     * For tests: the 3x3 / 1 / pad 1 pool of the one h x w plane x into y by FlatMax3's integer pass; whether it
     * applied (false: y unspecified, the plane holds a negative number, -0 or NaN).
     */
    static boolean flatMax3Bits(float[] x, int h, int w, float[] y) {
        PoolSpec s = PoolSpec.of(3, 1, 1, false);
        Planes p = new Planes(1, h, w, h, w);
        if (!FlatMax3.applies(p, s)) throw new IllegalArgumentException("FlatMax3 does not take " + h + "x" + w);
        return new FlatMax3(p, s).bitsPlane(x, 0, y, 0);
    }

    /**
     * For tests: the stride-2 pool s of the one h x w plane x into y by StrideTwoMax's integer pass; whether it
     * applied (false: y unspecified — the plane holds a negative number, -0 or NaN, or its output rows are narrower
     * than a vector).
     */
    static boolean stride2Bits(float[] x, int h, int w, PoolSpec s, float[] y) {
        Planes p = new Planes(1, h, w, s.outH(h), s.outW(w));
        if (!StrideTwoMax.applies(p, s) || w != 2 * p.outW()) {
            throw new IllegalArgumentException("StrideTwoMax's flat pass does not take " + h + "x" + w + " " + s);
        }
        StrideTwoMax pass = new StrideTwoMax(p, s);
        return p.outW() >= StrideTwoMax.L && pass.bitsPlane(x, 0, y, 0);
    }

    /** Plane geometries whose pooling buffers a thread keeps per pooling pass (GoogLeNet has 3–4 of each kind). */
    private static final int GEOMETRIES = 16;

    /**
     * A max-pooling forward and backward pass over one plane at a time, with buffers sized for one geometry
     * ({@link CpuPooling#kept}).
     */
    private interface PlanePass {
        /** Whether this instance's buffers are for p's geometry under s. */
        boolean fits(Planes p, PoolSpec s);

        /** y[out, out + outH·outW) = the pooled plane x[in, in + h·w). */
        void plane(float[] x, int in, float[] y, int out);

        /** dx[grad + argmax(q)] += dy[out + q] for every output q of the plane x[in, in + h·w). */
        void backwardPlane(float[] x, int in, float[] dy, int out, float[] dx, int grad);
    }

    /**
     * This thread's instance for p's geometry from {@code mine}, else a new one from make (kept; the oldest goes past
     * {@link #GEOMETRIES}, so a service fed ever new input sizes does not grow them without bound): one per geometry,
     * so a forward pass allocates nothing.
     */
    private static <T extends PlanePass> T kept(ThreadLocal<java.util.List<T>> mine, Planes p, PoolSpec s,
                                                      java.util.function.BiFunction<Planes, PoolSpec, T> make) {
        java.util.List<T> list = mine.get();
        for (int i = 0; i < list.size(); i++) {
            if (list.get(i).fits(p, s)) return list.get(i);
        }
        T t = make.apply(p, s);
        if (list.size() == GEOMETRIES) list.remove(0);
        list.add(t);
        return t;
    }

    /** x (N, C, H, W) and y (N, C, outH, outW) (y may be dy, x may be dx). */
    private static void checkPool(Tensor x, Tensor y, PoolSpec s) {
        ShapeChecks.requireRank(x, 4, "pool", "x");
        var xs = x.shape();
        ShapeChecks.requireShape(y, "pool", "y", xs.n(), xs.c(), s.outH(xs.h()), s.outW(xs.w()));
    }

    /**
     * Forward needs only the window maxima: the vector path keeps a running max per output (no argmax bookkeeping,
     * no index tables), with the same rule as {@link #argMax} (first maximal element in row-major order wins, a NaN
     * replaces the running max), so y has exactly the bits of x[argmax] (the tests check bit equality).
     */
    void maxForward(Tensor x, Tensor y, PoolSpec s) {
        checkPool(x, y, s);
        Planes p = Planes.of(x, s);
        float[] xd = x.data(), yd = y.data();
        int outPlane = p.outH() * p.outW();
        if (FlatMax3.applies(p, s) || StrideTwoMax.applies(p, s)) {
            boolean flat = FlatMax3.applies(p, s);
            pool.parallelFor(p.count(), p.grain(), (p0, p1) -> {
                PlanePass pass = flat ? kept(FlatMax3.KEPT, p, s, FlatMax3::new)
                        : kept(StrideTwoMax.KEPT, p, s, StrideTwoMax::new);
                for (int pl = p0; pl < p1; pl++) {
                    pass.plane(xd, x.offset() + pl * p.h() * p.w(), yd, y.offset() + pl * outPlane);
                }
            });
            return;
        }
        if (DirectMax.applies(p, s)) {
            DirectMax direct = new DirectMax(p, s);
            pool.parallelFor(p.count(), p.grain(), (p0, p1) -> {
                netslim.backend.cpu.Scratch b = DirectMax.buffers();
                for (int pl = p0; pl < p1; pl++) {
                    direct.plane(xd, x.offset() + pl * p.h() * p.w(), b, yd, y.offset() + pl * outPlane);
                }
            });
            return;
        }
        PaddedArgMax fast = PaddedArgMax.of(p, s, false);
        pool.parallelFor(p.count(), p.grain(), (p0, p1) -> {
            int[] idx = fast == null ? new int[outPlane] : null;
            PaddedArgMax.Scratch scratch = fast == null ? null : fast.scratch();
            for (int pl = p0; pl < p1; pl++) {
                int in = x.offset() + pl * p.h() * p.w();
                int out = y.offset() + pl * outPlane;
                if (fast != null) {
                    fast.runMax(xd, in, scratch, yd, out);
                } else {
                    argMaxPlane(xd, in, p, s, null, null, idx);
                    for (int q = 0; q < outPlane; q++) yd[out + q] = xd[in + idx[q]];
                }
            }
        });
    }

    /** -Dnetslim.pool.flatBackward=false: the 3x3/1/1 backward on the padded argmax path as before. */
    private static final boolean FLAT_BACKWARD = !"false".equals(System.getProperty("netslim.pool.flatBackward"));

    /** dx += the routed dy when accumulate, else dx = it (each plane zeroed just before its routing). */
    void maxBackward(Tensor x, Tensor dy, Tensor dx, PoolSpec s, boolean accumulate) {
        checkPool(x, dy, s);
        ShapeChecks.requireShape(dx, x.shape(), "maxPoolBackward", "dx");
        Planes p = Planes.of(x, s);
        float[] xd = x.data(), gd = dy.data(), dxd = dx.data();
        int outPlane = p.outH() * p.outW();
        boolean flat3 = FlatMax3.applies(p, s), flat2 = StrideTwoMax.applies(p, s) && p.w() == 2 * p.outW();
        if ((flat3 || flat2) && FLAT_BACKWARD) {
            pool.parallelFor(p.count(), p.grain(), (p0, p1) -> {
                PlanePass pass = flat3 ? kept(FlatMax3.KEPT, p, s, FlatMax3::new)
                        : kept(StrideTwoMax.KEPT, p, s, StrideTwoMax::new);
                for (int pl = p0; pl < p1; pl++) {
                    int to = dx.offset() + pl * p.h() * p.w();
                    if (!accumulate) java.util.Arrays.fill(dxd, to, to + p.h() * p.w(), 0f);
                    pass.backwardPlane(xd, x.offset() + pl * p.h() * p.w(), gd, dy.offset() + pl * outPlane, dxd,
                            to);
                }
            });
            return;
        }
        PaddedArgMax fast = PaddedArgMax.of(p, s, true);
        pool.parallelFor(p.count(), p.grain(), (p0, p1) -> {
            int[] idx = new int[outPlane];
            PaddedArgMax.Scratch scratch = fast == null ? null : fast.scratch();
            for (int pl = p0; pl < p1; pl++) {
                int in = x.offset() + pl * p.h() * p.w();
                int grad = dx.offset() + pl * p.h() * p.w();
                int out = dy.offset() + pl * outPlane;
                argMaxPlane(xd, in, p, s, fast, scratch, idx);
                if (!accumulate) java.util.Arrays.fill(dxd, grad, grad + p.h() * p.w(), 0f);
                for (int q = 0; q < outPlane; q++) dxd[grad + idx[q]] += gd[out + q];
            }
        });
    }

    /** The argmax (offset within the plane) of every output window of one plane, into idx (row-major). */
    private static void argMaxPlane(float[] x, int in, Planes p, PoolSpec s, PaddedArgMax fast,
                                    PaddedArgMax.Scratch scratch, int[] idx) {
        if (fast != null) {
            fast.run(x, in, scratch, idx);
            return;
        }
        for (int oy = 0; oy < p.outH(); oy++) {
            for (int ox = 0; ox < p.outW(); ox++) idx[oy * p.outW() + ox] = argMax(x, in, p, s, oy, ox);
        }
    }

    /**
     * 3x3 or 2x2 max pooling at stride 2 with padding 0 or 1, ceil mode or not (GoogLeNet's four pools, ResNet's stem
     * pool), only at the strided positions, separably: every input row's window maxima across the row from its even
     * and odd columns, max(even[j], odd[j], even[j + 1]) (3x3) or max(even[j], odd[j]) (2x2), as vectors, then each
     * output row is the maximum of its three or two (clamped) rows of those. Padding is replaced by clamping (the
     * nearest in-image element, which the window's row-major order visits right before or after — repeating it
     * leaves {@link PaddedArgMax#firstMax}'s result unchanged, bit for bit, as in {@link FlatMax3}). The row pass must
     * come first: columns first would pick the first maximum in column-major order (another zero's sign, another
     * NaN) where rows first picks the row-major one, as PyTorch does.
     * <p>When w = 2·outW (GoogLeNet's ceil-mode pools, ResNet's stem pool) the rows' even and odd columns are the
     * plane's even and odd elements, so the row pass is one flat pass over the plane straight from x
     * ({@link #flatRows}): no per-row copy, edge or narrow tail; the one window column outside the image is picked
     * by comparing each output's column index. Other widths copy each row with its padding clamped first
     * ({@link #clampedRows}). Session 9, per call on the 2-core AVX-512 Xeon: 1.5–2.8x faster than the per-row
     * pass alone (bench/RESULTS.md).
     */
    private static final class StrideTwoMax implements PlanePass {
        private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
        /** Integer lanes of FS's shape (a constant: the Vector API compiles only those). */
        private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());
        private static final int L = FS.length();
        /** Each thread's instances, one per plane geometry ({@link CpuPooling#kept}). */
        static final ThreadLocal<java.util.List<StrideTwoMax>> KEPT = ThreadLocal.withInitial(java.util.ArrayList::new);
        private final int k, h, w, oh, ow, padH, padW;
        /** Whether w = 2·outW: the row pass is {@link #flatRows}. */
        private final boolean flat;
        /** Row maxima of input row iy start at iy·rs: ow when flat or at least a vector, else a whole vector. */
        private final int rs;
        /**
         * The row maxima; one narrow output row. Per-row pass: the clamped row (2·ow + k − 2 columns), its even and
         * odd columns. Flat pass: a band's even and odd elements (odd(q) at q + 1), each row-pass output's column
         * (q mod ow, for the whole plane: the backward pass is not banded), and the plane when it is narrower than two
         * vectors.
         */
        private final float[] rows, line, row, even, odd, colIdx, small;
        /** Outputs of the flat row pass per band (whole rows: at least one). */
        static final int BAND_PAIRS = 512;
        /** Input rows per band of the flat pass: the whole plane when its rows are narrower than a vector. */
        private final int bandRows;

        private StrideTwoMax(Planes p, PoolSpec s) {
            k = s.kh();
            h = p.h();
            w = p.w();
            oh = p.outH();
            ow = p.outW();
            padH = s.padH();
            padW = s.padW();
            flat = w == 2 * ow;
            rs = flat || ow >= L ? ow : L;
            rows = new float[h * rs + L];
            line = new float[L];
            bandRows = ow >= L ? Math.max(1, Math.min(h, BAND_PAIRS / ow)) : h;
            int half = flat ? BlockedGemm.roundUp(bandRows * ow, L) + 2 * L : BlockedGemm.roundUp(ow + 1, L) + L;
            even = new float[half];
            odd = new float[half];
            row = flat ? null : new float[2 * half + 2 * L];
            colIdx = flat ? new float[BlockedGemm.roundUp(Math.max(h * ow, L), L) + 2 * L] : null; // whole plane
            small = flat && h * w < 2 * L ? new float[2 * L] : null;
            if (flat) {
                for (int q = 0; q < colIdx.length; q++) colIdx[q] = q % ow;
            }
        }

        static boolean applies(Planes p, PoolSpec s) {
            return (s.kh() == 3 || s.kh() == 2) && s.kw() == s.kh() && s.strideH() == 2 && s.strideW() == 2
                    && s.padH() <= 1 && s.padW() <= 1 && (long) p.h() * p.w() < (1 << 22);
        }

        @Override
        public boolean fits(Planes p, PoolSpec s) {
            return k == s.kh() && h == p.h() && w == p.w() && oh == p.outH() && ow == p.outW() && padH == s.padH()
                    && padW == s.padW();
        }

        @Override
        public void plane(float[] x, int in, float[] y, int out) {
            if (flat && STRIDE2_BITS && ow >= L && bitsPlane(x, in, y, out)) return;
            if (flat) {
                flatRows(x, in, y, out);
                return;
            }
            clampedRows(x, in);
            for (int oy = 0; oy < oh; oy++) outputRow(oy, y, out);
        }

        /** For {@link #bitsPlane}: one output row's column maxima; its even and odd columns (odd shifted by padW). */
        private float[] colMax, bitsEven, bitsOdd;

        /**
         * {@link #plane} on the floats' bit patterns as ints where every element of the plane is +0 up to +infinity
         * (what pooling after a ReLU sees; as FlatMax3's {@code bitsPlane}), columns first: each output row's input
         * rows' column maxima in contiguous vectors (no split of the input), then one even / odd split of that row
         * and its window maxima across. On such values the integer order is the float order and equal values have
         * equal bits, so the order of the maxima (columns first here, rows first on the float path) cannot change a
         * bit of y. Flat planes whose output rows are at least a vector wide (GoogLeNet's maxpool1 and maxpool2:
         * 112 → 56 1.41x, 56 → 28 1.09x alone, batch 1; on maxpool3's 14-wide rows it measured 0.75x the flat float
         * pass, whose loops run over whole bands of rows); any other value anywhere in the plane (a negative number,
         * −0, NaN) returns false, and the caller's float pass overwrites what this wrote.
         */
        private boolean bitsPlane(float[] x, int in, float[] y, int out) {
            if (colMax == null) {
                int half = BlockedGemm.roundUp(ow + 1, L) + L;
                colMax = new float[2 * half + 2 * L];
                bitsEven = new float[half + L];
                bitsOdd = new float[half + L];
            }
            IntVector lo = IntVector.zero(IS), hi = IntVector.zero(IS);
            for (int oy = 0; oy < oh; oy++) {
                int top = 2 * oy - padH;
                int r0 = in + clamp(top) * w, r1 = in + clamp(top + 1) * w, r2 = in + clamp(top + k - 1) * w;
                for (int c = 0; ; c += L) { // the last vector overlaps the one before (w ≥ L)
                    if (c + L > w) c = w - L;
                    IntVector a = FloatVector.fromArray(FS, x, r0 + c).reinterpretAsInts();
                    IntVector b = FloatVector.fromArray(FS, x, r1 + c).reinterpretAsInts();
                    IntVector d = FloatVector.fromArray(FS, x, r2 + c).reinterpretAsInts();
                    IntVector m = a.max(b).max(d);
                    lo = lo.min(a.min(b).min(d));
                    hi = hi.max(m);
                    m.reinterpretAsFloats().intoArray(colMax, c);
                    if (c + L == w) break;
                }
                // even[j] = colMax[2j], odd[j + padW] = colMax[2j + 1]; lanes past the row are never output
                for (int j = 0; j < ow; j += L) EvenOdd.split(colMax, 2 * j, bitsEven, j, bitsOdd, j + padW);
                if (padW == 1) {
                    bitsOdd[0] = bitsEven[0]; // column −1 (padding) clamped to column 0
                } else {
                    bitsEven[ow] = bitsOdd[ow - 1]; // column w (ceil mode, past the edge) clamped to w − 1
                }
                int dst = out + oy * ow;
                for (int j = 0; ; j += L) { // the last vector overlaps the one before (ow ≥ L)
                    if (j + L > ow) j = ow - L;
                    IntVector e = FloatVector.fromArray(FS, bitsEven, j).reinterpretAsInts();
                    IntVector o = FloatVector.fromArray(FS, bitsOdd, j).reinterpretAsInts();
                    IntVector m = e.max(o); // pad 0: columns 2j, 2j + 1; pad 1: 2j − 1, 2j
                    if (k == 3) m = m.max(FloatVector.fromArray(FS, padW == 1 ? bitsOdd : bitsEven, j + 1)
                            .reinterpretAsInts()); // pad 0: 2j + 2; pad 1: 2j + 1
                    m.reinterpretAsFloats().intoArray(y, dst + j);
                    if (j + L == ow) break;
                }
            }
            return lo.reduceLanes(VectorOperators.MIN) >= 0
                    && hi.reduceLanes(VectorOperators.MAX) <= POSITIVE_INFINITY_BITS;
        }

        /** y's output row oy = the maxima of its input rows' row maxima. */
        private void outputRow(int oy, float[] y, int out) {
            int top = 2 * oy - padH;
            int r0 = clamp(top) * rs, r1 = clamp(top + 1) * rs, r2 = clamp(top + 2) * rs, dst = out + oy * ow;
            if (ow >= L) {
                for (int j = 0; ; j += L) { // the last vector overlaps the one before
                    if (j + L > ow) j = ow - L;
                    down(r0 + j, r1 + j, r2 + j, y, dst + j);
                    if (j + L == ow) break;
                }
            } else if (dst + L <= out + oh * ow) { // inside this plane (another thread may own the next): the
                down(r0, r1, r2, y, dst); // lanes past the row are the next rows', written after this one
            } else {
                down(r0, r1, r2, line, 0);
                System.arraycopy(line, 0, y, dst, ow);
            }
        }

        /** Row maxima, row by row: each row copied with its padding clamped, split, and its window maxima. */
        private void clampedRows(float[] x, int in) {
            int cols = 2 * ow + k - 2; // window columns of all outputs, in padded coordinates
            int lo = Math.min(cols, padW), hi = Math.min(cols, w + padW);
            for (int iy = 0; iy < h; iy++) {
                int src = in + iy * w;
                // row[i] = x[clamp(i − padW, 0, w − 1)] for i in [0, cols)
                for (int i = 0; i < lo; i++) row[i] = x[src];
                System.arraycopy(x, src + lo - padW, row, lo, hi - lo);
                for (int i = hi; i < cols; i++) row[i] = x[src + w - 1];
                for (int j = 0; j < ow + 1; j += L) EvenOdd.split(row, 2 * j, even, j, odd, j);
                int hr = iy * rs;
                for (int j = 0; ; j += L) { // the last vector overlaps the one before; a narrow row is one vector
                    if (j + L > ow) j = Math.max(0, ow - L);
                    across(j, hr + j);
                    if (j + L >= ow) break;
                }
            }
        }

        /**
         * When w = 2·outW (windows [2j, 2j + k) with padding 0, [2j − 1, 2j + 1] with padding 1) row iy's column 2j is
         * the plane's element 2(iy·ow + j): one split of a band of rows gives all their even and odd columns, and
         * their window maxima are one pass over the band's outputs. Each output row follows as soon as its input
         * rows are done, so a wide plane's buffers stay small (bands of about {@link #BAND_PAIRS} outputs).
         */
        private void flatRows(float[] x, int in, float[] y, int out) {
            if (small != null) { // fewer than two vectors: split a copy with room for whole vectors
                System.arraycopy(x, in, small, 0, h * w);
                EvenOdd.split(small, 0, even, 0, odd, 1);
                flatWindows(0, 0);
                for (int oy = 0; oy < oh; oy++) outputRow(oy, y, out);
                return;
            }
            int oy = 0;
            for (int r0 = 0; r0 < h; r0 += bandRows) {
                int r1 = Math.min(h, r0 + bandRows), base = r0 * ow, m = (r1 - r0) * ow; // m >= L
                splitPairs(x, in + 2 * base, m, even, odd);
                for (int q = 0; ; q += L) {
                    if (q + L > m) q = m - L;
                    flatWindows(q, base + q);
                    if (q + L == m) break;
                }
                while (oy < oh && (r1 == h || clamp(2 * oy - padH + k - 1) < r1)) outputRow(oy++, y, out);
            }
        }

        /**
         * e[j] = x[from + 2j], o[j + 1] = x[from + 2j + 1] for j in [0, m) (odd(q) at q + 1), m ≥ L: the last split
         * overlaps the one before, so nothing past x[from + 2m) is read.
         */
        private static void splitPairs(float[] x, int from, int m, float[] e, float[] o) {
            for (int j = 0; ; j += L) {
                if (j + L > m) j = m - L;
                EvenOdd.split(x, from + 2 * j, e, j, o, j + 1);
                if (j + L == m) break;
            }
        }

        /*
         * The three helpers below take and return no vectors and call nothing that does, so they stay fast however
         * C2 inlines them: a helper taking vectors (PaddedArgMax.firstMax), once compiled on its own, is too big to
         * inline into a later compilation and boxes its arguments — a 3–4x slower pool, seen when a second
         * geometry's branch recompiled this pass. Each writes out firstMax's rule: v replaces m where v > m or v is
         * NaN.
         */

        /** rows[at, at + L) = max(even[j], odd[j]) or (k = 3) max(even[j], odd[j], even[j + 1]). */
        private void across(int j, int at) {
            FloatVector m = FloatVector.fromArray(FS, even, j), v = FloatVector.fromArray(FS, odd, j);
            m = m.blend(v, v.compare(VectorOperators.GT, m).or(v.compare(VectorOperators.NE, v)));
            if (k == 3) {
                FloatVector u = FloatVector.fromArray(FS, even, j + 1);
                m = m.blend(u, u.compare(VectorOperators.GT, m).or(u.compare(VectorOperators.NE, u)));
            }
            m.intoArray(rows, at);
        }

        /** rows[at, at + L) = the window maxima of the flat pass's outputs [q, q + L), in row-major window order. */
        private void flatWindows(int q, int at) {
            FloatVector e = FloatVector.fromArray(FS, even, q), o = FloatVector.fromArray(FS, odd, q + 1);
            if (k == 2) {
                e.blend(o, o.compare(VectorOperators.GT, e).or(o.compare(VectorOperators.NE, o))).intoArray(rows, at);
            } else if (padW == 0) { // [2j, 2j + 2]: the last column's third is its second again
                FloatVector third = FloatVector.fromArray(FS, even, q + 1)
                        .blend(o, FloatVector.fromArray(FS, colIdx, q).compare(VectorOperators.EQ, ow - 1));
                FloatVector m = e.blend(o, o.compare(VectorOperators.GT, e).or(o.compare(VectorOperators.NE, o)));
                m.blend(third, third.compare(VectorOperators.GT, m).or(third.compare(VectorOperators.NE, third)))
                        .intoArray(rows, at);
            } else { // [2j − 1, 2j + 1]: the first column's first is its second again
                FloatVector first = FloatVector.fromArray(FS, odd, q)
                        .blend(e, FloatVector.fromArray(FS, colIdx, q).compare(VectorOperators.EQ, 0f));
                FloatVector m = first.blend(e, e.compare(VectorOperators.GT, first).or(e.compare(VectorOperators.NE, e)));
                m.blend(o, o.compare(VectorOperators.GT, m).or(o.compare(VectorOperators.NE, o))).intoArray(rows, at);
            }
        }

        /** dst[at, at + L) = max(rows[a + i], rows[b + i]) or (k = 3) with rows[c + i] too: the first maximal row. */
        private void down(int a, int b, int c, float[] dst, int at) {
            FloatVector m = FloatVector.fromArray(FS, rows, a), v = FloatVector.fromArray(FS, rows, b);
            m = m.blend(v, v.compare(VectorOperators.GT, m).or(v.compare(VectorOperators.NE, v)));
            if (k == 3) {
                FloatVector u = FloatVector.fromArray(FS, rows, c);
                m = m.blend(u, u.compare(VectorOperators.GT, m).or(u.compare(VectorOperators.NE, u)));
            }
            m.intoArray(dst, at);
        }

        /** Backward buffers (whole plane: row maxima and their offsets, the outputs' argmax), made on first use. */
        private float[] bEven, bOdd, rowMax, rowArg, arg;

        /** 0, 2, 4, ..., 2(L − 1): the plane offsets of a vector of even columns, as floats. */
        private static final FloatVector EVEN_OFFSETS = FloatVector.fromArray(FS, evenOffsets(), 0);

        private static float[] evenOffsets() {
            float[] a = new float[L];
            for (int i = 0; i < L; i++) a[i] = 2 * i;
            return a;
        }

        /**
         * dx[argmax(q)] += dy[q] for every output q of a flat plane (w = 2·outW: {@link #flat}), the argmax by the
         * forward pass's rows-first rule with each running maximum's plane offset carried alongside (a float, exact
         * below 2^24): a clamped duplicate carries its element's offset, so the chosen element is the row-major
         * rule's, as {@link PaddedArgMax} (the path for other widths) picks it. Not banded: the buffers hold the
         * whole plane. Only for flat planes (the caller picks the padded path for the others).
         */
        @Override
        public void backwardPlane(float[] x, int in, float[] dy, int out, float[] dx, int grad) {
            if (!flat) throw new IllegalStateException("stride-2 backward pass on a plane with w != 2·outW: " + w);
            int n = h * ow, outs = oh * ow;
            if (arg == null) {
                int size = BlockedGemm.roundUp(Math.max(n, L), L) + 2 * L;
                bEven = new float[size];
                bOdd = new float[size];
                rowMax = new float[size];
                rowArg = new float[size];
                arg = new float[BlockedGemm.roundUp(Math.max(outs, L), L) + 2 * L];
            }
            if (small != null) {
                System.arraycopy(x, in, small, 0, h * w);
                EvenOdd.split(small, 0, bEven, 0, bOdd, 1);
                rowArgs(0);
            } else {
                splitPairs(x, in, n, bEven, bOdd);
                for (int q = 0; ; q += L) {
                    if (q + L > n) q = n - L;
                    rowArgs(q);
                    if (q + L == n) break;
                }
            }
            for (int oy = 0; oy < oh; oy++) {
                int top = 2 * oy - padH;
                int r0 = clamp(top) * ow, r1 = clamp(top + 1) * ow, r2 = clamp(top + 2) * ow;
                for (int j = 0; ; j += L) { // a narrow row writes lanes past it: the next rows overwrite them
                    if (ow >= L && j + L > ow) j = ow - L;
                    downArgs(r0 + j, r1 + j, r2 + j, oy * ow + j);
                    if (j + L >= ow) break;
                }
            }
            for (int q = 0; q < outs; q++) dx[grad + (int) arg[q]] += dy[out + q];
        }

        /** rowMax / rowArg [q, q + L): the row pass of {@link #flatWindows} with the plane offsets of the maxima. */
        private void rowArgs(int q) {
            FloatVector e = FloatVector.fromArray(FS, bEven, q), o = FloatVector.fromArray(FS, bOdd, q + 1);
            FloatVector ei = EVEN_OFFSETS.add(2f * q), oi = ei.add(1f);
            FloatVector m, mi;
            if (k == 3 && padW == 1) { // [2j − 1, 2j + 1]: the first column's first is its second again
                VectorMask<Float> firstCol = FloatVector.fromArray(FS, colIdx, q).compare(VectorOperators.EQ, 0f);
                m = FloatVector.fromArray(FS, bOdd, q).blend(e, firstCol);
                mi = ei.sub(1f).blend(ei, firstCol);
                VectorMask<Float> t = e.compare(VectorOperators.GT, m).or(e.compare(VectorOperators.NE, e));
                m = m.blend(e, t);
                mi = mi.blend(ei, t);
            } else {
                m = e;
                mi = ei;
            }
            VectorMask<Float> t = o.compare(VectorOperators.GT, m).or(o.compare(VectorOperators.NE, o));
            m = m.blend(o, t);
            mi = mi.blend(oi, t);
            if (k == 3 && padW == 0) { // [2j, 2j + 2]: the last column's third is its second again
                VectorMask<Float> lastCol = FloatVector.fromArray(FS, colIdx, q).compare(VectorOperators.EQ, ow - 1);
                FloatVector third = FloatVector.fromArray(FS, bEven, q + 1).blend(o, lastCol);
                FloatVector thirdI = ei.add(2f).blend(oi, lastCol);
                t = third.compare(VectorOperators.GT, m).or(third.compare(VectorOperators.NE, third));
                m = m.blend(third, t);
                mi = mi.blend(thirdI, t);
            }
            m.intoArray(rowMax, q);
            mi.intoArray(rowArg, q);
        }

        /** arg[at, at + L) = the offsets of the first maximum of rows a, b (and c when k = 3) of the row pass. */
        private void downArgs(int a, int b, int c, int at) {
            FloatVector m = FloatVector.fromArray(FS, rowMax, a), mi = FloatVector.fromArray(FS, rowArg, a);
            FloatVector v = FloatVector.fromArray(FS, rowMax, b);
            VectorMask<Float> t = v.compare(VectorOperators.GT, m).or(v.compare(VectorOperators.NE, v));
            m = m.blend(v, t);
            mi = mi.blend(FloatVector.fromArray(FS, rowArg, b), t);
            if (k == 3) {
                FloatVector u = FloatVector.fromArray(FS, rowMax, c);
                t = u.compare(VectorOperators.GT, m).or(u.compare(VectorOperators.NE, u));
                mi = mi.blend(FloatVector.fromArray(FS, rowArg, c), t);
            }
            mi.intoArray(arg, at);
        }

        private int clamp(int r) {
            return Math.max(0, Math.min(h - 1, r));
        }
    }

    /**
     * 3x3 max pooling at stride 1 with padding 1 (output the size of the input: GoogLeNet's inception pools) on the
     * plane as one flat array, so a 14x14 or 7x7 plane is a few dozen vectors instead of per-row loops, edge cases
     * and copies (DirectMax spent more time on those than on the maxima there: 3.7 ns per output at 14x14).
     * Padding is replaced by clamping: a window position off the row (column) uses the nearest in-image element,
     * which the window's row-major order visits right before or after it, and repeating an element in
     * {@link PaddedArgMax#firstMax}'s chain leaves the result unchanged, bit for bit — so the result is the element
     * the row-major rule picks, as on every other path. Horizontal pass: x[i−1], x[i], x[i+1] with the first and last
     * column's outside neighbour replaced by x[i] (a compare against a column-index vector), into a buffer with one
     * extra row above and below that repeat the first and last rows; vertical pass: three rows of that buffer.
     */
    private static final class FlatMax3 implements PlanePass {
        private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
        /** Integer lanes of FS's shape (a constant: the Vector API compiles only those). */
        private static final VectorSpecies<Integer> IS = VectorSpecies.of(int.class, FS.vectorShape());
        private static final int L = FS.length();
        /** Each thread's instances, one per plane geometry ({@link CpuPooling#kept}). */
        static final ThreadLocal<java.util.List<FlatMax3>> KEPT = ThreadLocal.withInitial(java.util.ArrayList::new);
        private final int h, w, plane;
        /**
         * Column index of each plane position (as float: compared in vector lanes), the row-max buffer, and for the
         * backward pass the row maxima's plane offsets and the outputs' argmax offsets (floats, exact below 2^24).
         */
        private final float[] cols, rows, rowArg, arg;
        /**
         * For {@link #bitsPlane}: all ones where plane position i's left (right) neighbour is in its row, 0 where i is
         * the row's first (last) column.
         */
        private final int[] keepLeft, keepRight;

        private FlatMax3(Planes p, PoolSpec s) {
            this.h = p.h();
            this.w = p.w();
            this.plane = h * w;
            this.cols = new float[plane];
            this.keepLeft = new int[plane];
            this.keepRight = new int[plane];
            for (int i = 0; i < plane; i++) {
                cols[i] = i % w;
                keepLeft[i] = i % w == 0 ? 0 : -1;
                keepRight[i] = i % w == w - 1 ? 0 : -1;
            }
            this.rows = new float[plane + 2 * w];
            this.rowArg = new float[plane + 2 * w];
            this.arg = new float[plane];
        }

        static boolean applies(Planes p, PoolSpec s) {
            return s.kh() == 3 && s.kw() == 3 && s.strideH() == 1 && s.strideW() == 1 && s.padH() == 1
                    && s.padW() == 1 && p.outH() == p.h() && p.outW() == p.w() && p.w() >= 2
                    && p.h() * p.w() >= L + 2 && (long) p.h() * p.w() < (1 << 22);
        }

        @Override
        public boolean fits(Planes p, PoolSpec s) {
            return h == p.h() && w == p.w();
        }

        @Override
        public void plane(float[] x, int in, float[] y, int out) {
            if (BITS_MAX && bitsPlane(x, in, y, out)) return;
            float last = w - 1;
            rows[w] = DirectMax.edge(x, in, -1, 3, w); // the first and last positions, columns clamped to the row
            rows[w + plane - 1] = DirectMax.edge(x, in + plane - w, w - 2, 3, w);
            for (int i = 1; ; i += L) { // [1, plane − 1): the last vector overlaps the one before
                if (i + L > plane - 1) i = plane - 1 - L;
                FloatVector c = FloatVector.fromArray(FS, x, in + i), col = FloatVector.fromArray(FS, cols, i);
                FloatVector l = FloatVector.fromArray(FS, x, in + i - 1).blend(c, col.compare(VectorOperators.EQ, 0f));
                FloatVector r = FloatVector.fromArray(FS, x, in + i + 1).blend(c, col.compare(VectorOperators.EQ, last));
                // PaddedArgMax.firstMax written out (see StrideTwoMax's helpers: no vector-taking calls in a pass)
                FloatVector m = l.blend(c, c.compare(VectorOperators.GT, l).or(c.compare(VectorOperators.NE, c)));
                m.blend(r, r.compare(VectorOperators.GT, m).or(r.compare(VectorOperators.NE, r))).intoArray(rows, w + i);
                if (i + L == plane - 1) break;
            }
            System.arraycopy(rows, w, rows, 0, w); // the row above the first repeats it
            System.arraycopy(rows, plane, rows, plane + w, w); // the row below the last repeats it
            for (int i = 0; ; i += L) {
                if (i + L > plane) i = plane - L;
                FloatVector a = FloatVector.fromArray(FS, rows, i), b = FloatVector.fromArray(FS, rows, i + w);
                FloatVector c = FloatVector.fromArray(FS, rows, i + 2 * w);
                FloatVector m = a.blend(b, b.compare(VectorOperators.GT, a).or(b.compare(VectorOperators.NE, b)));
                m.blend(c, c.compare(VectorOperators.GT, m).or(c.compare(VectorOperators.NE, c))).intoArray(y, out + i);
                if (i + L == plane) break;
            }
        }

        /**
         * {@link #plane} on the floats' bit patterns as ints, where every element of the plane is a non-negative
         * number (+0 up to +infinity: what pooling after a ReLU sees): there the integer order of the bits is the
         * float order and equal floats have equal bits, so the integer maximum is the element the first-maximum rule
         * picks, bit for bit, and a zero (+0) stands in for a neighbour outside the row. One instruction per maximum
         * instead of {@link PaddedArgMax#firstMax}'s two compares, a mask operation and a blend (2x faster per pass,
         * session 11). The planes' range is checked while the row pass reads them; false (and y unspecified) where any
         * element is negative, -0 or NaN: the caller then runs the exact float pass.
         */
        private boolean bitsPlane(float[] x, int in, float[] y, int out) {
            IntVector lo = IntVector.zero(IS), hi = IntVector.zero(IS);
            for (int i = 1; ; i += L) { // [1, plane − 1): the last vector overlaps the one before
                if (i + L > plane - 1) i = plane - 1 - L;
                IntVector c = FloatVector.fromArray(FS, x, in + i).reinterpretAsInts();
                IntVector l = FloatVector.fromArray(FS, x, in + i - 1).reinterpretAsInts()
                        .and(IntVector.fromArray(IS, keepLeft, i));
                IntVector r = FloatVector.fromArray(FS, x, in + i + 1).reinterpretAsInts()
                        .and(IntVector.fromArray(IS, keepRight, i));
                lo = lo.min(c);
                hi = hi.max(c);
                c.max(l).max(r).reinterpretAsFloats().intoArray(rows, w + i);
                if (i + L == plane - 1) break;
            }
            int first = Float.floatToRawIntBits(x[in]), end = Float.floatToRawIntBits(x[in + plane - 1]);
            if (Math.min(Math.min(first, end), lo.reduceLanes(VectorOperators.MIN)) < 0
                    || Math.max(Math.max(first, end), hi.reduceLanes(VectorOperators.MAX)) > POSITIVE_INFINITY_BITS) {
                return false;
            }
            rows[w] = Math.max(x[in], x[in + 1]); // non-negative, no NaN: Math.max is the first-maximum rule here
            rows[w + plane - 1] = Math.max(x[in + plane - 2], x[in + plane - 1]);
            System.arraycopy(rows, w, rows, 0, w); // the row above the first repeats it
            System.arraycopy(rows, plane, rows, plane + w, w); // the row below the last repeats it
            for (int i = 0; ; i += L) {
                if (i + L > plane) i = plane - L;
                IntVector a = FloatVector.fromArray(FS, rows, i).reinterpretAsInts();
                IntVector b = FloatVector.fromArray(FS, rows, i + w).reinterpretAsInts();
                IntVector c = FloatVector.fromArray(FS, rows, i + 2 * w).reinterpretAsInts();
                a.max(b).max(c).reinterpretAsFloats().intoArray(y, out + i);
                if (i + L == plane) break;
            }
            return true;
        }

        /**
         * dx[argmax(q)] += dy[q] for every output q of the plane, the argmax by the same separable, clamped chain as
         * {@link #plane} with each running maximum's plane offset carried alongside (as a float, exact below 2^24):
         * a clamped duplicate has the same offset, so the chosen element is the row-major rule's.
         */
        @Override
        public void backwardPlane(float[] x, int in, float[] dy, int out, float[] dx, int grad) {
            float last = w - 1;
            argEdge(x, in, 0);
            argEdge(x, in, plane - 1);
            for (int i = 1; ; i += L) {
                if (i + L > plane - 1) i = plane - 1 - L;
                FloatVector c = FloatVector.fromArray(FS, x, in + i), col = FloatVector.fromArray(FS, cols, i);
                FloatVector ci = IOTA.add((float) i);
                VectorMask<Float> first = col.compare(VectorOperators.EQ, 0f);
                VectorMask<Float> end = col.compare(VectorOperators.EQ, last);
                FloatVector m = FloatVector.fromArray(FS, x, in + i - 1).blend(c, first);
                FloatVector mi = ci.sub(1f).blend(ci, first);
                VectorMask<Float> t = PaddedArgMax.takes(m, c);
                m = m.blend(c, t);
                mi = mi.blend(ci, t);
                FloatVector r = FloatVector.fromArray(FS, x, in + i + 1).blend(c, end);
                t = PaddedArgMax.takes(m, r);
                m.blend(r, t).intoArray(rows, w + i);
                mi.blend(ci.add(1f).blend(ci, end), t).intoArray(rowArg, w + i);
                if (i + L == plane - 1) break;
            }
            System.arraycopy(rows, w, rows, 0, w);
            System.arraycopy(rowArg, w, rowArg, 0, w);
            System.arraycopy(rows, plane, rows, plane + w, w);
            System.arraycopy(rowArg, plane, rowArg, plane + w, w);
            for (int i = 0; ; i += L) {
                if (i + L > plane) i = plane - L;
                FloatVector m = FloatVector.fromArray(FS, rows, i), mi = FloatVector.fromArray(FS, rowArg, i);
                for (int k = 1; k < 3; k++) {
                    FloatVector v = FloatVector.fromArray(FS, rows, i + k * w);
                    VectorMask<Float> t = PaddedArgMax.takes(m, v);
                    m = m.blend(v, t);
                    mi = mi.blend(FloatVector.fromArray(FS, rowArg, i + k * w), t);
                }
                mi.intoArray(arg, i);
                if (i + L == plane) break;
            }
            for (int q = 0; q < plane; q++) dx[grad + (int) arg[q]] += dy[out + q];
        }

        /** rows / rowArg at plane position i (an edge) by the scalar rule, columns clamped to the row. */
        private void argEdge(float[] x, int in, int i) {
            int col = i % w, row = i - col, at = row + Math.max(0, col - 1);
            float m = x[in + at];
            for (int c = col; c <= Math.min(w - 1, col + 1); c++) {
                float v = x[in + row + c];
                if (v > m || v != v) {
                    m = v;
                    at = row + c;
                }
            }
            rows[w + i] = m;
            rowArg[w + i] = at;
        }

        /** 0, 1, ..., L − 1. */
        private static final FloatVector IOTA = FloatVector.fromArray(FS, iota(), 0);

        private static float[] iota() {
            float[] a = new float[L];
            for (int i = 0; i < L; i++) a[i] = i;
            return a;
        }

    }

    /**
     * Max-pooling forward straight from the image plane, separably and without a padded copy: (1) for every input
     * row, the maxima over the kw columns of the window starting at each column position xf·1 − padW, for all
     * (stride-1) positions xf up to the last one an output uses — vector loads at unit stride where the window is
     * inside the row, a scalar loop at the edges; (2) for every output row, the maxima over its kh rows of (1),
     * again at unit stride; (3) every strideW-th of those is the output. Padding and the part of a ceil-mode window
     * past the image are skipped, which is what -infinity padding does. Both passes keep the first maximum and let a
     * NaN replace it ({@link PaddedArgMax#firstMax}), so the result is the element the row-major rule picks, bit for
     * bit.
     * With stride 2 the horizontal pass does twice the work it needs, but at unit stride; the padded path split
     * each plane into phases with a scalar copy of every input element, which was half of the pooling time.
     */
    private static final class DirectMax {
        private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
        private final Planes p;
        private final PoolSpec s;
        /** Window start positions per row at stride 1 ((outW − 1)·strideW + 1), and that rounded up to vectors. */
        private final int wf, pitch;

        DirectMax(Planes p, PoolSpec s) {
            this.p = p;
            this.s = s;
            this.wf = (p.outW() - 1) * s.strideW() + 1;
            this.pitch = BlockedGemm.roundUp(wf, FS.length());
        }

        /** Planes of at least a vector of window positions per row. */
        static boolean applies(Planes p, PoolSpec s) {
            return (p.outW() - 1) * s.strideW() + 1 >= FS.length() && (long) p.h() * p.w() < (1 << 22);
        }

        /** Per thread: per input row its window maxima (ROWS), one output row before the stride (OUT). */
        private static final ThreadLocal<netslim.backend.cpu.Scratch> BUFFERS =
                ThreadLocal.withInitial(() -> new netslim.backend.cpu.Scratch(2));
        private static final int ROWS = 0, OUT = 1;

        /** This thread's buffers ({@link #plane} grows them to its geometry). */
        static netslim.backend.cpu.Scratch buffers() {
            return BUFFERS.get();
        }

        void plane(float[] x, int in, netslim.backend.cpu.Scratch b, float[] y, int out) {
            int w = p.w(), kw = s.kw(), pad = s.padW(), lanes = FS.length();
            float[] h = b.get(ROWS, p.h() * pitch);
            // Window positions whose kw columns all lie inside the row: [lo, hi).
            int lo = Math.min(wf, pad), hi = Math.max(lo, Math.min(wf, w - kw + 1 + pad));
            for (int iy = 0; iy < p.h(); iy++) {
                int row = in + iy * w, hr = iy * pitch;
                for (int xf = 0; xf < lo; xf++) h[hr + xf] = edge(x, row, xf - pad, kw, w);
                int xf = lo;
                if (hi - lo >= lanes) {
                    for (; ; xf += lanes) {
                        if (xf + lanes > hi) xf = hi - lanes; // last vector overlaps the one before: no scalar tail
                        int at = row + xf - pad;
                        FloatVector m = FloatVector.fromArray(FS, x, at);
                        for (int kx = 1; kx < kw; kx++) {
                            m = PaddedArgMax.firstMax(m, FloatVector.fromArray(FS, x, at + kx));
                        }
                        m.intoArray(h, hr + xf);
                        if (xf + lanes == hi) break;
                    }
                    xf = hi;
                }
                for (; xf < wf; xf++) h[hr + xf] = edge(x, row, xf - pad, kw, w);
            }
            float[] o = b.get(OUT, pitch);
            int sw = s.strideW(), ow = p.outW();
            for (int oy = 0; oy < p.outH(); oy++) {
                int top = oy * s.strideH() - s.padH(); // the window's rows [top, top + kh), clipped to the image
                int r0 = Math.max(0, top), r1 = Math.min(p.h(), top + s.kh());
                for (int q = 0; q < pitch; q += lanes) {
                    FloatVector m = FloatVector.fromArray(FS, h, r0 * pitch + q);
                    for (int r = r0 + 1; r < r1; r++) {
                        m = PaddedArgMax.firstMax(m, FloatVector.fromArray(FS, h, r * pitch + q));
                    }
                    m.intoArray(o, q);
                }
                int dst = out + oy * ow;
                if (sw == 1) {
                    System.arraycopy(o, 0, y, dst, ow);
                } else {
                    for (int ox = 0, src = 0; ox < ow; ox++, src += sw) y[dst + ox] = o[src];
                }
            }
        }

        /** The first maximum (a NaN replacing it) over columns [c0, c0 + kw) ∩ [0, w) of one row; -inf if empty. */
        private static float edge(float[] x, int row, int c0, int kw, int w) {
            float m = Float.NEGATIVE_INFINITY;
            for (int c = Math.max(0, c0), end = Math.min(w, c0 + kw); c < end; c++) {
                float v = x[row + c];
                if (v > m || v != v) m = v;
            }
            return m;
        }
    }

    /**
     * Max pooling a vector of outputs at a time, with the same result as {@link #argMax}. The plane is copied into a
     * buffer padded with -infinity and split by column phase: phase r holds the padded columns c with c mod strideW
     * = r, row pitch {@code ps}. Flattening the outputs as q = oy·strideH·ps + ox, window element (ky, kx) of
     * consecutive outputs is then one contiguous load at the fixed shift phase(kx) + ky·ps + kx div strideW. Lanes
     * that fall on padding columns or on rows between output rows (strideH > 1) compute garbage that is never read.
     * Each output keeps its running max and the plane offset of its argmax (as a float: exact below 2^24, checked)
     * and replaces them when the element is greater, or NaN, in the window's row-major order; padding (-infinity)
     * is never taken, and the start value is the window's first element inside the image, as in the scalar rule.
     * The loop runs over window positions outside and outputs inside, so the outputs are independent work rather
     * than one chain of dependent compares per window (which, with branches on ReLU ties, was 45% of a training
     * step's profile).
     */
    private static final class PaddedArgMax {
        private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
        private final Planes p;
        private final PoolSpec s;
        private final int ps, phaseLen, span;
        /** Row positions the horizontal pass of {@link #runMax} covers: every row a window of an output row reads. */
        private final int hspan;
        private final float[] origin; // plane offset of each padded position, per phase (garbage where padding)
        private final float[] first;  // per flattened output q: plane offset of its window's first in-image element

        /** Per-thread buffers of one call, views of that thread's grow-only {@link Buffers}. */
        final class Scratch {
            final float[] padded, max, best, rows;

            Scratch(Buffers b) {
                padded = b.padded = grow(b.padded, s.strideW() * phaseLen);
                // One vector of slack: with outW below a vector, the last output row's vector reaches past span.
                // (Latent until session 5: these per-thread buffers had always been grown by bigger pools first.)
                max = b.max = grow(b.max, span + FS.length());
                boolean argmax = origin != null; // backward tracks the argmax; forward needs the row maxima instead
                best = argmax ? (b.best = grow(b.best, span + FS.length())) : null;
                rows = argmax ? null : (b.rows = grow(b.rows, hspan + FS.length()));
            }
        }

        /** Reused across calls (a forward pass must not allocate per call); only grows. */
        private static final class Buffers {
            float[] padded = new float[0], max = new float[0], best = new float[0], rows = new float[0];
        }

        private static final ThreadLocal<Buffers> BUFFERS = ThreadLocal.withInitial(Buffers::new);

        private static float[] grow(float[] a, int n) {
            return a.length >= n ? a : new float[Math.max(n, a.length + a.length / 2)];
        }

        private PaddedArgMax(Planes p, PoolSpec s, boolean argTables) {
            this.p = p;
            this.s = s;
            int sw = s.strideW(), sh = s.strideH(), lanes = FS.length();
            int pitch = p.w() + 2 * s.padW() + sw, rows = p.h() + 2 * s.padH() + sh;
            this.ps = (pitch + sw - 1) / sw;
            this.span = ((p.outH() - 1) * sh * ps + p.outW() + lanes - 1) / lanes * lanes;
            int maxShift = (s.kh() - 1) * ps + (s.kw() - 1) / sw;
            this.phaseLen = Math.max(rows * ps, span + maxShift) + lanes;
            this.hspan = (span + (s.kh() - 1) * ps + lanes - 1) / lanes * lanes;
            if (!argTables) { // forward: maxima only
                this.origin = null;
                this.first = null;
                return;
            }
            this.origin = new float[sw * phaseLen];
            for (int r = 0; r < sw; r++) {
                for (int i = 0; i < phaseLen; i++) {
                    origin[r * phaseLen + i] = (i / ps - s.padH()) * p.w() + ((i % ps) * sw + r - s.padW());
                }
            }
            this.first = new float[span];
            for (int oy = 0; oy < p.outH(); oy++) {
                for (int ox = 0; ox < p.outW(); ox++) {
                    first[oy * sh * ps + ox] = Math.max(oy * sh - s.padH(), 0) * p.w() + Math.max(ox * sw - s.padW(), 0);
                }
            }
        }

        /** The vector path for this call, or null where it does not pay or does not apply (narrow or huge planes). */
        static PaddedArgMax of(Planes p, PoolSpec s, boolean argTables) {
            long padded = (long) (p.h() + 2 * s.padH() + s.strideH() + s.kh() + 1)
                    * (p.w() + 2 * s.padW() + s.strideW() + FS.length());
            if (padded >= (1 << 22) || p.outW() < FS.length() / 2) return null;
            return new PaddedArgMax(p, s, argTables);
        }

        /** This thread's buffers for this geometry, the padded plane reset to -infinity (the image is copied in later). */
        Scratch scratch() {
            Scratch sc = new Scratch(BUFFERS.get());
            java.util.Arrays.fill(sc.padded, 0, s.strideW() * phaseLen, Float.NEGATIVE_INFINITY);
            return sc;
        }

        /** Copies one plane into the -infinity padded, phase-split buffer. */
        private void fill(float[] x, int in, float[] pad) {
            int w = p.w(), sw = s.strideW();
            for (int iy = 0; iy < p.h(); iy++) {
                int row = (iy + s.padH()) * ps, src = in + iy * w;
                if (sw == 1) {
                    System.arraycopy(x, src, pad, row + s.padW(), w);
                } else {
                    // padded column c = padW + ix goes to phase c mod sw, slot c div sw; walk each phase's slots
                    // (no division per element: with it this copy was a third of GoogLeNet's pooling time)
                    for (int r = 0; r < sw; r++) {
                        int j = r >= s.padW() ? 0 : (s.padW() - r + sw - 1) / sw; // first slot inside the image
                        int dst = r * phaseLen + row;
                        for (int ix = r + j * sw - s.padW(); ix < w; ix += sw, j++) pad[dst + j] = x[src + ix];
                    }
                }
            }
        }

        /**
         * The maxima of one plane's windows into y[out ..] (row-major outH x outW), separably: first each padded row's
         * maxima over the kw window columns (h[q] for every row position q), then over the kh window rows of h. Both
         * passes keep the first maximum and let a NaN replace it, so the result is the element the row-major rule
         * picks (its bits included): kh + kw vector taps per output instead of kh·kw.
         */
        void runMax(float[] x, int in, Scratch sc, float[] y, int out) {
            float[] pad = sc.padded, h = sc.rows, max = sc.max;
            int sw = s.strideW(), lanes = FS.length();
            fill(x, in, pad);
            for (int q = 0; q < hspan; q += lanes) {
                FloatVector m = FloatVector.fromArray(FS, pad, q); // kx = 0: phase 0, shift 0
                for (int kx = 1; kx < s.kw(); kx++) {
                    m = firstMax(m, FloatVector.fromArray(FS, pad, q + (kx % sw) * phaseLen + kx / sw));
                }
                m.intoArray(h, q);
            }
            int rowPitch = s.strideH() * ps, ow = p.outW();
            // Only the row positions of output rows (with a vertical stride the rows between them are never read).
            for (int base = 0, oy = 0; oy < p.outH(); oy++, base += rowPitch) {
                for (int q = base; q < base + ow; q += lanes) {
                    FloatVector m = FloatVector.fromArray(FS, h, q);
                    for (int ky = 1; ky < s.kh(); ky++) m = firstMax(m, FloatVector.fromArray(FS, h, q + ky * ps));
                    m.intoArray(max, q);
                }
            }
            for (int oy = 0; oy < p.outH(); oy++) System.arraycopy(max, oy * rowPitch, y, out + oy * ow, ow);
        }

        /** The running maximum m after seeing v. */
        private static FloatVector firstMax(FloatVector m, FloatVector v) {
            return m.blend(v, takes(m, v));
        }

        /** Lanes where v replaces the running maximum m: v greater, or NaN (the scalar rule of {@link #argMax}). */
        private static VectorMask<Float> takes(FloatVector m, FloatVector v) {
            return v.compare(VectorOperators.GT, m).or(v.compare(VectorOperators.NE, v));
        }

        void run(float[] x, int in, Scratch sc, int[] idx) {
            float[] pad = sc.padded, max = sc.max, best = sc.best;
            int sw = s.strideW(), lanes = FS.length();
            fill(x, in, pad);
            java.util.Arrays.fill(max, 0, span, Float.NEGATIVE_INFINITY);
            System.arraycopy(first, 0, best, 0, span);
            for (int ky = 0; ky < s.kh(); ky++) {
                for (int kx = 0; kx < s.kw(); kx++) {
                    int shift = (kx % sw) * phaseLen + ky * ps + kx / sw;
                    for (int q = 0; q < span; q += lanes) {
                        FloatVector v = FloatVector.fromArray(FS, pad, q + shift);
                        FloatVector m = FloatVector.fromArray(FS, max, q);
                        VectorMask<Float> take = takes(m, v);
                        m.blend(v, take).intoArray(max, q);
                        FloatVector.fromArray(FS, best, q)
                                .blend(FloatVector.fromArray(FS, origin, q + shift), take).intoArray(best, q);
                    }
                }
            }
            int rowPitch = s.strideH() * ps;
            for (int oy = 0; oy < p.outH(); oy++) {
                for (int ox = 0; ox < p.outW(); ox++) idx[oy * p.outW() + ox] = (int) best[oy * rowPitch + ox];
            }
        }
    }

    /** Offset within the plane of the first maximal element of window (oy, ox) (a NaN replaces the running max). */
    private static int argMax(float[] x, int in, Planes p, PoolSpec s, int oy, int ox) {
        int y0 = oy * s.strideH() - s.padH(), x0 = ox * s.strideW() - s.padW();
        int y1 = Math.min(y0 + s.kh(), p.h()), x1 = Math.min(x0 + s.kw(), p.w());
        y0 = Math.max(y0, 0);
        x0 = Math.max(x0, 0);
        int best = y0 * p.w() + x0;
        float max = Float.NEGATIVE_INFINITY;
        for (int iy = y0; iy < y1; iy++) {
            for (int ix = x0; ix < x1; ix++) {
                float v = x[in + iy * p.w() + ix];
                if (v > max || Float.isNaN(v)) { // NaN propagates, as in PyTorch
                    max = v;
                    best = iy * p.w() + ix;
                }
            }
        }
        return best;
    }

    void avgForward(Tensor x, Tensor y, PoolSpec s) {
        checkPool(x, y, s);
        Planes p = Planes.of(x, s);
        float[] xd = x.data(), yd = y.data();
        pool.parallelFor(p.count(), p.grain(), (p0, p1) -> {
            int[] win = new int[4];
            for (int pl = p0; pl < p1; pl++) {
                int in = x.offset() + pl * p.h() * p.w();
                int out = y.offset() + pl * p.outH() * p.outW();
                for (int oy = 0; oy < p.outH(); oy++) {
                    for (int ox = 0; ox < p.outW(); ox++) {
                        int divisor = avgWindow(p, s, oy, ox, win);
                        double sum = 0;
                        for (int iy = win[0]; iy < win[1]; iy++) {
                            for (int ix = win[2]; ix < win[3]; ix++) sum += xd[in + iy * p.w() + ix];
                        }
                        yd[out + oy * p.outW() + ox] = (float) (sum / divisor);
                    }
                }
            }
        });
    }

    void avgBackward(Tensor dy, Tensor dx, PoolSpec s) {
        checkPool(dx, dy, s);
        Planes p = Planes.of(dx, s);
        float[] gd = dy.data(), dxd = dx.data();
        pool.parallelFor(p.count(), p.grain(), (p0, p1) -> {
            int[] win = new int[4];
            for (int pl = p0; pl < p1; pl++) {
                int grad = dx.offset() + pl * p.h() * p.w();
                int out = dy.offset() + pl * p.outH() * p.outW();
                for (int oy = 0; oy < p.outH(); oy++) {
                    for (int ox = 0; ox < p.outW(); ox++) {
                        int divisor = avgWindow(p, s, oy, ox, win);
                        float g = gd[out + oy * p.outW() + ox] / divisor;
                        for (int iy = win[0]; iy < win[1]; iy++) {
                            for (int ix = win[2]; ix < win[3]; ix++) dxd[grad + iy * p.w() + ix] += g;
                        }
                    }
                }
            }
        });
    }

    /**
     * PyTorch's avg_pool2d window: end = min(start + k, size + pad) gives the padded pool size; the window is then
     * clipped to the image. Writes {y0, y1, x0, x1} into win and returns the divisor.
     */
    private static int avgWindow(Planes p, PoolSpec s, int oy, int ox, int[] win) {
        int y0 = oy * s.strideH() - s.padH(), x0 = ox * s.strideW() - s.padW();
        int y1 = Math.min(y0 + s.kh(), p.h() + s.padH()), x1 = Math.min(x0 + s.kw(), p.w() + s.padW());
        int padded = (y1 - y0) * (x1 - x0);
        win[0] = Math.max(y0, 0);
        win[1] = Math.min(y1, p.h());
        win[2] = Math.max(x0, 0);
        win[3] = Math.min(x1, p.w());
        return s.countIncludePad() ? padded : (win[1] - win[0]) * (win[3] - win[2]);
    }

    void globalAvgForward(Tensor x, Tensor y) {
        var xs = x.shape();
        if (!(xs.rank() == 4 && y.size() == xs.n() * xs.c())) {
            ShapeChecks.fail("globalAvgPool",
                    "output " + y.shape() + " does not match input " + xs);
        }
        int hw = xs.h() * xs.w();
        float[] xd = x.data(), yd = y.data();
        pool.parallelFor(xs.n() * xs.c(), Math.max(1, 16_384 / Math.max(1, hw)), (p0, p1) -> {
            for (int pl = p0; pl < p1; pl++) {
                int in = x.offset() + pl * hw;
                double sum = 0;
                for (int q = 0; q < hw; q++) sum += xd[in + q];
                yd[y.offset() + pl] = (float) (sum / hw);
            }
        });
    }

    void globalAvgBackward(Tensor dy, Tensor dx) {
        var xs = dx.shape();
        if (!(xs.rank() == 4 && dy.size() == xs.n() * xs.c())) {
            ShapeChecks.fail("globalAvgPoolBackward",
                    "gradient " + dy.shape() + " does not match input " + xs);
        }
        int hw = xs.h() * xs.w();
        float[] gd = dy.data(), dxd = dx.data();
        pool.parallelFor(xs.n() * xs.c(), Math.max(1, 16_384 / Math.max(1, hw)), (p0, p1) -> {
            for (int pl = p0; pl < p1; pl++) {
                float g = gd[dy.offset() + pl] / hw;
                int o = dx.offset() + pl * hw;
                for (int q = 0; q < hw; q++) dxd[o + q] += g;
            }
        });
    }
}
