package io.github.glidejava.core.data;

import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.glidejava.core.GlideBackend;
import io.github.glidejava.core.image.RgbImage;

/**
 * An endless, reproducible stream of training batches from a {@link CaptionedImageDataset}.
 *
 * <p>Order: each epoch visits every example once, in a permutation drawn from {@code (seed, epoch)}. A batch takes
 * the next {@code batchSize} examples and runs on into the next epoch when the current one ends, so every batch has
 * the same shape (graphs built for a fixed batch keep working). Per draw, the caption (one of the example's
 * alternatives), the crop window ({@link DatasetOptions.Crop#RANDOM}) and the left-right flip (with
 * {@link DatasetOptions#flipProbability()}) come from a random stream derived from {@code (seed, epoch, position)}.
 * Everything a batch holds is therefore a function of the seed and where the batch starts: a run resumed from a
 * saved {@link #state()} sees exactly the batches the uninterrupted run would have seen.
 *
 * <p>Batches are assembled ahead in background threads ({@code prefetch} of them); the pictures themselves were
 * decoded when the data set was opened. Close the stream to stop the threads.
 */
public final class TrainingBatches implements Iterator<TrainingBatches.Batch>, AutoCloseable {
    static {
        GlideBackend.init();
    }

    /**
     * One batch: {@code images [B, 3, S, S]} float32 in [-1, 1]; {@code captions.get(i)} the caption drawn for image
     * i; {@code indices[i]} its example index in the data set.
     */
    public record Batch(INDArray images, List<String> captions, int[] indices) {
    }

    /**
     * Where the stream stands: the next batch starts at {@code position} of epoch {@code epoch}'s order.
     * {@code datasetSize} guards against resuming on a data set that has changed. Serialises to JSON.
     */
    public record State(long seed, long epoch, int position, int datasetSize) {
        private static final ObjectMapper JSON = new ObjectMapper();

        public State {
            if (epoch < 0 || position < 0 || datasetSize <= 0 || position > datasetSize) {
                throw new IllegalArgumentException("invalid batch state: epoch " + epoch + ", position " + position
                        + " of a data set of " + datasetSize + " (expected epoch >= 0, 0 <= position <= size, size > 0)");
            }
        }

        public String toJson() {
            try {
                return JSON.writeValueAsString(this);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("cannot write batch state as JSON", e);
            }
        }

        /** Reads {@link #toJson()}'s output; a malformed text is an IOException saying what is wrong. */
        public static State fromJson(String json) throws IOException {
            State s;
            try {
                s = JSON.readValue(json, State.class);
            } catch (JsonProcessingException | IllegalArgumentException e) {
                throw new IOException("not a training batch state (expected JSON with seed, epoch, position and"
                        + " datasetSize): " + e.getMessage(), e);
            }
            if (s == null) {
                throw new IOException("not a training batch state: empty JSON");
            }
            return s;
        }

        /** The state {@code count} examples further on. */
        State advance(int count) {
            long e = epoch;
            long p = (long) position + count;
            e += p / datasetSize;
            p %= datasetSize;
            return new State(seed, e, (int) p, datasetSize);
        }
    }

    private final CaptionedImageDataset dataset;
    private final int batchSize;
    private final int prefetch;
    private final long seed;
    private final ExecutorService pool;
    private final Deque<Future<Assembled>> ahead = new ArrayDeque<>();
    private final Map<Long, int[]> orders = new LinkedHashMap<>(8, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Long, int[]> eldest) {
            return size() > 4;
        }
    };
    /** Start of the next batch handed out. */
    private State state;
    /** Start of the next batch to be assembled. */
    private State scheduled;
    private boolean closed;

    private TrainingBatches(Builder b) {
        this.dataset = b.dataset;
        this.batchSize = b.batchSize;
        this.prefetch = b.prefetch;
        this.state = b.resumeFrom != null ? b.resumeFrom : new State(b.seed, 0, 0, dataset.size());
        this.scheduled = state;
        this.seed = state.seed();
        this.pool = Executors.newFixedThreadPool(b.threads, r -> {
            Thread t = new Thread(r, "glide-training-batches");
            t.setDaemon(true);
            return t;
        });
    }

    public static Builder builder(CaptionedImageDataset dataset) {
        return new Builder(dataset);
    }

    /** Where the next batch starts; save it with {@link State#toJson()} to resume there. */
    public synchronized State state() {
        return state;
    }

    public int batchSize() {
        return batchSize;
    }

    /** Always true: the stream runs epoch after epoch; the trainer decides when to stop. */
    @Override
    public boolean hasNext() {
        return true;
    }

    @Override
    public synchronized Batch next() {
        if (closed) {
            throw new IllegalStateException("these training batches are closed");
        }
        while (ahead.size() < prefetch + 1) {
            State start = scheduled;
            ahead.add(pool.submit(() -> assemble(start)));
            scheduled = scheduled.advance(batchSize);
        }
        Assembled a;
        try {
            a = ahead.poll().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for a training batch", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("assembling a training batch from " + dataset.source() + " failed: " + e.getCause(),
                    e.getCause());
        }
        state = state.advance(batchSize);
        int s = dataset.options().imageSize();
        INDArray images;
        // detached from any workspace the trainer has open: the batch outlives a training step's scratch memory
        try (MemoryWorkspace ignored = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            images = Nd4j.create(a.images, new long[] {batchSize, 3, s, s}, DataType.FLOAT);
        }
        return new Batch(images, a.captions, a.indices);
    }

    /** The order in which epoch {@code epoch} visits the examples (a permutation of 0..size-1). */
    public int[] epochOrder(long epoch) {
        return order(epoch).clone();
    }

    @Override
    public synchronized void close() {
        closed = true;
        ahead.forEach(f -> f.cancel(true));
        ahead.clear();
        pool.shutdownNow();
    }

    private record Assembled(float[] images, List<String> captions, int[] indices) {
    }

    private Assembled assemble(State start) {
        int s = dataset.options().imageSize();
        boolean randomCrop = dataset.options().crop() == DatasetOptions.Crop.RANDOM;
        double flipP = dataset.options().flipProbability();
        float[] images = new float[batchSize * 3 * s * s];
        List<String> captions = new ArrayList<>(batchSize);
        int[] indices = new int[batchSize];
        State at = start;
        for (int k = 0; k < batchSize; k++) {
            if (at.position() == at.datasetSize()) {
                at = new State(at.seed(), at.epoch() + 1, 0, at.datasetSize());
            }
            int index = order(at.epoch())[at.position()];
            SplittableRandom draw = new SplittableRandom(mix(at.seed(), 0x6472617773L, at.epoch(), at.position()));
            List<String> alternatives = dataset.captions(index);
            captions.add(alternatives.get(draw.nextInt(alternatives.size())));
            RgbImage p = dataset.picture(index);
            int top = randomCrop ? draw.nextInt(p.height() - s + 1) : (p.height() - s) / 2;
            int left = randomCrop ? draw.nextInt(p.width() - s + 1) : (p.width() - s) / 2;
            boolean flip = flipP > 0 && draw.nextDouble() < flipP;
            p.toFloats(top, left, s, s, flip, images, k * 3 * s * s);
            indices[k] = index;
            at = at.advance(1);
        }
        return new Assembled(images, List.copyOf(captions), indices);
    }

    private int[] order(long epoch) {
        synchronized (orders) {
            int[] o = orders.get(epoch);
            if (o == null) {
                int n = dataset.size();
                o = new int[n];
                for (int i = 0; i < n; i++) {
                    o[i] = i;
                }
                SplittableRandom rng = new SplittableRandom(mix(seed, 0x6f72646572L, epoch, 0));
                for (int i = n - 1; i > 0; i--) {
                    int j = rng.nextInt(i + 1);
                    int t = o[i];
                    o[i] = o[j];
                    o[j] = t;
                }
                orders.put(epoch, o);
            }
            return o;
        }
    }

    /** A well-mixed 64-bit seed from several numbers (SplitMix64's finaliser applied in a chain). */
    static long mix(long seed, long stream, long a, long b) {
        long h = fmix(seed ^ 0x9E3779B97F4A7C15L);
        h = fmix(h ^ stream);
        h = fmix(h ^ a);
        return fmix(h ^ b);
    }

    private static long fmix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    public static final class Builder {
        private final CaptionedImageDataset dataset;
        private int batchSize = -1;
        private Long seed;
        private State resumeFrom;
        private int prefetch = 2;
        private int threads;

        private Builder(CaptionedImageDataset dataset) {
            this.dataset = Objects.requireNonNull(dataset, "dataset");
            this.threads = dataset.options().decodeThreads();
        }

        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Starts where a saved state stands (its seed included). */
        public Builder resumeFrom(State state) {
            this.resumeFrom = state;
            return this;
        }

        /** Batches assembled ahead of the one being used (0 = only on demand). */
        public Builder prefetch(int batches) {
            this.prefetch = batches;
            return this;
        }

        public Builder threads(int threads) {
            this.threads = threads;
            return this;
        }

        public TrainingBatches build() {
            if (batchSize < 1) {
                throw new IllegalArgumentException(batchSize == -1 ? "batch size is not set" : "batch size must be at least 1, got " + batchSize);
            }
            if (prefetch < 0 || prefetch > 64) {
                throw new IllegalArgumentException("prefetch must be between 0 and 64 batches, got " + prefetch);
            }
            if (threads < 1 || threads > 256) {
                throw new IllegalArgumentException("threads must be between 1 and 256, got " + threads);
            }
            if (resumeFrom != null) {
                if (resumeFrom.datasetSize() != dataset.size()) {
                    throw new IllegalArgumentException("the saved batch state is for a data set of " + resumeFrom.datasetSize()
                            + " examples but " + dataset.source() + " has " + dataset.size()
                            + "; resuming would not give the same batches");
                }
                if (seed != null && seed != resumeFrom.seed()) {
                    throw new IllegalArgumentException("seed " + seed + " differs from the saved state's seed " + resumeFrom.seed()
                            + "; a resumed run keeps its seed (leave the seed unset)");
                }
            }
            if (resumeFrom == null && seed == null) {
                seed = 0L;
            }
            return new TrainingBatches(this);
        }
    }
}
