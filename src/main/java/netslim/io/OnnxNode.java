package netslim.io;

import java.util.Arrays;
import java.util.List;
import java.util.Set;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.AttributeProto.AttributeType;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;

import netslim.NetslimException;

/**
 * One ONNX node being imported: typed attribute access with defaults, and errors that name the file, the node and
 * its op type ("model.onnx: node Conv_12 (Conv): ..."). Handlers declare the attributes they understand; any other
 * attribute is an error, so semantics we do not implement are never silently ignored.
 */
final class OnnxNode {
    private final NodeProto proto;
    private final String file;

    OnnxNode(NodeProto proto, String file) {
        this.proto = proto;
        this.file = file;
    }

    String op() {
        return proto.getOpType();
    }

    /** The ONNX node name, or its first output's name when the node is unnamed. */
    String displayName() {
        if (!proto.getName().isEmpty()) return proto.getName();
        return proto.getOutputCount() > 0 ? proto.getOutput(0) : "(unnamed)";
    }

    String name() {
        return proto.getName();
    }

    String where() {
        return file + ": node " + displayName() + " (" + op() + ")";
    }

    NetslimException fail(String problem) {
        return new NetslimException(where() + ": " + problem);
    }

    int inputCount() {
        return proto.getInputCount();
    }

    /** The i-th input's value name, or "" when absent (ONNX marks a skipped optional input with ""). */
    String input(int i) {
        return i < proto.getInputCount() ? proto.getInput(i) : "";
    }

    boolean hasInput(int i) {
        return !input(i).isEmpty();
    }

    List<String> inputs() {
        return proto.getInputList();
    }

    String output(int i) {
        return i < proto.getOutputCount() ? proto.getOutput(i) : "";
    }

    int outputCount() {
        return proto.getOutputCount();
    }

    /** Fails on an attribute outside {@code known}. */
    void allowAttributes(String... known) {
        Set<String> k = Set.of(known);
        for (AttributeProto a : proto.getAttributeList()) {
            if (!k.contains(a.getName())) throw fail("attribute " + a.getName() + " is not supported");
        }
    }

    /** Requires between {@code min} and {@code max} inputs. */
    void requireInputs(int min, int max) {
        if (inputCount() < min || inputCount() > max) {
            throw fail("expects " + (min == max ? min : min + " to " + max) + " inputs, got " + inputCount());
        }
    }

    private AttributeProto attr(String name, AttributeType type) {
        for (AttributeProto a : proto.getAttributeList()) {
            if (a.getName().equals(name)) {
                if (a.getType() != type) throw fail("attribute " + name + " must be of type " + type);
                return a;
            }
        }
        return null;
    }

    boolean has(String name) {
        for (AttributeProto a : proto.getAttributeList()) if (a.getName().equals(name)) return true;
        return false;
    }

    long integer(String name, long def) {
        AttributeProto a = attr(name, AttributeType.INT);
        return a == null ? def : a.getI();
    }

    /** An int attribute that must fit in an int (sizes, axes, flags). */
    int smallInt(String name, int def) {
        long v = integer(name, def);
        if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) throw fail("attribute " + name + " = " + v + " is out of range");
        return (int) v;
    }

    float real(String name, float def) {
        AttributeProto a = attr(name, AttributeType.FLOAT);
        return a == null ? def : a.getF();
    }

    String string(String name, String def) {
        AttributeProto a = attr(name, AttributeType.STRING);
        return a == null ? def : a.getS().toStringUtf8();
    }

    /** An ints attribute of exactly {@code n} entries (each fitting an int), or {@code def} if absent. */
    int[] ints(String name, int n, int[] def) {
        AttributeProto a = attr(name, AttributeType.INTS);
        if (a == null) return def;
        if (a.getIntsCount() != n) {
            throw fail("attribute " + name + " " + a.getIntsList() + " must have " + n + " entries (2-D only)");
        }
        int[] v = new int[n];
        for (int i = 0; i < n; i++) {
            long x = a.getInts(i);
            if (x < Integer.MIN_VALUE || x > Integer.MAX_VALUE) throw fail("attribute " + name + " is out of range");
            v[i] = (int) x;
        }
        return v;
    }

    long[] longs(String name) {
        AttributeProto a = attr(name, AttributeType.INTS);
        return a == null ? null : a.getIntsList().stream().mapToLong(Long::longValue).toArray();
    }

    float[] reals(String name) {
        AttributeProto a = attr(name, AttributeType.FLOATS);
        if (a == null) return null;
        float[] v = new float[a.getFloatsCount()];
        for (int i = 0; i < v.length; i++) v[i] = a.getFloats(i);
        return v;
    }

    TensorProto tensor(String name) {
        AttributeProto a = attr(name, AttributeType.TENSOR);
        return a == null ? null : a.getT();
    }

    static String show(int[] v) {
        return Arrays.toString(v);
    }
}
