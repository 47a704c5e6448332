package com.example;

import java.nio.file.Path;

import io.github.glidejava.diffusion.pipeline.GlidePipeline;
import io.github.glidejava.diffusion.pipeline.GlideResult;

/** Text to a PNG with the model that comes inside glide-java's jar: no download, no files. */
public final class HelloGlide {
    public static void main(String[] args) throws Exception {
        String prompt = args.length > 0 ? args[0] : "a red apple";
        Path out = Path.of(args.length > 1 ? args[1] : "hello-glide.png");

        GlidePipeline glide = GlidePipeline.builder()
                .embeddedModel()          // emoji32: 32x32, trained by glide-java on Noto emoji
                .seed(42)
                .build();
        GlideResult result = glide.sample(prompt);
        result.writePng(0, out);          // the PNG carries the prompt, seed and settings
        System.out.println(out.toAbsolutePath());
    }
}
