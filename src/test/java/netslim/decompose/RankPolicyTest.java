package netslim.decompose;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.ejml.data.DMatrixRMaj;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import netslim.NetslimException;
import netslim.tensor.Rng;

/** Parsing, the floor, rounding, and each policy's rank on known spectra. */
class RankPolicyTest {

    @ParameterizedTest
    @ValueSource(strings = {"", "evbmf:1", "evbmf-weak", "evbmf-weak:", "evbmf-weak:1.5", "evbmf-weak:-0.1",
            "evbmf-weak:nan", "energy:0", "energy:1.01", "energy:x", "fixed:0", "fixed:3,0", "fixed:1,2,3", "fixed:",
            "fixed:2.5", "vbmf", "svd:3"})
    void badSpecsGiveOneLineListingTheForms(String spec) {
        NetslimException e = assertThrows(NetslimException.class, () -> RankPolicy.parse(spec));
        assertFalse(e.getMessage().contains("\n"));
        for (String form : new String[] {"evbmf", "evbmf-weak:W", "energy:E", "fixed:R", "fixed:R3,R4"}) {
            assertTrue(e.getMessage().contains(form), e.getMessage());
        }
    }

    @Test
    void parsesEveryForm() {
        assertEquals(RankPolicy.Kind.EVBMF, RankPolicy.parse("evbmf").kind());
        assertEquals(RankPolicy.Kind.EVBMF_WEAK, RankPolicy.parse(" EVBMF-weak:0.5 ").kind());
        assertEquals(RankPolicy.Kind.ENERGY, RankPolicy.parse("energy:1").kind());
        assertArrayEquals(new int[] {7, 7}, RankPolicy.parse("fixed:7").fixedRanks());
        assertArrayEquals(new int[] {3, 12}, RankPolicy.parse("fixed:3,12").fixedRanks());
        assertNull(RankPolicy.parse("evbmf").fixedRanks());
    }

    @ParameterizedTest(name = "full rank {0} -> floor {1}")
    @CsvSource({"1, 1", "16, 1", "33, 1", "34, 2", "64, 2", "100, 3", "512, 16"})
    void defaultFloorIsThreePercentAtLeastOne(int full, int floor) {
        assertEquals(floor, RankPolicy.parse("evbmf").floor(full));
    }

    @Test
    void floorFractionAndRoundToAreValidated() {
        RankPolicy p = RankPolicy.parse("evbmf");
        assertThrows(NetslimException.class, () -> p.withFloorFraction(-0.1));
        assertThrows(NetslimException.class, () -> p.withFloorFraction(1.5));
        assertThrows(NetslimException.class, () -> p.withRoundTo(0));
        assertEquals(26, p.withFloorFraction(0.1).floor(256));
        assertEquals(1, p.withFloorFraction(0).floor(256));
    }

    /** A spectrum of 10 values with squares 40, 30, 20, 5, 2, 1, 1, 0.5, 0.3, 0.2 (total 100). */
    private static double[] spectrum() {
        double[] sq = {40, 30, 20, 5, 2, 1, 1, 0.5, 0.3, 0.2};
        double[] g = new double[sq.length];
        for (int i = 0; i < g.length; i++) g[i] = Math.sqrt(sq[i]);
        return g;
    }

    @ParameterizedTest(name = "energy {0} -> rank {1}")
    @CsvSource({"0.4, 1", "0.41, 2", "0.7, 2", "0.9, 3", "0.95, 4", "0.97, 5", "0.99, 7", "1.0, 10"})
    void energyKeepsTheSmallestRankReachingTheShare(double share, int rank) {
        RankPolicy.Choice c = RankPolicy.parse("energy:" + share).withFloorFraction(0)
                .choose(RankPolicy.Side.OUT, spectrum(), 10, 40);
        assertEquals(rank, c.rank());
        assertEquals(rank, c.estimate());
        assertFalse(c.floorHit());
        assertNull(c.evbmf());
    }

    @Test
    void floorWinsOverASmallEnergyRankAndSaysSo() {
        RankPolicy.Choice c = RankPolicy.parse("energy:0.3").withFloorFraction(0.25)
                .choose(RankPolicy.Side.OUT, spectrum(), 10, 40);
        assertEquals(1, c.estimate());
        assertEquals(3, c.rank());
        assertTrue(c.floorHit());
    }

    @ParameterizedTest(name = "W = {0}")
    @CsvSource({"0, 40", "0.25, 32", "0.5, 23", "0.75, 14", "1, 5"})
    void weakenedEvbmfInterpolatesBetweenFullAndEvbmf(double w, int expected) {
        // Planted rank 5 in a 40 x 120 matrix: EVBMF finds 5; R = ceil(40 − W·(40 − 5)).
        DMatrixRMaj m = DecomposeFixtures.planted(new Rng(5), 40, 120, 5, 400, 1);
        double[] sv = DecomposeFixtures.singularValues(m);
        RankPolicy.Choice c = RankPolicy.parse("evbmf-weak:" + w).choose(RankPolicy.Side.OUT, sv, 40, 120);
        assertEquals(5, c.evbmf().rank());
        assertEquals(expected, c.rank());
        assertEquals(c.rank(), RankPolicy.parse("evbmf-weak:" + w).choose(RankPolicy.Side.IN, sv, 120, 40).rank());
    }

    @Test
    void evbmfEqualsWeakOne() {
        DMatrixRMaj m = DecomposeFixtures.planted(new Rng(6), 32, 96, 7, 300, 1);
        double[] sv = DecomposeFixtures.singularValues(m);
        assertEquals(7, RankPolicy.parse("evbmf").choose(RankPolicy.Side.IN, sv, 32, 96).rank());
        assertEquals(7, RankPolicy.parse("evbmf-weak:1").choose(RankPolicy.Side.IN, sv, 32, 96).rank());
    }

    @Test
    void fixedRanksPickTheirSideAndAreCappedWithoutFloor() {
        double[] sv = spectrum();
        RankPolicy p = RankPolicy.parse("fixed:3,12");
        assertEquals(3, p.choose(RankPolicy.Side.IN, sv, 10, 40).rank());
        RankPolicy.Choice out = p.choose(RankPolicy.Side.OUT, sv, 10, 40);
        assertEquals(10, out.rank(), "capped at the full rank");
        assertFalse(out.floorHit());
        assertEquals(1, RankPolicy.parse("fixed:1").withFloorFraction(0.5).choose(RankPolicy.Side.IN, sv, 10, 40)
                .rank(), "an explicit fixed rank is not floored");
    }

    @ParameterizedTest(name = "fixed:{0} round to {1} -> {2}")
    @CsvSource({"3, 8, 8", "8, 8, 8", "9, 8, 16", "30, 8, 30", "3, 1, 3", "5, 4, 8"})
    void roundToIsUpAndCappedAtTheFullRank(int r, int multiple, int expected) {
        double[] sv = new double[30];
        for (int i = 0; i < sv.length; i++) sv[i] = 30 - i;
        assertEquals(expected, RankPolicy.parse("fixed:" + r).withRoundTo(multiple)
                .choose(RankPolicy.Side.OUT, sv, 30, 270).rank());
    }

    @Test
    void roundingAppliesAfterTheFloor() {
        double[] sv = new double[100];
        for (int i = 0; i < sv.length; i++) sv[i] = 1; // flat: EVBMF sees noise, estimate 0
        RankPolicy.Choice c = RankPolicy.parse("evbmf").withRoundTo(8).choose(RankPolicy.Side.OUT, sv, 100, 900);
        assertEquals(0, c.estimate());
        assertEquals(3, c.floor());
        assertTrue(c.floorHit());
        assertEquals(8, c.rank());
    }

    @Test
    void rejectsASpectrumOfTheWrongLength() {
        assertThrows(IllegalArgumentException.class,
                () -> RankPolicy.parse("evbmf").choose(RankPolicy.Side.IN, new double[] {1, 2}, 3, 9));
    }
}
