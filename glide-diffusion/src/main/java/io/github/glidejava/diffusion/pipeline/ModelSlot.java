package io.github.glidejava.diffusion.pipeline;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Objects;

import io.github.glidejava.core.text.BpeTokenizer;
import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.GlideModelKind;

/**
 * What a pipeline builder was told about one model slot (base or upsampler): a checkpoint file with an optional
 * configuration, an already loaded model, nothing (the released checkpoint of the directory), or no model at all.
 * {@link #load} turns it into a model and checks that the model fits the slot.
 */
record ModelSlot(Path checkpoint, GlideModelConfig config, GlideModel model, boolean absent) {
    static final ModelSlot DEFAULT = new ModelSlot(null, null, null, false);
    static final ModelSlot ABSENT = new ModelSlot(null, null, null, true);

    static ModelSlot file(Path checkpoint, GlideModelConfig config) {
        return new ModelSlot(Objects.requireNonNull(checkpoint, "checkpoint"), config, null, false);
    }

    static ModelSlot loaded(GlideModel model) {
        return model == null ? ABSENT : new ModelSlot(null, null, model, false);
    }

    /**
     * The slot's model, or null when it has none.
     *
     * @param slot      "base model" or "upsampler", for messages
     * @param dir       where the released checkpoints are looked for
     * @param kind      the kind the slot needs by default (its released checkpoint)
     * @param superRes  whether the slot needs an upsampler
     * @param otherSlot the other slot and its setters in Java and on the command line, for messages
     */
    GlideModel load(String slot, Path dir, GlideModelKind kind, boolean superRes, String otherSlot)
            throws IOException {
        if (absent) {
            return null;
        }
        GlideModel m = model;
        if (m == null) {
            Path file = checkpoint != null ? checkpoint : dir.resolve(kind.publishedFileName());
            if (!Files.isRegularFile(file) && !(checkpoint != null && Files.isDirectory(file))) {
                throw new NoSuchFileException(file.toString(), null, "the " + slot + " checkpoint is missing; "
                        + (checkpoint == null ? "download it with 'glide download " + kind.id() + "', or use the"
                        + " directory that holds it (checkpointDir; glide --models)" : "check the path"));
            }
            m = GlideModel.load(file, config);
        }
        if (m.kind().superRes() != superRes) {
            throw new IllegalArgumentException("the " + slot + " slot needs " + (superRes
                    ? "an upsample or upsample-inpaint model" : "a base or base-inpaint model") + ", but " + m.name()
                    + " is " + m.kind().withArticle() + " model (" + m.kind().modelClass() + "); give it as the "
                    + otherSlot);
        }
        return m;
    }

    /** Fails unless the base model is an inpainting model when {@code inpainting} was asked for. */
    static void checkInpainting(GlideModel b, boolean inpainting) {
        if (b != null && inpainting && !b.kind().inpaint()) {
            throw new IllegalArgumentException("inpainting (inpainting(true) in Java, glide inpaint on the"
                    + " command line) needs a base-inpaint model, but " + b.name() + " is "
                    + b.kind().withArticle() + " model; give a base-inpaint checkpoint (base(...) / --base FILE)");
        }
    }

    /** Checks that the models form a pipeline, and the tokenizer fits them; messages say what to give instead. */
    static void checkTogether(GlideModel b, GlideModel u, BpeTokenizer tok) {
        if (b != null && u != null && b.kind().inpaint() != u.kind().inpaint()) {
            throw new IllegalArgumentException("the base model " + b.name() + " is " + b.kind().withArticle()
                    + " model but the upsampler " + u.name() + " is " + u.kind().withArticle() + " model; "
                    + (b.kind().inpaint() ? "inpainting needs the upsample-inpaint upsampler"
                    : "text-to-image needs the upsample upsampler (not upsample-inpaint)"));
        }
        if (b == null && u == null) {
            throw new IllegalArgumentException("a pipeline needs a base model, an upsampler or both;"
                    + " withoutBase() and withoutUpsampler() were both given");
        }
        for (GlideModel m : new GlideModel[]{b, u}) {
            if (m != null && m.config().xfWidth() > 0 && m.config().vocabSize() != tok.vocabSize()) {
                throw new IllegalArgumentException("the tokenizer has " + tok.vocabSize() + " tokens but "
                        + m.name() + " embeds " + m.config().vocabSize() + "; use GLIDE's GPT-2 tokenizer");
            }
        }
    }

    /** The tokenizer given, else the files in {@code tokenizerDir}, else those in {@code dir}, else the bundled one. */
    static BpeTokenizer tokenizer(BpeTokenizer given, Path tokenizerDir, Path dir) throws IOException {
        if (given != null) {
            return given;
        }
        if (tokenizerDir != null) {
            if (!hasTokenizerFiles(tokenizerDir)) {
                throw new NoSuchFileException(tokenizerDir.resolve("encoder.json").toString(), null,
                        "the tokenizer files (encoder.json, vocab.bpe) are missing in " + tokenizerDir
                                + "; download them with 'glide download tokenizer', or use the directory that holds"
                                + " them (tokenizerDir; glide --tokenizer)");
            }
            return BpeTokenizer.loadFromDirectory(tokenizerDir);
        }
        return hasTokenizerFiles(dir) ? BpeTokenizer.loadFromDirectory(dir) : BpeTokenizer.glide();
    }

    private static boolean hasTokenizerFiles(Path dir) {
        return Files.isRegularFile(dir.resolve("encoder.json")) && Files.isRegularFile(dir.resolve("vocab.bpe"))
                || Files.isRegularFile(dir.resolve("encoder.json.gz"))
                && Files.isRegularFile(dir.resolve("vocab.bpe.gz"));
    }
}
