package netslim.backend.cpu;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;

/**
 * Off-heap copies of GEMM operands for native BLAS calls: one direct buffer per operand and thread, grown on
 * demand and reused, so a call costs one bulk copy per operand and no allocation, page faults or JNI array pinning.
 * Matrices are packed dense (leading dimension = columns) so gaps between rows are neither copied nor written back.
 */
final class NativeStaging {
    private static final ThreadLocal<NativeStaging> PER_THREAD = ThreadLocal.withInitial(NativeStaging::new);

    final Slot a = new Slot();
    final Slot b = new Slot();
    final Slot c = new Slot();

    private NativeStaging() {
    }

    static NativeStaging get() {
        return PER_THREAD.get();
    }

    /** One reusable direct buffer (native byte order, position always 0). */
    static final class Slot {
        private FloatBuffer buf = FloatBuffer.allocate(0);

        /** A buffer of at least {@code size} floats; its contents are unspecified. */
        FloatBuffer reserve(int size) {
            if (buf.capacity() < size) {
                int grown = (int) Math.min(Integer.MAX_VALUE - 8, Math.max(size, buf.capacity() * 3L / 2));
                buf = ByteBuffer.allocateDirect(grown * Float.BYTES).order(ByteOrder.nativeOrder()).asFloatBuffer();
            }
            return buf;
        }

        /** Copies the rows x cols matrix at {@code x[off]} (row stride ld) in, densely; returns the buffer. */
        FloatBuffer stage(float[] x, int off, int rows, int cols, int ld) {
            FloatBuffer dst = reserve(rows * cols);
            if (ld == cols) {
                dst.put(0, x, off, rows * cols);
            } else {
                for (int i = 0; i < rows; i++) {
                    dst.put(i * cols, x, off + i * ld, cols);
                }
            }
            return dst;
        }

        /**
         * Copies the {@code count} floats at {@code x[off]} into this buffer at float {@code at}, which
         * {@link #reserve} must already cover (a block of rows of a matrix stacked from several arrays).
         */
        void stageAt(int at, float[] x, int off, int count) {
            buf.put(at, x, off, count);
        }

        /** Copies the {@code count} floats at float {@code at} of this buffer out to {@code x[off]}. */
        void unstageFrom(int at, float[] x, int off, int count) {
            buf.get(at, x, off, count);
        }

        /** Copies the dense rows x cols matrix in this buffer back to {@code x[off]} with row stride ld. */
        void unstage(float[] x, int off, int rows, int cols, int ld) {
            if (ld == cols) {
                buf.get(0, x, off, rows * cols);
            } else {
                for (int i = 0; i < rows; i++) {
                    buf.get(i * cols, x, off + i * ld, cols);
                }
            }
        }
    }
}
