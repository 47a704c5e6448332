package io.github.glidejava.core.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.factory.Nd4j;

import io.github.glidejava.core.GlideBackend;

class CheckpointFormatTest {
    static {
        GlideBackend.init();
    }

    /** torch < 1.6 starts its file with pickle protocol 2 and the LONG1 magic 0x1950a86a20f9469cfc6c. */
    static byte[] legacyTorchHead() {
        return new byte[] {(byte) 0x80, 0x02, (byte) 0x8a, 0x0a, 0x6c, (byte) 0xfc, (byte) 0x9c, 0x46, (byte) 0xf9,
                0x20, 0x6a, (byte) 0xa8, 0x50, 0x19, 0x2e};
    }

    @TempDir
    Path tmp;

    @Test
    void recognisesEachFormatByContentNotName() throws IOException {
        Path st = tmp.resolve("weights.bin");
        SafeTensors.write(st, Map.of("w", Nd4j.createFromArray(1f, 2f)), Map.of());
        assertEquals(CheckpointFormat.SAFETENSORS, CheckpointFormat.detect(st));

        PickleBuilder p = new PickleBuilder().proto(2).orderedDict().mark()
                .str("w").tensor("FloatStorage", "0", 1, 0, new long[] {1}, new long[] {1}).op('u').stop();
        Path zip = new TorchZipBuilder("a/").pickle(p).floats("0", 3f).write(tmp.resolve("model.safetensors"));
        assertEquals(CheckpointFormat.TORCH_ZIP, CheckpointFormat.detect(zip), "a zip named .safetensors is a zip");
        assertEquals(CheckpointFormat.TORCH_ZIP, CheckpointFormat.requireSupported(zip));

        Path legacy = tmp.resolve("old.pt");
        Files.write(legacy, legacyTorchHead());
        assertEquals(CheckpointFormat.TORCH_LEGACY, CheckpointFormat.detect(legacy));

        Path junk = tmp.resolve("junk.pt");
        Files.write(junk, "garbage".getBytes());
        assertEquals(CheckpointFormat.UNKNOWN, CheckpointFormat.detect(junk));
        Path empty = tmp.resolve("empty.safetensors");
        Files.write(empty, new byte[0]);
        assertEquals(CheckpointFormat.UNKNOWN, CheckpointFormat.detect(empty));
    }

    @Test
    void unsupportedFilesGetMessagesSayingWhatTheyAreAndWhatToDo() throws IOException {
        Path legacy = tmp.resolve("old.pt");
        Files.write(legacy, legacyTorchHead());
        CheckpointFormatException e = assertThrows(CheckpointFormatException.class,
                () -> CheckpointFormat.requireSupported(legacy));
        assertInstanceOf(TorchCheckpointFormatException.class, e);
        assertTrue(e.getMessage().startsWith(legacy.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("legacy torch checkpoint") && e.getMessage().contains("torch>=1.6"),
                e.getMessage());
        assertEquals(legacy, e.file());

        Path junk = tmp.resolve("junk.pt");
        Files.write(junk, "garbage".getBytes());
        e = assertThrows(CheckpointFormatException.class, () -> CheckpointFormat.requireSupported(junk));
        assertTrue(e.getMessage().contains("not a checkpoint") && e.getMessage().contains("only 7 bytes")
                && e.getMessage().contains("67 61 72"), e.getMessage());

        Path empty = tmp.resolve("empty.pt");
        Files.write(empty, new byte[0]);
        e = assertThrows(CheckpointFormatException.class, () -> CheckpointFormat.requireSupported(empty));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
    }
}
