package io.github.glidejava.diffusion.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.glidejava.core.io.SafeTensors;
import io.github.glidejava.core.testing.RefFixtures;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import io.github.glidejava.nn.unet.GlideModelKind;
import io.github.glidejava.nn.unet.Text2ImUNet;

class CheckpointLayoutTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** Every fixture model's parameters: the inferred layout must match the create_model options it was built with. */
    @TestFactory
    List<DynamicTest> infersEveryFixtureModelsOptions() {
        return RefFixtures.list("models", ".safetensors").stream()
                .filter(p -> !p.getFileName().toString().endsWith("_forward.safetensors"))
                .map(p -> DynamicTest.dynamicTest(p.getFileName().toString(), () -> checkFixture(p)))
                .collect(Collectors.toList());
    }

    private static void checkFixture(Path file) throws IOException {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        JsonNode config;
        try (SafeTensors st = SafeTensors.open(file)) {
            for (String n : st.names()) {
                shapes.put(n, st.info(n).shape());
            }
            config = JSON.readTree(st.metadata().get("config"));
        }
        JsonNode options = config.get("options");
        CheckpointLayout layout = CheckpointLayout.infer(shapes);
        Map<String, Object> inferred = layout.toOptions();
        for (Map.Entry<String, Object> e : inferred.entrySet()) {
            JsonNode expected = options.get(e.getKey());
            if (expected == null) {
                continue;
            }
            String want = expected.isTextual() ? expected.asText() : expected.toString();
            if (e.getKey().equals("attention_resolutions")) {
                want = sortedDescending(want);
            }
            assertEquals(want, String.valueOf(e.getValue()), file.getFileName() + ": " + e.getKey());
        }
        assertEquals(config.get("model_class").asText(), layout.kind().modelClass());
        assertEquals(config.get("num_parameters").asLong(), layout.parameterCount());
        assertEquals(6, layout.outChannels());
        assertFalse(layout.releasedArchitecture().isPresent(), "tiny fixtures are not the released architecture");
    }

    private static String sortedDescending(String csv) {
        return java.util.Arrays.stream(csv.split(",")).map(String::trim).map(Integer::parseInt)
                .sorted((a, b) -> b - a).map(String::valueOf).collect(Collectors.joining(","));
    }

    @Test
    void kindsFollowCreateModelsInputChannels() {
        assertEquals(3, GlideModelKind.BASE.inChannels());
        assertEquals(6, GlideModelKind.UPSAMPLE.inChannels());
        assertEquals(7, GlideModelKind.BASE_INPAINT.inChannels());
        assertEquals(10, GlideModelKind.UPSAMPLE_INPAINT.inChannels());
        assertEquals(GlideModelKind.UPSAMPLE_INPAINT, GlideModelKind.fromInChannels(10));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> GlideModelKind.fromInChannels(4));
        assertTrue(e.getMessage().contains("4 channels") && e.getMessage().contains("7 for base-inpaint"),
                e.getMessage());
        assertEquals(GlideModelKind.BASE_INPAINT, GlideModelKind.parse("base_inpaint"));
    }

    @Test
    void notAUNetIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> CheckpointLayout.infer(Map.of("visual.conv1.weight", new long[]{768, 3, 32, 32})));
        assertTrue(e.getMessage().contains("input_blocks.0.0.weight") && e.getMessage().contains("visual.conv1"),
                e.getMessage());
    }

    @Test
    void missingBlockTensorIsNamed() throws IOException {
        Path file = RefFixtures.list("models", ".safetensors").stream()
                .filter(p -> !p.getFileName().toString().contains("_forward")).findFirst().orElseThrow();
        Map<String, long[]> shapes = new LinkedHashMap<>();
        try (SafeTensors st = SafeTensors.open(file)) {
            for (String n : st.names()) {
                shapes.put(n, st.info(n).shape());
            }
        }
        String victim = shapes.keySet().stream().filter(k -> k.endsWith("input_blocks.1.0.out_layers.3.weight"))
                .findFirst().orElseThrow();
        shapes.remove(victim);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> CheckpointLayout.infer(shapes));
        assertTrue(e.getMessage().contains("input_blocks.1.0.out_layers.3.weight"), e.getMessage());
    }

    @Test
    void theReleasedArchitecturesAreRecognisedByTheirPresets() {
        for (GlideModelKind k : GlideModelKind.values()) {
            CheckpointLayout layout = CheckpointLayout.infer(Text2ImUNet.create(k.preset()).expectedShapes());
            assertEquals(k, layout.kind());
            assertEquals(java.util.Optional.of(k), layout.releasedArchitecture());
            assertEquals(k.preset().numResBlocks(), layout.numResBlocks());
            CheckpointLayout wider = CheckpointLayout.infer(Text2ImUNet.create(k.preset().toBuilder()
                    .numChannels(256).build()).expectedShapes());
            assertFalse(wider.releasedArchitecture().isPresent(), k + " with 256 channels");
        }
    }
}
