package io.github.glidejava.core.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.ZipFile;

import io.github.glidejava.core.GlideBackend;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.factory.Nd4j;

/** Zip structures beyond what java.util.zip writes: torch's layout, ZIP64 fields, lying headers. */
class ZipLayoutTest {
    @TempDir
    Path tmp;

    @BeforeAll
    static void backend() {
        GlideBackend.init();
    }

    private static byte[] pickle() {
        return new PickleBuilder().proto(2).orderedDict().mark()
                .str("a").tensor("FloatStorage", "0", 3, 0, new long[] {3}, new long[] {1})
                .str("b").tensor("LongStorage", "1", 2, 1, new long[] {1}, new long[] {1})
                .op('u').stop().bytes();
    }

    private static byte[] floats(float... v) {
        ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (float f : v) {
            b.putFloat(f);
        }
        return b.array();
    }

    private static byte[] longs(long... v) {
        ByteBuffer b = ByteBuffer.allocate(8 * v.length).order(ByteOrder.LITTLE_ENDIAN);
        for (long x : v) {
            b.putLong(x);
        }
        return b.array();
    }

    private static RawZipWriter torchLike() {
        return new RawZipWriter().add("model/data.pkl", pickle()).add("model/data/0", floats(1f, 2f, 3f))
                .add("model/data/1", longs(5, 6)).add("model/version", "3\n".getBytes());
    }

    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void torchLayoutWithDataDescriptorsPaddingAndZip64(boolean zip64Fields) throws IOException {
        RawZipWriter w = torchLike();
        if (zip64Fields) {
            w.zip64Fields();
        }
        Path f = tmp.resolve("t.pt");
        Files.write(f, w.bytes());
        try (TorchCheckpoint c = TorchCheckpoint.open(f)) {
            assertEquals("model/", c.archivePrefix());
            assertEquals(Nd4j.createFromArray(1f, 2f, 3f), c.get("a"));
            assertEquals(6L, c.get("b").getLong(0));
        }
        // java.util.zip reads the same structure (a second opinion on the test writer)
        try (ZipFile z = new ZipFile(f.toFile()); InputStream in = z.getInputStream(z.getEntry("model/data/0"))) {
            assertArrayEquals(floats(1f, 2f, 3f), in.readAllBytes());
        }
        try (FileBytes m = FileBytes.open(f)) {
            for (ZipDirectory.Entry e : ZipDirectory.read(f, m).entries()) {
                assertEquals(0, e.dataOffset() % 64, e.name() + " data is 64-byte aligned");
            }
        }
    }

    @Test
    void deflatedRecordsInTorchLayout() throws IOException {
        byte[] big = floats(new float[1000]);
        Path f = tmp.resolve("z.pt");
        Files.write(f, new RawZipWriter().addDeflated("m/data.pkl", pickle(), null)
                .addDeflated("m/data/0", floats(7f, 8f, 9f), null).add("m/data/1", longs(1, 2))
                .addDeflated("m/extra", big, null).bytes());
        try (TorchCheckpoint c = TorchCheckpoint.open(f)) {
            assertEquals(Nd4j.createFromArray(7f, 8f, 9f), c.get("a"));
        }
    }

    @Test
    void deflateBombSizesAreRejectedBeforeAllocating() throws IOException {
        Path f = tmp.resolve("bomb.pt");
        Files.write(f, new RawZipWriter().addDeflated("m/data.pkl", pickle(), 200_000_000L)
                .add("m/data/0", floats(1, 2, 3)).add("m/data/1", longs(1, 2)).bytes());
        TorchCheckpointFormatException e = assertThrows(TorchCheckpointFormatException.class,
                () -> TorchCheckpoint.open(f));
        assertTrue(e.getMessage().contains("more than DEFLATE can produce"), e.getMessage());

        Path g = tmp.resolve("lie.pt");
        Files.write(g, new RawZipWriter().addDeflated("m/data.pkl", pickle(), (long) pickle().length - 5)
                .add("m/data/0", floats(1, 2, 3)).add("m/data/1", longs(1, 2)).bytes());
        e = assertThrows(TorchCheckpointFormatException.class, () -> TorchCheckpoint.open(g));
        assertTrue(e.getMessage().contains("inflates to more than its declared"), e.getMessage());
    }

    @Test
    void lyingCentralDirectoryCount() throws IOException {
        Path f = tmp.resolve("count.pt");
        Files.write(f, torchLike().declaredCount(1L << 40).bytes());
        TorchCheckpointFormatException e = assertThrows(TorchCheckpointFormatException.class,
                () -> TorchCheckpoint.open(f));
        assertTrue(e.getMessage().contains("claims 1099511627776 entries"), e.getMessage());
        Files.write(f, torchLike().declaredCount(7).bytes());
        e = assertThrows(TorchCheckpointFormatException.class, () -> TorchCheckpoint.open(f));
        assertTrue(e.getMessage().contains("central directory"), e.getMessage());
    }
}
