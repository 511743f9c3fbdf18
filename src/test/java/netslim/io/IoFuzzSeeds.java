package netslim.io;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

import netslim.nn.Graph;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;
import netslim.train.Checkpoint;
import netslim.train.TinyModels;
import netslim.train.TrainConfig;
import netslim.train.TrainState;

/**
 * Writes the starting seeds of the io fuzz tests ({@link NpyFuzzTest}, {@link NsmFuzzTest}, {@link GraphJsonFuzzTest},
 * {@link OnnxFuzzTest}, and the checkpoint state's {@code TrainStateFuzzTest}) under
 * {@code src/test/resources/netslim/<package>/<Class>Inputs/<method>/}. Regression seeds of bugs the fuzzer found
 * are added there by hand (named {@code bug-*}) and are not touched by this program. Run from the repository root:
 * {@code java -cp target/test-classes:target/classes:$(cat target/cp.txt) netslim.io.IoFuzzSeeds} (README
 * "Reliability").
 */
public final class IoFuzzSeeds {
    private IoFuzzSeeds() {
    }

    public static void main(String[] args) throws IOException {
        Path root = Path.of(args.length > 0 ? args[0] : "src/test/resources");
        Path npy = root.resolve("netslim/io/NpyFuzzTestInputs/npy");
        Tensor small = TestModels.randomInput(Shape.of(2, 3), 1);
        write(npy, "f4-2x3.npy", Npy.toBytes(small));
        write(npy, "f4-scalar.npy", Npy.toBytes(Tensor.zeros(Shape.of())));
        write(npy, "f4-empty.npy", Npy.toBytes(Tensor.zeros(Shape.of(0, 4))));
        write(npy, "f8-3.npy", npyWithHeader(1, "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }",
                new byte[24]));
        write(npy, "v2-f4-2.npy", npyWithHeader(2, "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }",
                new byte[8]));
        write(npy, "v3-f4-1.npy", npyWithHeader(3, "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (1,), }",
                new byte[4]));
        write(npy, "fortran.npy", npyWithHeader(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (1, 1), }",
                new byte[4]));
        write(npy, "claims-1e12.npy", npyWithHeader(1,
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }", new byte[16]));
        byte[] valid = Npy.toBytes(small);
        write(npy, "truncated.npy", Arrays.copyOf(valid, valid.length - 5));

        Path nsm = root.resolve("netslim/io/NsmFuzzTestInputs/nsm");
        Path tmp = Files.createTempFile("seed", ".nsm");
        Graph tiny = TinyModels.convNet(4, 2, 3, 0, 1);
        Nsm.save(tiny, tmp);
        write(nsm, "tiny-model.nsm", Files.readAllBytes(tmp));
        Map<String, Tensor> velocities = new LinkedHashMap<>();
        tiny.params().values().forEach((name, t) -> velocities.put(name, Tensor.zeros(t.shape())));
        Checkpoint.save(tmp, tiny, TrainState.start(TrainConfig.defaults(1), Map.of("model", "tiny")), velocities);
        write(nsm, "tiny-checkpoint.nsm", Files.readAllBytes(tmp));
        Nsm.save(TestModels.everyKind(3), tmp);
        write(nsm, "every-kind.nsm", Files.readAllBytes(tmp));
        Files.delete(tmp);
        write(nsm, "graph-json-only.nsm", zip(Map.of("graph.json", "{\"format\": \"netslim\", \"version\": 1}"
                .getBytes(StandardCharsets.UTF_8))));

        Path graphJson = root.resolve("netslim/io/GraphJsonFuzzTestInputs/graphJson");
        write(graphJson, "tiny.json", GraphJson.encode(tiny));
        write(graphJson, "every-kind.json", GraphJson.encode(TestModels.everyKind(3)));

        Path state = root.resolve("netslim/train/TrainStateFuzzTestInputs/trainState");
        write(state, "start.json", Nsm.readEntry(nsm.resolve("tiny-checkpoint.nsm"), Checkpoint.STATE_ENTRY)
                .orElseThrow());

        Path onnx = root.resolve("netslim/io/OnnxFuzzTestInputs/onnx");
        for (String name : List.of("flatten_linear", "pools", "residual_add", "inception_concat", "matmul_add",
                "view_linear_dynamic", "conv_bn_relu_folded", "clip_relu6_opset11", "gemm_alpha_beta", "bad_reshape")) {
            write(onnx, name + ".onnx", Files.readAllBytes(Path.of("src/test/resources/onnx/" + name + ".onnx")));
        }
    }

    /** A .npy file with the given version and header dict (padded as NumPy does), then {@code data}. */
    static byte[] npyWithHeader(int major, String dict, byte[] data) {
        byte[] text = (dict + "\n").getBytes(StandardCharsets.UTF_8);
        int prefix = major == 1 ? 10 : 12;
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        b.writeBytes(Arrays.copyOf(NpyHeader.MAGIC, 6));
        b.write(major);
        b.write(0);
        b.write(text.length & 0xff);
        b.write(text.length >>> 8);
        if (prefix == 12) {
            b.write(0);
            b.write(0);
        }
        b.writeBytes(text);
        b.writeBytes(data);
        return b.toByteArray();
    }

    static byte[] zip(Map<String, byte[]> entries) throws IOException {
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        try (ZipOutputStream z = new ZipOutputStream(b)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry entry = new ZipEntry(e.getKey());
                entry.setTimeLocal(java.time.LocalDateTime.of(2000, 1, 1, 0, 0)); // the same bytes on every run
                z.putNextEntry(entry);
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return b.toByteArray();
    }

    static void write(Path dir, String name, byte[] bytes) throws IOException {
        Files.createDirectories(dir);
        Files.write(dir.resolve(name), bytes);
    }
}
