package io.github.glidejava.diffusion.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import io.github.glidejava.core.image.ImageTensors;
import io.github.glidejava.core.image.PngFiles;
import io.github.glidejava.core.testing.RefFixtures;
import io.github.glidejava.diffusion.pipeline.GenerationParameters;
import io.github.glidejava.diffusion.pipeline.GlideModel;
import io.github.glidejava.nn.unet.GlideModelKind;
import io.github.glidejava.diffusion.pipeline.TinyModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import io.github.glidejava.nn.unet.GlideModelKind;

/** sample / inpaint / upsample from the command line on the fixtures' tiny models (.pt + recorded options). */
class GlideCliPipelineTest {
    private static final String PROMPT = "an oil painting of a corgi";

    @TempDir
    Path tmp;

    private static List<String> model(String flag, GlideModelKind kind) {
        TinyModels.Entry e = TinyModels.entry(kind.modelClass());
        return List.of("--" + flag, e.ptFile().toString(), "--" + flag + "-config", e.config().toJson());
    }

    private static List<String> tokenizer() {
        return List.of("--tokenizer", RefFixtures.require("tokenizer/encoder.json.gz").getParent().toString());
    }

    private static GlideCliTest.Result run(List<String> args) {
        return GlideCliTest.run(args.toArray(new String[0]));
    }

    private List<String> sampleArgs(Path out) {
        List<String> a = new ArrayList<>(List.of("sample", PROMPT, "-q", "--seed", "9", "-n", "2", "--steps", "2",
                "--upsample-steps", "1", "-o", out.toString()));
        a.addAll(model("base", GlideModelKind.BASE));
        a.addAll(model("upsampler", GlideModelKind.UPSAMPLE));
        a.addAll(tokenizer());
        return a;
    }

    @Test
    void sampleWritesPngsWithParametersAndIsReproducible() throws IOException {
        Path out = tmp.resolve("pics").resolve("corgi.png");
        GlideCliTest.Result r = run(sampleArgs(out));
        assertEquals(0, r.code(), r.err());
        List<Path> files = r.out().lines().map(Path::of).collect(Collectors.toList());
        assertEquals(List.of(tmp.resolve("pics/corgi-0.png"), tmp.resolve("pics/corgi-1.png")), files);
        GenerationParameters p = GenerationParameters.fromPngText(PngFiles.readText(files.get(1)));
        assertEquals(PROMPT, p.prompt());
        assertEquals(9, p.seed());
        assertEquals("2", p.steps());
        assertEquals(TinyModels.entry(GlideModelKind.UPSAMPLE.modelClass()).config().imageSize(),
                ImageTensors.readImage(files.get(0)).getWidth());
        byte[] first = Files.readAllBytes(files.get(0));

        GlideCliTest.Result again = run(sampleArgs(out));
        assertEquals(0, again.code(), again.err());
        assertArrayEquals(first, Files.readAllBytes(files.get(0)), "same seed and options, same PNG bytes");
    }

    /** A CLIP-guided sample on the tiny base model with the fixtures' tiny noised CLIP (files and config given). */
    private List<String> clipArgs(Path out, String scale) {
        List<String> a = new ArrayList<>(List.of("sample", PROMPT, "-q", "--seed", "5", "--steps", "3", "--no-upsample",
                "-o", out.toString(), "--clip-guidance-scale", scale,
                "--clip-image-enc", RefFixtures.require("clip/image_enc.pt").toString(),
                "--clip-text-enc", RefFixtures.require("clip/text_enc.pt").toString(),
                "--clip-config", RefFixtures.require("clip/config_tiny.json").toString()));
        a.addAll(model("base", GlideModelKind.BASE));
        a.addAll(tokenizer());
        return a;
    }

    @Test
    void clipGuidedSampleRecordsTheScaleAndMovesTheImage() throws IOException {
        Path out = tmp.resolve("clip.png");
        GlideCliTest.Result r = run(clipArgs(out, "3"));
        assertEquals(0, r.code(), r.err());
        GenerationParameters p = GenerationParameters.fromPngText(PngFiles.readText(out));
        assertEquals(3.0, p.clipGuidanceScale());
        assertEquals(1.0, p.guidanceScale(), "no classifier-free guidance with CLIP guidance");
        byte[] weak = Files.readAllBytes(out);

        Path strong = tmp.resolve("clip-strong.png");
        GlideCliTest.Result s = run(clipArgs(strong, "300"));
        assertEquals(0, s.code(), s.err());
        assertFalse(Arrays.equals(weak, Files.readAllBytes(strong)), "the CLIP guidance scale changes the image");

        List<String> both = new ArrayList<>(clipArgs(out, "3"));
        both.addAll(List.of("--guidance-scale", "2"));
        GlideCliTest.Result conflict = run(both);
        assertEquals(2, conflict.code(), conflict.err());
        assertTrue(conflict.err().contains("not both"), conflict.err());

        GlideCliTest.Result embedded = run(List.of("sample", PROMPT, "--clip-guidance-scale", "3"));
        assertEquals(2, embedded.code(), embedded.err());
        assertTrue(embedded.err().contains("--model glide"), embedded.err());

        GlideCliTest.Result orphan = run(List.of("sample", PROMPT, "--clip-config", "x.json"));
        assertEquals(2, orphan.code(), orphan.err());
        assertTrue(orphan.err().contains("--clip-guidance-scale"), orphan.err());
    }

    @Test
    void inpaintAndUpsampleCommands() throws IOException {
        TinyModels.Entry inpaint = TinyModels.entry(GlideModelKind.BASE_INPAINT.modelClass());
        int s = inpaint.config().imageSize();
        Path image = tmp.resolve("image.png");
        Path mask = tmp.resolve("mask.png");
        BufferedImage img = new BufferedImage(2 * s, 2 * s, BufferedImage.TYPE_INT_RGB);
        BufferedImage msk = new BufferedImage(2 * s, 2 * s, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 2 * s; y++) {
            for (int x = 0; x < 2 * s; x++) {
                img.setRGB(x, y, (x * 4) << 16 | (y * 4) << 8 | 60);
                msk.setRGB(x, y, y >= s ? 0xFFFFFF : 0); // repaint the bottom half
            }
        }
        PngFiles.write(img, image, java.util.Map.of());
        PngFiles.write(msk, mask, java.util.Map.of());

        List<String> a = new ArrayList<>(List.of("inpaint", PROMPT, "-q", "--image", image.toString(), "--mask",
                mask.toString(), "--no-upsample", "--steps", "2", "--seed", "3", "-o", tmp.resolve("in.png").toString()));
        a.addAll(model("base", GlideModelKind.BASE_INPAINT));
        a.addAll(tokenizer());
        GlideCliTest.Result r = run(a);
        assertEquals(0, r.code(), r.err());
        GenerationParameters p = GenerationParameters.fromPngText(PngFiles.readText(tmp.resolve("in.png")));
        assertEquals("inpaint", p.task());
        assertEquals(5.0, p.guidanceScale(), "the inpaint notebook's guidance scale by default");

        List<String> u = new ArrayList<>(List.of("upsample", PROMPT, "-q", "--image", image.toString(),
                "--upsample-steps", "1", "--seed", "3", "-o", tmp.resolve("up.png").toString()));
        u.addAll(model("upsampler", GlideModelKind.UPSAMPLE));
        u.addAll(tokenizer());
        GlideCliTest.Result up = run(u);
        assertEquals(0, up.code(), up.err());
        assertEquals(TinyModels.entry(GlideModelKind.UPSAMPLE.modelClass()).config().imageSize(),
                ImageTensors.readImage(tmp.resolve("up.png")).getWidth());
    }

    /** The README's main job: no model option, so the built-in model, no files and no network. */
    @Test
    void withoutModelOptionsSampleUsesTheEmbeddedModel() throws IOException {
        Path out = tmp.resolve("apple.png");
        GlideCliTest.Result r = run(List.of("sample", "a red apple", "--seed", "42", "-o", out.toString()));
        assertEquals(0, r.code(), r.err());
        assertEquals(List.of(out), r.out().lines().map(Path::of).collect(Collectors.toList()));
        assertTrue(r.err().contains("model: " + GlideModel.EMBEDDED), "says which model: " + r.err());
        assertTrue(r.err().contains("--model glide"), "and how to get OpenAI's: " + r.err());
        GenerationParameters p = GenerationParameters.fromPngText(PngFiles.readText(out));
        assertEquals(GlideModel.EMBEDDED, p.baseModel());
        assertEquals(GlideModel.embedded().imageSize(), ImageTensors.readImage(out).getWidth());
    }

    @Test
    void promptsFileGivesOneNumberedOutputPerLine() throws IOException {
        Path prompts = Files.writeString(tmp.resolve("prompts.txt"), "a red heart\n\n  a blue heart  \n");
        Path out = tmp.resolve("many").resolve("heart.png");
        List<String> a = new ArrayList<>(List.of("sample", "--prompts", prompts.toString(), "-q", "--seed", "4",
                "--steps", "2", "--no-upsample", "-n", "2", "-o", out.toString()));
        a.addAll(model("base", GlideModelKind.BASE));
        a.addAll(tokenizer());
        GlideCliTest.Result r = run(a);
        assertEquals(0, r.code(), r.err());
        List<Path> files = r.out().lines().map(Path::of).collect(Collectors.toList());
        assertEquals(List.of(tmp.resolve("many/heart-000-0.png"), tmp.resolve("many/heart-000-1.png"),
                tmp.resolve("many/heart-001-0.png"), tmp.resolve("many/heart-001-1.png")), files);
        assertEquals("a red heart", GenerationParameters.fromPngText(PngFiles.readText(files.get(1))).prompt());
        assertEquals("a blue heart", GenerationParameters.fromPngText(PngFiles.readText(files.get(2))).prompt());
        assertTrue(r.err().contains("model: "), "says which model it used: " + r.err());

        for (List<String> bad : List.of(List.of("sample", "x", "--prompts", prompts.toString()),
                List.of("sample", "--model", "dalle", "x"), List.of("sample", "x", "--model", "emoji32", "--base",
                        "b.pt"))) {
            GlideCliTest.Result e = run(bad);
            assertEquals(2, e.code(), bad + ": " + e.err());
        }
        GlideCliTest.Result empty = run(List.of("sample", "--prompts", Files.writeString(tmp.resolve("e.txt"), "\n")
                .toString()));
        assertEquals(1, empty.code());
        assertTrue(empty.err().contains("has no prompt"), empty.err());
    }

    @Test
    void runtimeErrorsAreOneLineWithTheFix() throws IOException {
        GlideCliTest.Result missing = run(List.of("sample", PROMPT, "--models", tmp.toString()));
        assertEquals(1, missing.code());
        assertTrue(missing.err().contains("glide download base"), missing.err());
        assertFalse(missing.err().contains("\tat "), missing.err());
        assertFalse(missing.err().contains("--verbose"), "the message is complete: " + missing.err());

        List<String> wrongSlot = new ArrayList<>(List.of("sample", PROMPT, "--no-upsample"));
        TinyModels.Entry up = TinyModels.entry(GlideModelKind.UPSAMPLE.modelClass());
        wrongSlot.addAll(List.of("--base", up.ptFile().toString(), "--base-config", up.config().toJson()));
        wrongSlot.addAll(tokenizer());
        GlideCliTest.Result slot = run(wrongSlot);
        assertEquals(1, slot.code());
        assertTrue(slot.err().contains("the base model slot needs a base or base-inpaint model"), slot.err());
        assertTrue(slot.err().contains("--upsampler FILE"), "names the CLI option: " + slot.err());

        List<String> wrongUpsampler = new ArrayList<>(List.of("sample", PROMPT, "-q", "--steps", "1"));
        wrongUpsampler.addAll(model("base", GlideModelKind.BASE));
        wrongUpsampler.addAll(model("upsampler", GlideModelKind.BASE));
        wrongUpsampler.addAll(tokenizer());
        GlideCliTest.Result upSlot = run(wrongUpsampler);
        assertEquals(1, upSlot.code());
        assertTrue(upSlot.err().contains("the upsampler slot needs an upsample or upsample-inpaint model")
                && upSlot.err().contains("--base FILE"), upSlot.err());

        List<String> inpaintModelForSample = new ArrayList<>(List.of("sample", PROMPT, "-q", "--no-upsample",
                "--steps", "1"));
        inpaintModelForSample.addAll(model("base", GlideModelKind.BASE_INPAINT));
        inpaintModelForSample.addAll(tokenizer());
        GlideCliTest.Result inpaintForSample = run(inpaintModelForSample);
        assertEquals(1, inpaintForSample.code());
        assertTrue(inpaintForSample.err().contains("(glide inpaint)"), "names the CLI command: "
                + inpaintForSample.err());

        Path anImage = tmp.resolve("any.png");
        PngFiles.write(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), anImage, java.util.Map.of());
        List<String> textModelForInpaint = new ArrayList<>(List.of("inpaint", PROMPT, "-q", "--image",
                anImage.toString(), "--mask", anImage.toString(), "--no-upsample", "--steps", "1"));
        textModelForInpaint.addAll(model("base", GlideModelKind.BASE));
        textModelForInpaint.addAll(tokenizer());
        GlideCliTest.Result textForInpaint = run(textModelForInpaint);
        assertEquals(1, textForInpaint.code());
        assertTrue(textForInpaint.err().contains("glide inpaint on the command line) needs a base-inpaint model")
                && textForInpaint.err().contains("--base FILE"), textForInpaint.err());

        GlideCliTest.Result badConfig = run(List.of("sample", PROMPT, "--base", up.ptFile().toString(),
                "--base-config", tmp.resolve("nope.json").toString()));
        assertEquals(1, badConfig.code());
        assertTrue(badConfig.err().contains("--base-config") && badConfig.err().contains("neither a preset"),
                badConfig.err());

        Path image = tmp.resolve("a.png");
        PngFiles.write(new BufferedImage(8, 8, BufferedImage.TYPE_INT_RGB), image, java.util.Map.of());
        Path mask = tmp.resolve("m.png");
        PngFiles.write(new BufferedImage(4, 8, BufferedImage.TYPE_INT_RGB), mask, java.util.Map.of());
        List<String> badMask = new ArrayList<>(List.of("inpaint", PROMPT, "--image", image.toString(), "--mask",
                mask.toString(), "--no-upsample"));
        badMask.addAll(model("base", GlideModelKind.BASE_INPAINT));
        badMask.addAll(tokenizer());
        GlideCliTest.Result maskSize = run(badMask);
        assertEquals(1, maskSize.code());
        assertTrue(maskSize.err().contains("the mask is 4x8 but the image is 8x8"), maskSize.err());
    }

    @Test
    void samplerOptionsFromTheCommandLine() throws IOException {
        Path out = tmp.resolve("eta.png");
        List<String> a = new ArrayList<>(List.of("sample", PROMPT, "-q", "--seed", "5", "--steps", "2",
                "--sampler", "ddim", "--eta", "1", "--upsample-sampler", "dpm++2m", "--upsample-solver-order", "1",
                "--upsample-steps", "1", "--upsample-no-clip", "--precision", "bf16", "-o", out.toString()));
        a.addAll(model("base", GlideModelKind.BASE));
        a.addAll(model("upsampler", GlideModelKind.UPSAMPLE));
        a.addAll(tokenizer());
        GlideCliTest.Result r = run(a);
        assertEquals(0, r.code(), r.err());
        GenerationParameters p = GenerationParameters.fromPngText(PngFiles.readText(out));
        assertEquals("ddim", p.sampler());
        assertEquals(java.util.Map.of("eta", 1.0), p.samplerOptions());
        assertEquals(java.util.Map.of("clip_denoised", false, "solver_order", 1), p.upsampleSamplerOptions());
        assertEquals("bf16", p.precision());

        List<String> etaForDdpm = new ArrayList<>(List.of("sample", PROMPT, "-q", "--steps", "1", "--eta", "1",
                "--no-upsample"));
        etaForDdpm.addAll(model("base", GlideModelKind.BASE));
        GlideCliTest.Result wrong = run(etaForDdpm);
        assertEquals(1, wrong.code(), wrong.err());
        assertTrue(wrong.err().contains("eta is an option of ddim and euler_a, not of ddpm"), wrong.err());
    }

    @Test
    void noDownloadReportsTheMissingCachedCheckpoint() {
        Path cached = io.github.glidejava.diffusion.download.GlideCache.defaultDir().resolve("base.pt");
        org.junit.jupiter.api.Assumptions.assumeFalse(java.nio.file.Files.exists(cached),
                "the test needs a cache without base.pt (the build points GLIDE_CACHE at an empty directory)");
        GlideCliTest.Result r = run(List.of("sample", PROMPT, "--model", "glide", "--no-download", "--no-upsample"));
        assertEquals(1, r.code(), r.err());
        assertTrue(r.err().contains("glide download base"), r.err());
    }

    @Test
    void usageErrorsExitWith2() {
        for (List<String> args : List.of(
                List.of("sample", PROMPT, "-n", "0"),
                List.of("sample", PROMPT, "--guidance-scale", "-1"),
                List.of("sample", PROMPT, "--sampler", "plms"),
                List.of("sample", PROMPT, "--eta", "-1"),
                List.of("sample", PROMPT, "--upsample-eta", "NaN"),
                List.of("sample", PROMPT, "--solver-order", "3"),
                List.of("sample", PROMPT, "--precision", "fp16"),
                List.of("sample"),
                List.of("inpaint", PROMPT, "--image", "x.png"),
                List.of("inpaint", PROMPT, "--image", "x.png", "--mask", "m.png", "--mask-keeps", "grey"),
                List.of("upsample", PROMPT))) {
            GlideCliTest.Result r = run(args);
            assertEquals(2, r.code(), args + ": " + r.err());
            assertTrue(r.err().contains("--help"), args + ": " + r.err());
        }
        assertTrue(Arrays.asList(run(List.of("sample", "--help")).out().split("\n")).stream()
                .anyMatch(l -> l.contains("--guidance-scale")));
    }
}
