package netslim.data;

import java.util.Iterator;
import java.util.NoSuchElementException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;

import netslim.NetslimException;

/**
 * One pass over a {@link Loader}'s dataset, batch by batch. With prefetch, a daemon thread fills the next batch into
 * the second of two buffers while the caller works on the current one (double buffering: the caller's buffer goes
 * back to the thread when it asks for the next batch). An exception in that thread is re-thrown by {@link #next()}.
 * Close it (try-with-resources) when stopping early; it also closes itself after the last batch, and the loader
 * closes it when the next epoch starts or the loader closes.
 */
public final class Epoch implements Iterator<Batch>, AutoCloseable {
    private final int epoch, numBatches, batchSize, size;
    private final int[] order;
    private final BatchAssembler assembler;
    private final BatchAssembler.Buffer[] buffers;
    private final Thread producer;                       // null without prefetch
    private final BlockingQueue<BatchAssembler.Buffer> free; // buffers the producer may fill
    private final BlockingQueue<Object> ready;            // Filled or Failed, in batch order
    private BatchAssembler.Buffer current;               // the buffer the caller holds
    private int nextBatch;
    private volatile boolean closed;

    private record Filled(int batch, BatchAssembler.Buffer buffer) {
    }

    private record Failed(Throwable error) {
    }

    Epoch(int epoch, int[] order, int numBatches, int batchSize, BatchAssembler assembler,
            BatchAssembler.Buffer[] buffers, boolean prefetch) {
        this.epoch = epoch;
        this.order = order;
        this.numBatches = numBatches;
        this.batchSize = batchSize;
        this.size = order.length;
        this.assembler = assembler;
        this.buffers = buffers;
        if (prefetch && numBatches > 0) {
            free = new ArrayBlockingQueue<>(buffers.length, false, java.util.List.of(buffers));
            ready = new ArrayBlockingQueue<>(buffers.length + 1);
            producer = new Thread(this::produce, "netslim-prefetch-epoch-" + epoch);
            producer.setDaemon(true);
            producer.start();
        } else {
            free = null;
            ready = null;
            producer = null;
        }
    }

    public int epoch() {
        return epoch;
    }

    public int numBatches() {
        return numBatches;
    }

    private int rows(int batch) {
        return Math.min(batchSize, size - batch * batchSize);
    }

    private void produce() {
        try {
            for (int b = 0; b < numBatches && !closed; b++) {
                BatchAssembler.Buffer buf = free.take();
                assembler.fill(buf, order, epoch, b * batchSize, rows(b));
                ready.put(new Filled(b, buf));
            }
        } catch (InterruptedException e) {
            // closed by the consumer: stop quietly
        } catch (Throwable t) {
            ready.offer(new Failed(t)); // never full: at most one item per buffer is queued before it
        }
    }

    @Override
    public boolean hasNext() {
        if (nextBatch < numBatches && !closed) return true;
        close();
        return false;
    }

    /** The next batch; its arrays stay valid until the next call to {@code next()} or {@link #close()}. */
    @Override
    public Batch next() {
        if (closed) throw new IllegalStateException("epoch " + epoch + " is closed");
        if (nextBatch >= numBatches) throw new NoSuchElementException("epoch " + epoch + " has " + numBatches + " batches");
        int b = nextBatch;
        if (producer == null) {
            current = buffers[0];
            assembler.fill(current, order, epoch, b * batchSize, rows(b));
        } else {
            if (current != null) free.add(current);
            current = null;
            Object item = awaitReady();
            if (item instanceof Failed f) {
                close();
                throw rethrown(f.error());
            }
            Filled filled = (Filled) item;
            if (filled.batch() != b) throw new IllegalStateException("prefetch out of order: " + filled.batch() + " for " + b);
            current = filled.buffer();
        }
        nextBatch++;
        int n = rows(b);
        return new Batch(b, current.x(n), current.labels(n), current.indices(n));
    }

    private Object awaitReady() {
        try {
            return ready.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            close();
            throw new IllegalStateException("interrupted while waiting for batch " + nextBatch + " of epoch " + epoch, e);
        }
    }

    /** The producer's exception, as a new one thrown here (the message kept: a NetslimException stays one). */
    private static RuntimeException rethrown(Throwable t) {
        if (t instanceof NetslimException) return new NetslimException(t.getMessage(), t);
        return new IllegalStateException("preparing a batch failed: " + t, t);
    }

    /** Stops the prefetch thread and waits for it; idempotent. */
    @Override
    public void close() {
        closed = true;
        if (producer == null || !producer.isAlive()) return;
        producer.interrupt();
        boolean interrupted = false;
        while (producer.isAlive()) {
            try {
                producer.join();
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
    }

    /** Whether the prefetch thread is still running (tests). */
    boolean producerAlive() {
        return producer != null && producer.isAlive();
    }
}
