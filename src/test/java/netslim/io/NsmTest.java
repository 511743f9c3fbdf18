package netslim.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;

import netslim.NetslimException;
import netslim.nn.Graph;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Storage;
import netslim.tensor.Tensor;

class NsmTest {
    @TempDir
    Path dir;

    @Test
    void roundTripGivesTheSameModelAndTheSameOutputBitForBit() {
        Graph g = TestModels.everyKind(1);
        Path f = dir.resolve("m.nsm");
        Nsm.save(g, f);
        Graph back = Nsm.load(f);
        assertEquals(g.inputName(), back.inputName());
        assertEquals(g.inputShape(), back.inputShape());
        assertEquals(g.outputName(), back.outputName());
        assertEquals(g.nodes(), back.nodes());
        assertEquals(List.copyOf(g.params().names()), List.copyOf(back.params().names()));
        for (String name : g.params().names()) {
            assertArrayEquals(g.params().get(name).toArray(), back.params().get(name).toArray(), name);
        }
        assertEquals(Map.of("provenance", "{\"source\":\"test\",\"seed\":1}", "pruning_history", "[1,2.5,null,\"x\"]"),
                back.metadata());
        Tensor x = TestModels.randomInput(Shape.of(2, 3, 9, 9), 5);
        float[] y0 = TestModels.run(g, x).toArray(), y1 = TestModels.run(back, x).toArray();
        for (int i = 0; i < y0.length; i++) {
            assertEquals(Float.floatToRawIntBits(y0[i]), Float.floatToRawIntBits(y1[i]), "output " + i);
        }
    }

    @Test
    void layoutIsAnNpzNumpyCanOpen() throws IOException {
        Graph g = TestModels.everyKind(2);
        Path f = dir.resolve("m.nsm");
        Nsm.save(g, f);
        List<String> expected = new ArrayList<>(List.of("graph.json"));
        g.params().names().forEach(n -> expected.add(n + ".npy"));
        assertEquals(expected, Nsm.entryNames(f));
        try (ZipFile z = new ZipFile(f.toFile())) {
            ZipEntry w = z.getEntry("conv1.weight.npy");
            assertEquals(ZipEntry.STORED, w.getMethod());
            byte[] npy = z.getInputStream(w).readAllBytes();
            assertArrayEquals(g.params().get("conv1.weight").toArray(), Npy.fromBytes(npy, "w").toArray());
            JsonObject json = JsonParser.parseString(new String(z.getInputStream(z.getEntry("graph.json"))
                    .readAllBytes(), StandardCharsets.UTF_8)).getAsJsonObject();
            assertEquals("netslim", json.get("format").getAsString());
            assertEquals(1, json.get("version").getAsInt());
            assertEquals("[3,9,9]", json.getAsJsonObject("input").get("shape").toString());
            assertEquals("fc", json.get("output").getAsString());
            assertEquals("[8,3,3,3]", json.getAsJsonObject("tensors").get("conv1.weight").toString());
            JsonObject conv = json.getAsJsonArray("nodes").get(0).getAsJsonObject();
            assertEquals("Conv2d", conv.get("kind").getAsString());
            assertEquals("{\"in_channels\":3,\"out_channels\":8,\"kernel_size\":[3,3],\"stride\":[1,1],"
                    + "\"padding\":[1,1],\"dilation\":[1,1],\"groups\":1,\"bias\":false}", conv.get("attrs").toString());
            assertEquals("x", json.getAsJsonObject("metadata").getAsJsonArray("pruning_history").get(3).getAsString());
        }
        // byte-identical on a second save: fixed entry times, deterministic order
        Path f2 = dir.resolve("m2.nsm");
        Nsm.save(g, f2);
        assertArrayEquals(Files.readAllBytes(f), Files.readAllBytes(f2));
    }

    @Test
    void extraEntriesRoundTripAndLoadIgnoresThem() {
        Graph g = TestModels.everyKind(3);
        Path f = dir.resolve("ckpt.nsm");
        Tensor momentum = TestModels.randomInput(Shape.of(8, 3, 3, 3), 4);
        Map<String, byte[]> extra = new LinkedHashMap<>();
        extra.put("train_state.json", "{\"epoch\": 3}".getBytes(StandardCharsets.UTF_8));
        extra.put("optim/conv1.weight.npy", Npy.toBytes(momentum));
        Nsm.save(g, f, extra);
        assertEquals("{\"epoch\": 3}", new String(Nsm.readEntry(f, "train_state.json").orElseThrow(),
                StandardCharsets.UTF_8));
        Tensor back = Npy.fromBytes(Nsm.readEntry(f, "optim/conv1.weight.npy").orElseThrow(), "optim");
        assertArrayEquals(momentum.toArray(), back.toArray());
        assertTrue(Nsm.readEntry(f, "absent.json").isEmpty());
        assertEquals(g.nodes(), Nsm.load(f).nodes());
        for (String bad : List.of("graph.json", "conv1.weight.npy", "", "/abs", "a/../b", "dir/")) {
            NetslimException e = assertThrows(NetslimException.class,
                    () -> Nsm.save(g, dir.resolve("bad.nsm"), Map.of(bad, new byte[1])));
            assertTrue(e.getMessage().contains("bad.nsm"), e.getMessage());
        }
        assertEquals(List.of("ckpt.nsm"), listing());
    }

    private List<String> listing() {
        try (var s = Files.list(dir)) {
            return s.map(p -> p.getFileName().toString()).sorted().toList();
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void failedSaveLeavesNoFileAndKeepsTheExistingOne() throws IOException {
        Path f = dir.resolve("m.nsm");
        Nsm.save(TestModels.everyKind(1), f);
        byte[] before = Files.readAllBytes(f);
        // the last parameter lives on a "device": writing fails after graph.json and the other tensors
        Graph g = TestModels.everyKind(2);
        String last = List.copyOf(g.params().names()).get(g.params().names().size() - 1);
        Shape s = g.params().get(last).shape();
        g.params().put(last, new Tensor(s, new Storage() {
            public long capacity() { return s.numel(); }
            public boolean isHost() { return false; }
        }, 0));
        assertThrows(IllegalStateException.class, () -> Nsm.save(g, f));
        assertArrayEquals(before, Files.readAllBytes(f));
        assertThrows(IllegalStateException.class, () -> Nsm.save(g, dir.resolve("new.nsm")));
        // invalid metadata and a graph with a missing parameter are refused before anything is written
        Graph meta = TestModels.everyKind(1);
        meta.metadata().put("broken", "{not json");
        NetslimException e = assertThrows(NetslimException.class, () -> Nsm.save(meta, dir.resolve("meta.nsm")));
        assertTrue(e.getMessage().contains("meta.nsm") && e.getMessage().contains("broken"), e.getMessage());
        Graph missing = TestModels.everyKind(1);
        missing.params().remove("fc.bias");
        e = assertThrows(NetslimException.class, () -> Nsm.save(missing, dir.resolve("missing.nsm")));
        assertTrue(e.getMessage().contains("fc.bias"), e.getMessage());
        assertEquals(List.of("m.nsm"), listing());
    }

    // ---- load validation: each corrupt file names the file and the first bad tensor / node / entry ----

    /** Rewrites the ZIP: graph.json through {@code editJson}, tensors through {@code editEntries}. */
    private Path variant(String name, UnaryOperator<JsonObject> editJson,
                         UnaryOperator<Map<String, byte[]>> editEntries) throws IOException {
        Path good = dir.resolve("good.nsm");
        if (!Files.exists(good)) Nsm.save(TestModels.everyKind(1), good);
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(good.toFile())) {
            for (ZipEntry e : z.stream().toList()) entries.put(e.getName(), z.getInputStream(e).readAllBytes());
        }
        JsonObject json = JsonParser.parseString(new String(entries.get("graph.json"), StandardCharsets.UTF_8))
                .getAsJsonObject();
        entries.put("graph.json", editJson.apply(json).toString().getBytes(StandardCharsets.UTF_8));
        entries = editEntries.apply(entries);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return Files.write(dir.resolve(name), bytes.toByteArray());
    }

    private void loadFails(Path f, String... fragments) {
        NetslimException e = assertThrows(NetslimException.class, () -> Nsm.load(f));
        String m = e.getMessage();
        assertTrue(m.contains(f.getFileName().toString()), m);
        assertTrue(!m.contains("\n"), m);
        for (String frag : fragments) assertTrue(m.contains(frag), "'" + frag + "' in: " + m);
    }

    private static JsonObject node(JsonObject json, String name) {
        for (var e : json.getAsJsonArray("nodes")) {
            if (e.getAsJsonObject().get("name").getAsString().equals(name)) return e.getAsJsonObject();
        }
        throw new AssertionError(name);
    }

    @Test
    void loadReportsBadTensorsByName() throws IOException {
        loadFails(variant("missing.nsm", j -> j, m -> {
            m.remove("bn1.running_var.npy");
            return m;
        }), "bn1.running_var", "missing");
        loadFails(variant("shape.nsm", j -> j, m -> {
            m.put("fc.weight.npy", Npy.toBytes(Tensor.zeros(5, 9)));
            return m;
        }), "fc.weight", "5x9", "5x8");
        loadFails(variant("declared.nsm", j -> {
            j.getAsJsonObject("tensors").add("fc.weight", JsonFields.intArray(5, 9));
            return j;
        }, m -> m), "fc.weight", "5x9", "expects 5x8");
        loadFails(variant("undeclared.nsm", j -> {
            j.getAsJsonObject("tensors").remove("proj.bias");
            return j;
        }, m -> m), "proj.bias", "not listed");
        loadFails(variant("stray.nsm", j -> {
            j.getAsJsonObject("tensors").add("ghost.weight", JsonFields.intArray(2));
            return j;
        }, m -> m), "ghost.weight", "belongs to no layer");
        loadFails(variant("dtype.nsm", j -> j, m -> {
            m.put("fc.bias.npy", NpyTest.npy(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (5,), }",
                    new byte[20]));
            return m;
        }), "fc.bias", "<i4");
        loadFails(variant("hugeclaim.nsm", j -> j, m -> {
            m.put("fc.bias.npy", NpyTest.npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1500000000,), }",
                    new byte[20]));
            return m;
        }), "fc.bias", "truncated");
    }

    @Test
    void loadReportsBadGraphJson() throws IOException {
        loadFails(variant("format.nsm", j -> {
            j.addProperty("format", "other");
            return j;
        }, m -> m), "not a netslim model");
        loadFails(variant("version.nsm", j -> {
            j.addProperty("version", 2);
            return j;
        }, m -> m), "version 2");
        loadFails(variant("kind.nsm", j -> {
            node(j, "relu1").addProperty("kind", "Swish");
            return j;
        }, m -> m), "node relu1", "Swish");
        loadFails(variant("attr.nsm", j -> {
            node(j, "conv1").getAsJsonObject("attrs").remove("stride");
            return j;
        }, m -> m), "node conv1", "stride");
        loadFails(variant("extraattr.nsm", j -> {
            node(j, "conv1").getAsJsonObject("attrs").addProperty("padding_mode", "zeros");
            return j;
        }, m -> m), "node conv1", "padding_mode");
        loadFails(variant("geometry.nsm", j -> {
            node(j, "conv1").getAsJsonObject("attrs").addProperty("groups", 2);
            return j;
        }, m -> m), "node conv1");
        loadFails(variant("wiring.nsm", j -> {
            JsonArray ins = new JsonArray();
            ins.add("fc");
            node(j, "conv1").add("inputs", ins);
            return j;
        }, m -> m), "conv1", "not defined before");
        loadFails(variant("channels.nsm", j -> {
            node(j, "proj").getAsJsonObject("attrs").addProperty("in_channels", 8);
            j.getAsJsonObject("tensors").add("proj.weight", JsonFields.intArray(8, 8, 1, 1));
            return j;
        }, m -> m), "proj");
        loadFails(variant("nojson.nsm", j -> j, m -> {
            m.put("graph.json", "{\"format\": \"netslim\",".getBytes(StandardCharsets.UTF_8));
            return m;
        }), "graph.json", "not valid JSON");
        loadFails(variant("nograph.nsm", j -> j, m -> {
            m.remove("graph.json");
            return m;
        }), "graph.json", "missing");
    }

    @Test
    void truncatedRandomAndMissingFilesAreNetslimExceptions() throws IOException {
        Path good = dir.resolve("g.nsm");
        Nsm.save(TestModels.everyKind(1), good);
        byte[] b = Files.readAllBytes(good);
        for (int len : new int[] {0, 10, b.length / 3, b.length / 2, b.length - 30, b.length - 1}) {
            loadFails(Files.write(dir.resolve("t" + len + ".nsm"), Arrays.copyOf(b, len)));
        }
        byte[] random = new byte[4096];
        Rng rng = new Rng(3);
        for (int i = 0; i < random.length; i++) random[i] = (byte) rng.nextInt(256);
        loadFails(Files.write(dir.resolve("random.nsm"), random));
        loadFails(dir.resolve("absent.nsm"), "no such file");
        assertThrows(NetslimException.class, () -> Nsm.readEntry(dir.resolve("absent.nsm"), "x"));
    }

    @Test
    void flippedDataBytesAreCaughtByTheCrc() throws IOException {
        Path good = dir.resolve("g.nsm");
        Nsm.save(TestModels.everyKind(1), good);
        byte[] b = Files.readAllBytes(good);
        byte[] pattern = Npy.toBytes(TestModels.everyKind(1).params().get("proj.weight"));
        int at = indexOf(b, Arrays.copyOfRange(pattern, 128, 160));
        assertTrue(at > 0);
        b[at + 3] ^= 0x10;
        loadFails(Files.write(dir.resolve("flipped.nsm"), b), "proj.weight", "CRC");
    }

    /** Seeded random flips anywhere: the load either succeeds or fails with a NetslimException naming the file. */
    @Test
    void randomFlipsNeverEscapeAsAnotherException() throws IOException {
        Path good = dir.resolve("g.nsm");
        Nsm.save(TestModels.everyKind(1), good);
        byte[] b = Files.readAllBytes(good);
        Rng rng = new Rng(5);
        Path f = dir.resolve("fuzz.nsm");
        int failures = 0;
        for (int trial = 0; trial < 300; trial++) {
            byte[] c = b.clone();
            for (int k = 0; k <= trial % 3; k++) c[rng.nextInt(c.length)] ^= (byte) (1 + rng.nextInt(255));
            Files.write(f, c);
            try {
                Nsm.load(f);
            } catch (NetslimException e) {
                assertTrue(e.getMessage().contains("fuzz.nsm"), e.getMessage());
                assertTrue(e.getMessage().chars().noneMatch(Character::isISOControl), e.getMessage());
                failures++;
            }
        }
        assertTrue(failures > 200, "most corruptions are detected, got " + failures);
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            for (int j = 0; j < needle.length; j++) if (hay[i + j] != needle[j]) continue outer;
            return i;
        }
        return -1;
    }
}
