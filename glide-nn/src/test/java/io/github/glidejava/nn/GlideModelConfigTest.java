package io.github.glidejava.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.github.glidejava.nn.unet.GlideModelConfig;
import io.github.glidejava.nn.unet.GlideModelKind;
import io.github.glidejava.nn.unet.Text2ImUNet;
import io.github.glidejava.nn.unet.UNetBlocks;

class GlideModelConfigTest {

    @Test
    void basePresetIsGlidesModelAndDiffusionDefaults() {
        GlideModelConfig c = GlideModelConfig.base();
        assertEquals(64, c.imageSize());
        assertEquals(192, c.numChannels());
        assertEquals(3, c.numResBlocks());
        assertArrayEquals(new int[] {1, 2, 3, 4}, c.channelMultiplier());
        assertArrayEquals(new int[] {2, 4, 8}, c.attentionDownsampleRates());
        assertEquals(1, c.numHeads());
        assertEquals(64, c.numHeadChannels());
        assertEquals(-1, c.numHeadsUpsample());
        assertEquals(0.1, c.dropout());
        assertEquals(128, c.textCtx());
        assertEquals(512, c.xfWidth());
        assertEquals(16, c.xfLayers());
        assertEquals(8, c.xfHeads());
        assertTrue(c.xfFinalLn() && c.xfPadding() && c.useScaleShiftNorm() && c.resblockUpdown());
        assertEquals("squaredcos_cap_v2", c.noiseSchedule());
        assertEquals(1000, c.diffusionSteps());
        assertEquals(50257, c.vocabSize());
        assertFalse(c.inpaint() || c.superRes());
        assertEquals("Text2ImUNet", c.modelClass());
        assertEquals(3, c.unetInChannels());
    }

    @Test
    void upsamplerAndInpaintPresets() {
        GlideModelConfig up = GlideModelConfig.upsample();
        assertEquals(256, up.imageSize());
        assertEquals(2, up.numResBlocks());
        assertEquals("linear", up.noiseSchedule());
        assertArrayEquals(new int[] {1, 1, 2, 2, 4, 4}, up.channelMultiplier());
        assertArrayEquals(new int[] {8, 16, 32}, up.attentionDownsampleRates());
        assertEquals("SuperResText2ImUNet", up.modelClass());
        assertEquals(6, up.unetInChannels());

        GlideModelConfig bi = GlideModelConfig.preset("base-inpaint");
        assertEquals(GlideModelConfig.base().toBuilder().inpaint(true).build(), bi);
        assertEquals("InpaintText2ImUNet", bi.modelClass());
        assertEquals(7, bi.unetInChannels());

        GlideModelConfig ui = GlideModelConfig.preset("upsample-inpaint");
        assertTrue(ui.inpaint() && ui.superRes());
        assertEquals(256, ui.imageSize());
        assertEquals("SuperResInpaintText2ImUnet", ui.modelClass());
        assertEquals(10, ui.unetInChannels());

        assertEquals(GlideModelConfig.upsample(), GlideModelConfig.preset("upsample"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> GlideModelConfig.preset("large"));
        assertTrue(e.getMessage().contains("base, upsample, base-inpaint, upsample-inpaint"), e.getMessage());
    }

    @Test
    void optionsRoundTripThroughJson() {
        GlideModelConfig c = GlideModelConfig.builder().imageSize(32).channelMult("1,1,2").numChannels(64)
                .attentionResolutions("8").xfWidth(128).xfHeads(4).dropout(0.0).superRes(true).build();
        GlideModelConfig back = GlideModelConfig.fromJson(c.toJson());
        assertEquals(c, back);
        assertEquals(c.toOptions(), back.toOptions());
    }

    private static String invalid(GlideModelConfig.Builder b) {
        return assertThrows(IllegalArgumentException.class, b::build).getMessage();
    }

    @Test
    void buildRejectsInvalidConfigsWithClearMessages() {
        String m = invalid(GlideModelConfig.builder().numChannels(48));
        assertTrue(m.contains("not divisible by 32 GroupNorm groups"), m);
        assertTrue(m.contains("num_channels * channel_mult[0] = 48 * 1 = 48"), m);

        m = invalid(GlideModelConfig.builder().numChannels(96).numHeadChannels(64));
        assertTrue(m.contains("not divisible by num_head_channels 64"), m);

        m = invalid(GlideModelConfig.builder().numHeadChannels(-1).numHeads(5));
        assertTrue(m.contains("not divisible by num_heads 5"), m);

        m = invalid(GlideModelConfig.builder().channelMult("1,2"));
        assertTrue(m.contains("image_size must be 2^(2+2) = 16, got 64"), m);

        m = invalid(GlideModelConfig.builder().imageSize(48));
        assertTrue(m.contains("image_size 48 has no default"), m);

        m = invalid(GlideModelConfig.builder().channelMult("1,x"));
        assertTrue(m.contains("comma-separated integers"), m);

        m = invalid(GlideModelConfig.builder().xfWidth(100).xfHeads(8));
        assertTrue(m.contains("xf_width 100 must be divisible by xf_heads 8"), m);

        m = invalid(GlideModelConfig.builder().dropout(1.0));
        assertTrue(m.contains("dropout must be in [0, 1)"), m);

        m = invalid(GlideModelConfig.builder().noiseSchedule("cosine"));
        assertTrue(m.contains("noise_schedule"), m);

        // several problems are reported together
        m = invalid(GlideModelConfig.builder().numChannels(40).dropout(-0.5));
        assertTrue(m.contains("GroupNorm") && m.contains("dropout"), m);
    }

    @Test
    void unknownOrMistypedOptionsAreRejected() {
        String m = assertThrows(IllegalArgumentException.class,
                () -> GlideModelConfig.fromJson("{\"image_size\": 64, \"num_chanels\": 192}")).getMessage();
        assertTrue(m.contains("num_chanels"), m);
        m = assertThrows(IllegalArgumentException.class,
                () -> GlideModelConfig.fromJson("{\"xf_padding\": 1}")).getMessage();
        assertTrue(m.contains("xf_padding must be true or false"), m);
        m = assertThrows(IllegalArgumentException.class,
                () -> GlideModelConfig.fromJson("{\"image_size\": 64.5}")).getMessage();
        assertTrue(m.contains("image_size must be an integer"), m);
    }

    @Test
    void fp16AndCacheOptionsAreAcceptedAndIgnored() {
        GlideModelConfig c = GlideModelConfig.fromJson("{\"use_fp16\": false, \"cache_text_emb\": true}");
        assertFalse(c.useFp16());
        assertTrue(c.cacheTextEmb());
        Map<String, Object> o = c.toOptions();
        assertEquals(false, o.get("use_fp16"));
    }

    @Test
    void everyOptionHasOneEntryThatTheBuilderJsonAndOptionsShare() {
        Map<String, Object> defaults = GlideModelConfig.base().toOptions();
        assertEquals(List.of("image_size", "num_channels", "num_res_blocks", "channel_mult", "num_heads",
                "num_head_channels", "num_heads_upsample", "attention_resolutions", "dropout", "text_ctx", "xf_width",
                "xf_layers", "xf_heads", "xf_final_ln", "xf_padding", "diffusion_steps", "noise_schedule",
                "timestep_respacing", "use_scale_shift_norm", "resblock_updown", "use_fp16", "cache_text_emb",
                "inpaint", "super_res", "n_vocab"), new ArrayList<>(defaults.keySet()));
        // each option read from JSON lands in its own accessor and comes back out under its name
        GlideModelConfig c = GlideModelConfig.fromJson("{\"num_res_blocks\": 2, \"num_heads_upsample\": 4,"
                + " \"timestep_respacing\": \"ddim25\", \"xf_final_ln\": false, \"n_vocab\": 1000, \"dropout\": 0}");
        assertEquals(2, c.numResBlocks());
        assertEquals(4, c.numHeadsUpsample());
        assertEquals("ddim25", c.timestepRespacing());
        assertFalse(c.xfFinalLn());
        assertEquals(1000, c.vocabSize());
        assertEquals(0.0, c.dropout());
        assertEquals(c, GlideModelConfig.base().toBuilder().numResBlocks(2).numHeadsUpsample(4)
                .timestepRespacing("ddim25").xfFinalLn(false).vocabSize(1000).dropout(0.0).build());
        // a value checked on its own names the option and what it must be
        String m = invalid(GlideModelConfig.builder().numResBlocks(0).numHeadsUpsample(0).diffusionSteps(-3));
        assertTrue(m.contains("num_res_blocks must be >= 1, got 0"), m);
        assertTrue(m.contains("num_heads_upsample must be -1 (same as num_heads) or positive, got 0"), m);
        assertTrue(m.contains("diffusion_steps must be positive, got -3"), m);
        m = invalid(GlideModelConfig.builder().noiseSchedule("cosine"));
        assertTrue(m.contains("noise_schedule must be linear or squaredcos_cap_v2, got 'cosine'"), m);
    }

    @Test
    void modelKindsAreOneEnumThatPresetsAndClassesRead() {
        for (GlideModelKind k : GlideModelKind.values()) {
            GlideModelConfig c = GlideModelConfig.preset(k.id());
            assertEquals(k, c.kind());
            assertEquals(k.preset(), c);
            assertEquals(k.modelClass(), c.modelClass());
            assertEquals(k.inChannels(), c.unetInChannels());
            assertEquals(k.modelClass().toLowerCase(Locale.ROOT),
                    Text2ImUNet.create(c).getClass().getSimpleName()
                            .toLowerCase(Locale.ROOT));
        }
    }

    @Test
    void unetBlocksAreTheModelsStateDictBlocks() {
        GlideModelConfig c = GlideModelConfig.builder().imageSize(32).channelMult("1,1,2").numChannels(32)
                .numResBlocks(2).attentionResolutions("16,8").numHeadChannels(32).xfWidth(32).xfHeads(2).xfLayers(1)
                .build();
        Map<String, long[]> shapes = Text2ImUNet.create(c).expectedShapes();
        UNetBlocks blocks = UNetBlocks.of(
                c.channelMultiplier().length, c.numResBlocks(), c.attentionDownsampleRates());
        assertEquals(1 + 3 * 2 + 2, blocks.input().size());
        assertEquals(3 * 3, blocks.output().size());
        List<UNetBlocks.Block> all = new ArrayList<>(blocks.input());
        all.add(blocks.middle());
        all.addAll(blocks.output());
        for (UNetBlocks.Block b : all) {
            String p = b.prefix() + ".";
            assertTrue(shapes.keySet().stream().anyMatch(k -> k.startsWith(p)), p);
            assertEquals(b.attention(), shapes.containsKey(p + "1.qkv.weight"), p + " attention");
            if (b.res()) {
                assertTrue(shapes.containsKey(p + "0.in_layers.2.weight"), p + " ResBlock");
            }
            if (b.part() == UNetBlocks.Part.OUTPUT) {
                int next = b.attention() ? 2 : 1;
                assertEquals(b.resample(), shapes.containsKey(p + next + ".in_layers.0.weight"), p + " upsampling");
            } else if (b.part() == UNetBlocks.Part.INPUT && b.index() > 0) {
                assertEquals(!b.res(), b.resample(), p + " downsampling");
                assertTrue(shapes.containsKey(p + "0.in_layers.0.weight"), p);
            }
        }
        assertEquals(blocks.input().size(), shapes.keySet().stream().filter(k -> k.startsWith("input_blocks."))
                .map(k -> k.split("\\.")[1]).distinct().count());
    }
}
