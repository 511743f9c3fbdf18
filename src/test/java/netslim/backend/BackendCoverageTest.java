package netslim.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Fails when a {@link Backend} method has no parity case, or a case names a method the interface lacks. */
class BackendCoverageTest {

    /**
     * Methods that are not ops: identity, lifecycle, allocation (used by every case anyway), pass (a scheduling
     * hint around a plan's ops, checked in WorkerPoolTest), imageLanes and runLanes (scheduling of a serving plan's
     * images over threads: WorkerPoolTest, ImageByImageServingTest), reluInPlace (a capability, checked by
     * ExecutorInPlaceReluTest through relu and reluBackwardInto in place). replayable and
     * deviceTimer (CUDA graphs, event timing) are checked at model level on the GPU (CudaModelParityTest: the
     * graph-replayed serving plan against the CPU, event timing of every node).
     */
    private static final Set<String> NOT_OPS = Set.of("name", "isHost", "close", "allocate", "replayable",
            "deviceTimer", "pass", "imageLanes", "runLanes", "reluInPlace");

    private static Set<String> interfaceOps() {
        return Arrays.stream(Backend.class.getMethods())
                .map(Method::getName)
                .filter(n -> !NOT_OPS.contains(n))
                .collect(Collectors.toCollection(TreeSet::new));
    }

    private static Set<String> covered() {
        return BackendParityTest.cases().stream()
                .flatMap(c -> c.methods().stream())
                .collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    void everyBackendOpHasAParityCase() {
        Set<String> missing = new TreeSet<>(interfaceOps());
        missing.removeAll(covered());
        assertEquals(Set.of(), missing, "Backend methods without a parity case");
    }

    @Test
    void everyRegisteredMethodExists() {
        Set<String> unknown = new TreeSet<>(covered());
        unknown.removeAll(interfaceOps());
        assertEquals(Set.of(), unknown, "parity cases name methods that Backend does not have");
    }

    @Test
    void caseNamesAreUnique() {
        var names = BackendParityTest.cases().stream().map(ParityCase::name).toList();
        assertTrue(names.size() == new TreeSet<>(names).size(), "duplicate parity case names in " + names);
    }
}
