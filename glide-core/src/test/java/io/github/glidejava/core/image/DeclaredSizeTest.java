package io.github.glidejava.core.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A picture's header cannot make a reader allocate more than its file can honestly hold: the 70-byte headers the
 * image fuzz corpus keeps as regression inputs (9000 x 9000 and 30000 x 30000 PNG, 20000 x 20000 BMP) are refused
 * before decoding, by both ways pictures are read, with a message giving the size and the file's length.
 */
class DeclaredSizeTest {
    private static byte[] corpus(String name) throws IOException {
        try (InputStream in = DeclaredSizeTest.class.getResourceAsStream("ImageFuzzTestInputs/anyPicture/" + name)) {
            return in.readAllBytes();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"regression-png-81-megapixels-in-70-bytes", "regression-png-900-megapixels-in-70-bytes",
            "regression-bmp-400-megapixels-in-70-bytes"})
    void bombHeadersAreRefusedBeforeDecoding(String name, @TempDir Path dir) throws IOException {
        byte[] bytes = corpus(name);
        IOException a = assertThrows(IOException.class, () -> RgbImage.decode(bytes, name));
        assertTrue(a.getMessage().contains(name) && a.getMessage().contains("pixels"), a.getMessage());
        Path file = Files.write(dir.resolve(name), bytes);
        IOException b = assertThrows(IOException.class, () -> ImageTensors.readImage(file));
        assertTrue(b.getMessage().contains(file.toString()) && b.getMessage().contains("pixels"), b.getMessage());
    }

    @Test
    void theRule() throws IOException {
        RgbImage.checkDeclaredSize(2000, 2000, 1, "small"); // 4 megapixels: any file
        RgbImage.checkDeclaredSize(8000, 8000, 64_000_000 / 4096, "big enough");
        IOException e = assertThrows(IOException.class,
                () -> RgbImage.checkDeclaredSize(8000, 8000, 64_000_000 / 4096 - 1, "x.png"));
        assertEquals("image x.png declares 8000 x 8000 pixels in a file of 15624 bytes; a picture that large needs"
                + " at least 15625 bytes (damaged header or decompression bomb)", e.getMessage());
        assertThrows(IOException.class, () -> RgbImage.checkDeclaredSize(20000, 20000, 1L << 40, "huge"));
        assertThrows(IOException.class, () -> RgbImage.checkDeclaredSize(0, 5, 100, "empty"));
    }
}
