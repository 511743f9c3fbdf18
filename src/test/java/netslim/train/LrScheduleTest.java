package netslim.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import netslim.NetslimException;

class LrScheduleTest {
    private static final double EPS = 1e-12;

    private static LrSchedule cosine(int epochs, double warmup, int stepsPerEpoch) {
        return LrSchedule.of(TrainConfig.defaults(epochs).withLr(0.1)
                .withSchedule(LrSchedule.Kind.COSINE, warmup, List.of(), 0.1), stepsPerEpoch);
    }

    @Test
    void cosineWithoutWarmupStartsAtBaseHalvesMidwayAndEndsNearZero() {
        LrSchedule s = cosine(4, 0, 25); // 100 steps
        assertEquals(100, s.totalSteps());
        assertEquals(0.1, s.at(0), EPS);
        assertEquals(0.05, s.at(50), EPS);
        assertEquals(0.1 * 0.5 * (1 + Math.cos(Math.PI * 0.25)), s.at(25), EPS);
        assertEquals(0.1 * 0.5 * (1 + Math.cos(Math.PI * 0.99)), s.at(99), EPS);
        for (int t = 1; t < 100; t++) assertTrue(s.at(t) < s.at(t - 1), "cosine decreases at step " + t);
    }

    @Test
    void linearWarmupThenCosineOverTheRest() {
        LrSchedule s = cosine(5, 1, 10); // 10 warm-up steps, 40 cosine steps
        assertEquals(10, s.warmupSteps());
        assertEquals(0.01, s.at(0), EPS);
        assertEquals(0.05, s.at(4), EPS);
        assertEquals(0.1, s.at(9), EPS);
        assertEquals(0.1, s.at(10), EPS);
        assertEquals(0.05, s.at(30), EPS);
    }

    @Test
    void fractionalWarmupRoundsToWholeSteps() {
        assertEquals(5, cosine(3, 0.5, 9).warmupSteps()); // 4.5 steps → 5 (Math.round)
    }

    @ParameterizedTest
    @CsvSource({"0, 0.1", "39, 0.1", "40, 0.01", "59, 0.01", "60, 0.001", "79, 0.001"})
    void stepScheduleDefaultsToHalfAndThreeQuarters(long step, double lr) {
        LrSchedule s = LrSchedule.of(TrainConfig.defaults(8).withSchedule(LrSchedule.Kind.STEP, 0, List.of(), 0.1), 10);
        assertEquals(List.of(40L, 60L), s.milestoneSteps());
        assertEquals(lr, s.at(step), 1e-15);
    }

    @Test
    void stepScheduleWithExplicitMilestonesAndWarmup() {
        LrSchedule s = LrSchedule.of(TrainConfig.defaults(6).withLr(0.2)
                .withSchedule(LrSchedule.Kind.STEP, 1, List.of(2, 5), 0.5), 4);
        assertEquals(List.of(8L, 20L), s.milestoneSteps());
        assertEquals(0.05, s.at(0), EPS);  // warm-up 1/4
        assertEquals(0.2, s.at(3), EPS);
        assertEquals(0.2, s.at(7), EPS);
        assertEquals(0.1, s.at(8), EPS);
        assertEquals(0.05, s.at(23), EPS);
    }

    @Test
    void badSettingsAreOneLineErrors() {
        assertThrows(NetslimException.class, () -> TrainConfig.defaults(3).withSchedule(LrSchedule.Kind.STEP, 0, List.of(3), 0.1));
        assertThrows(NetslimException.class, () -> TrainConfig.defaults(3).withSchedule(LrSchedule.Kind.COSINE, 4, List.of(), 0.1));
        assertThrows(NetslimException.class, () -> TrainConfig.defaults(3).withLr(-1));
        assertThrows(NetslimException.class, () -> TrainConfig.defaults(3).withMomentum(0, true));
        assertThrows(NetslimException.class, () -> LrSchedule.Kind.parse("linear"));
    }
}
