package netslim.io;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.zip.CRC32;
import java.util.zip.CheckedInputStream;
import java.util.zip.CheckedOutputStream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import com.google.gson.JsonElement;
import com.google.gson.JsonParseException;

import netslim.NetslimException;
import netslim.nn.Graph;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

/**
 * The .nsm model format: a ZIP readable by {@code numpy.load} as .npz, holding {@code graph.json} (schema in
 * {@link GraphJson}) and one float32 .npy entry {@code <param name>.npy} per tensor, so that
 * {@code numpy.load("m.nsm")["conv1.weight"]} works. Tensor entries are stored uncompressed (as numpy.savez does),
 * graph.json is deflated. Files are written atomically ({@link AtomicFiles}); every entry's CRC is verified on read.
 *
 * <p>Checkpoints: {@link #save(Graph, Path, Map)} adds extra entries next to the model, e.g. {@code train_state.json}
 * and optimizer tensors {@code optim/<param name>.npy} (bytes from {@link Npy#toBytes}); {@link #readEntry} and
 * {@link Npy#fromBytes} read them back. {@link #load} ignores entries it does not know, so a checkpoint is also a
 * model file.
 */
public final class Nsm {
    public static final String GRAPH_ENTRY = "graph.json";
    private static final int MAX_JSON_BYTES = 64 << 20;
    private static final int MAX_EXTRA_BYTES = 1 << 30;
    /** A fixed entry time keeps files byte-identical across saves of the same model. */
    private static final LocalDateTime ENTRY_TIME = LocalDateTime.of(2000, 1, 1, 0, 0);

    private Nsm() {
    }

    /** The ZIP entry that holds a tensor. */
    public static String tensorEntry(String paramName) {
        return paramName + ".npy";
    }

    public static void save(Graph g, Path file) {
        save(g, file, Map.of());
    }

    /**
     * Saves the model plus {@code extraEntries} (entry name → bytes; names ending in .npy are stored uncompressed,
     * others deflated). Extra names must not clash with graph.json or a tensor entry.
     */
    public static void save(Graph g, Path file, Map<String, byte[]> extraEntries) {
        byte[] json;
        try {
            g.validateParams();
            json = GraphJson.encode(g);
        } catch (NetslimException e) {
            throw new NetslimException(file + ": cannot save: " + e.getMessage(), e);
        }
        checkExtraNames(g, file, extraEntries);
        AtomicFiles.write(file, out -> {
            ZipOutputStream zip = new ZipOutputStream(out);
            putBytes(zip, GRAPH_ENTRY, json);
            for (Map.Entry<String, Tensor> e : g.params().values().entrySet()) {
                putNpy(zip, tensorEntry(e.getKey()), e.getValue());
            }
            for (Map.Entry<String, byte[]> e : extraEntries.entrySet()) putBytes(zip, e.getKey(), e.getValue());
            zip.finish(); // not close(): AtomicFiles closes (and syncs) the file itself
        });
    }

    private static void checkExtraNames(Graph g, Path file, Map<String, byte[]> extra) {
        Set<String> taken = new HashSet<>();
        taken.add(GRAPH_ENTRY);
        for (String p : g.params().names()) taken.add(tensorEntry(p));
        for (String name : extra.keySet()) {
            if (name.isEmpty() || name.startsWith("/") || name.contains("\\") || name.endsWith("/")
                    || List.of(name.split("/")).contains("..")) {
                throw new NetslimException(file + ": invalid extra entry name '" + name + "'");
            }
            if (taken.contains(name)) {
                throw new NetslimException(file + ": extra entry " + name + " clashes with a model entry");
            }
        }
    }

    private static void putBytes(ZipOutputStream zip, String name, byte[] bytes) throws IOException {
        ZipEntry e = new ZipEntry(name);
        e.setTimeLocal(ENTRY_TIME);
        if (name.endsWith(".npy")) {
            CRC32 crc = new CRC32();
            crc.update(bytes);
            stored(e, bytes.length, crc.getValue());
        }
        zip.putNextEntry(e);
        zip.write(bytes);
        zip.closeEntry();
    }

    /** Streams a tensor as a stored entry; a STORED entry needs its CRC up front, so a first pass computes it. */
    private static void putNpy(ZipOutputStream zip, String name, Tensor t) throws IOException {
        CheckedOutputStream crc = new CheckedOutputStream(OutputStream.nullOutputStream(), new CRC32());
        Npy.write(crc, t);
        ZipEntry e = new ZipEntry(name);
        e.setTimeLocal(ENTRY_TIME);
        stored(e, NpyHeader.formatF4(t.shape()).length + 4L * t.size(), crc.getChecksum().getValue());
        zip.putNextEntry(e);
        Npy.write(zip, t);
        zip.closeEntry();
    }

    private static void stored(ZipEntry e, long size, long crc) {
        e.setMethod(ZipEntry.STORED);
        e.setSize(size);
        e.setCompressedSize(size);
        e.setCrc(crc);
    }

    /** Loads and validates a model: format and version, every layer, the graph's structure, every tensor. */
    public static Graph load(Path file) {
        String name = file.toString();
        try (ZipFile zip = open(file)) {
            JsonElement root = parseJson(readBytes(zip, GRAPH_ENTRY, MAX_JSON_BYTES, name), name);
            GraphJson.Decoded d = GraphJson.decode(root, name);
            long fileBytes = Files.size(file);
            for (Map.Entry<String, Shape> t : d.tensors().entrySet()) {
                d.graph().params().put(t.getKey(), readTensor(zip, t.getKey(), t.getValue(), name, fileBytes));
            }
            try {
                d.graph().validateParams(); // already guaranteed by the checks above; kept as the final word
            } catch (NetslimException e) {
                throw new NetslimException(name + ": " + e.getMessage(), e);
            }
            return d.graph();
        } catch (IOException | RuntimeException e) {
            throw IoErrors.reading(name, e);
        }
    }

    /** The bytes of one entry, or empty if the file has no such entry (e.g. a model that is not a checkpoint). */
    public static Optional<byte[]> readEntry(Path file, String entry) {
        String name = file.toString();
        try (ZipFile zip = open(file)) {
            if (zip.getEntry(entry) == null) return Optional.empty();
            return Optional.of(readBytes(zip, entry, MAX_EXTRA_BYTES, name));
        } catch (IOException | RuntimeException e) {
            throw IoErrors.reading(name, e);
        }
    }

    /** Names of all entries, in file order. */
    public static List<String> entryNames(Path file) {
        String name = file.toString();
        try (ZipFile zip = open(file)) {
            List<String> names = new ArrayList<>();
            zip.stream().forEach(e -> names.add(e.getName()));
            return names;
        } catch (IOException | RuntimeException e) {
            throw IoErrors.reading(name, e);
        }
    }

    private static ZipFile open(Path file) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new NetslimException(file + ": " + (Files.exists(file) ? "not a regular file" : "no such file"));
        }
        try {
            return new ZipFile(file.toFile());
        } catch (IOException e) {
            throw new NetslimException(file + ": not a valid .nsm (ZIP) file: " + IoErrors.describe(e), e);
        }
    }

    static JsonElement parseJson(byte[] bytes, String name) {
        try {
            return GraphJson.parseStrict(new String(bytes, StandardCharsets.UTF_8));
        } catch (IOException | JsonParseException | IllegalStateException e) {
            throw new NetslimException(name + ": graph.json is not valid JSON: " + IoErrors.describe(e), e);
        }
    }

    private static Tensor readTensor(ZipFile zip, String tensor, Shape declared, String name, long fileBytes)
            throws IOException {
        String entryName = tensorEntry(tensor);
        String where = name + ": tensor " + tensor + " (" + entryName + ")";
        ZipEntry e = zip.getEntry(entryName);
        if (e == null) throw new NetslimException(name + ": tensor " + tensor + ": entry " + entryName + " is missing");
        Tensor t;
        try (CheckedInputStream in = new CheckedInputStream(zip.getInputStream(e), new CRC32())) {
            t = Npy.read(in, where, trustedSize(e, fileBytes));
            checkCrc(e, in, where);
        } catch (IOException | RuntimeException ex) {
            throw IoErrors.reading(where, ex);
        }
        if (!t.shape().equals(declared)) {
            throw new NetslimException(where + ": has shape " + t.shape() + ", graph.json declares " + declared);
        }
        return t;
    }

    /**
     * The entry's size when the file itself vouches for it, else -1 (then the array grows as data arrives). The sizes
     * in the ZIP directory are not covered by any CRC: a 500-byte file can claim a 1.6 GB entry. Only a stored entry
     * whose size fits in the file is believed before reading it; a deflated one may legitimately expand, so its size
     * is only known once inflated (regression seeds NsmFuzzTestInputs/nsm/bug-*-size-lie.nsm).
     */
    private static long trustedSize(ZipEntry e, long fileBytes) {
        boolean stored = e.getMethod() == ZipEntry.STORED && e.getCompressedSize() == e.getSize();
        return stored && e.getSize() >= 0 && e.getSize() <= fileBytes ? e.getSize() : -1;
    }

    /** Reads a whole entry, refusing more than {@code limit} bytes, and verifies its CRC. */
    private static byte[] readBytes(ZipFile zip, String entry, int limit, String name) throws IOException {
        String where = name + ": entry " + entry;
        ZipEntry e = zip.getEntry(entry);
        if (e == null) throw new NetslimException(where + " is missing");
        if (e.getSize() > limit) throw new NetslimException(where + " is too large (" + e.getSize() + " bytes)");
        try (CheckedInputStream in = new CheckedInputStream(zip.getInputStream(e), new CRC32())) {
            byte[] b = in.readNBytes(limit); // grows as data arrives: a lying size cannot force a big allocation
            if (in.read() != -1) throw new NetslimException(where + " is too large (over " + limit + " bytes)");
            checkCrc(e, in, where);
            return b;
        } catch (IOException | RuntimeException ex) {
            throw IoErrors.reading(where, ex);
        }
    }

    private static void checkCrc(ZipEntry e, CheckedInputStream in, String where) {
        if (e.getCrc() != -1 && e.getCrc() != in.getChecksum().getValue()) {
            throw new NetslimException(where + ": CRC mismatch (the file is corrupt)");
        }
    }
}
