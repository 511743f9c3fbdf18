package netslim.io;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.BiConsumer;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.gson.JsonObject;
import com.google.protobuf.CodedInputStream;

import netslim.NetslimException;
import netslim.nn.Graph;
import netslim.tensor.Tensor;

/**
 * Imports an ONNX model (what PyTorch's torch.onnx.export emits for CNNs, opsets 11–17, also older) into a
 * {@link Graph}. Supported ops: Conv, BatchNormalization, Relu, Clip, MaxPool, AveragePool (with the Pad PyTorch puts
 * before it), GlobalAveragePool, Concat, Add, Gemm, MatMul, Flatten, Reshape (flatten only), Dropout, Identity,
 * Constant, and the Shape/Gather/Unsqueeze/Concat arithmetic of dynamic-batch exports. Anything else is refused with
 * the node's name and op type. The one non-initializer graph input becomes the graph input (C, H, W; a dynamic batch
 * is fine); node names come from the ONNX node names (sanitised), parameters are {@code node.weight} etc.
 */
public final class OnnxImporter {
    /** ONNX's protobuf may not exceed 2 GB; the whole file is read so every length field is checked against it. */
    private static final long MAX_BYTES = Integer.MAX_VALUE - 8;

    private static final Map<String, BiConsumer<OnnxImport, OnnxNode>> OPS = Map.ofEntries(
            Map.entry("Conv", OnnxSpatialOps::conv),
            Map.entry("BatchNormalization", OnnxSpatialOps::batchNorm),
            Map.entry("MaxPool", OnnxSpatialOps::maxPool),
            Map.entry("AveragePool", OnnxSpatialOps::avgPool),
            Map.entry("GlobalAveragePool", OnnxSpatialOps::globalAvgPool),
            Map.entry("Pad", OnnxSpatialOps::pad),
            Map.entry("Relu", OnnxDenseOps::relu),
            Map.entry("Clip", OnnxDenseOps::clip),
            Map.entry("Concat", OnnxDenseOps::concat),
            Map.entry("Add", OnnxDenseOps::add),
            Map.entry("Gemm", OnnxDenseOps::gemm),
            Map.entry("MatMul", OnnxDenseOps::matMul),
            Map.entry("Flatten", OnnxDenseOps::flatten),
            Map.entry("Reshape", OnnxDenseOps::reshape),
            Map.entry("Dropout", OnnxDenseOps::dropout),
            Map.entry("Identity", OnnxConstantOps::identity),
            Map.entry("Constant", OnnxConstantOps::constant),
            Map.entry("Shape", OnnxConstantOps::shape),
            Map.entry("Gather", OnnxConstantOps::gather),
            Map.entry("Unsqueeze", OnnxConstantOps::unsqueeze));

    private OnnxImporter() {
    }

    public static Graph load(Path file) {
        String name = file.toString();
        try {
            ModelProto model = parse(file);
            GraphProto g = graph(model, name);
            checkOpsets(model, name);
            OnnxImport im = new OnnxImport(g, name);
            for (NodeProto p : g.getNodeList()) {
                OnnxNode n = new OnnxNode(p, name);
                if (!p.getDomain().isEmpty() && !p.getDomain().equals("ai.onnx")) {
                    throw n.fail("operator " + p.getDomain() + "." + p.getOpType() + " is not supported");
                }
                BiConsumer<OnnxImport, OnnxNode> op = OPS.get(p.getOpType());
                if (op == null) throw n.fail("operator " + p.getOpType() + " is not supported");
                if (p.getOutputCount() < 1 || p.getOutput(0).isEmpty()) throw n.fail("has no output");
                op.accept(im, n);
            }
            if (g.getOutputCount() != 1) {
                throw new NetslimException(name + ": the model must have exactly one output, has " + g.getOutputCount());
            }
            Graph result = im.build(g.getOutput(0).getName());
            if (OnnxExporter.PRODUCER.equals(model.getProducerName())) restoreMetadata(model, result);
            result.metadata().put("imported_from", provenance(file, model));
            return result;
        } catch (RuntimeException e) {
            throw IoErrors.reading(name, e);
        }
    }

    /**
     * All float initializers by their ONNX names (double ones converted; integer ones skipped). With
     * {@code do_constant_folding=False} PyTorch keeps the state-dict names ("features.0.weight", ...).
     */
    public static Map<String, Tensor> initializers(Path file) {
        String name = file.toString();
        try {
            GraphProto g = graph(parse(file), name);
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (TensorProto t : g.getInitializerList()) {
                if (OnnxTensors.isFloat(t)) out.put(t.getName(), OnnxTensors.floats(t, name + ": initializer " + t.getName()));
            }
            return out;
        } catch (RuntimeException e) {
            throw IoErrors.reading(name, e);
        }
    }

    private static ModelProto parse(Path file) {
        byte[] bytes;
        try {
            long size = Files.size(file);
            if (size > MAX_BYTES) throw new NetslimException(file + ": ONNX file of " + size + " bytes is too large");
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            throw new NetslimException(file + ": cannot read: " + IoErrors.describe(e), e);
        }
        try {
            CodedInputStream in = CodedInputStream.newInstance(bytes);
            in.setSizeLimit(Integer.MAX_VALUE);
            ModelProto m = ModelProto.parseFrom(in);
            in.checkLastTagWas(0);
            return m;
        } catch (IOException e) { // InvalidProtocolBufferException and friends
            throw new NetslimException(file + ": not a valid ONNX model (" + IoErrors.describe(e) + ")", e);
        }
    }

    private static GraphProto graph(ModelProto m, String name) {
        if (!m.hasGraph() || m.getGraph().getNodeCount() == 0) {
            throw new NetslimException(name + ": not an ONNX model (no graph or no nodes)");
        }
        return m.getGraph();
    }

    private static void checkOpsets(ModelProto m, String name) {
        for (OperatorSetIdProto o : m.getOpsetImportList()) {
            boolean standard = o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx");
            if (standard && o.getVersion() < 7) {
                throw new NetslimException(name + ": opset " + o.getVersion() + " is too old (need 7 or newer)");
            }
        }
    }

    /** A netslim export keeps the graph metadata (Tucker records, pruning history) as "netslim.KEY" props. */
    private static void restoreMetadata(ModelProto m, Graph g) {
        for (StringStringEntryProto p : m.getMetadataPropsList()) {
            if (p.getKey().startsWith(OnnxExporter.METADATA_PREFIX)) {
                g.metadata().put(p.getKey().substring(OnnxExporter.METADATA_PREFIX.length()), p.getValue());
            }
        }
    }

    private static String provenance(Path file, ModelProto m) {
        JsonObject o = new JsonObject();
        o.addProperty("file", String.valueOf(file.getFileName()));
        o.addProperty("producer", (m.getProducerName() + " " + m.getProducerVersion()).trim());
        for (OperatorSetIdProto op : m.getOpsetImportList()) {
            if (op.getDomain().isEmpty() || op.getDomain().equals("ai.onnx")) o.addProperty("opset", op.getVersion());
        }
        return o.toString();
    }
}
