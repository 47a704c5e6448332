/**
 * Checkpoint and tensor I/O: safetensors (read and write), PyTorch {@code torch.save} zip checkpoints (read), and
 * {@link io.github.glidejava.core.io.StateDict}, the ordered name-to-tensor map models load their weights from.
 * {@link io.github.glidejava.core.io.CheckpointFormat} recognises a file's format from its first bytes, and explains
 * legacy (pre-zip) torch files and non-checkpoints.
 *
 * <p>Memory: tensor bytes are read from the file straight into ND4J's off-heap arrays (created outside any
 * workspace) by positional reads; nothing proportional to the tensor data is put on the Java heap, and nothing is
 * memory-mapped, whose pages would count in the process's resident memory next to the loaded weights.
 *
 * <p>Safety: every length, offset, shape and stride read from a file is checked against the file before it is
 * used or allocated. PyTorch pickles are read by a restricted interpreter that only builds plain data and refuses
 * every global outside a short allow-list ({@link io.github.glidejava.core.io.UnsafePickleException}); nothing is
 * resolved by name or instantiated reflectively. Malformed files raise a
 * {@link io.github.glidejava.core.io.CheckpointFormatException} subtype whose message names the file, the tensor
 * and what was expected.
 *
 * <p>Data is little-endian on disk; the readers need a little-endian host, as ND4J's native builds are.
 */
package io.github.glidejava.core.io;
