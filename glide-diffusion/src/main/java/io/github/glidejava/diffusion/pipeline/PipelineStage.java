package io.github.glidejava.diffusion.pipeline;

/** The two sampling stages of GLIDE: the 64x64 base model, then the 256x256 upsampler. */
public enum PipelineStage {
    BASE("base"),
    UPSAMPLE("upsample");

    private final String id;

    PipelineStage(String id) {
        this.id = id;
    }

    public String id() {
        return id;
    }

    @Override
    public String toString() {
        return id;
    }
}
