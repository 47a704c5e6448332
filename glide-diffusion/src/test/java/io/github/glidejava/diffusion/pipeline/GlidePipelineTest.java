package io.github.glidejava.diffusion.pipeline;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import io.github.glidejava.nn.clip.ClipModel;
import io.github.glidejava.nn.clip.ClipConfig;
import io.github.glidejava.core.testing.RefFixtures;
import io.github.glidejava.core.text.TokenBatch;
import io.github.glidejava.diffusion.DiffusionModel;
import io.github.glidejava.diffusion.SeededNoise;
import io.github.glidejava.diffusion.ClipGuidance;
import io.github.glidejava.diffusion.sampling.SamplingLoop;
import io.github.glidejava.core.image.ImageTensors;
import io.github.glidejava.core.image.InpaintMasks;
import io.github.glidejava.core.image.PngFiles;
import io.github.glidejava.diffusion.sampling.SamplerType;
import io.github.glidejava.diffusion.sampling.DdimSampler;
import io.github.glidejava.diffusion.sampling.SamplerOptions;
import io.github.glidejava.diffusion.sampling.SamplerType;
import io.github.glidejava.diffusion.sampling.SamplingCancelledException;
import io.github.glidejava.nn.ops.Precision;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.SuperResInpaintText2ImUNet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import io.github.glidejava.nn.unet.GlideModelKind;

/**
 * End to end on the fixtures' tiny models (real .pt files, configurations from the fixture metadata): prompt -> base
 * -> upsampler -> PNG, inpainting, determinism, concurrency, and the errors build() and the calls give.
 */
class GlidePipelineTest {
    private static final String BASE = GlideModelKind.BASE.modelClass();
    private static final String UPSAMPLE = GlideModelKind.UPSAMPLE.modelClass();
    private static final String INPAINT = GlideModelKind.BASE_INPAINT.modelClass();
    private static final String PROMPT = "an oil painting of a corgi";

    @TempDir
    Path tmp;

    private static GlidePipeline.Builder text2im() {
        return GlidePipeline.builder().base(TinyModels.model(BASE)).upsampler(TinyModels.model(UPSAMPLE))
                .tokenizer(TinyModels.tokenizer()).steps("2").upsampleSteps("2");
    }

    @Test
    void promptToUpsampledPngWithParameters() throws IOException {
        List<String> progress = new ArrayList<>();
        GlidePipeline p = text2im().seed(7).progressListener((stage, step, n, batch, batches) ->
                progress.add(stage + " " + step + "/" + n)).build();
        GlideResult r = p.sample(PROMPT);

        GlideModel up = TinyModels.model(UPSAMPLE);
        GlideModel base = TinyModels.model(BASE);
        assertEquals(1, r.size());
        assertArrayEquals(new long[]{1, 3, up.imageSize(), up.imageSize()}, r.samples().shape());
        assertArrayEquals(new long[]{1, 3, base.imageSize(), base.imageSize()}, r.baseSamples().shape());
        assertEquals(up.imageSize(), r.image(0).getWidth());
        assertTrue(r.samples().amaxNumber().doubleValue() <= 1.0, "final samples are clipped x0 in [-1, 1]");
        assertEquals(List.of("base 1/2", "base 2/2", "upsample 1/2", "upsample 2/2"), progress);

        Path png = r.writePng(0, tmp.resolve("corgi.png"));
        Map<String, String> text = PngFiles.readText(png);
        assertEquals(PROMPT, text.get("Description"));
        assertTrue(text.get("Software").startsWith("glide-java"), text.toString());
        GenerationParameters read = GenerationParameters.fromPngText(text);
        assertEquals(r.parameters(), read);
        assertEquals(new GenerationParameters("text-to-image", PROMPT, 7, base.name(), "ddpm", "2",
                PipelineSettings.DEFAULT_GUIDANCE_SCALE, up.name(), "ddim", "2",
                PipelineSettings.DEFAULT_UPSAMPLE_TEMPERATURE,
                1, 1, up.imageSize(), up.imageSize(), Map.of(), Map.of()), read);
        assertTrue(text.get(GenerationParameters.PNG_KEY).contains("\"imageIndex\":0"));

        BufferedImage decoded = ImageTensors.readImage(png);
        assertEquals(ImageTensors.toImage(r.samples(), 0).getRGB(3, 5), decoded.getRGB(3, 5));
    }

    /**
     * The opt-in precisions change the model's output a little and say so in the PNG; float32 records nothing (its
     * metadata stays as before). (Sampled pictures of random tiny models are chaotic in their inputs, so the
     * closeness is checked on one forward.)
     */
    @Test
    void lowerPrecisionsStayCloseAndAreRecorded() throws IOException {
        GlideResult exact = text2im().seed(5).build().sample(PROMPT);
        assertEquals(null, exact.parameters().precision());
        GlideModel base = TinyModels.model(BASE);
        int s = base.imageSize();
        TokenBatch tokens = TokenBatch.of(List.of(TinyModels.tokenizer().encodePadded(PROMPT,
                base.config().textCtx())));
        org.nd4j.linalg.factory.Nd4j.getRandom().setSeed(3);
        INDArray x = org.nd4j.linalg.factory.Nd4j.randn(org.nd4j.linalg.api.buffer.DataType.FLOAT, 1, 3, s, s);
        var in = io.github.glidejava.nn.unet.UNetInputs.of(x, org.nd4j.linalg.factory.Nd4j.createFromArray(new long[] {500}),
                tokens.tokens(), tokens.mask());
        INDArray ref = base.unet().forward(in);
        double scale = ref.amaxNumber().doubleValue();
        for (Precision p : new Precision[] {Precision.BF16, Precision.WINOGRAD}) {
            GlideResult r = text2im().seed(5).precision(p).build().sample(PROMPT);
            assertEquals(p.id(), r.parameters().precision());
            assertEquals(r.parameters(), GenerationParameters.fromPngText(r.parameters().toPngText(0)));
            double diff = base.unet().forward(in, p).sub(ref).amaxNumber().doubleValue();
            assertTrue(diff <= 3e-2 * scale, p + ": forward max |diff| from float32 " + diff + ", max |out| " + scale);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Precision.parse("fp16"));
        assertTrue(e.getMessage().contains("fp32, winograd, bf16"), e.getMessage());
    }

    @Test
    void sameSeedGivesSamePngBytesAndAnotherSeedDoesNot() throws IOException {
        GlidePipeline p = text2im().build();
        byte[] a = p.sample(PROMPT, 11).png(0);
        byte[] b = p.sample(PROMPT, 11).png(0);
        byte[] c = p.sample(PROMPT, 12).png(0);
        assertArrayEquals(a, b);
        assertFalse(java.util.Arrays.equals(a, c), "another seed gives another image");
        // a pipeline built anew from the same files and settings gives the same bytes too
        byte[] fresh = text2im().seed(11).build().sample(PROMPT).png(0);
        assertArrayEquals(a, fresh);
    }

    @Test
    void severalImagesInBatchesAndNumberedFiles() throws IOException {
        GlidePipeline p = text2im().withoutUpsampler().imagesPerPrompt(3).batchSize(2).seed(3).build();
        List<String> batches = new ArrayList<>();
        GlideResult r = p.toBuilder().progressListener((stage, step, n, batch, numBatches) -> {
            if (step == n) {
                batches.add(batch + "/" + numBatches);
            }
        }).build().sample(PROMPT);
        assertEquals(3, r.size());
        assertEquals(List.of("0/2", "1/2"), batches);
        assertEquals(TinyModels.model(BASE).imageSize(), r.image(2).getWidth());
        assertNotEquals(r.samples().slice(0), r.samples().slice(1), "each image has its own noise");
        List<Path> files = r.writePngs(tmp.resolve("out.png"));
        assertEquals(List.of(tmp.resolve("out-0.png"), tmp.resolve("out-1.png"), tmp.resolve("out-2.png")), files);
        assertTrue(PngFiles.readText(files.get(2)).get(GenerationParameters.PNG_KEY).contains("\"imageIndex\":2"));
    }

    @Test
    void severalPromptsShareBatchesAndEachKeepsItsOwnImagesAndParameters() throws IOException {
        GlidePipeline p = text2im().withoutUpsampler().imagesPerPrompt(2).batchSize(3).build();
        List<String> batches = new ArrayList<>();
        List<GlideResult> rs = p.toBuilder().progressListener((stage, step, n, batch, numBatches) -> {
            if (step == n) {
                batches.add(batch + "/" + numBatches);
            }
        }).build().sample(List.of("a red heart", "a blue heart", ""), 5);
        assertEquals(3, rs.size());
        assertEquals(List.of("0/2", "1/2"), batches, "6 images in batches of 3 rows, across prompts");
        assertEquals(List.of("a red heart", "a blue heart", ""), rs.stream().map(r -> r.parameters().prompt())
                .toList());
        for (GlideResult r : rs) {
            assertEquals(2, r.size());
            assertEquals(5, r.parameters().seed());
            assertEquals(3, r.parameters().batchSize());
        }

        // one prompt in a list is exactly the single-prompt call
        GlideResult single = p.sample(PROMPT, 5);
        assertEquals(single.samples(), p.sample(List.of(PROMPT), 5).get(0).samples());

        // rows are conditioned on their own prompt: with the same noise, the first row does not depend on the
        // second row's prompt, and the second row does
        GlidePipeline one = text2im().withoutUpsampler().build();
        List<GlideResult> ab = one.sample(List.of(PROMPT, "a blue heart"), 9);
        List<GlideResult> aa = one.sample(List.of(PROMPT, PROMPT), 9);
        assertTrue(ab.get(0).samples().equalsWithEps(aa.get(0).samples(), 1e-6));
        assertFalse(ab.get(1).samples().equalsWithEps(aa.get(1).samples(), 1e-3), "the prompt reaches its row");

        assertThrows(IllegalArgumentException.class, () -> one.sample(List.of(), 1));
    }

    @Test
    void inpaintingKeepsTheKnownRegionAndRepaintsTheRest() throws IOException {
        GlideModel inpaint = TinyModels.model(INPAINT);
        int s = inpaint.imageSize();
        GlidePipeline p = GlidePipeline.builder().base(inpaint).withoutUpsampler().tokenizer(TinyModels.tokenizer())
                .steps("3").seed(5).build();
        BufferedImage source = gradient(s, s);
        BufferedImage mask = new BufferedImage(s, s, BufferedImage.TYPE_INT_RGB); // black = keep (diffusers)
        for (int y = 0; y < s; y++) {
            for (int x = s / 2; x < s; x++) {
                mask.setRGB(x, y, 0xFFFFFF); // white = repaint the right half
            }
        }
        GlideResult r = p.inpaint(source, mask, PROMPT);
        BufferedImage out = r.image(0);
        int changed = 0;
        for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
                if (x < s / 2) {
                    assertEquals(source.getRGB(x, y) & 0xFFFFFF, out.getRGB(x, y) & 0xFFFFFF,
                            "kept pixel (" + x + "," + y + ") re-imposed on every step");
                } else if ((source.getRGB(x, y) & 0xFFFFFF) != (out.getRGB(x, y) & 0xFFFFFF)) {
                    changed++;
                }
            }
        }
        assertTrue(changed > s * s / 4, "the masked half is generated (" + changed + " pixels changed)");
        assertEquals("inpaint", r.parameters().task());

        // GLIDE's tensor convention (1 = keep) gives the same result as the picture convention
        INDArray keep = org.nd4j.linalg.factory.Nd4j.zeros(1, 1, s, s);
        keep.get(org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, s / 2)).assign(1);
        assertEquals(r.samples(), p.inpaint(source, keep, PROMPT, 5).samples());
    }

    /** A source image of the given size and a mask picture repainting (white) its bottom-right quarter. */
    private static BufferedImage[] sourceAndMask(int size) {
        BufferedImage source = gradient(size, size);
        BufferedImage mask = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB); // black = keep
        for (int y = size / 2; y < size; y++) {
            for (int x = size / 2; x < size; x++) {
                mask.setRGB(x, y, 0xFFFFFF);
            }
        }
        return new BufferedImage[]{source, mask};
    }

    /**
     * Pixels of {@code png} where {@code keep} (1 = keep, [1, 1, H, W] at the PNG's size) is set equal those of
     * {@code source} up to 8-bit quantisation (one level per channel); returns how many repainted pixels differ.
     */
    private static int assertKeptAndCountRepainted(BufferedImage source, INDArray keep, BufferedImage png) {
        int w = png.getWidth();
        int h = png.getHeight();
        assertArrayEquals(new long[]{1, 1, h, w}, keep.shape());
        int kept = 0;
        int changed = 0;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int a = source.getRGB(x, y);
                int b = png.getRGB(x, y);
                if (keep.getDouble(0, 0, y, x) > 0.5) {
                    kept++;
                    for (int shift = 0; shift <= 16; shift += 8) {
                        int d = Math.abs(((a >> shift) & 0xFF) - ((b >> shift) & 0xFF));
                        assertTrue(d <= 1, "kept pixel (" + x + "," + y + ") is " + Integer.toHexString(b & 0xFFFFFF)
                                + ", the source " + Integer.toHexString(a & 0xFFFFFF));
                    }
                } else if ((a & 0xFFFFFF) != (b & 0xFFFFFF)) {
                    changed++;
                }
            }
        }
        assertTrue(kept > 0 && kept < w * h, "the mask keeps part of the image (" + kept + " of " + w * h + ")");
        return changed;
    }

    @Test
    void inpaintToPngRecordsItsParameters() throws IOException {
        GlideModel inpaint = TinyModels.model(INPAINT);
        int s = inpaint.imageSize();
        GlidePipeline p = GlidePipeline.builder().base(inpaint).withoutUpsampler().tokenizer(TinyModels.tokenizer())
                .steps("2").guidanceScale(4.5).seed(21).build();
        BufferedImage[] sm = sourceAndMask(s);
        Path png = p.inpaint(sm[0], sm[1], PROMPT).writePng(0, tmp.resolve("inpainted.png"));

        Map<String, String> text = PngFiles.readText(png);
        assertEquals(PROMPT, text.get("Description"));
        assertEquals(new GenerationParameters("inpaint", PROMPT, 21, inpaint.name(), "ddpm", "2", 4.5, null, null,
                null, 0, 1, 1, s, s, Map.of(), null), GenerationParameters.fromPngText(text));
        BufferedImage decoded = ImageTensors.readImage(png);
        assertEquals(s, decoded.getWidth());
        INDArray keep = InpaintMasks.fromImages(List.of(sm[1]), s, s, InpaintMasks.Source.LUMA_BLACK_KEEPS,
                InpaintMasks.DEFAULT_THRESHOLD);
        int changed = assertKeptAndCountRepainted(sm[0], keep, decoded);
        assertTrue(changed > 0, "the repainted region is generated");
    }

    /**
     * Inpainting through the upsampler: an upsample-inpaint model (SuperResInpaintText2ImUNet) built from the
     * upsampler fixture's options with inpaint=true and seeded random weights. The known region is re-imposed at the
     * upsampler's resolution too; the PNG is reproducible.
     */
    @Test
    void inpaintThroughTheUpsamplerKeepsTheKnownRegionAtFullSize() throws IOException {
        GlideModel inpaint = TinyModels.model(INPAINT);
        GlideModelConfig upConfig = TinyModels.entry(UPSAMPLE).config().toBuilder().inpaint(true).build();
        GlideModel upInpaint = TinyModels.randomModel(upConfig, 1234, "upsample_inpaint_random");
        assertEquals(GlideModelKind.UPSAMPLE_INPAINT, upInpaint.kind());
        assertTrue(upInpaint.unet() instanceof SuperResInpaintText2ImUNet, upInpaint.unet().getClass().getName());
        int s = inpaint.imageSize();
        int u = upInpaint.imageSize();
        GlidePipeline p = GlidePipeline.builder().base(inpaint).upsampler(upInpaint).tokenizer(TinyModels.tokenizer())
                .steps("2").upsampleSteps("2").build();
        BufferedImage[] sm = sourceAndMask(u);

        GlideResult r = p.inpaint(sm[0], sm[1], PROMPT, 8);
        assertArrayEquals(new long[]{1, 3, u, u}, r.samples().shape());
        assertArrayEquals(new long[]{1, 3, s, s}, r.baseSamples().shape());
        Path png = r.writePng(0, tmp.resolve("inpainted-up.png"));
        BufferedImage decoded = ImageTensors.readImage(png);
        assertEquals(u, decoded.getWidth());
        assertEquals(u, decoded.getHeight());
        GenerationParameters params = GenerationParameters.fromPngText(PngFiles.readText(png));
        assertEquals("inpaint", params.task());
        assertEquals(upInpaint.name(), params.upsampler());
        assertEquals("ddpm", params.upsampleSampler(), "the inpainting notebook samples its upsampler with DDPM");
        assertEquals(u, params.width());

        // the notebook: the base-size keep mask, nearest-resized to the upsampler's size
        INDArray keepBase = InpaintMasks.fromImages(List.of(sm[1]), s, s, InpaintMasks.Source.LUMA_BLACK_KEEPS,
                InpaintMasks.DEFAULT_THRESHOLD);
        int changed = assertKeptAndCountRepainted(sm[0], ImageTensors.resizeNearest(keepBase, u, u), decoded);
        assertTrue(changed > 0, "the repainted region is generated at full size");

        byte[] again = p.inpaint(sm[0], sm[1], PROMPT, 8).png(0);
        assertArrayEquals(Files.readAllBytes(png), again, "same seed, same PNG bytes");
        assertFalse(java.util.Arrays.equals(again, p.inpaint(sm[0], sm[1], PROMPT, 9).png(0)),
                "another seed gives another image");
    }

    @Test
    void inpaintErrors() throws IOException {
        GlideModel inpaint = TinyModels.model(INPAINT);
        GlidePipeline p = GlidePipeline.builder().base(inpaint).withoutUpsampler().tokenizer(TinyModels.tokenizer())
                .steps("2").build();
        BufferedImage img = gradient(40, 30);
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class,
                () -> p.inpaint(img, new BufferedImage(30, 40, BufferedImage.TYPE_INT_RGB), PROMPT));
        assertTrue(size.getMessage().contains("mask is 30x40 but the image is 40x30"), size.getMessage());
        IllegalArgumentException tensor = assertThrows(IllegalArgumentException.class,
                () -> p.inpaint(img, org.nd4j.linalg.factory.Nd4j.ones(1, 1, 7, 7), PROMPT, 1));
        assertTrue(tensor.getMessage().contains("[1, 1, 7, 7]"), tensor.getMessage());
        IllegalStateException wrongCall = assertThrows(IllegalStateException.class, () -> p.sample(PROMPT));
        assertTrue(wrongCall.getMessage().contains("inpaint(image, mask, prompt) (glide inpaint)"),
                wrongCall.getMessage());

        GlidePipeline t2i = text2im().withoutUpsampler().build();
        IllegalStateException notInpaint = assertThrows(IllegalStateException.class,
                () -> t2i.inpaint(img, img, PROMPT));
        assertTrue(notInpaint.getMessage().contains("needs a base-inpaint model as its base model")
                && notInpaint.getMessage().contains("sample(prompt) (glide sample)"), notInpaint.getMessage());
    }

    @Test
    void upsampleAGivenImage() throws IOException {
        GlidePipeline p = text2im().withoutBase().seed(2).build();
        GlideResult r = p.upsample(gradient(50, 50), PROMPT);
        int u = TinyModels.model(UPSAMPLE).imageSize();
        assertEquals(u, r.image(0).getWidth());
        assertEquals("upsample", r.parameters().task());
        assertEquals(null, r.parameters().baseModel());
        assertThrows(IllegalStateException.class, () -> text2im().withoutUpsampler().build().upsample(gradient(8, 8),
                PROMPT));
    }

    @Test
    void concurrentCallsGiveTheSequentialResults() throws Exception {
        GlidePipeline p = text2im().build();
        long[] seeds = {21, 22};
        List<INDArray> sequential = new ArrayList<>();
        for (long s : seeds) {
            sequential.add(p.sample(PROMPT, s).samples());
        }
        ExecutorService pool = Executors.newFixedThreadPool(seeds.length);
        try {
            List<Future<INDArray>> futures = new ArrayList<>();
            for (long s : seeds) {
                Callable<INDArray> task = () -> p.sample(PROMPT, s).samples();
                futures.add(pool.submit(task));
            }
            for (int i = 0; i < seeds.length; i++) {
                assertEquals(sequential.get(i), futures.get(i).get(), "seed " + seeds[i]);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void stepCallbackSeesEveryStepAndCanCancel() throws IOException {
        List<String> seen = new ArrayList<>();
        GlidePipeline p = text2im().stepCallback((stage, batch, info) -> {
            seen.add(stage + ":" + info.stepIndex() + ":" + info.sample().size(0));
            return !(stage == PipelineStage.UPSAMPLE && info.stepIndex() == 0);
        }).build();
        SamplingCancelledException e = assertThrows(SamplingCancelledException.class, () -> p.sample(PROMPT, 1));
        assertEquals(1, e.stepsCompleted());
        // guided base rows = [conditional | unconditional]
        assertEquals(List.of("base:0:2", "base:1:2", "upsample:0:1"), seen);
    }

    // ---- sampler options --------------------------------------------------------------------------------------

    @Test
    void everySamplerOptionReachesItsSampler() throws IOException {
        GlidePipeline.Builder ddim = text2im().withoutUpsampler().sampler(SamplerType.DDIM);
        GlideResult plain = ddim.build().sample(PROMPT, 3);
        assertEquals(Map.of(), plain.parameters().samplerOptions());
        assertEquals(plain.samples(), ddim.eta(0).build().sample(PROMPT, 3).samples(), "eta 0 is DDIM's default");
        GlideResult eta1 = ddim.eta(1).build().sample(PROMPT, 3);
        assertNotEquals(plain.samples(), eta1.samples(), "DDIM with eta 1 draws noise at every step");
        assertEquals(eta1.samples(), ddim.build().sample(PROMPT, 3).samples(), "and is reproducible by seed");
        assertEquals(Map.of("eta", 1.0), eta1.parameters().samplerOptions());
        assertEquals(1.0, ((DdimSampler) SamplerType.DDIM.create(TinyModels.model(BASE).diffusion(),
                ddim.settings().samplerOptions())).eta());

        // DPM-Solver++(1) is DDIM with eta 0; the default second order is not (unclipped, over enough steps for the
        // second order to act, as the tiny model's clipped x_0 saturates)
        SamplerOptions noClip = SamplerOptions.builder().clipDenoised(false).build();
        INDArray ddimNoClip = ddim.samplerOptions(noClip).steps(4).build().sample(PROMPT, 3).samples();
        GlidePipeline.Builder dpm = text2im().withoutUpsampler().sampler(SamplerType.DPM_SOLVER_PP_2M).steps(4);
        INDArray order2 = dpm.samplerOptions(noClip).build().sample(PROMPT, 3).samples();
        INDArray order1 = dpm.samplerOptions(noClip.toBuilder().solverOrder(1).build()).build()
                .sample(PROMPT, 3).samples();
        double toDdim = order1.sub(ddimNoClip).amaxNumber().doubleValue();
        assertTrue(toDdim < 1e-4 * (1 + ddimNoClip.amaxNumber().doubleValue()), "order 1 = DDIM(eta 0): " + toDdim);
        assertTrue(order2.sub(order1).amaxNumber().doubleValue() > 1e-3, "order 2 differs from order 1");

        // the upsampler's options are its own
        GlidePipeline.Builder up = text2im();
        INDArray upPlain = up.build().sample(PROMPT, 4).samples();
        GlideResult upEta = up.upsampleEta(1).build().sample(PROMPT, 4);
        assertNotEquals(upPlain, upEta.samples());
        assertEquals(Map.of(), upEta.parameters().samplerOptions());
        assertEquals(Map.of("eta", 1.0), upEta.parameters().upsampleSamplerOptions());
        GlideResult unclipped = text2im().samplerOptions(noClip).build().sample(PROMPT, 4);
        assertEquals(Map.of("clip_denoised", false), unclipped.parameters().samplerOptions());
    }

    /** The fixtures' tiny noised CLIP (the tiny base model's image size), loaded from its .pt files. */
    private static ClipModel tinyClip() throws IOException {
        return ClipModel.load(
                ClipConfig.load(RefFixtures.require("clip/config_tiny.json")),
                RefFixtures.require("clip/image_enc.pt"),
                RefFixtures.require("clip/text_enc.pt"));
    }

    @Test
    void clipGuidanceRunsTheNotebooksLoopWithoutClassifierFreeGuidance() throws IOException {
        ClipModel clip = tinyClip();
        GlidePipeline p = text2im().withoutUpsampler().clipGuidanceScale(3.0).clip(clip).build();
        GlideResult r = p.sample(PROMPT, 5);
        assertEquals(3.0, r.parameters().clipGuidanceScale());
        assertEquals(1.0, r.parameters().guidanceScale(), "no classifier-free guidance");
        assertEquals(r.parameters(), GenerationParameters.fromPngText(PngFiles.readText(r.writePng(0, tmp.resolve("c.png")))));

        // the clip_guided notebook: n rows with the prompt, DDPM with cond_fn = CLIP's gradient, x_T ~ N(0, I)
        GlideModel base = TinyModels.model(BASE);
        TokenBatch tokens = TinyModels.tokenizer().encodeBatch(List.of(PROMPT),
                base.config().textCtx());
        DiffusionModel model = (x, t) -> base.unet().forward(x, t, tokens.tokens(), tokens.mask());
        SeededNoise noise = new SeededNoise(5);
        INDArray xT = noise.next(1, 3, base.imageSize(), base.imageSize());
        SamplerOptions options = SamplerOptions.builder()
                .condFn(ClipGuidance.of(clip, List.of(PROMPT), 3.0)).build();
        INDArray expected = SamplingLoop.sample(
                SamplerType.DDPM.create(base.diffusion().respaced("2"), options), model, xT, noise);
        double diff = expected.sub(r.samples()).amaxNumber().doubleValue();
        assertTrue(diff < 1e-5, "pipeline vs the notebook's loop: " + diff);
        assertNotEquals(text2im().withoutUpsampler().build().sample(PROMPT, 5).samples(), r.samples(),
                "CLIP guidance changes the image");

        // a CLIP of another image size, a missing CLIP file, a bad scale
        ClipModel small = ClipModel.initialise(
                clip.config().toBuilder().imageSize(clip.config().imageSize() / 2).build(), 1);
        assertMessage(text2im().clipGuidanceScale(3.0).clip(small), "CLIP of the base model's size");
        NoSuchFileException missing = assertThrows(NoSuchFileException.class,
                () -> text2im().clipGuidanceScale(3.0).checkpointDir(tmp).build());
        assertTrue(missing.getMessage().contains("glide download clip"), missing.getMessage());
        assertMessage(text2im().clipGuidanceScale(-1.0), "clipGuidanceScale");
        // without a scale no CLIP is loaded
        assertEquals(null, text2im().checkpointDir(tmp).build().clip());
    }

    @Test
    void samplerOptionsTheSamplerDoesNotHaveAreRejected() {
        assertMessage(text2im().eta(1), "eta is an option of ddim and euler_a, not of ddpm (sampler is ddpm)");
        assertMessage(text2im().upsampleSamplerOptions(SamplerOptions.builder().solverOrder(1).build()),
                "the solver order is an option of dpm++2m, not of ddim");
        assertMessage(text2im().samplerOptions(SamplerOptions.builder().denoisedFn(x -> x).build()),
                "denoisedFn are set by the pipeline itself");
        assertThrows(IllegalArgumentException.class, () -> SamplerOptions.builder().solverOrder(3).build());
    }

    // ---- build() validation ----------------------------------------------------------------------------------

    @Test
    void invalidSettingsAreRejectedWithTheFix() {
        assertMessage(text2im().steps("0"), "steps must be at least 1");
        assertMessage(text2im().steps(0), "steps must be at least 1");
        assertMessage(text2im().upsampleSteps(""), "upsampleSteps must be at least 1");
        assertMessage(text2im().steps("ddim7x"), "'ddim7x' is not a valid timestep respacing");
        assertMessage(text2im().guidanceScale(-1), "guidanceScale must be a finite number >= 0");
        assertMessage(text2im().guidanceScale(Double.NaN), "guidanceScale must be a finite number >= 0");
        assertMessage(text2im().upsampleTemperature(0), "upsampleTemperature must be a finite number > 0");
        assertMessage(text2im().imagesPerPrompt(0), "imagesPerPrompt must be >= 1");
        assertMessage(text2im().batchSize(-2), "batchSize must be >= 1");
        assertMessage(text2im().withoutBase().withoutUpsampler(), "needs a base model, an upsampler or both");
    }

    @Test
    void wrongModelForTheSlotIsNamed() {
        GlideModel up = TinyModels.model(UPSAMPLE);
        assertMessage(text2im().base(up), "the base model slot needs a base or base-inpaint model, but "
                + up.name() + " is an upsample model");
        assertMessage(text2im().base(up), "give it as the upsampler instead (upsampler(...) in Java,"
                + " --upsampler FILE on the command line)");
        GlideModel base = TinyModels.model(BASE);
        assertMessage(text2im().upsampler(base), "the upsampler slot needs an upsample or upsample-inpaint model");
        assertMessage(text2im().upsampler(base), "give it as the base model instead (base(...) in Java, --base FILE"
                + " on the command line)");
        GlideModel inpaint = TinyModels.model(INPAINT);
        assertMessage(text2im().base(inpaint), "inpainting needs the upsample-inpaint upsampler");
        assertMessage(text2im().inpainting(true).withoutUpsampler(), "inpainting (inpainting(true) in Java, glide"
                + " inpaint on the command line) needs a base-inpaint model");
    }

    @Test
    void missingFilesSayHowToGetThem() {
        NoSuchFileException base = assertThrows(NoSuchFileException.class,
                () -> GlidePipeline.builder().checkpointDir(tmp).build());
        assertTrue(base.getMessage().contains(tmp.resolve("base.pt").toString())
                && base.getMessage().contains("glide download base"), base.getMessage());
        NoSuchFileException inpaint = assertThrows(NoSuchFileException.class,
                () -> GlidePipeline.builder().checkpointDir(tmp).inpainting(true).build());
        assertTrue(inpaint.getMessage().contains("base_inpaint.pt")
                && inpaint.getMessage().contains("glide download base-inpaint"), inpaint.getMessage());
        NoSuchFileException tokenizer = assertThrows(NoSuchFileException.class,
                () -> GlidePipeline.builder().base(TinyModels.model(BASE)).withoutUpsampler().tokenizerDir(tmp)
                        .build());
        assertTrue(tokenizer.getMessage().contains("glide download tokenizer"), tokenizer.getMessage());
        NoSuchFileException explicit = assertThrows(NoSuchFileException.class,
                () -> GlidePipeline.builder().base(tmp.resolve("mine.pt")).build());
        assertTrue(explicit.getMessage().contains("check the path"), explicit.getMessage());
    }

    @Test
    void checkpointAndConfigurationMismatchNamesTheDifferences() {
        TinyModels.Entry base = TinyModels.entry(BASE);
        GlideModelConfig wider = base.config().toBuilder().numChannels(base.config().numChannels() * 2).build();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GlideModel.load(base.ptFile(), wider));
        assertTrue(e.getMessage().contains("num_channels is " + base.config().numChannels() + " in the file but "
                + wider.numChannels() + " in the configuration"), e.getMessage());
        // without a configuration a .pt falls back to the released preset, which a tiny model does not match
        IllegalArgumentException preset = assertThrows(IllegalArgumentException.class,
                () -> GlideModel.load(base.ptFile()));
        assertTrue(preset.getMessage().contains("'base' preset") && preset.getMessage().contains("image_size"),
                preset.getMessage());
        TinyModels.Entry up = TinyModels.entry(UPSAMPLE);
        IllegalArgumentException kind = assertThrows(IllegalArgumentException.class,
                () -> GlideModel.load(up.ptFile(), base.config()));
        assertTrue(kind.getMessage().contains("it is an upsample model"), kind.getMessage());
    }

    @Test
    void bundledTokenizerIsTheDefaultAndEqualsTheFixtureFiles() throws IOException {
        GlidePipeline p = GlidePipeline.builder().base(TinyModels.model(BASE)).withoutUpsampler().checkpointDir(tmp)
                .build();
        assertArrayEquals(TinyModels.tokenizer().encode(PROMPT), p.tokenizer().encode(PROMPT));
    }

    @Test
    void notACheckpointIsAClearError() throws IOException {
        Path junk = Files.writeString(tmp.resolve("junk.pt"), "not a checkpoint at all");
        IOException e = assertThrows(IOException.class, () -> GlideModel.load(junk));
        assertTrue(e.getMessage().contains("junk.pt"), e.getMessage());
    }

    @Test
    void loadsTheSameWeightsFromPtAndFromConfigCarryingSafetensors() throws IOException {
        TinyModels.Entry e = TinyModels.entry(BASE);
        // the fixture's safetensors twin records its options in metadata: no configuration needed
        Path twin = Path.of(e.ptFile().toString().replaceAll("\\.pt$", ".safetensors"));
        GlideModel fromSafetensors = GlideModel.load(twin);
        GlidePipeline a = text2im().withoutUpsampler().base(fromSafetensors).build();
        GlidePipeline b = text2im().withoutUpsampler().build();
        GlideResult fromTwin = a.sample(PROMPT, 4);
        assertEquals(b.sample(PROMPT, 4).samples(), fromTwin.samples());
        assertEquals(SamplerType.DDPM.configName(), fromTwin.parameters().sampler());
        assertEquals(twin.getFileName().toString(), fromTwin.parameters().baseModel());
    }

    private static void assertMessage(GlidePipeline.Builder b, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, b::build);
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    private static BufferedImage gradient(int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, ((x * 255 / Math.max(1, w - 1)) << 16) | ((y * 255 / Math.max(1, h - 1)) << 8) | 128);
            }
        }
        return img;
    }
}
