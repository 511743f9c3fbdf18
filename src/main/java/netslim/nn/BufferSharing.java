package netslim.nn;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.TreeMap;

/**
 * Which buffers can share one array: each buffer is live from the first step that touches it to the last, both
 * included (a step that reads one buffer and writes another holds both), and two buffers may use one array only if
 * their lifetimes do not overlap. Greedy in step order: at each step the buffers no longer live give their arrays
 * back, and each buffer that starts there takes the smallest free array that holds it, else an array of its own
 * (the largest buffers first, so a small one does not take the array a large one could have used).
 */
final class BufferSharing {
    /** A buffer's lifetime (steps, inclusive) and size in floats. */
    record Lifetime(int first, int last, long floats) {
        Lifetime {
            if (first < 0 || last < first || floats <= 0) {
                throw new IllegalArgumentException("lifetime [" + first + ", " + last + "] of " + floats + " floats");
            }
        }
    }

    /**
     * The plan: {@code arrayOf[i]} is buffer i's array (0, 1, ... in order of creation); {@code arraySize[a]} is
     * array a's size in floats (the largest buffer it holds). Array a is the buffer {@code ownerOf[a]}'s own.
     */
    record Plan(int[] arrayOf, long[] arraySize, int[] ownerOf) {
        long totalFloats() {
            long s = 0;
            for (long f : arraySize) s += f;
            return s;
        }

        /** Whether buffer i shares its array with another buffer. */
        boolean shared(int i) {
            int a = arrayOf[i];
            for (int j = 0; j < arrayOf.length; j++) if (j != i && arrayOf[j] == a) return true;
            return false;
        }
    }

    private BufferSharing() {
    }

    static Plan plan(List<Lifetime> buffers) {
        int n = buffers.size();
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) order[i] = i;
        java.util.Arrays.sort(order, Comparator.<Integer>comparingInt(i -> buffers.get(i).first())
                .thenComparing(i -> -buffers.get(i).floats()).thenComparingInt(i -> i));
        int[] arrayOf = new int[n];
        List<Long> sizes = new ArrayList<>();
        List<Integer> owners = new ArrayList<>();
        // free arrays by size (several of one size: a list per size); live buffers by last step
        TreeMap<Long, List<Integer>> free = new TreeMap<>();
        java.util.PriorityQueue<Integer> live = new java.util.PriorityQueue<>(
                Comparator.comparingInt(i -> buffers.get(i).last()));
        for (int i : order) {
            Lifetime b = buffers.get(i);
            while (!live.isEmpty() && buffers.get(live.peek()).last() < b.first()) {
                int done = live.poll();
                free.computeIfAbsent(sizes.get(arrayOf[done]), k -> new ArrayList<>()).add(arrayOf[done]);
            }
            var fit = free.ceilingEntry(b.floats());
            if (fit != null) {
                List<Integer> arrays = fit.getValue();
                arrayOf[i] = arrays.remove(arrays.size() - 1);
                if (arrays.isEmpty()) free.remove(fit.getKey());
            } else {
                arrayOf[i] = sizes.size();
                sizes.add(b.floats());
                owners.add(i);
            }
            live.add(i);
        }
        return new Plan(arrayOf, sizes.stream().mapToLong(Long::longValue).toArray(),
                owners.stream().mapToInt(Integer::intValue).toArray());
    }
}
