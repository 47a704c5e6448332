package io.github.glidejava.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.glidejava.core.testing.RefFixtures;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Every {@code models/*.pt} fixture against its safetensors twin: same stem, or for a checkpoint without one (the
 * fp16 conversion), the twin found through the fixture metadata that names the .pt.
 */
class TorchCheckpointFixtureTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String PARAM = "param.";

    static List<Path> checkpoints() {
        return RefFixtures.list("models", ".pt");
    }

    @TestFactory
    Stream<DynamicTest> everyCheckpointEqualsItsSafetensorsTwin() {
        return checkpoints().stream().map(pt -> DynamicTest.dynamicTest(pt.getFileName().toString(), () -> {
            Path twin = twinOf(pt);
            if (Files.isRegularFile(twin)) {
                assertSameTensors(pt, twin);
            } else {
                assertHalfCheckpoint(pt);
            }
        }));
    }

    @TestFactory
    Stream<DynamicTest> zipDirectoryAgreesWithJavaUtilZip() {
        return checkpoints().stream().map(pt -> DynamicTest.dynamicTest(pt.getFileName().toString(), () -> {
            try (FileBytes map = FileBytes.open(pt); ZipFile zf = new ZipFile(pt.toFile())) {
                ZipDirectory dir = ZipDirectory.read(pt, map);
                List<String> names = new ArrayList<>();
                for (Enumeration<? extends ZipEntry> en = zf.entries(); en.hasMoreElements(); ) {
                    ZipEntry ze = en.nextElement();
                    names.add(ze.getName());
                    ZipDirectory.Entry e = dir.get(ze.getName());
                    assertNotNull(e, ze.getName());
                    assertEquals(ze.getSize(), e.size(), ze.getName());
                    assertEquals(ze.getCrc(), e.crc(), ze.getName());
                    assertEquals(ZipDirectory.METHOD_STORED, e.method(), "torch stores records uncompressed");
                    byte[] expected;
                    try (InputStream in = zf.getInputStream(ze)) {
                        expected = in.readAllBytes();
                    }
                    assertEquals(ByteBuffer.wrap(expected), map.slice(e.dataOffset(), (int) e.size()), ze.getName());
                }
                assertEquals(names, dir.entries().stream().map(ZipDirectory.Entry::name).toList());
            }
        }));
    }

    private static Path twinOf(Path pt) {
        String stem = pt.getFileName().toString().replaceFirst("\\.pt$", "");
        return pt.resolveSibling(stem + ".safetensors");
    }

    private static void assertSameTensors(Path pt, Path twin) throws IOException {
        try (TorchCheckpoint ckpt = TorchCheckpoint.open(pt); SafeTensors st = SafeTensors.open(twin)) {
            assertTrue(ckpt.archivePrefix().endsWith("/") && ckpt.archivePrefix().length() > 1);
            List<String> expected = st.names().stream().filter(n -> n.startsWith(PARAM))
                    .map(n -> n.substring(PARAM.length())).toList();
            assertFalse(expected.isEmpty(), twin + " holds no param.* tensors");
            assertEquals(expected, ckpt.names(), "state-dict keys in order");
            for (String k : ckpt.names()) {
                assertEquals(st.info(PARAM + k), ckpt.info(k), k);
                assertEquals(st.get(PARAM + k), ckpt.get(k), k);
            }
        }
    }

    /**
     * A checkpoint without a same-stem twin: the fixture that names it as {@code pt_file} gives the float16 keys
     * and the model options; the float32 twin is the params file with the same options.
     */
    private static void assertHalfCheckpoint(Path pt) throws IOException {
        Path models = pt.getParent();
        String rel = "models/" + pt.getFileName();
        JsonNode config = null;
        List<Path> paramFiles = new ArrayList<>();
        for (Path f : RefFixtures.list("models", ".safetensors")) {
            try (SafeTensors st = SafeTensors.open(f)) {
                String c = st.metadata().get("config");
                if (c == null) {
                    continue;
                }
                JsonNode node = JSON.readTree(c);
                if (rel.equals(node.path("pt_file").asText()) && !node.has("params_file")) {
                    config = node;
                }
                if (st.names().stream().anyMatch(n -> n.startsWith(PARAM))) {
                    paramFiles.add(f);
                }
            }
        }
        assertNotNull(config, "no fixture in " + models + " documents " + rel + " (config.pt_file)");
        Path twin = null;
        for (Path f : paramFiles) {
            try (SafeTensors st = SafeTensors.open(f)) {
                if (JSON.readTree(st.metadata().get("config")).path("options").equals(config.get("options"))) {
                    twin = f;
                }
            }
        }
        assertNotNull(twin, "no float32 params file has the options of " + rel);
        Set<String> documentedHalf = new TreeSet<>();
        config.get("f16_keys").forEach(n -> documentedHalf.add(n.asText()));
        assertFalse(documentedHalf.isEmpty());

        try (TorchCheckpoint ckpt = TorchCheckpoint.open(pt); SafeTensors st = SafeTensors.open(twin)) {
            List<String> keys = st.names().stream().filter(n -> n.startsWith(PARAM))
                    .map(n -> n.substring(PARAM.length())).toList();
            assertEquals(keys, ckpt.names(), "same keys in the same order as " + twin.getFileName());
            Set<String> half = new TreeSet<>();
            Set<String> byRule = new TreeSet<>();
            for (String k : ckpt.names()) {
                TensorInfo info = ckpt.info(k);
                assertArrayEquals(st.info(PARAM + k).shape(), info.shape(), k);
                if (convertedByConvertToFp16(k)) {
                    byRule.add(k);
                }
                INDArray f32 = st.get(PARAM + k);
                if (info.dtype() == DType.F16) {
                    half.add(k);
                    INDArray stored = ckpt.get(k);
                    assertEquals(DataType.HALF, stored.dataType());
                    INDArray decoded = ckpt.getFloat(k);
                    assertEquals(DataType.FLOAT, decoded.dataType());
                    assertArrayEquals(info.shape(), decoded.shape());
                    ByteBuffer raw = stored.data().asNio().order(java.nio.ByteOrder.LITTLE_ENDIAN);
                    float[] dec = decoded.data().asFloat();
                    float[] ref = f32.data().asFloat();
                    for (int i = 0; i < dec.length; i++) {
                        float exact = independentHalfDecode(raw.getShort(2 * i));
                        if (Float.floatToRawIntBits(exact) != Float.floatToRawIntBits(dec[i])) {
                            fail(k + "[" + i + "]: decoded " + dec[i] + ", expected " + exact);
                        }
                        if (!isNearestHalf(ref[i], exact)) {
                            fail(k + "[" + i + "]: " + exact + " is not float16(" + ref[i] + ")");
                        }
                    }
                } else {
                    assertEquals(DType.F32, info.dtype(), k);
                    assertEquals(f32, ckpt.get(k), k);
                    assertEquals(f32, ckpt.getFloat(k), k);
                }
            }
            assertEquals(documentedHalf, half, "float16 keys vs the fixture's f16_keys");
            assertEquals(byRule, half, "float16 keys vs convert_to_fp16's rule");
        }
    }

    /**
     * The tensors glide's {@code convert_to_fp16} halves in an fp16 checkpoint (it converts convolutions and linear
     * layers by module type, not by name): convs inside input/middle/output blocks (not emb_layers, not GroupNorms),
     * the transformer's Linear layers (not its LayerNorms), transformer_proj and token_embedding.
     */
    static boolean convertedByConvertToFp16(String key) {
        if (key.startsWith("input_blocks.") || key.startsWith("middle_block.") || key.startsWith("output_blocks.")) {
            return !key.contains(".emb_layers.") && !key.contains(".in_layers.0.") && !key.contains(".out_layers.0.")
                    && !key.contains(".norm.");
        }
        if (key.startsWith("transformer.resblocks.")) {
            return !key.contains(".ln_");
        }
        return key.startsWith("transformer_proj.") || key.startsWith("token_embedding.");
    }

    static float independentHalfDecode(short bits) {
        int h = bits & 0xffff;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        double mag = exp == 0 ? Math.scalb((double) mant, -24)
                : exp == 31 ? (mant == 0 ? Double.POSITIVE_INFINITY : Double.NaN)
                : Math.scalb((double) (1024 + mant), exp - 25);
        return (float) ((h & 0x8000) != 0 ? -mag : mag);
    }

    /** {@code h} is a float16 value nearest to {@code x} (half-ulp bound; ties either way). */
    static boolean isNearestHalf(float x, float h) {
        double ax = Math.abs((double) x);
        double halfUlp = ax < 0x1p-14 ? 0x1p-25 : Math.scalb(1.0, Math.getExponent(x) - 11);
        return Math.abs((double) h - x) <= halfUlp && (Math.signum(h) == Math.signum(x) || h == 0);
    }
}
