package netslim.io;

import java.nio.file.Path;
import java.util.Map;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import com.google.gson.JsonObject;

import netslim.nn.BatchNormFolding;
import netslim.nn.Graph;

/**
 * Writes any netslim model (zoo, imported, trained, pruned, decomposed) as an ONNX model, opset {@value #OPSET},
 * runnable by ONNX Runtime and importable back by {@link OnnxImporter} (which then computes the same function).
 * Before translation every BatchNorm that directly follows a conv read by nothing else is folded into it
 * ({@link BatchNormFolding}); the others become BatchNormalization nodes. ONNX node names are the netslim node names
 * (a Tucker chain stays NAME.tucker_in → NAME.tucker_core → NAME), the graph input keeps its name with a dynamic
 * batch dimension, and the graph's metadata (Tucker records, pruning history, provenance) is kept as
 * {@code metadata_props} under "netslim.KEY", plus "netslim.batchnorm_folded" (conv → folded BatchNorm).
 *
 * <pre>{@code
 * Graph g = ModelFiles.load(Path.of("pruned.nsm"));
 * OnnxExporter.export(g, Path.of("pruned.onnx"));
 * }</pre>
 */
public final class OnnxExporter {
    /** The ONNX operator set written: 13 has every op used here with its current input conventions. */
    public static final int OPSET = 13;
    /** IR version 7 is the one that goes with opset 13. */
    static final long IR_VERSION = 7;
    /** Prefix of the metadata_props keys that carry the netslim graph metadata. */
    public static final String METADATA_PREFIX = "netslim.";
    /** Metadata key of the conv → BatchNorm pairs folded by the export. */
    public static final String FOLDED_KEY = "batchnorm_folded";
    static final String PRODUCER = "netslim";
    static final String PRODUCER_VERSION = "0.1.0";

    private OnnxExporter() {
    }

    /** What an export wrote: ONNX node count, how many BatchNorms were folded into convs, file size. */
    public record Summary(int nodes, int initializers, int batchNormsFolded, long bytes) {
    }

    /** Writes {@code g} to {@code file} atomically; errors name the file (and the node that cannot be exported). */
    public static Summary export(Graph g, Path file) {
        ModelProto m = toModel(g, String.valueOf(file.getFileName()));
        AtomicFiles.write(file, m::writeTo);
        int folded = 0;
        for (var n : m.getGraph().getNodeList()) if (n.getDocString().contains(" folded in")) folded++;
        return new Summary(m.getGraph().getNodeCount(), m.getGraph().getInitializerCount(), folded,
                m.getSerializedSize());
    }

    /** The ONNX model of {@code g}; {@code name} becomes the graph's name. The graph is not changed. */
    public static ModelProto toModel(Graph g, String name) {
        g.validateParams();
        BatchNormFolding.Result folded = BatchNormFolding.fold(g);
        ModelProto.Builder m = ModelProto.newBuilder()
                .setIrVersion(IR_VERSION)
                .setProducerName(PRODUCER)
                .setProducerVersion(PRODUCER_VERSION)
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .setGraph(new OnnxGraphWriter(folded.graph(), folded.folded()).write(name));
        for (Map.Entry<String, String> e : g.metadata().entrySet()) {
            if (e.getKey().equals(FOLDED_KEY)) continue; // an earlier export's record; this export writes its own
            m.addMetadataPropsBuilder().setKey(METADATA_PREFIX + e.getKey()).setValue(e.getValue());
        }
        JsonObject pairs = new JsonObject();
        folded.folded().forEach(pairs::addProperty);
        m.addMetadataPropsBuilder().setKey(METADATA_PREFIX + FOLDED_KEY).setValue(pairs.toString());
        return m.build();
    }
}
