package io.github.glidejava.core.data;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.github.glidejava.core.image.RgbImage;

/**
 * A data set whose pictures are all decoded and prepared when it is opened (in {@code decodeThreads} threads), and
 * then held in memory as 8-bit RGB at training size, so no epoch decodes anything; with a cache directory, later
 * runs read the prepared pictures from disk instead of decoding them. Decoding everything up front also finds every
 * unreadable picture before training starts, so the size of the data set is final.
 */
final class PreparedDataset implements CaptionedImageDataset {
    private static final Logger LOG = LoggerFactory.getLogger(PreparedDataset.class);

    private final String source;
    private final DatasetOptions options;
    private final List<DatasetItem> items;
    private final RgbImage[] pictures;
    private final List<String> skipped;
    private final int cacheHits;

    private PreparedDataset(String source, DatasetOptions options, List<DatasetItem> items, RgbImage[] pictures,
            List<String> skipped, int cacheHits) {
        this.source = source;
        this.options = options;
        this.items = items;
        this.pictures = pictures;
        this.skipped = skipped;
        this.cacheHits = cacheHits;
    }

    /** The skipped items, each "item: problem". */
    List<String> skipped() {
        return skipped;
    }

    /** How many pictures came from the disk cache instead of being decoded. */
    int cacheHits() {
        return cacheHits;
    }

    /** Decodes and prepares every listed item; bad ones are skipped (or, strict, the first is an error). */
    static PreparedDataset prepare(String source, DatasetOptions options, List<DatasetItem> listed, SkippedItems skipped)
            throws IOException {
        long start = System.nanoTime();
        PictureCache cache = options.cacheDirectory().isPresent() ? new PictureCache(options.cacheDirectory().get(), options) : null;
        RgbImage[] prepared = new RgbImage[listed.size()];
        String[] problems = new String[listed.size()];
        AtomicInteger fromCache = new AtomicInteger();
        java.util.concurrent.atomic.AtomicBoolean outOfMemory = new java.util.concurrent.atomic.AtomicBoolean();
        ExecutorService pool = Executors.newFixedThreadPool(Math.min(options.decodeThreads(), Math.max(1, listed.size())), r -> {
            Thread t = new Thread(r, "glide-dataset-decode");
            t.setDaemon(true);
            return t;
        });
        try {
            List<Future<?>> futures = new ArrayList<>(listed.size());
            for (int i = 0; i < listed.size(); i++) {
                final int n = i;
                futures.add(pool.submit(() -> {
                    if (outOfMemory.get()) {
                        return;
                    }
                    try {
                        prepared[n] = prepareOne(listed.get(n), options, cache, fromCache);
                    } catch (IOException | RuntimeException e) {
                        problems[n] = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                    } catch (OutOfMemoryError e) {
                        // pictures are limited in size, so this is the whole set not fitting in the heap
                        outOfMemory.set(true);
                    }
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while preparing the pictures of " + source, e);
        } catch (ExecutionException e) {
            throw new IOException("preparing the pictures of " + source + " failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
        }
        if (outOfMemory.get()) {
            long held = 0;
            int done = 0;
            for (RgbImage p : prepared) {
                if (p != null) {
                    held += p.data().length;
                    done++;
                }
            }
            Arrays.fill(prepared, null);
            throw new DatasetException("out of memory while preparing the pictures of " + source + ": " + done + " of "
                    + listed.size() + " held " + held / 1_000_000 + " MB at " + options.imageSize() + " x " + options.imageSize()
                    + " (Java's heap limit is " + Runtime.getRuntime().maxMemory() / 1_000_000
                    + " MB); give Java more memory (-Xmx) or train at a smaller image size");
        }
        List<DatasetItem> items = new ArrayList<>(listed.size());
        List<RgbImage> pictures = new ArrayList<>(listed.size());
        int coloured = 0;
        for (int i = 0; i < listed.size(); i++) {
            if (problems[i] != null) {
                skipped.skip(listed.get(i).id(), problems[i]);
            } else {
                DatasetItem item = listed.get(i);
                if (options.colourCaptions()) {
                    var colour = ColourWords.dominant(prepared[i]);
                    if (colour.isPresent()) {
                        item = new DatasetItem(item.id(), item.source(),
                                ColourWords.withColour(item.captions(), colour.get()), item.labels());
                        coloured++;
                    }
                }
                items.add(item);
                pictures.add(prepared[i]);
            }
        }
        if (options.colourCaptions()) {
            LOG.info("{}: colour words added to the captions of {} of {} pictures", source, coloured, items.size());
        }
        if (items.isEmpty()) {
            throw skipped.empty();
        }
        skipped.report(LOG, items.size());
        long bytes = pictures.stream().mapToLong(p -> p.data().length).sum();
        LOG.info("{}: {} examples at {}x{} prepared in {} ms ({} from the cache), {} MB in memory", source, items.size(),
                options.imageSize(), options.imageSize(), (System.nanoTime() - start) / 1_000_000, fromCache.get(),
                String.format("%.1f", bytes / 1e6));
        return new PreparedDataset(source, options, List.copyOf(items), pictures.toArray(new RgbImage[0]), skipped.items(),
                fromCache.get());
    }

    private static RgbImage prepareOne(DatasetItem item, DatasetOptions options, PictureCache cache, AtomicInteger fromCache)
            throws IOException {
        String key = cache == null ? null : item.source().cacheKey();
        if (key != null) {
            var hit = cache.load(key);
            if (hit.isPresent()) {
                fromCache.incrementAndGet();
                return hit.get();
            }
        }
        RgbImage img = RgbImage.composited(item.source().decode(item.id()), options.background())
                .resizeShorterSide(options.imageSize());
        if (options.crop() == DatasetOptions.Crop.CENTER) {
            int s = options.imageSize();
            img = img.crop((img.height() - s) / 2, (img.width() - s) / 2, s, s);
        }
        if (key != null) {
            cache.store(key, img);
        }
        return img;
    }

    @Override
    public int size() {
        return items.size();
    }

    @Override
    public String source() {
        return source;
    }

    @Override
    public DatasetOptions options() {
        return options;
    }

    @Override
    public Example get(int index) {
        RgbImage p = picture(index);
        int s = options.imageSize();
        float[] image = new float[3 * s * s];
        p.toFloats((p.height() - s) / 2, (p.width() - s) / 2, s, s, false, image, 0);
        DatasetItem item = items.get(index);
        return new Example(index, item.id(), image, s, item.captions(), item.labels());
    }

    @Override
    public RgbImage picture(int index) {
        Objects.checkIndex(index, items.size());
        return pictures[index];
    }

    @Override
    public List<String> captions(int index) {
        return items.get(index).captions();
    }

    @Override
    public String id(int index) {
        return items.get(index).id();
    }

    @Override
    public Map<String, String> labels(int index) {
        return items.get(index).labels();
    }

    @Override
    public String toString() {
        return source + " (" + items.size() + " examples)";
    }
}
