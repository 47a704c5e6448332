package io.github.glidejava.diffusion.evaluation;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeMap;

import io.github.glidejava.core.data.CaptionedImageDataset;
import io.github.glidejava.core.data.Example;
import io.github.glidejava.core.image.CaptionedGrid;
import io.github.glidejava.core.image.ImageTensors;
import io.github.glidejava.diffusion.pipeline.GlideModel;
import io.github.glidejava.diffusion.pipeline.GlidePipeline;
import io.github.glidejava.diffusion.pipeline.GlideResult;
import io.github.glidejava.diffusion.pipeline.ProgressListener;
import io.github.glidejava.diffusion.sampling.SamplerType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * How well a text-to-image model follows captions of its own data set, by retrieval: for a fixed list of the data
 * set's captions, generate images with fixed seeds and look up each image's nearest neighbour (Euclidean distance of
 * pixels at the model's resolution) among ALL the data set's pictures. An image counts as top-k when the picture of
 * its caption is among its k nearest. Done with classifier-free guidance and without it (scale 1: the conditional
 * model alone).
 *
 * <p>The captions: up to {@code perGroup} examples from each category label (the emoji categories), drawn with a
 * seeded shuffle, their first caption (the emoji's name). Skin-tone variants and flags, whose pictures differ from
 * their neighbours only by a colour patch or stripes, are reported as groups of their own and left out of the
 * headline figure. A data set without category labels is one group.
 *
 * <p>Diversity: the mean distance between the images of one caption (different seeds) against the mean distance
 * between images of different captions (same seed); distances are root-mean-square differences in 8-bit units.
 */
public final class CaptionEvaluation {
    /** Group names of the examples kept out of the headline figure. */
    public static final String SKIN_TONES = "skin-tone variants";
    public static final String FLAGS = "Flags";
    /** Category labels left out altogether (emoji-datasource's skin-tone swatches and hair components). */
    private static final String COMPONENT = "Component";
    /** The headline group: every category except the two above. */
    public static final String HEADLINE = "categories";

    private final CaptionedImageDataset dataset;
    private final GlideModel model;
    private final int perGroup;
    private final int seeds;
    private final long seed;
    private final double guidanceScale;
    private final String steps;
    private final SamplerType sampler;
    private final int batchSize;
    private final ProgressListener progress;

    private CaptionEvaluation(Builder b) {
        this.dataset = b.dataset;
        this.model = b.model;
        this.perGroup = b.perGroup;
        this.seeds = b.seeds;
        this.seed = b.seed;
        this.guidanceScale = b.guidanceScale;
        this.steps = b.steps;
        this.sampler = b.sampler;
        this.batchSize = b.batchSize;
        this.progress = b.progress;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** One caption under test: its group, the example whose picture it names, the caption itself. */
    public record Probe(String group, int example, String caption) {
    }

    /** Top-1 and top-5 retrieval accuracy of a set of images, in [0, 1]. */
    public record Accuracy(int images, double top1, double top5) {
        static Accuracy of(List<int[]> ranks) {
            int n = 0;
            int t1 = 0;
            int t5 = 0;
            for (int[] rs : ranks) {
                for (int r : rs) {
                    n++;
                    t1 += r == 0 ? 1 : 0;
                    t5 += r < 5 ? 1 : 0;
                }
            }
            return new Accuracy(n, n == 0 ? 0 : (double) t1 / n, n == 0 ? 0 : (double) t5 / n);
        }
    }

    /** The figures of one group, guided and unguided. */
    public record GroupResult(String group, int captions, Accuracy guided, Accuracy unguided) {
    }

    /**
     * The outcome: per-group figures (the headline first), diversity, each probe's ranks (0 = its own picture is the
     * nearest), and a captioned grid of the guided samples (the data set's picture first in each row).
     */
    public record Report(List<GroupResult> groups, double withinCaption, double betweenCaptions,
                         List<Probe> probes, List<int[]> guidedRanks, List<int[]> unguidedRanks,
                         Map<String, Object> settings, BufferedImage grid) {
        public GroupResult headline() {
            return groups.get(0);
        }

        /** Everything but the grid, as a JSON-ready map. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("settings", settings);
            List<Map<String, Object>> gs = new ArrayList<>();
            for (GroupResult g : groups) {
                Map<String, Object> gm = new LinkedHashMap<>();
                gm.put("group", g.group());
                gm.put("captions", g.captions());
                gm.put("guided", g.guided());
                gm.put("unguided", g.unguided());
                gs.add(gm);
            }
            m.put("groups", gs);
            m.put("diversity", Map.of("within_caption", withinCaption, "between_captions", betweenCaptions,
                    "ratio", betweenCaptions == 0 ? 0 : withinCaption / betweenCaptions));
            List<Map<String, Object>> ps = new ArrayList<>();
            for (int i = 0; i < probes.size(); i++) {
                Map<String, Object> pm = new LinkedHashMap<>();
                pm.put("group", probes.get(i).group());
                pm.put("caption", probes.get(i).caption());
                pm.put("example", probes.get(i).example());
                pm.put("guided_ranks", guidedRanks.get(i));
                pm.put("unguided_ranks", unguidedRanks.get(i));
                ps.add(pm);
            }
            m.put("probes", ps);
            return m;
        }
    }

    /** The captions under test, in group order (headline categories alphabetically, then skin tones, flags). */
    public static List<Probe> select(CaptionedImageDataset dataset, int perGroup, long seed) {
        Map<String, List<Integer>> byGroup = new TreeMap<>();
        for (int i = 0; i < dataset.size(); i++) {
            Map<String, String> labels = dataset.labels(i);
            String category = labels.getOrDefault(Example.CATEGORY, "all");
            if (category.equals(COMPONENT)) {
                continue;
            }
            String group = labels.containsKey(Example.SKIN_TONE) ? SKIN_TONES : category;
            byGroup.computeIfAbsent(group, k -> new ArrayList<>()).add(i);
        }
        List<String> order = new ArrayList<>(byGroup.keySet());
        order.remove(SKIN_TONES);
        order.remove(FLAGS);
        if (byGroup.containsKey(SKIN_TONES)) {
            order.add(SKIN_TONES);
        }
        if (byGroup.containsKey(FLAGS)) {
            order.add(FLAGS);
        }
        List<Probe> probes = new ArrayList<>();
        for (String group : order) {
            List<Integer> members = new ArrayList<>(byGroup.get(group));
            Collections.shuffle(members, new Random(seed ^ group.hashCode()));
            for (int i : members.subList(0, Math.min(perGroup, members.size()))) {
                probes.add(new Probe(group, i, dataset.captions(i).get(0)));
            }
        }
        return probes;
    }

    /** Samples, retrieves and measures; the model runs 2 x captions x seeds images. */
    public Report run() throws IOException {
        List<Probe> probes = select(dataset, perGroup, seed);
        List<String> captions = probes.stream().map(Probe::caption).toList();
        INDArray pictures = pictureMatrix();
        List<GlideResult> guidedImages = sample(captions, guidanceScale);
        INDArray guidedRows = rows(guidedImages);
        int[] targets = probes.stream().mapToInt(Probe::example).toArray();
        List<int[]> guided = ranks(guidedRows, targets, pictures, seeds);
        List<int[]> unguided = ranks(rows(sample(captions, 1.0)), targets, pictures, seeds);
        double[] diversity = diversity(guidedRows);
        List<GroupResult> groups = new ArrayList<>();
        List<int[]> headG = new ArrayList<>();
        List<int[]> headU = new ArrayList<>();
        Map<String, List<Integer>> members = new LinkedHashMap<>();
        for (int i = 0; i < probes.size(); i++) {
            String g = probes.get(i).group();
            members.computeIfAbsent(g, k -> new ArrayList<>()).add(i);
            if (!g.equals(SKIN_TONES) && !g.equals(FLAGS)) {
                headG.add(guided.get(i));
                headU.add(unguided.get(i));
            }
        }
        groups.add(new GroupResult(HEADLINE, headG.size(), Accuracy.of(headG), Accuracy.of(headU)));
        for (var e : members.entrySet()) {
            List<int[]> g = e.getValue().stream().map(guided::get).toList();
            List<int[]> u = e.getValue().stream().map(unguided::get).toList();
            groups.add(new GroupResult(e.getKey(), e.getValue().size(), Accuracy.of(g), Accuracy.of(u)));
        }
        List<String> gridCaptions = new ArrayList<>();
        List<List<BufferedImage>> gridRows = new ArrayList<>();
        int size = model.imageSize();
        for (int i = 0; i < probes.size(); i++) {
            List<BufferedImage> row = new ArrayList<>();
            row.add(ImageTensors.toImages(dataset.get(probes.get(i).example()).imageArray().reshape(1, 3, size, size))
                    .get(0));
            row.addAll(guidedImages.get(i).images());
            gridRows.add(row);
            StringBuilder ranksText = new StringBuilder();
            for (int r : guided.get(i)) {
                ranksText.append(ranksText.length() == 0 ? "" : ", ").append(r + 1);
            }
            gridCaptions.add(probes.get(i).caption() + " (rank " + ranksText + ")");
        }
        Map<String, Object> settings = new LinkedHashMap<>();
        settings.put("model", model.name());
        settings.put("dataset", dataset.source());
        settings.put("dataset_size", dataset.size());
        settings.put("image_size", model.imageSize());
        settings.put("per_group", perGroup);
        settings.put("seeds", seeds);
        settings.put("seed", seed);
        settings.put("guidance_scale", guidanceScale);
        settings.put("sampler", sampler.configName());
        settings.put("steps", steps);
        return new Report(groups, diversity[0], diversity[1], probes, guided, unguided, settings,
                CaptionedGrid.draw(gridCaptions, gridRows));
    }

    private List<GlideResult> sample(List<String> captions, double scale) throws IOException {
        GlidePipeline.Builder b = GlidePipeline.builder().base(model).withoutUpsampler().guidanceScale(scale)
                .steps(steps).sampler(sampler).imagesPerPrompt(seeds).batchSize(batchSize).seed(seed);
        if (progress != null) {
            b.progressListener(progress);
        }
        return b.build().sample(captions);
    }

    /** The data set's pictures at the model's size as rows of 8-bit values, {@code [N, 3 S S]}. */
    private INDArray pictureMatrix() {
        int s = model.imageSize();
        if (dataset.options().imageSize() != s) {
            throw new IllegalArgumentException("the data set was prepared at " + dataset.options().imageSize()
                    + "x" + dataset.options().imageSize() + " but the model makes " + s + "x" + s + " images; open it"
                    + " with imageSize(" + s + ")");
        }
        float[][] all = new float[dataset.size()][];
        for (int i = 0; i < dataset.size(); i++) {
            all[i] = dataset.get(i).image();
        }
        return toBytes(all);
    }

    /** The images of every result, in order, as rows of 8-bit values {@code [images, 3 S S]}. */
    private static INDArray rows(List<GlideResult> results) {
        List<INDArray> rows = new ArrayList<>();
        for (GlideResult r : results) {
            rows.add(toBytes(r.samples().reshape(r.size(), -1).toFloatMatrix()));
        }
        return Nd4j.concat(0, rows.toArray(new INDArray[0]));
    }

    /** Values in [-1, 1] as the 8-bit values a PNG holds, as float32. */
    private static INDArray toBytes(float[][] values) {
        float[][] out = new float[values.length][];
        for (int i = 0; i < values.length; i++) {
            out[i] = new float[values[i].length];
            for (int k = 0; k < values[i].length; k++) {
                out[i][k] = ImageTensors.toByte(values[i][k]);
            }
        }
        return Nd4j.create(out);
    }

    /**
     * For every target, the rank of its picture (a row of {@code pictures}) among all pictures by distance to each
     * of its {@code seeds} images (rows {@code t * seeds ...} of {@code gen}): 0 = it is the nearest.
     */
    static List<int[]> ranks(INDArray gen, int[] targets, INDArray pictures, int seeds) {
        // |g - p|^2 = |g|^2 - 2 g.p + |p|^2; |g|^2 is the same along a row and cannot change a rank
        INDArray pNorm = pictures.mul(pictures).sum(1).reshape(1, -1);
        INDArray dist = gen.mmul(pictures.transpose()).muli(-2).addiRowVector(pNorm);
        long n = pictures.size(0);
        List<int[]> out = new ArrayList<>();
        for (int p = 0; p < targets.length; p++) {
            int[] ranks = new int[seeds];
            for (int k = 0; k < seeds; k++) {
                float[] d = dist.getRow(p * seeds + k).toFloatVector();
                float own = d[targets[p]];
                int rank = 0;
                for (int j = 0; j < n; j++) {
                    rank += d[j] < own ? 1 : 0;
                }
                ranks[k] = rank;
            }
            out.add(ranks);
        }
        return out;
    }

    /** {within, between}: RMS distances (8-bit units) between seeds of a caption and between captions. */
    private double[] diversity(INDArray gen) {
        int probes = (int) (gen.size(0) / seeds);
        double d = gen.size(1);
        double within = 0;
        int nw = 0;
        double between = 0;
        int nb = 0;
        for (int p = 0; p < probes; p++) {
            for (int a = 0; a < seeds; a++) {
                INDArray ga = gen.getRow(p * seeds + a);
                for (int b = a + 1; b < seeds; b++) {
                    within += ga.distance2(gen.getRow(p * seeds + b)) / Math.sqrt(d);
                    nw++;
                }
                for (int q = p + 1; q < probes; q++) {
                    between += ga.distance2(gen.getRow(q * seeds + a)) / Math.sqrt(d);
                    nb++;
                }
            }
        }
        return new double[] {nw == 0 ? 0 : within / nw, nb == 0 ? 0 : between / nb};
    }

    /** Settings of an evaluation; {@link #build()} checks them. */
    public static final class Builder {
        private CaptionedImageDataset dataset;
        private GlideModel model;
        private int perGroup = 12;
        private int seeds = 2;
        private long seed = 0;
        private double guidanceScale = 3.0;
        private String steps = "50";
        private SamplerType sampler = SamplerType.DDIM;
        private int batchSize = 32;
        private ProgressListener progress;

        private Builder() {
        }

        /** The data set whose captions are tested and whose pictures are retrieved, at the model's size. */
        public Builder dataset(CaptionedImageDataset dataset) {
            this.dataset = Objects.requireNonNull(dataset, "dataset");
            return this;
        }

        public Builder model(GlideModel model) {
            this.model = Objects.requireNonNull(model, "model");
            return this;
        }

        /** Captions per category (default 12). */
        public Builder perGroup(int perGroup) {
            this.perGroup = perGroup;
            return this;
        }

        /** Images per caption (default 2); diversity needs at least 2. */
        public Builder seeds(int seeds) {
            this.seeds = seeds;
            return this;
        }

        /** Seed of the caption draw and of the sampling noise (default 0). */
        public Builder seed(long seed) {
            this.seed = seed;
            return this;
        }

        /** Classifier-free guidance scale of the guided run (default 3.0). */
        public Builder guidanceScale(double scale) {
            this.guidanceScale = scale;
            return this;
        }

        /** Timestep respacing of the sampler (default "50"). */
        public Builder steps(String steps) {
            this.steps = Objects.requireNonNull(steps, "steps");
            return this;
        }

        /** Sampler (default DDIM). */
        public Builder sampler(SamplerType sampler) {
            this.sampler = Objects.requireNonNull(sampler, "sampler");
            return this;
        }

        /** Images sampled at once (default 32). */
        public Builder batchSize(int batchSize) {
            this.batchSize = batchSize;
            return this;
        }

        public Builder progressListener(ProgressListener progress) {
            this.progress = progress;
            return this;
        }

        public CaptionEvaluation build() {
            if (dataset == null || model == null) {
                throw new IllegalStateException("an evaluation needs dataset(...) and model(...)");
            }
            if (perGroup < 1 || seeds < 1 || batchSize < 1) {
                throw new IllegalArgumentException("perGroup, seeds and batchSize must be >= 1, got " + perGroup
                        + ", " + seeds + ", " + batchSize);
            }
            if (!(guidanceScale >= 0) || Double.isInfinite(guidanceScale)) {
                throw new IllegalArgumentException("guidanceScale must be a number >= 0, got " + guidanceScale);
            }
            return new CaptionEvaluation(this);
        }
    }
}
