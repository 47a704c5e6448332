package io.github.glidejava.core.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Locale;

/**
 * What a checkpoint file holds, recognised from its first bytes (never from its name alone): the one format detector
 * of glide-java, shared by {@link StateDict}, the pipeline and the command line.
 */
public enum CheckpointFormat {
    /** safetensors: an 8-byte little-endian header length followed by the JSON header, which starts with '{'. */
    SAFETENSORS("safetensors"),
    /** A {@code torch.save} zip archive (torch >= 1.6). */
    TORCH_ZIP("PyTorch zip (torch.save)"),
    /** A pre-zip {@code torch.save} file (torch < 1.6): a raw pickle stream, not supported. */
    TORCH_LEGACY("legacy PyTorch (torch < 1.6)"),
    /** Anything else. */
    UNKNOWN("unknown");

    /** Bytes needed to tell the formats apart: safetensors' header opens with '{' at byte 8. */
    private static final int HEAD = 9;

    private final String description;

    CheckpointFormat(String description) {
        this.description = description;
    }

    /** A short human-readable name, e.g. "PyTorch zip (torch.save)". */
    public String description() {
        return description;
    }

    /**
     * The format of {@code file} from its first bytes. safetensors is tested first: its header length may happen to
     * start with bytes that look like a pickle or zip signature, while a zip local header has its compression method
     * at byte 8 and a legacy torch file a pickled magic number, never '{'. A file named {@code *.safetensors} of at
     * least {@value #HEAD} bytes counts as safetensors so that the safetensors reader explains what is wrong with it.
     */
    public static CheckpointFormat detect(Path file) throws IOException {
        byte[] head = head(file);
        int n = head.length;
        if (n == HEAD && head[8] == '{') {
            return SAFETENSORS;
        }
        if (n >= 4 && head[0] == 'P' && head[1] == 'K' && (head[2] == 3 || head[2] == 5)) {
            return TORCH_ZIP;
        }
        if (n >= 2 && (head[0] & 0xff) == 0x80 && head[1] >= 2 && head[1] <= 5) {
            return TORCH_LEGACY;
        }
        String name = file.getFileName() == null ? "" : file.getFileName().toString();
        if (n == HEAD && name.endsWith(".safetensors")) {
            return SAFETENSORS;
        }
        return UNKNOWN;
    }

    /**
     * {@link #detect} for a file about to be read: returns {@link #SAFETENSORS} or {@link #TORCH_ZIP}, and throws a
     * {@link CheckpointFormatException} saying what the file is and what to do for a legacy torch file
     * ({@link TorchCheckpointFormatException}) or anything unrecognised.
     */
    public static CheckpointFormat requireSupported(Path file) throws IOException {
        CheckpointFormat f = detect(file);
        switch (f) {
            case SAFETENSORS, TORCH_ZIP -> {
                return f;
            }
            case TORCH_LEGACY -> throw new TorchCheckpointFormatException(file, LEGACY_MESSAGE);
            default -> throw new CheckpointFormatException(file, "not a checkpoint: neither a safetensors file nor"
                    + " a PyTorch torch.save zip archive (unrecognised first bytes" + firstBytes(file) + ")");
        }
    }

    /** The message for a pre-zip torch file (also used by {@link TorchCheckpoint#open}). */
    static final String LEGACY_MESSAGE = "legacy torch checkpoint (the pre-zip torch.save format of torch < 1.6),"
            + " which is not supported; re-save it with torch>=1.6 (torch.save(torch.load(path), new_path)) or convert"
            + " it to safetensors";

    private static byte[] head(Path file) throws IOException {
        ByteBuffer head = ByteBuffer.allocate(HEAD);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            while (head.hasRemaining() && ch.read(head) > 0) {
                // read up to HEAD bytes
            }
        }
        return Arrays.copyOf(head.array(), head.position());
    }

    private static String firstBytes(Path file) throws IOException {
        byte[] head = head(file);
        if (head.length == 0) {
            return "; the file is empty";
        }
        StringBuilder sb = new StringBuilder(": ");
        for (int i = 0; i < head.length; i++) {
            sb.append(i == 0 ? "" : " ").append(String.format(Locale.ROOT, "%02x", head[i] & 0xff));
        }
        return sb + (head.length < HEAD ? "; the file is only " + head.length + " bytes" : "");
    }
}
