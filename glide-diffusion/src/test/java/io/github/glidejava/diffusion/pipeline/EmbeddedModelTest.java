package io.github.glidejava.diffusion.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

import io.github.glidejava.nn.unet.GlideModelKind;
import org.junit.jupiter.api.Test;

/** The model shipped in glide-diffusion's jar loads from the class path, once, with its configuration and card. */
class EmbeddedModelTest {
    @Test
    void loadsFromTheClassPathWithItsCard() throws IOException {
        GlideModel m = GlideModel.embedded();
        assertEquals(GlideModel.EMBEDDED, m.name());
        assertEquals(GlideModelKind.BASE, m.kind());
        assertSame(m, GlideModel.embedded(), "loaded once, then shared");
        assertTrue(m.metadata().containsKey("options"), "the configuration travels in the file");
        try (InputStream card = GlideModel.class.getResourceAsStream(GlideModel.EMBEDDED_DIR + "MODEL_CARD.md")) {
            assertTrue(card != null, "the model card is in the jar");
            String text = new String(card.readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(text.contains("Apache") && text.contains("Noto"), "the card carries the attribution");
        }
    }
}
