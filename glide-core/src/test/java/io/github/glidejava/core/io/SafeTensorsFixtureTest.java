package io.github.glidejava.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.github.glidejava.core.testing.RefFixtures;

import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Reads every safetensors fixture and checks names, dtypes and shapes against MANIFEST.json (written by the
 * Python generator) and every tensor's bytes against the file's raw bytes located by an independent header parse.
 */
class SafeTensorsFixtureTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestFactory
    Stream<DynamicTest> everySafetensorsFixtureMatchesManifestAndRawBytes() throws IOException {
        Path dir = RefFixtures.requireDir();
        JsonNode manifest = JSON.readTree(RefFixtures.require("MANIFEST.json").toFile()).get("files");
        List<Path> files = new ArrayList<>();
        for (String sub : new String[] {"layers", "models", "losses", "sampling"}) {
            if (Files.isDirectory(dir.resolve(sub))) {
                files.addAll(RefFixtures.list(sub, ".safetensors"));
            }
        }
        assertFalse(files.isEmpty(), "no safetensors fixtures under " + dir);
        return files.stream().map(f -> DynamicTest.dynamicTest(dir.relativize(f).toString(),
                () -> checkFile(f, manifest.get(dir.relativize(f).toString().replace('\\', '/')))));
    }

    private static void checkFile(Path file, JsonNode manifestEntry) throws IOException {
        assertNotNull(manifestEntry, "MANIFEST.json has no entry for " + file);
        assertEquals(manifestEntry.get("bytes").asLong(), Files.size(file), "file size vs MANIFEST");
        JsonNode expectedTensors = manifestEntry.get("tensors");
        // Independent parse of the header: name -> absolute byte range of the data
        JsonNode header;
        long dataStart;
        try (FileChannel ch = FileChannel.open(file)) {
            ByteBuffer len = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            ch.read(len, 0);
            long n = len.getLong(0);
            ByteBuffer h = ByteBuffer.allocate((int) n);
            ch.read(h, 8);
            header = JSON.readTree(h.array());
            dataStart = 8 + n;
        }
        try (SafeTensors st = SafeTensors.open(file)) {
            List<String> expectedNames = new ArrayList<>();
            expectedTensors.fieldNames().forEachRemaining(expectedNames::add);
            assertEquals(expectedNames, st.names(), "tensor names in header order");
            if (header.has("__metadata__")) {
                Map<String, String> md = st.metadata();
                for (Iterator<Map.Entry<String, JsonNode>> it = header.get("__metadata__").fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    assertEquals(e.getValue().textValue(), md.get(e.getKey()), "metadata " + e.getKey());
                }
            } else {
                assertTrue(st.metadata().isEmpty());
            }
            for (String name : st.names()) {
                JsonNode exp = expectedTensors.get(name);
                TensorInfo info = st.info(name);
                assertEquals(torchDType(exp.get("dtype").asText()), info.dtype(), name);
                long[] shape = JSON.convertValue(exp.get("shape"), long[].class);
                assertArrayEquals(shape, info.shape(), name);

                INDArray a = st.get(name);
                assertEquals(info.dtype().nd4jType(), a.dataType(), name);
                assertArrayEquals(shape, a.shape(), name);
                assertEquals('c', a.ordering());
                JsonNode offs = header.get(name).get("data_offsets");
                long begin = dataStart + offs.get(0).asLong();
                long end = dataStart + offs.get(1).asLong();
                ByteBuffer raw = ByteBuffer.allocate((int) (end - begin));
                try (FileChannel ch = FileChannel.open(file)) {
                    ch.read(raw, begin);
                }
                raw.flip();
                ByteBuffer actual = a.data().asNio().duplicate();
                actual.limit((int) (end - begin));
                assertEquals(raw, actual, name + ": bytes differ from the file");

                if (info.dtype() == DType.F32) {
                    INDArray f = st.getFloat(name);
                    assertEquals(DataType.FLOAT, f.dataType());
                    assertEquals(a, f);
                }
            }
        }
    }

    static DType torchDType(String torchName) {
        return switch (torchName) {
            case "float32" -> DType.F32;
            case "float16" -> DType.F16;
            case "bfloat16" -> DType.BF16;
            case "float64" -> DType.F64;
            case "int64" -> DType.I64;
            case "int32" -> DType.I32;
            case "int16" -> DType.I16;
            case "int8" -> DType.I8;
            case "uint8" -> DType.U8;
            case "bool" -> DType.BOOL;
            default -> throw new AssertionError("unexpected torch dtype " + torchName);
        };
    }
}
