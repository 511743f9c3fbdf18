package netslim.io;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorProto.DataType;

import netslim.NetslimException;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * Decodes ONNX TensorProtos (initializers, Constant values) into float tensors or integer constants. The element
 * count declared by the dims must match the data actually present before anything is allocated; data in external
 * files is not supported.
 */
final class OnnxTensors {
    private OnnxTensors() {
    }

    static boolean isFloat(TensorProto t) {
        return t.getDataType() == DataType.FLOAT_VALUE || t.getDataType() == DataType.DOUBLE_VALUE;
    }

    static boolean isInt(TensorProto t) {
        int d = t.getDataType();
        return d == DataType.INT64_VALUE || d == DataType.INT32_VALUE || d == DataType.BOOL_VALUE;
    }

    /** A float constant or an integer constant, by data type. */
    static OnnxValue constant(TensorProto t, String where) {
        if (isFloat(t)) return new OnnxValue.Floats(floats(t, where));
        if (isInt(t)) return new OnnxValue.Ints(ints(t, where), dims(t, where));
        throw new NetslimException(where + ": tensor " + t.getName() + " has unsupported data type "
                + typeName(t.getDataType()));
    }

    static Tensor floats(TensorProto t, String where) {
        int[] dims = dims(t, where);
        int n = new Shape(dims).size();
        float[] data = new float[checkCount(t, n, where)];
        if (t.getDataType() == DataType.FLOAT_VALUE) {
            if (t.hasRawData()) raw(t).asFloatBuffer().get(data);
            else for (int i = 0; i < n; i++) data[i] = t.getFloatData(i);
        } else if (t.getDataType() == DataType.DOUBLE_VALUE) {
            if (t.hasRawData()) {
                ByteBuffer b = raw(t);
                for (int i = 0; i < n; i++) data[i] = (float) b.getDouble(8 * i);
            } else {
                for (int i = 0; i < n; i++) data[i] = (float) t.getDoubleData(i);
            }
        } else {
            throw new NetslimException(where + ": tensor " + t.getName() + " must be float, not "
                    + typeName(t.getDataType()));
        }
        return Tensor.of(Shape.of(dims), data);
    }

    static long[] ints(TensorProto t, String where) {
        int n = new Shape(dims(t, where)).size();
        long[] v = new long[checkCount(t, n, where)];
        int type = t.getDataType();
        if (t.hasRawData()) {
            ByteBuffer b = raw(t);
            for (int i = 0; i < n; i++) {
                v[i] = type == DataType.INT64_VALUE ? b.getLong(8 * i)
                        : type == DataType.INT32_VALUE ? b.getInt(4 * i) : b.get(i);
            }
        } else if (type == DataType.INT64_VALUE) {
            for (int i = 0; i < n; i++) v[i] = t.getInt64Data(i);
        } else if (type == DataType.INT32_VALUE || type == DataType.BOOL_VALUE) {
            for (int i = 0; i < n; i++) v[i] = t.getInt32Data(i);
        } else {
            throw new NetslimException(where + ": tensor " + t.getName() + " must be an integer tensor, not "
                    + typeName(type));
        }
        return v;
    }

    /** Dims must be non-negative and the element count must fit a Java array. */
    static int[] dims(TensorProto t, String where) {
        int[] d = new int[t.getDimsCount()];
        long n = 1;
        for (int i = 0; i < d.length; i++) {
            long v = t.getDims(i);
            if (v < 0 || v > Integer.MAX_VALUE || (n *= v) > Integer.MAX_VALUE - 8) {
                throw new NetslimException(where + ": tensor " + t.getName() + " has invalid or too large dims "
                        + t.getDimsList());
            }
            d[i] = (int) v;
        }
        return d;
    }

    /** The data present must hold exactly {@code n} elements: checked before allocating {@code n}. */
    private static int checkCount(TensorProto t, int n, String where) {
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL || t.getExternalDataCount() > 0) {
            throw new NetslimException(where + ": tensor " + t.getName()
                    + " keeps its data in an external file, which is not supported (save the model as one file)");
        }
        int type = t.getDataType();
        long present;
        if (t.hasRawData()) {
            present = t.getRawData().size() / elementBytes(type);
            if (t.getRawData().size() % elementBytes(type) != 0) present = -1;
        } else {
            present = type == DataType.FLOAT_VALUE ? t.getFloatDataCount()
                    : type == DataType.DOUBLE_VALUE ? t.getDoubleDataCount()
                    : type == DataType.INT64_VALUE ? t.getInt64DataCount() : t.getInt32DataCount();
        }
        if (present != n) {
            throw new NetslimException(where + ": tensor " + t.getName() + " declares " + n
                    + " elements (dims " + t.getDimsList() + ") but holds " + (present < 0 ? "a partial" : present));
        }
        return n;
    }

    private static int elementBytes(int type) {
        if (type == DataType.DOUBLE_VALUE || type == DataType.INT64_VALUE) return 8;
        return type == DataType.BOOL_VALUE ? 1 : 4;
    }

    private static ByteBuffer raw(TensorProto t) {
        return t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    static String typeName(int type) {
        DataType d = DataType.forNumber(type);
        return d == null ? "#" + type : d.name();
    }
}
