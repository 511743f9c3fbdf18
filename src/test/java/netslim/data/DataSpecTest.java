package netslim.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import netslim.NetslimException;
import netslim.tensor.Shape;

/** CLI data specs: the four forms, the missing-Fashion-MNIST line, unknown forms; and Normalization parsing. */
class DataSpecTest {
    @TempDir
    Path dir;

    @Test
    void parsesEveryForm() {
        assertEquals(new DataSpec(DataSpec.Kind.IDX, dir), DataSpec.parse("idx:" + dir));
        assertEquals(new DataSpec(DataSpec.Kind.CIFAR10, dir), DataSpec.parse("cifar10:" + dir));
        assertEquals(new DataSpec(DataSpec.Kind.FOLDER, dir), DataSpec.parse(" folder:" + dir + " "));
        assertEquals(new DataSpec(DataSpec.Kind.FASHION_MNIST, dir), DataSpec.parse("fashion-mnist", dir));
        assertEquals("cifar10:" + dir, DataSpec.parse("cifar10:" + dir).toString());
    }

    @Test
    void missingFashionMnistSaysHowToInstallInOneLine() {
        Path nowhere = dir.resolve("no-such-dir");
        NetslimException e = assertThrows(NetslimException.class, () -> DataSpec.parse("fashion-mnist", nowhere));
        String m = e.getMessage();
        assertFalse(m.contains("\n"), m);
        assertTrue(m.contains("apt-get install dataset-fashion-mnist"), m);
        assertTrue(m.contains("--data idx:DIR"), m);
        assertTrue(m.contains(nowhere.toString()), m);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mnist", "cifar100:/x", "", "idx", "fashion-mnist:/tmp", "imagenet:/data"})
    void unknownFormsListTheKnownOnes(String spec) {
        NetslimException e = assertThrows(NetslimException.class, () -> DataSpec.parse(spec, dir));
        assertTrue(e.getMessage().contains(DataSpec.FORMS), e.getMessage());
    }

    @Test
    void missingDirectoryOrEmptyPathIsClear() {
        Path nowhere = dir.resolve("missing");
        NetslimException e = assertThrows(NetslimException.class, () -> DataSpec.parse("idx:" + nowhere));
        assertTrue(e.getMessage().contains(nowhere + " is not a directory"), e.getMessage());
        assertTrue(assertThrows(NetslimException.class, () -> DataSpec.parse("cifar10:")).getMessage().contains("cifar10:DIR"));
    }

    @Test
    void opensTheSplitWithALimit() {
        DataFixtures.writeIdxDir(dir, 3, 3, DataFixtures.randomBytes(5 * 9, 1), DataFixtures.randomLabels(5, 10, 2), true);
        DataSpec spec = DataSpec.parse("idx:" + dir);
        assertEquals(2, spec.open(Split.TEST, 2, null).size());
        assertEquals(5, spec.open(Split.parse("Train"), 0, null).size());
        assertThrows(NetslimException.class, () -> Split.parse("val"));
        DataSpec folder = DataSpec.parse("folder:" + dir);
        assertTrue(assertThrows(NetslimException.class, () -> folder.open(Split.TRAIN, 0, null)).getMessage().contains("CxHxW"));
        assertThrows(NetslimException.class, () -> folder.open(Split.TRAIN, 0, Shape.of(3, 8, 8)), "no train/ folder");
    }

    @Test
    void normalizationParsesBroadcastsAndChecks() {
        Normalization n = Normalization.parse("0.5,0.25,0.125/1,2,4");
        assertEquals(3, n.channels());
        assertEquals(0.25f, n.mean(1));
        assertEquals(4f, n.std(2));
        assertEquals(n, Normalization.parse(n.toString()));
        Normalization one = Normalization.parse("0.286/0.353").forChannels(3);
        assertEquals(0.353f, one.std(2));
        assertThrows(NetslimException.class, () -> n.forChannels(1), "3 channels cannot become 1");
        assertThrows(NetslimException.class, () -> Normalization.parse("0.5/0"), "std 0");
        assertThrows(NetslimException.class, () -> Normalization.parse("0.5"), "no std");
        assertThrows(NetslimException.class, () -> Normalization.parse("a/b"));
    }
}
