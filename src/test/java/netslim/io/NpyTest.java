package netslim.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import netslim.NetslimException;
import netslim.tensor.Rng;
import netslim.tensor.Shape;
import netslim.tensor.Tensor;

class NpyTest {
    @TempDir
    Path dir;

    /** Builds a .npy by hand: any version, any header dict, raw little-endian data. */
    static byte[] npy(int major, String dict, byte[] data) {
        byte[] h = dict.getBytes(StandardCharsets.ISO_8859_1);
        int lenBytes = major == 1 ? 2 : 4;
        ByteBuffer b = ByteBuffer.allocate(8 + lenBytes + h.length + data.length).order(ByteOrder.LITTLE_ENDIAN);
        b.put(NpyHeader.MAGIC).put((byte) major).put((byte) 0);
        if (major == 1) b.putShort((short) h.length);
        else b.putInt(h.length);
        return b.put(h).put(data).array();
    }

    static byte[] f4(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) b.putFloat(f);
        return b.array();
    }

    static byte[] f8(double... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (double d : v) b.putDouble(d);
        return b.array();
    }

    private Path file(String name, byte[] bytes) throws IOException {
        return Files.write(dir.resolve(name), bytes);
    }

    private NetslimException readFails(String name, byte[] bytes) throws IOException {
        Path f = file(name, bytes);
        NetslimException e = assertThrows(NetslimException.class, () -> Npy.read(f));
        assertTrue(e.getMessage().contains(name), e.getMessage());
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e;
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 3, 4, 5})
    void roundTripsAnyRankBitForBit(int rank) {
        int[] dims = new int[rank];
        for (int i = 0; i < rank; i++) dims[i] = 2 + i;
        Tensor t = TestModels.randomInput(Shape.of(dims), 7 + rank);
        t.set(0, Float.NaN);
        if (t.size() > 2) {
            t.set(1, Float.NEGATIVE_INFINITY);
            t.set(2, -0f);
        }
        Path f = dir.resolve("t" + rank + ".npy");
        Npy.write(f, t);
        Tensor back = Npy.read(f);
        assertEquals(t.shape(), back.shape());
        for (int i = 0; i < t.size(); i++) {
            assertEquals(Float.floatToRawIntBits(t.get(i)), Float.floatToRawIntBits(back.get(i)), "element " + i);
        }
    }

    @Test
    void writesNumpysVersion1LayoutWith64ByteAlignedData() throws IOException {
        Path f = dir.resolve("a.npy");
        Npy.write(f, Tensor.of(Shape.of(3), new float[] {1, 2, 3}));
        byte[] b = Files.readAllBytes(f);
        assertEquals(1, b[6]);
        assertEquals(0, b[7]);
        int headerLen = (b[8] & 0xff) | (b[9] & 0xff) << 8;
        assertEquals(0, (10 + headerLen) % 64);
        String dict = new String(b, 10, headerLen, StandardCharsets.ISO_8859_1);
        assertEquals("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", dict.trim());
        assertEquals('\n', dict.charAt(dict.length() - 1));
        assertEquals(10 + headerLen + 12, b.length);
    }

    @Test
    void writesAViewAtItsOffset() {
        Tensor base = Tensor.of(Shape.of(6), new float[] {0, 1, 2, 3, 4, 5});
        Tensor slice = new Tensor(Shape.of(2), base.storage(), 3);
        Tensor back = Npy.fromBytes(Npy.toBytes(slice), "slice");
        assertArrayEquals(new float[] {3, 4}, back.toArray());
    }

    @Test
    void readsVersions2And3AndFloat64AndOldStyleHeaders() throws IOException {
        Tensor v2 = Npy.read(file("v2.npy", npy(2, "{'descr':'<f4','fortran_order':False,'shape':(2,)}\n", f4(1.5f, -2))));
        assertArrayEquals(new float[] {1.5f, -2}, v2.toArray());
        Tensor v3 = Npy.read(file("v3.npy", npy(3, "{'shape': (1, 2), 'fortran_order': False, 'descr': '<f8', }",
                f8(0.1, 1e300))));
        assertEquals(Shape.of(1, 2), v3.shape());
        assertArrayEquals(new float[] {0.1f, Float.POSITIVE_INFINITY}, v3.toArray());
        Tensor py2 = Npy.read(file("py2.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }",
                f4(3, 4))));
        assertArrayEquals(new float[] {3, 4}, py2.toArray());
        Tensor scalar = Npy.read(file("s.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }",
                f4(9))));
        assertEquals(0, scalar.shape().rank());
        assertEquals(9f, scalar.get(0));
        Tensor empty = Npy.read(file("e.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }",
                new byte[0])));
        assertEquals(Shape.of(0, 3), empty.shape());
    }

    @Test
    void refusesOtherDtypesWithAClearMessage() throws IOException {
        NetslimException e = readFails("ints.npy", npy(1, "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }",
                new byte[8]));
        assertTrue(e.getMessage().contains("<i4") && e.getMessage().contains("not supported"), e.getMessage());
        readFails("big.npy", npy(1, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", new byte[8]));
        readFails("half.npy", npy(1, "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", new byte[4]));
        readFails("rec.npy", npy(1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
                new byte[8]));
    }

    @Test
    void refusesFortranOrder() throws IOException {
        NetslimException e = readFails("fortran.npy",
                npy(1, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", new byte[16]));
        assertTrue(e.getMessage().contains("Fortran"), e.getMessage());
    }

    @Test
    void refusesHugeClaimedShapesBeforeAllocating() throws IOException {
        // 10^12 elements: more than any Java array
        readFails("huge.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1000000, 1000000), }",
                new byte[16]));
        // fits an array (1.5 G floats) but the file holds 16 bytes: refused before the 6 GB allocation
        NetslimException e = readFails("liar.npy",
                npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1500000000,), }", new byte[16]));
        assertTrue(e.getMessage().contains("truncated"), e.getMessage());
        readFails("overflow.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, "
                + "'shape': (4294967296, 4294967296, 4294967296), }", new byte[16]));
        readFails("neg.npy", npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (-1,), }", new byte[16]));
        byte[] hugeHeader = npy(2, "{", new byte[0]);
        hugeHeader[8] = (byte) 0xff;
        hugeHeader[9] = (byte) 0xff;
        hugeHeader[10] = (byte) 0xff;
        hugeHeader[11] = (byte) 0x7f;
        readFails("hugeheader.npy", hugeHeader);
    }

    @Test
    void streamReadGrowsWithTheDataInsteadOfTrustingTheHeader() {
        byte[] b = npy(1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1500000000,), }", f4(1, 2, 3));
        NetslimException e = assertThrows(NetslimException.class,
                () -> Npy.read(new ByteArrayInputStream(b), "entry.npy"));
        assertTrue(e.getMessage().startsWith("entry.npy: truncated"), e.getMessage());
    }

    @Test
    void truncatedFilesAndTrailingBytesAreErrors() throws IOException {
        byte[] good = Npy.toBytes(TestModels.randomInput(Shape.of(4, 5), 1));
        for (int len : new int[] {0, 3, 8, 9, 40, good.length - 1}) {
            readFails("trunc" + len + ".npy", Arrays.copyOf(good, len));
        }
        readFails("long.npy", Arrays.copyOf(good, good.length + 1));
        ByteArrayOutputStream withExtra = new ByteArrayOutputStream();
        withExtra.writeBytes(good);
        withExtra.write(0);
        assertThrows(NetslimException.class, () -> Npy.read(new ByteArrayInputStream(withExtra.toByteArray()), "x"));
    }

    @Test
    void malformedHeadersAreErrors() throws IOException {
        String[] dicts = {"", "{", "{'descr': '<f4'}", "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'x': 1}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,), 'shape': (2,)}",
            "{'descr': '<f4', 'fortran_order': 0, 'shape': (2,)}", "{'descr': '<f4', 'fortran_order': False, 'shape': 2}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2.0,)}", "[1, 2]",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (2,)} junk", "{'descr: '<f4'}",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (" + "(".repeat(50) + ")}"};
        for (int i = 0; i < dicts.length; i++) readFails("bad" + i + ".npy", npy(1, dicts[i], new byte[8]));
        byte[] badVersion = npy(1, "{}", new byte[0]);
        badVersion[6] = 4;
        readFails("v4.npy", badVersion);
        readFails("notnpy.npy", "hello world, definitely not numpy".getBytes(StandardCharsets.US_ASCII));
    }

    @Test
    void missingFileAndDirectoryAreNetslimExceptions() throws IOException {
        NetslimException e = assertThrows(NetslimException.class, () -> Npy.read(dir.resolve("nope.npy")));
        assertTrue(e.getMessage().contains("nope.npy") && e.getMessage().contains("no such file"), e.getMessage());
        Path sub = Files.createDirectory(dir.resolve("sub.npy"));
        assertTrue(assertThrows(NetslimException.class, () -> Npy.read(sub)).getMessage().contains("sub.npy"));
    }

    /** Seeded byte flips: a corrupt file either still parses (data bytes carry no checksum) or fails cleanly. */
    @Test
    void flippedBytesNeverEscapeAsAnotherException() throws IOException {
        byte[] good = Npy.toBytes(TestModels.randomInput(Shape.of(2, 3), 3));
        Rng rng = new Rng(11);
        Path f = dir.resolve("flip.npy");
        for (int trial = 0; trial < 300; trial++) {
            byte[] b = good.clone();
            int pos = rng.nextInt(Math.min(b.length, 128));
            b[pos] ^= (byte) (1 + rng.nextInt(255));
            Files.write(f, b);
            try {
                Npy.read(f);
            } catch (NetslimException e) {
                assertTrue(e.getMessage().contains("flip.npy"), e.getMessage());
                assertTrue(e.getMessage().chars().noneMatch(Character::isISOControl), e.getMessage());
            }
        }
        byte[] random = new byte[200];
        for (int i = 0; i < random.length; i++) random[i] = (byte) rng.nextInt(256);
        readFails("random.npy", random);
    }

    @Test
    void failedWriteLeavesNoTemporaryFileAndTheOldFileIntact() throws IOException {
        Path f = dir.resolve("keep.npy");
        Npy.write(f, Tensor.of(Shape.of(2), new float[] {1, 2}));
        byte[] before = Files.readAllBytes(f);
        Tensor onDevice = new Tensor(Shape.of(2), new netslim.tensor.Storage() {
            public long capacity() { return 2; }
            public boolean isHost() { return false; }
        }, 0);
        assertThrows(IllegalStateException.class, () -> Npy.write(f, onDevice));
        assertArrayEquals(before, Files.readAllBytes(f));
        try (var files = Files.list(dir)) {
            assertEquals(1, files.count(), "only keep.npy is left");
        }
        NetslimException e = assertThrows(NetslimException.class,
                () -> Npy.write(dir.resolve("no/such/dir/x.npy"), Tensor.zeros(2)));
        assertTrue(e.getMessage().contains("x.npy"), e.getMessage());
    }
}
