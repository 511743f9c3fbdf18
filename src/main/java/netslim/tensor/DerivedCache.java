package netslim.tensor;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.WeakHashMap;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Values derived from a weight array (stacked sibling weights, Winograd-transformed weights), shared by every plan
 * built over the same array — the embedding API builds one serving plan per thread — but never stale. Held weakly by
 * the array's identity (arrays do not override equals), so a dropped model's entries go with it; the values must
 * not reference the array. A value is reused only while the caller's {@code current} test accepts it (typically:
 * its own copy of the weights still equals the array's contents, bit for bit).
 */
public final class DerivedCache<V> {
    private final Map<float[], List<V>> byArray = new WeakHashMap<>();

    /**
     * A cached value for {@code key} that {@code current} accepts, else a new one from {@code make} (run outside the
     * lock), cached in place of those {@code superseded} picks.
     */
    public V get(float[] key, Predicate<V> current, Predicate<V> superseded, Supplier<V> make) {
        synchronized (byArray) {
            for (V v : byArray.getOrDefault(key, List.of())) {
                if (current.test(v)) return v;
            }
        }
        V made = make.get();
        synchronized (byArray) {
            List<V> values = byArray.computeIfAbsent(key, k -> new ArrayList<>());
            values.removeIf(superseded);
            values.add(made);
        }
        return made;
    }
}
